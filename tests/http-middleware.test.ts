// http middlewares through `rr serve` with real PHP workers: static files (ETag, ranges,
// forbidden extensions, no path traversal), gzip, headers + CORS, and the real client IP from
// trusted proxies only.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { makeTmpDir, type TmpDir } from "./helpers/index.ts";
import { rawExchange, rawRequest, type RRHttp, startHttp } from "./http-helpers.ts";

let site: TmpDir;
let full: RRHttp;
let untrusted: RRHttp;
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

before(async () => {
  site = makeTmpDir("rr-http-static-");
  const pub = join(site.path, "public");
  mkdirSync(join(pub, "sub"), { recursive: true });
  writeFileSync(join(pub, "hello.txt"), "hello static\n");
  writeFileSync(join(pub, "style.css"), "body{}\n");
  writeFileSync(join(pub, "secret.php"), "<?php echo 'source';");
  writeFileSync(join(site.path, "outside.txt"), "outside\n");
  writeFileSync(join(pub, "big.txt"), "0123456789".repeat(1000));
  symlinkSync(join(site.path, "outside.txt"), join(pub, "link.txt"));
  [full, untrusted] = await Promise.all([
    startHttp({
      worker: "inspect.php",
      http: {
        middleware: ["static", "headers", "gzip", "proxy_ip_parser"],
        trusted_subnets: ["127.0.0.0/8", "::1/128"],
        static: { dir: pub, forbid: [".php"], calculate_etag: true, response: { "X-Static": "1" } },
        headers: {
          request: { "X-Req-Added": "from-rr" },
          response: { "X-Resp-Added": "from-rr" },
          cors: { allowed_origin: "https://app.example", allowed_methods: "GET,POST,PUT", allowed_headers: "content-type,x-token", max_age: 600, allow_credentials: true, exposed_headers: "X-Total" },
        },
      },
    }),
    startHttp({ worker: "inspect.php", http: { trusted_subnets: ["10.0.0.0/8"] } }),
  ]);
});
after(async () => {
  await Promise.all([full?.stop(), untrusted?.stop()]);
  site.remove();
});

