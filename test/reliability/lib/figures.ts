// Each reliability suite leaves a small JSON of its figures in the results dir; `npm run
// reliability` turns them into RELIABILITY.md. Counts scale with LOCKER_RELIABILITY_SCALE for deep
// local runs; the defaults are the numbers the issue asks for, and CI runs those.
import { randomInt } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../../..');
export const RESULTS_DIR = resolve(process.env.LOCKER_RELIABILITY_RESULTS ?? join(ROOT, 'test-results/reliability'));

/** Multiplies the CI counts. Below 1 is for quick local runs only: the report marks such figures. */
export const SCALE = Number(process.env.LOCKER_RELIABILITY_SCALE ?? 1) > 0 ? Number(process.env.LOCKER_RELIABILITY_SCALE ?? 1) : 1;
export const scaled = (n: number) => Math.max(1, Math.round(n * SCALE));

/** A seed for every random choice in a suite, printed so a failing run can be replayed. */
export function suiteSeed(suite: string): number {
  const fromEnv = process.env.LOCKER_RELIABILITY_SEED;
  // Not Math.random: the test runner may seed it, and every run would then try the same moments.
  const seed = fromEnv ? Number(fromEnv) : randomInt(2 ** 31 - 1);
  console.info(`${suite}: seed ${seed} (replay with LOCKER_RELIABILITY_SEED=${seed})`);
  return seed;
}

export interface LeakFigures {
  logLines: number;
  mqttPayloads: number;
  errorBodies: number;
  auditEvents: number;
  phones: number;
  codes: number;
  hits: number;
}

export interface SuiteFigures {
  /** File name and sort key, e.g. `3-brute-force`. */
  suite: string;
  title: string;
  /** What the suite tried, in one sentence. */
  summary: string;
  inputsTried: number;
  faultsInjected: number;
  doorsWronglyOpened: number;
  eventsLost: number;
  /** Further measured figures, label -> value (already formatted where it helps). */
  details: Record<string, string | number>;
  leaks?: LeakFigures;
  notes?: string[];
  seed?: number;
  scale: number;
  durationMs: number;
  finishedAt: string;
}

export function writeFigures(f: Omit<SuiteFigures, 'scale' | 'finishedAt'>): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const full: SuiteFigures = { ...f, scale: SCALE, finishedAt: new Date().toISOString() };
  writeFileSync(join(RESULTS_DIR, `${f.suite}.json`), JSON.stringify(full, null, 2) + '\n');
}

/** PRNG for choices outside fast-check (crash timing, driver steps): replayable from the seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
