// `npm run bench [area...]`: runs the side-by-side benchmarks and prints ratios against tkl.
// BENCH_QUICK=1 shrinks every workload (for a smoke run).

import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchFn, BenchRow } from './harness.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const areas = readdirSync(here)
  .filter((f) => f.endsWith('.bench.js'))
  .map((f) => f.replace(/\.bench\.js$/, ''))
  .sort();
const wanted = process.argv.slice(2);
const scale = process.env.BENCH_QUICK ? 0.05 : 1;
const machine = `${cpus().length}× ${cpus()[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const date = new Date().toISOString().slice(0, 10);
const resultsDir = join(here, '..', '..', 'bench', 'results');
mkdirSync(resultsDir, { recursive: true });

for (const area of areas) {
  if (wanted.length > 0 && !wanted.includes(area)) continue;
  const mod = (await import(pathToFileURL(join(here, `${area}.bench.js`)).href)) as { run: BenchFn };
  const dir = mkdtempSync(join(tmpdir(), `tkl-bench-${area}-`));
  let rows: BenchRow[];
  try {
    rows = await mod.run({ scale, tmpdir: dir, log: (m) => console.error(`  [${area}] ${m}`) });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  printTable(area, rows);
  writeFileSync(join(resultsDir, `${date}-${area}.json`), JSON.stringify({ date, machine, scale, area, rows }, null, 2) + '\n');
}
console.log(`\nmachine: ${machine}; date: ${date}${scale !== 1 ? `; quick run (scale ${scale})` : ''}`);

function printTable(area: string, rows: BenchRow[]): void {
  console.log(`\n## ${area}\n`);
  console.log('| case | subject | value | ratio vs tkl |');
  console.log('| --- | --- | --- | --- |');
  for (const r of rows) {
    const base = rows.find((x) => x.case === r.case && x.subject === 'tkl');
    let ratio = '';
    if (base && r.subject !== 'tkl' && r.value > 0 && base.value > 0) {
      // Express as "tkl is N× faster/slower than the peer".
      const speedup = r.higherIsBetter ? base.value / r.value : r.value / base.value;
      ratio = speedup >= 1 ? `tkl ${speedup.toFixed(2)}× better` : `tkl ${(1 / speedup).toFixed(2)}× worse`;
    }
    const v = r.value >= 100 ? Math.round(r.value).toLocaleString('en-US') : r.value.toPrecision(3);
    console.log(`| ${r.case} | ${r.subject} | ${v} ${r.unit} | ${ratio}${r.note ? ` (${r.note})` : ''} |`);
  }
}
