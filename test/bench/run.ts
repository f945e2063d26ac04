// `npm run bench`: each figure beside its limit, as a table; `--json` prints one JSON object instead.
// `--only=name,name` runs some of them. Not part of `npm test`.
import { cpus, totalmem } from 'node:os';
import { apiThroughput } from './api-throughput.ts';
import { auditAppend } from './audit-append.ts';
import { auditView } from './audit-view.ts';
import { boardLatency } from './board-latency.ts';
import { centralIngest } from './central-ingest.ts';
import { doorLatency } from './door-latency.ts';
import { footprint } from './footprint.ts';
import { kioskPaint } from './kiosk-paint.ts';
import { outboxDrain } from './outbox-drain.ts';
import type { BenchResult } from './stats.ts';

const args = process.argv.slice(2);
const json = args.includes('--json');
const only = args.find((a) => a.startsWith('--only='))?.slice(7).split(',');

export const BENCHES: Record<string, () => Promise<BenchResult>> = {
  door: () => doorLatency(),
  api: () => apiThroughput(),
  audit: () => auditAppend(),
  outbox: () => outboxDrain(),
  footprint: () => footprint(),
  central: () => centralIngest(),
  'audit-view': () => auditView(),
  kiosk: () => kioskPaint(),
  board: () => boardLatency(),
};

async function main() {
  const results: BenchResult[] = [];
  for (const [key, run] of Object.entries(BENCHES)) {
    if (only && !only.includes(key)) continue;
    if (!json) process.stderr.write(`running ${key}...\n`);
    results.push(await run());
  }
  const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version };
  if (json) {
    process.stdout.write(`${JSON.stringify({ machine, results }, null, 2)}\n`);
  } else {
    console.log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb} GB, Node ${machine.node}\n`);
    console.log(table(results));
  }
  process.exit(results.every((r) => r.met) ? 0 : 1);
}

/** One row per figure; the bench's name, verdict, target and limit on its first and last rows. */
function table(results: BenchResult[]): string {
  const rows: string[][] = [['bench', 'figure', 'value']];
  for (const r of results) {
    const figs = Object.entries(r.figures);
    figs.forEach(([k, v], i) => rows.push([i === 0 ? r.name : '', k, String(v)]));
    rows.push(['', 'target', `${r.target}: ${r.met ? 'MET' : 'MISSED'}`]);
    rows.push(['', 'limited by', r.limit]);
    rows.push(['', '', '']);
  }
  const w = [0, 1, 2].map((c) => Math.max(...rows.map((row) => row[c].length)));
  const line = (row: string[]) => `| ${row.map((cell, c) => cell.padEnd(w[c])).join(' | ')} |`;
  const out = [line(rows[0]), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`];
  for (const row of rows.slice(1, -1)) out.push(line(row));
  return out.join('\n');
}

void main();
