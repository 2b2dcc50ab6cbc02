<?php
// The framework-like app for php-fpm: the ~5 ms bootstrap runs on every request here,
// once per worker under rr (tests/fixtures/php/http/framework.php).
require __DIR__ . '/../../../tests/fixtures/php/http/framework-bootstrap.php';

$app = framework_bootstrap();
[$status, $headers, $body] = framework_handle($app, (string) parse_url($_SERVER['REQUEST_URI'] ?? '/', PHP_URL_PATH));
http_response_code($status);
foreach ($headers as $name => $values) {
    foreach ($values as $value) {
        header("$name: $value", false);
    }
}
echo $body;