describe("http static", () => {
  it("serves files with content type, ETag and configured headers; 304 on a matching If-None-Match", async () => {
    const res = await rawRequest(full.port, "/hello.txt");
    assert.equal(res.status, 200);
    assert.equal(text(res.body), "hello static\n");
    assert.equal(res.headers["content-type"], "text/plain; charset=utf-8");
    assert.equal(res.headers["x-static"], "1");
    const etag = res.headers["etag"] as string;
    assert.match(etag, /^"13-\d+"$/);
    const again = await rawRequest(full.port, "/hello.txt", { headers: { "If-None-Match": etag } });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
  });

  it("serves byte ranges", async () => {
    const res = await rawRequest(full.port, "/hello.txt", { headers: { Range: "bytes=0-4" } });
    assert.equal(res.status, 206);
    assert.equal(text(res.body), "hello");
    assert.equal(res.headers["content-range"], "bytes 0-4/13");
  });

  it("passes forbidden extensions, missing files and directories to the worker", async () => {
    for (const path of ["/secret.php", "/missing.txt", "/sub"]) {
      const res = await rawRequest(full.port, path);
      assert.equal(res.status, 200, path);
      assert.equal(JSON.parse(text(res.body)).uri, `http://127.0.0.1:${full.port}${path}`, `${path} reached PHP`);
    }
  });

  it("never serves files outside static.dir", async () => {
    for (const path of ["/../outside.txt", "/sub/../../outside.txt", "/%2e%2e/outside.txt", "/..%2foutside.txt"]) {
      const raw = await rawExchange(full.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      assert.doesNotMatch(raw, /outside\n/, `${path} must not leak the file`);
      assert.match(raw, /^HTTP\/1\.1 (403|404|400|200)/, path);
      if (/^HTTP\/1\.1 200/.test(raw)) assert.match(raw, /"uri"/, `${path}: a 200 can only come from PHP`);
    }
    // Encoded slashes survive URL normalisation; once decoded the ".." is refused.
    const encoded = await rawExchange(full.port, "GET /sub%2f..%2f..%2foutside.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert.match(encoded, /^HTTP\/1\.1 403 /);
    const link = await rawRequest(full.port, "/link.txt");
    assert.equal(link.status, 403, "a symlink pointing outside static.dir is refused");
  });
});

describe("http gzip", () => {
  it("compresses large responses for clients that accept gzip, and only those", async () => {
    const zipped = await rawRequest(full.port, "/page?pad=5000", { headers: { "Accept-Encoding": "gzip" } });
    assert.equal(zipped.headers["content-encoding"], "gzip");
    assert.match(String(zipped.headers["vary"]), /Accept-Encoding/);
    const body = JSON.parse(text(gunzipSync(zipped.body)));
    assert.equal(body.pad.length, 5000);
    assert.ok(zipped.body.length < 2000);
    const plain = await rawRequest(full.port, "/page?pad=5000");
    assert.equal(plain.headers["content-encoding"], undefined);
    assert.equal(JSON.parse(text(plain.body)).pad.length, 5000);
    const staticZipped = await rawRequest(full.port, "/big.txt", { headers: { "Accept-Encoding": "gzip" } });
    assert.equal(staticZipped.headers["content-encoding"], "gzip");
    assert.equal(text(gunzipSync(staticZipped.body)), "0123456789".repeat(1000));
  });
});

describe("http headers and CORS", () => {
  it("adds headers.request for PHP and headers.response to every response", async () => {
    const res = await rawRequest(full.port, "/h");
    const got = JSON.parse(text(res.body));
    assert.deepEqual(got.headers["X-Req-Added"], ["from-rr"]);
    assert.equal(res.headers["x-resp-added"], "from-rr");
  });

  it("answers CORS preflights itself and decorates actual requests", async () => {
    const pre = await rawRequest(full.port, "/api", {
      method: "OPTIONS",
      headers: { Origin: "https://app.example", "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "X-Token" },
    });
    assert.equal(pre.status, 200);
    assert.equal(pre.body.length, 0, "the preflight never reaches PHP");
    assert.equal(pre.headers["access-control-allow-origin"], "https://app.example");
    assert.equal(pre.headers["access-control-allow-methods"], "PUT");
    assert.equal(pre.headers["access-control-allow-headers"], "x-token");
    assert.equal(pre.headers["access-control-max-age"], "600");
    assert.equal(pre.headers["access-control-allow-credentials"], "true");
    const denied = await rawRequest(full.port, "/api", {
      method: "OPTIONS",
      headers: { Origin: "https://evil.example", "Access-Control-Request-Method": "PUT" },
    });
    assert.equal(denied.headers["access-control-allow-origin"], undefined);
    const actual = await rawRequest(full.port, "/api", { headers: { Origin: "https://app.example" } });
    assert.equal(actual.headers["access-control-allow-origin"], "https://app.example");
    assert.equal(actual.headers["access-control-expose-headers"], "X-Total");
    assert.equal(JSON.parse(text(actual.body)).method, "GET");
  });
});

describe("http trusted subnets", () => {
  it("takes X-Forwarded-For / X-Real-Ip / Forwarded from a trusted peer", async () => {
    const xff = await rawRequest(full.port, "/ip", { headers: { "X-Forwarded-For": "203.0.113.7, 10.0.0.1" } });
    assert.equal(JSON.parse(text(xff.body)).remoteAddr, "203.0.113.7");
    const real = await rawRequest(full.port, "/ip", { headers: { "X-Real-Ip": "198.51.100.2" } });
    assert.equal(JSON.parse(text(real.body)).remoteAddr, "198.51.100.2");
    const fwd = await rawRequest(full.port, "/ip", { headers: { Forwarded: 'for="[2001:db8::5]:80"' } });
    assert.equal(JSON.parse(text(fwd.body)).remoteAddr, "2001:db8::5");
  });

  it("ignores forwarding headers from peers outside the trusted subnets", async () => {
    const res = await rawRequest(untrusted.port, "/ip", { headers: { "X-Forwarded-For": "203.0.113.7", "X-Real-Ip": "1.1.1.1" } });
    assert.equal(JSON.parse(text(res.body)).remoteAddr, "127.0.0.1");
  });
});
