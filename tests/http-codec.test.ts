// The http plugin's pure parts against shared/spec/http.md §6 vectors and RoadRunner's rules:
// context codecs (JSON, protobuf), reply decoding, form trees, cookies, header names, proxy
// subnets, static-file ETags and ranges.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { encodePayloadFrame, FLAG } from "../src/goridge/frame.ts";
import { canonicalHeaderName } from "../src/plugins/http/canonical.ts";
import { decodeJsonResponse, encodeJsonContext } from "../src/plugins/http/context-json.ts";
import {
  decodeProtoRequest,
  decodeProtoResponse,
  encodeProtoContext,
  encodeProtoResponse,
} from "../src/plugins/http/context-proto.ts";
import type { RequestContext } from "../src/plugins/http/context.ts";
import { parseCookies } from "../src/plugins/http/cookies.ts";
import { buildDataTree, formKeySegments, FormTreeError } from "../src/plugins/http/form-tree.ts";
import { parseUrlencoded } from "../src/plugins/http/body.ts";
import { buildUploadsTree, UploadedFile } from "../src/plugins/http/uploads.ts";
import { forwardedClient, inSubnets, parseIp, parseSubnet } from "../src/plugins/http/proxy-ip.ts";
import { computeEtag, parseRange } from "../src/plugins/http/static.ts";
import { decodeResponseContext, WorkerReplyError } from "../src/plugins/http/response.ts";
import { MultipartError, multipartBoundary, parseMultipartBody } from "../src/plugins/http/multipart.ts";

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
const fromHex = (text: string) => new Uint8Array(text.trim().split(/\s+/).map((h) => parseInt(h, 16)));
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** The §6.1 request: GET /hello?x=1 from 127.0.0.1 with Accept and Cookie. */
function vectorRequest(): RequestContext {
  const headers = new Headers();
  headers.set("Host", "localhost:8080");
  headers.set("Accept", "text/plain");
  headers.set("Cookie", "session=abc123");
  return {
    remoteAddr: "127.0.0.1",
    protocol: "HTTP/1.1",
    method: "GET",
    uri: "http://localhost:8080/hello?x=1",
    rawQuery: "x=1",
    headers,
    extraHeaders: null,
    cookies: parseCookies(headers.get("cookie")),
    parsed: false,
    uploads: null,
    attributes: null,
  };
}

describe("http context: JSON (spec §6.3)", () => {
  it("encodes the vector request byte for byte, with the frame header of the spec", () => {
    const context = encodeJsonContext(vectorRequest());
    assert.equal(
      text(context),
      '{"remoteAddr":"127.0.0.1","protocol":"HTTP/1.1","method":"GET","uri":"http://localhost:8080/hello?x=1",' +
        '"headers":{"Accept":["text/plain"],"Cookie":["session=abc123"]},"cookies":{"session":"abc123"},' +
        '"rawQuery":"x=1","parsed":false,"uploads":null,"attributes":{}}',
    );
    assert.equal(context.length, 261);
    const frame = encodePayloadFrame(FLAG.CODEC_JSON, 0, context, new Uint8Array(0));
    assert.equal(hex(frame.subarray(0, 16)), "14 08 05 01 00 00 ea 30 e9 2f 00 00 05 01 00 00");
  });

  it("escapes what JSON must escape and merges middleware headers into the same name", () => {
    const c = vectorRequest();
    c.headers.set("x-quote", 'a"b\\c');
    c.extraHeaders = [["X-Quote", "second"], ["x-added", "1"]];
    c.uploads = '{"f":{"name":"a.txt"}}';
    c.parsed = true;
    const decoded = JSON.parse(text(encodeJsonContext(c)));
    assert.deepEqual(decoded.headers["X-Quote"], ['a"b\\c', "second"]);
    assert.deepEqual(decoded.headers["X-Added"], ["1"]);
    assert.equal(decoded.headers.Host, undefined);
    assert.deepEqual(decoded.uploads, { f: { name: "a.txt" } });
    assert.equal(decoded.parsed, true);
  });

  it("decodes replies with list and bare-string header values, and reuses identical ones", () => {
    const reply = new TextEncoder().encode('{"status":201,"headers":{"X-A":["1","2"],"X-B":"solo"}}');
    const ctx = decodeJsonResponse(reply);
    assert.equal(ctx.status, 201);
    assert.deepEqual(ctx.headers, [["X-A", "1"], ["X-A", "2"], ["X-B", "solo"]]);
    assert.equal(decodeJsonResponse(reply.slice()), ctx);
    assert.throws(() => decodeJsonResponse(new TextEncoder().encode("[1]")), /not a JSON object/);
    const trailer = decodeJsonResponse(new TextEncoder().encode('{"status":200,"headers":{"Trailer":["X-Sum"],"X-Sum":["1"],"X-B":["a","b"]}}'));
    assert.deepEqual(trailer.init, [["X-Sum", "1"], ["X-B", "a"], ["X-B", "b"]], "Trailer is dropped, its headers stay");
    const single = decodeJsonResponse(new TextEncoder().encode('{"status":200,"headers":{"Trailer":["X-Sum"],"X-Sum":["1"]}}'));
    assert.deepEqual(single.init, { "x-sum": "1" });
  });
});

