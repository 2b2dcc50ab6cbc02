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
  /** Server-side CPU time per request, µs (all processes of the server, user + system). */
  cpu: number;
}

const [resultsFile, meta = ""] = process.argv.slice(2);
const rows: Row[] = readFileSync(resultsFile, "utf8").trim().split("\n").filter(Boolean).map((line) => {
  const [app, server, rps, p50, p99, cpu] = line.split("\t");
  return { app, server, rps: Number(rps), p50, p99, cpu: Number(cpu) };
});

const lines: string[] = [
  "## HTTP",
  "",
  "`bash scripts/bench/http.sh` — one run, same machine, same PHP logic: rr with 2 PHP workers",
  "(`tests/fixtures/php/http/hello.php`, `framework.php`) under Bun and Deno, with the workers on",
  "pipes (RoadRunner's default relay) and on a unix socket relay (`server.relay: unix://...`), vs nginx + php-fpm",
  "(`pm = static`, 2 children, OPcache on; `scripts/bench/http/fpm-*.php`). The framework-like app",
  "burns ~5 ms of CPU in its bootstrap: php-fpm pays it on every request, rr once per worker.",
  `wrk runs on the same machine. ${meta}`,
  "CPU/req is the CPU time (user + system) all processes of that server used per request",
  "(nginx + php-fpm children; rr + its PHP workers): it stays meaningful when other load on",
  "the machine takes CPU from everyone, which moves req/s from run to run; only the ratios",
  "within one run are comparable.",
  "",
  "| app | server | req/s | p50 | p99 | req/s vs nginx+php-fpm | CPU/req | CPU/req vs nginx+php-fpm |",
  "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
];
for (const app of [...new Set(rows.map((r) => r.app))]) {
  const base = rows.find((r) => r.app === app && r.server === "nginx+php-fpm");
  for (const r of rows.filter((row) => row.app === app)) {
    const ratio = base && base.rps > 0 ? `${(r.rps / base.rps).toFixed(2)}×` : "—";
    const cpuRatio = base && r.cpu > 0 ? `${(base.cpu / r.cpu).toFixed(2)}× less` : "—";
    const own = r.server === "nginx+php-fpm";
    lines.push(
      `| ${r.app} | ${r.server} | ${Math.round(r.rps).toLocaleString("en-US")} | ${r.p50} | ${r.p99} | ${own ? "1.00×" : ratio} | ${Math.round(r.cpu)} µs | ${own ? "—" : cpuRatio} |`,
    );
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
