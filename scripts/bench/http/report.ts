// Turns the bench results (TSV from http.sh) into the "## HTTP" section of docs/BENCHMARKS.md,
// replacing that section only. Usage: bun scripts/bench/http/report.ts <results.tsv> <meta>
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import process from "node:process";

interface Row {
  app: string;
  server: string;
  rps: number;
  p50: string;
  p99: string;
}

const [resultsFile, meta = ""] = process.argv.slice(2);
const rows: Row[] = readFileSync(resultsFile, "utf8").trim().split("\n").filter(Boolean).map((line) => {
  const [app, server, rps, p50, p99] = line.split("\t");
  return { app, server, rps: Number(rps), p50, p99 };
});

const lines: string[] = [
  "## HTTP",
  "",
  "`bash scripts/bench/http.sh` — one run, same machine, same PHP logic: rr with 2 PHP workers",
  "(`tests/fixtures/php/http/hello.php`, `framework.php`) under Bun and Deno vs nginx + php-fpm",
  "(`pm = static`, 2 children, OPcache on; `scripts/bench/http/fpm-*.php`). The framework-like app",
  "burns ~5 ms of CPU in its bootstrap: php-fpm pays it on every request, rr once per worker.",
  `wrk runs on the same machine. ${meta}`,
  "",
  "| app | server | req/s | p50 | p99 | vs nginx+php-fpm |",
  "| --- | --- | ---: | ---: | ---: | ---: |",
];
for (const app of [...new Set(rows.map((r) => r.app))]) {
  const base = rows.find((r) => r.app === app && r.server === "nginx+php-fpm");
  for (const r of rows.filter((row) => row.app === app)) {
    const ratio = base && base.rps > 0 ? `${(r.rps / base.rps).toFixed(2)}×` : "—";
    lines.push(`| ${r.app} | ${r.server} | ${Math.round(r.rps).toLocaleString("en-US")} | ${r.p50} | ${r.p99} | ${r.server === "nginx+php-fpm" ? "1.00×" : ratio} |`);
  }
}
const section = lines.join("\n") + "\n";
console.log(section);

const doc = fileURLToPath(new URL("../../../docs/BENCHMARKS.md", import.meta.url));
const current = existsSync(doc) ? readFileSync(doc, "utf8") : "# Benchmarks\n";
const start = current.search(/^## HTTP\s*$/m);
let next: string;
if (start < 0) {
  next = current.replace(/\n*$/, "\n\n") + section;
} else {
  const rest = current.slice(start + 1);
  const end = rest.search(/^## /m);
  next = current.slice(0, start) + section + (end < 0 ? "" : "\n" + rest.slice(end));
}
writeFileSync(doc, next);
