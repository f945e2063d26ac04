// Hand-driven time for door-fault tests: the domain's Scheduler (jam and ajar timers) and Clock
// (unlock windows) move together when the test says so.
import type { Scheduler } from '../../server/domain/ports.ts';
import type { ManualClock } from '../helpers/clock.ts';

interface Timer {
  due: number;
  every: number | null;
  fn: () => void;
  cancelled: boolean;
}

export class ManualScheduler implements Scheduler {
  private now = 0;
  private timers: Timer[] = [];

  every(ms: number, fn: () => void): () => void {
    const t: Timer = { due: this.now + ms, every: ms, fn, cancelled: false };
    this.timers.push(t);
    return () => (t.cancelled = true);
  }

  after(ms: number, fn: () => void): () => void {
    const t: Timer = { due: this.now + ms, every: null, fn, cancelled: false };
    this.timers.push(t);
    return () => (t.cancelled = true);
  }

  pending(): number {
    return this.timers.filter((t) => !t.cancelled && t.every === null).length;
  }

  /** Runs every timer due within `ms`, in time order, letting promises settle between them. */
  async advance(ms: number, clock?: ManualClock): Promise<void> {
    const end = this.now + ms;
    await settle();
    for (;;) {
      await new Promise((r) => setImmediate(r));
      const next = this.timers.filter((t) => !t.cancelled && t.due <= end).sort((a, b) => a.due - b.due)[0];
      if (!next) break;
      clock?.advance(next.due - this.now);
      this.now = next.due;
      if (next.every === null) next.cancelled = true;
      else next.due += next.every;
      next.fn();
    }
    clock?.advance(end - this.now);
    this.now = end;
    await settle();
  }
}

/** Lets pending promise chains (an HTTP reply, a queued pulse) run to their next wait. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setTimeout(r, 5));
}