describe("http context: protobuf (spec §6.2, §6.4)", () => {
  const vector62 = `0a 09 31 32 37 2e 30 2e 30 2e 31 12 08 48 54 54 50 2f 31 2e 31 1a 03 47 45 54
    22 1f 68 74 74 70 3a 2f 2f 6c 6f 63 61 6c 68 6f 73 74 3a 38 30 38 30 2f 68 65 6c 6c 6f 3f 78 3d 31
    2a 16 0a 06 41 63 63 65 70 74 12 0c 0a 0a 74 65 78 74 2f 70 6c 61 69 6e
    2a 1a 0a 06 43 6f 6f 6b 69 65 12 10 0a 0e 73 65 73 73 69 6f 6e 3d 61 62 63 31 32 33
    32 13 0a 07 73 65 73 73 69 6f 6e 12 08 0a 06 61 62 63 31 32 33 3a 03 78 3d 31`;

  it("encodes the vector request byte for byte (137 bytes) with the spec's frame header", () => {
    const context = encodeProtoContext(vectorRequest());
    assert.equal(context.length, 137);
    assert.equal(hex(context), hex(fromHex(vector62)));
    const frame = encodePayloadFrame(FLAG.CODEC_PROTO, 0, context, new Uint8Array(0));
    assert.equal(hex(frame.subarray(0, 16)), "14 80 89 00 00 00 0d a8 32 08 00 00 89 00 00 00");
  });

  it("round-trips parsed, uploads and multi-value headers", () => {
    const c = vectorRequest();
    c.parsed = true;
    c.uploads = '{"file":{"name":"a.txt"}}';
    c.extraHeaders = [["Accept", "text/html"]];
    const back = decodeProtoRequest(encodeProtoContext(c));
    assert.equal(back.parsed, true);
    assert.equal(back.uploads, c.uploads);
    assert.deepEqual(back.headers.Accept, ["text/plain", "text/html"]);
    assert.deepEqual(back.cookies, { session: ["abc123"] });
  });

  it("decodes the §6.4 reply context and the status-only one", () => {
    const ctx = decodeProtoResponse(fromHex(`08 c8 01 12 2b 0a 0c 43 6f 6e 74 65 6e 74 2d 54 79 70 65
      12 1b 0a 19 74 65 78 74 2f 70 6c 61 69 6e 3b 20 63 68 61 72 73 65 74 3d 75 74 66 2d 38`));
    assert.deepEqual(ctx.headers, [["Content-Type", "text/plain; charset=utf-8"]]);
    assert.equal(ctx.status, 200);
    assert.deepEqual(decodeProtoResponse(fromHex("08 c8 01")).headers, []);
    const encoded = encodeProtoResponse(103, [["Link", ["</style.css>; rel=preload; as=style"]]]);
    assert.equal(hex(encoded.subarray(0, 14)), "08 67 12 2d 0a 04 4c 69 6e 6b 12 25 0a 23");
    assert.equal(encoded.length, 49);
  });

  it("picks the reply codec from the frame flags: 0x80 protobuf, 0x08 and 0x00 JSON, others refused", () => {
    const json = new TextEncoder().encode('{"status":202,"headers":{}}');
    assert.equal(decodeResponseContext({ context: json, body: new Uint8Array(0), codec: 0x08 }).status, 202);
    assert.equal(decodeResponseContext({ context: json, body: new Uint8Array(0), codec: 0x00 }).status, 202);
    const proto = encodeProtoResponse(404, []);
    assert.equal(decodeResponseContext({ context: proto, body: new Uint8Array(0), codec: 0x80 }).status, 404);
    assert.throws(() => decodeResponseContext({ context: json, body: new Uint8Array(0), codec: 0x10 }), WorkerReplyError);
    assert.throws(() => decodeResponseContext({ context: proto, body: new Uint8Array(0), codec: 0x08 }), WorkerReplyError);
  });
});

