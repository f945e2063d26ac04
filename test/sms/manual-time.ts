// Fake timers for the SMS tests: a Scheduler driven by the ManualClock. advance() moves the clock
// and fires every timer that falls due on the way, in time order, letting I/O settle in between.
import type { Scheduler } from '../../server/domain/ports.ts';
import { ManualClock } from '../helpers/clock.ts';

interface Timer {
  id: number;
  at: number;
  fn: () => void;
  every: number | null;
}

/** Lets pending I/O callbacks and promise chains run (setImmediate is never faked here). */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}

/** Waits (in real time, at most `ms`) until `cond` holds. */
export async function until(cond: () => boolean, what = 'condition', ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return;
    await new Promise<void>((r) => setImmediate(r));
  }
  if (cond()) return;
  throw new Error(`timed out waiting for ${what}`);
}

export class ManualScheduler implements Scheduler {
  private timers: Timer[] = [];
  private nextId = 1;

  constructor(readonly clock: ManualClock = new ManualClock()) {}

  after(ms: number, fn: () => void): () => void {
    return this.add(ms, fn, null);
  }

  every(ms: number, fn: () => void): () => void {
    return this.add(ms, fn, ms);
  }

  pending(): number {
    return this.timers.length;
  }

  private add(ms: number, fn: () => void, every: number | null): () => void {
    const t: Timer = { id: this.nextId++, at: this.clock.now() + Math.max(0, ms), fn, every };
    this.timers.push(t);
    return () => {
      this.timers = this.timers.filter((x) => x !== t);
    };
  }

  /** Moves time forward by `ms`, firing what falls due. */
  async advance(ms: number): Promise<void> {
    const end = this.clock.now() + ms;
    await settle();
    for (;;) {
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.clock.t = Math.max(this.clock.t, due.at);
      // An interval that fell behind (the clock jumped) fires once and goes on from now, like a real one.
      if (due.every !== null) due.at = Math.max(due.at, this.clock.t) + due.every;
      else this.timers = this.timers.filter((x) => x !== due);
      due.fn();
      await settle();
    }
    this.clock.t = Math.max(this.clock.t, end);
    await settle();
  }
}
