// `npx locker hw test`: for the installer. Pulses each lock in turn and watches its door sensor:
// did the door pop open, was it shut again. The result is a table, one row per compartment.
import type { DoorBus, DoorEvent, DoorState } from './door-bus.ts';
import { realTimers, type TimerApi } from './pulse-sequencer.ts';

export interface HwTestItem {
  compartment: number;
  lock: string;
  sensor: string;
  /** Why this door is not pulsed (e.g. a dossier is inside). */
  skip?: string;
}

export type HwVerdict = 'ok' | 'did not open' | 'left open' | 'pulse failed' | 'sensor unreadable' | 'was open' | 'skipped';

export interface HwTestResult extends HwTestItem {
  before: DoorState;
  pulsed: boolean;
  openedAfterMs: number | null;
  closedAgain: boolean | null;
  verdict: HwVerdict;
  note?: string;
}

export interface HwTestOptions {
  /** How long to wait for the door to open after its pulse. */
  openWaitMs: number;
  /** How long to wait for the installer to shut it again. */
  closeWaitMs: number;
  timers?: TimerApi;
  /** Progress for the person at the locker ("shut door 3"). */
  say?: (line: string) => void;
  /** Called just before each pulse (the CLI writes it to the audit trail). */
  beforePulse?: (item: HwTestItem) => void;
}

function waitFor(bus: DoorBus, timers: TimerApi, compartment: number, kind: DoorEvent['kind'], ms: number): Promise<DoorEvent | null> {
  return new Promise((resolve) => {
    let done = false;
    const off = bus.onEvent((e) => {
      if (done || e.compartment !== compartment || (e.kind !== kind && e.kind !== 'sensor_fault')) return;
      done = true;
      off();
      resolve(e);
    });
    timers.setTimeout(() => {
      if (done) return;
      done = true;
      off();
      resolve(null);
    }, ms);
  });
}

export async function runHwTest(bus: DoorBus, items: HwTestItem[], opts: HwTestOptions): Promise<HwTestResult[]> {
  const timers = opts.timers ?? realTimers;
  const say = opts.say ?? (() => {});
  const results: HwTestResult[] = [];
  for (const item of items) {
    const before = bus.doorState(item.compartment);
    const row: HwTestResult = { ...item, before, pulsed: false, openedAfterMs: null, closedAgain: null, verdict: 'ok' };
    results.push(row);
    if (item.skip) {
      row.verdict = 'skipped';
      row.note = item.skip;
      continue;
    }
    if (before === 'open') {
      row.verdict = 'was open';
      row.note = 'shut it and test again';
      continue;
    }
    say(`door ${item.compartment}: pulsing ${item.lock}`);
    opts.beforePulse?.(item);
    // Listen before the pulse: a door that springs open can beat the unlock promise.
    const opened = waitFor(bus, timers, item.compartment, 'opened', opts.openWaitMs);
    let energisedAt: number;
    try {
      energisedAt = (await bus.unlock(item.compartment)).energisedAt;
      row.pulsed = true;
    } catch (err) {
      row.verdict = 'pulse failed';
      row.note = (err as Error).message;
      continue;
    }
    if (before === 'unknown') {
      row.verdict = 'sensor unreadable';
      row.note = `check ${item.sensor}`;
      continue;
    }
    const first = await opened;
    if (!first || first.kind !== 'opened') {
      row.verdict = first?.kind === 'sensor_fault' ? 'sensor unreadable' : 'did not open';
      row.note = first?.kind === 'sensor_fault' ? first.reason : `no opening on ${item.sensor}: check the lock, its relay and the sensor`;
      continue;
    }
    row.openedAfterMs = Math.max(0, first.at - energisedAt);
    say(`door ${item.compartment} is open: shut it now`);
    const closed = await waitFor(bus, timers, item.compartment, 'closed', opts.closeWaitMs);
    row.closedAgain = closed?.kind === 'closed';
    if (!row.closedAgain) {
      row.verdict = 'left open';
      row.note = closed?.kind === 'sensor_fault' ? closed.reason : 'not shut in time (or the sensor did not see it)';
    }
  }
  return results;
}

export function formatHwTable(results: HwTestResult[]): string {
  const head = ['door', 'lock', 'sensor', 'before', 'pulse', 'opened', 'shut', 'result'];
  const rows = results.map((r) => [
    String(r.compartment),
    r.lock,
    r.sensor,
    r.before,
    r.pulsed ? 'ok' : r.verdict === 'pulse failed' ? 'FAILED' : '-',
    r.openedAfterMs === null ? '-' : `${(r.openedAfterMs / 1000).toFixed(2)} s`,
    r.closedAgain === null ? '-' : r.closedAgain ? 'yes' : 'no',
    r.verdict === 'ok' ? 'ok' : `${r.verdict.toUpperCase()}${r.note ? `: ${r.note}` : ''}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  const ok = results.filter((r) => r.verdict === 'ok').length;
  return [line(head), ...rows.map(line), '', `${ok} of ${results.length} doors worked.`].join('\n');
}