describe("http form trees (spec §2.3, §2.4)", () => {
  it("tokenises keys the RoadRunner way", () => {
    assert.deepEqual(formKeySegments("name[a][b][]"), ["name", "a", "b", ""]);
    assert.deepEqual(formKeySegments("arr[c]p"), ["arr", "c", "p"]);
    assert.deepEqual(formKeySegments(" sp ace [ x ]"), ["space", "x"]);
  });

  it("builds the spec example: last value wins, [] collects, nested keys nest", () => {
    const body = parseUrlencoded("POST", new TextEncoder().encode("a=1&arr[]=x&arr[]=y&m[k]=v&a=2"));
    assert.equal(text(body.body), '{"a":"2","arr":["x","y"],"m":{"k":"v"}}');
    assert.equal(body.parsed, true);
    assert.equal(text(parseUrlencoded("DELETE", new TextEncoder().encode("a=1")).body), "{}");
  });

  it("refuses a key used both as a value and as a branch", () => {
    assert.throws(() => buildDataTree(new Map([["a", ["1"]], ["a[b]", ["2"]]])), FormTreeError);
    assert.deepEqual(buildDataTree(new Map([["a", [""]], ["a[b]", ["2"]]])), { a: { b: "2" } });
  });

  it("builds the uploads tree: plain key keeps the first file, [] keeps all", () => {
    const f = (name: string) => new UploadedFile(name, "text/plain", 1, 0, `/tmp/${name}`);
    const tree = buildUploadsTree(new Map([["file", [f("a"), f("b")]], ["many[]", [f("c"), f("d")]], ["doc[x][y]", [f("e")]]]));
    assert.equal(JSON.stringify(tree.file), '{"name":"a","mime":"text/plain","size":1,"error":0,"tmpName":"/tmp/a"}');
    assert.equal((tree.many as UploadedFile[]).length, 2);
    assert.equal(((tree.doc as Record<string, Record<string, UploadedFile>>).x.y).name, "e");
  });
});

