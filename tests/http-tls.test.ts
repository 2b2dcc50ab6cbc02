// http.ssl through `rr serve`: HTTPS with the configured cert/key, and ssl.redirect sending
// plain-HTTP clients to HTTPS with 308 + HSTS (never reaching PHP).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { join } from "node:path";
import { freePort, ROOT } from "./helpers/index.ts";
import { rawRequest, type RRHttp, startHttp } from "./http-helpers.ts";

const certFile = join(ROOT, "tests/fixtures/platform/tls-cert.pem");
const keyFile = join(ROOT, "tests/fixtures/platform/tls-key.pem");
let rr: RRHttp;
let httpsPort: number;

before(async () => {
  httpsPort = await freePort();
  rr = await startHttp({
    worker: "inspect.php",
    http: { ssl: { address: `127.0.0.1:${httpsPort}`, redirect: true, cert: certFile, key: keyFile } },
  });
});
after(async () => {
  await rr?.stop();
});

function httpsGet(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: "127.0.0.1", port: httpsPort, path, ca: readFileSync(certFile), servername: "localhost", agent: false },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describe("http ssl", () => {
  it("serves HTTPS with the configured certificate; PHP sees an https uri", async () => {
    const res = await httpsGet("/secure?x=1");
    assert.equal(res.status, 200);
    const got = JSON.parse(res.body);
    assert.equal(got.uri, `https://127.0.0.1:${httpsPort}/secure?x=1`);
    assert.equal(got.rawQuery, "x=1");
  });

  it("redirects plain HTTP to HTTPS with 308 and HSTS", async () => {
    const res = await rawRequest(rr.port, "/page?q=2");
    assert.equal(res.status, 308);
    assert.equal(res.headers.location, `https://127.0.0.1:${httpsPort}/page?q=2`);
    assert.match(String(res.headers["strict-transport-security"]), /max-age=31536000/);
    assert.equal(res.body.length, 0);
  });
});
