<?php
// The hello-world app for php-fpm: the same answer as tests/fixtures/php/http/hello.php.
header('Content-Type: text/plain; charset=utf-8');
echo 'Hello, World!';