describe("http multipart parser", () => {
  const enc = (text: string) => new TextEncoder().encode(text);
  it("reads values and files, keeps part Content-Type as sent, and views into the body", () => {
    const body = enc(
      '--b\r\nContent-Disposition: form-data; name="t"\r\n\r\nhi\r\n' +
        '--b\r\nContent-Disposition: form-data; name="f"; filename="a\\"q.txt"\r\nContent-Type: text/x-custom\r\n\r\nA\r\nB\r\n' +
        "--b\r\nContent-Disposition: form-data; name=\"u\"; filename*=UTF-8''%C3%A9t%C3%A9.txt\r\n\r\nx\r\n" +
        '--b\r\nContent-Disposition: form-data; name="empty"; filename=""\r\n\r\nplain\r\n--b--\r\n',
    );
    const parts = parseMultipartBody(body, "b");
    assert.deepEqual(parts.map((p) => [p.name, p.filename, p.contentType, text(p.data)]), [
      ["t", null, "", "hi"],
      ["f", 'a"q.txt', "text/x-custom", "A\r\nB"],
      ["u", "été.txt", "", "x"],
      ["empty", null, "", "plain"],
    ]);
    assert.equal(parts[1].data.buffer, body.buffer, "no copy");
    assert.equal(multipartBoundary('multipart/form-data; boundary="with space"'), "with space");
  });

  it("refuses truncated bodies", () => {
    assert.throws(() => parseMultipartBody(enc('--b\r\nContent-Disposition: form-data; name="t"\r\n\r\nhi'), "b"), MultipartError);
    assert.throws(() => parseMultipartBody(enc("no boundary here"), "b"), MultipartError);
  });
});

describe("http request details", () => {
  it("canonicalises header names like Go", () => {
    assert.equal(canonicalHeaderName("x-foo-bar"), "X-Foo-Bar");
    assert.equal(canonicalHeaderName("content-type"), "Content-Type");
    assert.equal(canonicalHeaderName("www-authenticate"), "Www-Authenticate");
    assert.equal(canonicalHeaderName("bad header"), "bad header");
  });

  it("parses cookies: unescapes values, drops bad ones, last duplicate wins", () => {
    const cookies = parseCookies('a=b%20c+d; bad=%zz; dup=1; dup=2; q="quoted"; =x');
    assert.deepEqual(Object.fromEntries(cookies!), { a: "b c d", dup: "2", q: "quoted" });
    assert.equal(parseCookies(null), null);
  });

  it("matches peers against trusted subnets (IPv4, IPv6, IPv4-mapped)", () => {
    const nets = ["10.0.0.0/8", "192.168.1.0/24", "::1/128", "fc00::/7"].map((c) => parseSubnet(c)!);
    assert.equal(inSubnets(parseIp("10.1.2.3")!, nets), true);
    assert.equal(inSubnets(parseIp("192.168.2.1")!, nets), false);
    assert.equal(inSubnets(parseIp("::1")!, nets), true);
    assert.equal(inSubnets(parseIp("fd12::5")!, nets), true);
    assert.equal(inSubnets(parseIp("::ffff:10.9.9.9")!, nets), true);
    assert.equal(inSubnets(parseIp("8.8.8.8")!, nets), false);
    assert.equal(parseIp("not-an-ip"), null);
  });

  it("takes the client from Forwarded, then X-Forwarded-For, then X-Real-Ip", () => {
    assert.equal(forwardedClient(new Headers({ forwarded: 'for="[2001:db8::1]:4711";proto=https' })), "2001:db8::1");
    assert.equal(forwardedClient(new Headers({ "x-forwarded-for": "1.2.3.4, 10.0.0.1", "x-real-ip": "5.6.7.8" })), "1.2.3.4");
    assert.equal(forwardedClient(new Headers({ "x-real-ip": "5.6.7.8" })), "5.6.7.8");
    assert.equal(forwardedClient(new Headers()), null);
  });
});

describe("http static helpers", () => {
  it("computes RoadRunner-style ETags", () => {
    const strong = computeEtag(false, "/a.txt", new TextEncoder().encode("hello"));
    assert.match(strong, /^"5-\d+"$/);
    assert.notEqual(strong, computeEtag(false, "/a.txt", new TextEncoder().encode("hellp")));
    assert.match(computeEtag(true, "/a.txt", null), /^W\/"\d+"$/);
  });

  it("parses single byte ranges", () => {
    assert.deepEqual(parseRange("bytes=0-4", 10), [0, 4]);
    assert.deepEqual(parseRange("bytes=5-", 10), [5, 9]);
    assert.deepEqual(parseRange("bytes=-3", 10), [7, 9]);
    assert.equal(parseRange("bytes=20-", 10), "invalid");
    assert.equal(parseRange("bytes=0-1,3-4", 10), null);
  });
});
