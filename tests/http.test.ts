// The http plugin end to end: real HTTP clients → `rr serve` → our PHP fixture (inspect.php),
// which echoes what it received; once with the JSON context (default) and once with protobuf.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Buffer } from "node:buffer";
import { waitFor } from "./helpers/index.ts";
import { rawExchange, rawRequest, type RRHttp, startHttp } from "./http-helpers.ts";

interface Upload {
  name: string;
  mime: string;
  size: number;
  error: number;
  tmpName: string;
  exists: boolean;
  content: string | null;
}

interface Inspected {
  codec: string;
  pid: number;
  remoteAddr: string;
  protocol: string;
  method: string;
  uri: string;
  headers: Record<string, string[]>;
  cookies: Record<string, string>;
  rawQuery: string;
  query: Record<string, unknown>;
  parsed: boolean;
  parsedBody: Record<string, unknown> | null;
  bodyBase64: string;
  uploads: Record<string, unknown>;
}

const b64 = (text: string) => btoa(text);

for (const codec of ["json", "proto"] as const) {
  describe(`http with the ${codec} context`, () => {
    let rr: RRHttp;
    let uploadsDir: string;

    before(async () => {
      rr = await startHttp({
        worker: "inspect.php",
        http: {
          context_codec: codec,
          max_request_size: "64KB",
          uploads: { dir: "UPLOADS", forbid: [".php"] },
        },
      });
      uploadsDir = join(rr.dir.path, "UPLOADS");
      rr.dir.write("UPLOADS/.keep", "");
    });
    after(async () => {
      await rr.stop();
    });

    const inspect = async (path: string, init?: RequestInit): Promise<Inspected> => {
      const res = await fetch(rr.url + path, init);
      assert.equal(res.status, 200, `status for ${path}`);
      return await res.json() as Inspected;
    };

    it("passes method, uri, query, protocol, remote address and multi-value headers", async () => {
      const got = await inspect("/hello/w%20x?x=1&arr[]=a&arr[]=b&m[k]=v", {
        headers: [["X-Multi", "one"], ["X-Multi", "two"], ["x-lower-case", "v"], ["Accept", "text/plain"]],
      });
      assert.equal(got.codec, codec);
      assert.equal(got.method, "GET");
      assert.equal(got.uri, `${rr.url}/hello/w%20x?x=1&arr[]=a&arr[]=b&m[k]=v`);
      assert.equal(got.rawQuery, "x=1&arr[]=a&arr[]=b&m[k]=v");
      assert.deepEqual(got.query, { x: "1", arr: ["a", "b"], m: { k: "v" } });
      assert.equal(got.protocol, "HTTP/1.1");
      assert.equal(got.remoteAddr, "127.0.0.1");
      // The runtimes hand us repeated header lines joined with ", " (one value).
      assert.deepEqual(got.headers["X-Multi"], ["one, two"]);
      assert.deepEqual(got.headers["X-Lower-Case"], ["v"]);
      assert.deepEqual(got.headers.Accept, ["text/plain"]);
      assert.equal(got.headers.Host, undefined, "Host is not forwarded as a header (Go keeps it in r.Host)");
      assert.equal(got.parsed, false);
      assert.equal(got.bodyBase64, "");
    });

    it("survives raw quotes, backslashes and UTF-8 in the request-target", async () => {
      const raw = await rawExchange(rr.port, 'GET /q"uo\\te?x="y\\z&é=1 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
      assert.match(raw, /^HTTP\/1\.1 200 /);
      const got = JSON.parse(raw.slice(raw.indexOf("\r\n\r\n") + 4).replace(/^[0-9a-f]+\r\n|\r\n0\r\n\r\n$/g, "")) as Inspected;
      assert.match(got.uri, /^http:\/\/h\/q(%22|")uo(\\|\/)te\?x=(%22|")y\\z&(é|%C3%A9)=1$/);
      const again = await inspect("/after");
      assert.equal(again.pid, got.pid, "the worker survived");
    });

    it("passes cookies unescaped", async () => {
      const got = await inspect("/", { headers: { Cookie: "session=abc123; name=J%C3%B6rg+X; broken=%zz" } });
      assert.deepEqual(got.cookies, { session: "abc123", name: "Jörg X" });
      assert.deepEqual(got.headers.Cookie, ["session=abc123; name=J%C3%B6rg+X; broken=%zz"]);
    });

    it("passes raw bodies untouched for every method that has one", async () => {
      const json = '{"a":[1,2,{"b":"ü"}]}';
      for (const method of ["POST", "PUT", "PATCH", "DELETE"]) {
        const got = await inspect("/raw", { method, body: json, headers: { "Content-Type": "application/json" } });
        assert.equal(got.method, method);
        assert.equal(got.parsed, false);
        assert.equal(new TextDecoder().decode(Uint8Array.from(atob(got.bodyBase64), (c) => c.charCodeAt(0))), json);
      }
      const binary = new Uint8Array(256).map((_, i) => i);
      const got = await inspect("/bin", { method: "POST", body: binary, headers: { "Content-Type": "application/octet-stream" } });
      assert.deepEqual(Uint8Array.from(atob(got.bodyBase64), (c) => c.charCodeAt(0)), binary);
    });

    it("answers HEAD without a body and OPTIONS through the worker", async () => {
      const head = await fetch(rr.url + "/head", { method: "HEAD" });
      assert.equal(head.status, 200);
      assert.equal((await head.arrayBuffer()).byteLength, 0);
      const options = await inspect("/opts", { method: "OPTIONS" });
      assert.equal(options.method, "OPTIONS");
    });

    it("parses urlencoded forms into the PHP-style tree", async () => {
      const got = await inspect("/form", {
        method: "POST",
        body: "a=1&arr[]=x&arr[]=y&m[k]=v&a=2&sp%20ace=%C3%BC",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
      });
      assert.equal(got.parsed, true);
      // Spaces in keys are dropped, as RoadRunner does.
      assert.deepEqual(got.parsedBody, { a: "2", arr: ["x", "y"], m: { k: "v" }, space: "ü" });
      const empty = await inspect("/form", { method: "POST", body: "", headers: { "Content-Type": "application/x-www-form-urlencoded" } });
      assert.equal(empty.parsed, true);
      assert.deepEqual(empty.parsedBody, {});
    });

    it("parses multipart forms, writes uploads to uploads.dir and deletes them after the response", async () => {
      // Written by hand so the part headers are exactly what a browser sends.
      const boundary = "----rrTestBoundary7MA4YWxkTrZu0gW";
      const part = (name: string, value: string | Uint8Array, file?: { filename: string; type: string }) => {
        const head = `--${boundary}\r\nContent-Disposition: form-data; name="${name}"` +
          (file ? `; filename="${file.filename}"\r\nContent-Type: ${file.type}` : "") + "\r\n\r\n";
        return [new TextEncoder().encode(head), typeof value === "string" ? new TextEncoder().encode(value) : value, new TextEncoder().encode("\r\n")] as Uint8Array<ArrayBuffer>[];
      };
      const parts = [
        ...part("title", "Hi"),
        ...part("tags[]", "a"),
        ...part("tags[]", "b"),
        ...part("file", "hello", { filename: "a.txt", type: "text/plain" }),
        ...part("many[]", new Uint8Array([0, 1, 2, 255]), { filename: "one.bin", type: "application/octet-stream" }),
        ...part("many[]", "second", { filename: "two.TXT", type: "text/plain" }),
        ...part("bad", "<?php", { filename: "evil.php", type: "text/plain" }),
        ...part("cv", "x", { filename: "/home/me/résumé €.txt", type: "text/plain; charset=utf-8" }),
        new TextEncoder().encode(`--${boundary}--\r\n`),
      ];
      const form = new Uint8Array(await new Blob(parts as Uint8Array<ArrayBuffer>[]).arrayBuffer());
      const got = await inspect("/upload", {
        method: "POST",
        body: form,
        headers: { "Content-Type": `multipart/form-data; boundary=${boundary}` },
      });
      assert.equal(got.parsed, true);
      assert.deepEqual(got.parsedBody, { title: "Hi", tags: ["a", "b"] });
      const file = got.uploads.file as Upload;
      assert.equal(file.name, "a.txt");
      assert.equal(file.mime, "text/plain");
      assert.equal(file.size, 5);
      assert.equal(file.error, 0);
      assert.equal(file.exists, true, "the worker can read the upload while it runs");
      assert.equal(file.content, b64("hello"));
      assert.ok(file.tmpName.startsWith(uploadsDir + "/upload"), file.tmpName);
      const many = got.uploads.many as Upload[];
      assert.equal(many.length, 2);
      assert.equal(many[0].content, btoa(String.fromCharCode(0, 1, 2, 255)));
      assert.equal(many[1].name, "two.TXT");
      assert.equal(many[1].size, 6);
      const bad = got.uploads.bad as Upload;
      assert.equal(bad.error, 8, "forbidden extension → UPLOAD_ERR_EXTENSION");
      assert.equal(bad.tmpName, "");
      const cv = got.uploads.cv as Upload;
      assert.equal(cv.name, "résumé €.txt", "UTF-8 file names, reduced to the base name");
      assert.equal(cv.mime, "text/plain; charset=utf-8");
      await waitFor(() => !existsSync(file.tmpName) && !existsSync(many[0].tmpName), 5000, 25, "uploads to be deleted");
      assert.deepEqual(readdirSync(uploadsDir).filter((f) => f.startsWith("upload")), []);
    });

    it("refuses a body over max_request_size with 413", async () => {
      const big = "x".repeat(70 * 1024);
      const declared = await rawRequest(rr.port, "/big", { method: "POST", body: big, headers: { "Content-Type": "text/plain", "Content-Length": String(big.length) } });
      assert.equal(declared.status, 413);
      const chunked = await rawRequest(rr.port, "/big", { method: "POST", body: big, headers: { "Content-Type": "text/plain", "Transfer-Encoding": "chunked" } });
      assert.equal(chunked.status, 413);
      const ok = await inspect("/small", { method: "POST", body: "x".repeat(60 * 1024), headers: { "Content-Type": "text/plain" } });
      assert.equal(atob(ok.bodyBase64).length, 60 * 1024);
    });

    it("applies the worker's status and multi-value headers", async () => {
      const res = await fetch(rr.url + "/resp?status=201&set[X-A][]=1&set[X-A][]=2&set[Set-Cookie][]=a=1&set[Set-Cookie][]=b=2");
      assert.equal(res.status, 201);
      assert.equal(res.headers.get("x-a"), "1, 2");
      assert.deepEqual(res.headers.getSetCookie(), ["a=1", "b=2"]);
      assert.equal(res.headers.get("content-type"), "application/json");
      await res.body?.cancel();
    });

    it("passes UTF-8 header bytes through in both directions", async () => {
      const res = await rawRequest(rr.port, "/utf?set[X-Utf][]=" + encodeURIComponent("Jörg €"), {
        headers: { "X-Name": Buffer.from("Jörg", "utf8").toString("latin1") },
      });
      assert.equal(res.status, 200);
      assert.deepEqual(JSON.parse(new TextDecoder().decode(res.body)).headers["X-Name"], ["Jörg"]);
      assert.equal(Buffer.from(String(res.headers["x-utf"]), "latin1").toString("utf8"), "Jörg €");
    });

    if (codec === "json") {
      it("waits for a slow worker longer than Bun's default 10 s idle timeout", { timeout: 20_000 }, async () => {
        const got = await inspect("/slow?sleep=15000");
        assert.equal(got.rawQuery, "sleep=15000");
      });

      it("accepts replies flagged 0x00 (roadrunner-http ≤3.4) as JSON", async () => {
        const res = await fetch(rr.url + "/legacy?legacy=1&status=202&set[X-Legacy][]=yes");
        assert.equal(res.status, 202);
        assert.equal(res.headers.get("x-legacy"), "yes");
        assert.equal(((await res.json()) as Inspected).codec, "json");
      });
    }
  });
}
