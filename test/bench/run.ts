// `npm run bench`: each figure beside its limit, as a table; `--json` prints one JSON object instead.
// `--only=name,name` runs some of them. Not part of `npm test`.
import { cpus, totalmem } from 'node:os';
import { apiThroughput } from './api-throughput.ts';
import { auditAppend } from './audit-append.ts';
import { doorLatency } from './door-latency.ts';
import { footprint } from './footprint.ts';
import type { BenchResult } from './stats.ts';

const args = process.argv.slice(2);
const json = args.includes('--json');
const only = args.find((a) => a.startsWith('--only='))?.slice(7).split(',');

export const BENCHES: Record<string, () => Promise<BenchResult>> = {
  door: () => doorLatency(),
  api: () => apiThroughput(),
  audit: () => auditAppend(),
  footprint: () => footprint(),
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
    for (const r of results) {
      console.log(`${r.met ? 'MET ' : 'MISS'}  ${r.name}  (target ${r.target})`);
      for (const [k, v] of Object.entries(r.figures)) console.log(`      ${k.padEnd(36)} ${v}`);
      console.log(`      limited by: ${r.limit}\n`);
    }
  }
  process.exit(results.every((r) => r.met) ? 0 : 1);
}

void main();
