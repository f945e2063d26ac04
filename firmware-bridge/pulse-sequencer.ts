// One lock at a time: the supply is sized for a single solenoid, and a lock is rated for
// short pulses only. Every driver's unlocks go through this queue.

export const HARD_MAX_PULSE_MS = 2000;

export interface RelayLines {
  setRelay(compartment: number, energised: boolean): void | Promise<void>;
}

export interface PulseTiming {
  pulseMs: number;
  gapMs: number;
}

export interface TimerApi {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
}

export const realTimers: TimerApi = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
};

export class PulseSequencerClosed extends Error {
  constructor() {
    super('the door bus is stopping: pulse not started');
  }
}

export class PulseSequencer {
  private tail: Promise<void> = Promise.resolve();
  private readonly active = new Set<number>();
  readonly pulseMs: number;
  private closed = false;
  /** Ends the sleep in progress early: a stop must not wait out a queue of pulses. */
  private wake: (() => void) | null = null;

  constructor(
    private readonly lines: RelayLines,
    private readonly timing: PulseTiming,
    private readonly timers: TimerApi = realTimers,
  ) {
    if (!(timing.pulseMs > 0)) throw new Error('pulseMs must be positive');
    this.pulseMs = Math.min(timing.pulseMs, HARD_MAX_PULSE_MS);
  }

  energised(): number[] {
    return [...this.active];
  }

  /** Resolves with the time the relay was energised; the pulse then ends on its own. */
  pulse(compartment: number): Promise<number> {
    let started!: (at: number) => void;
    let failed!: (err: unknown) => void;
    const energisedAt = new Promise<number>((res, rej) => {
      started = res;
      failed = rej;
    });
    this.tail = this.tail.then(async () => {
      if (this.closed) {
        failed(new PulseSequencerClosed());
        return;
      }
      try {
        await this.lines.setRelay(compartment, true);
      } catch (err) {
        // Never leave a half-driven line energised.
        await this.release(compartment);
        failed(err);
        return;
      }
      this.active.add(compartment);
      started(this.timers.now());
      await this.sleep(this.pulseMs);
      await this.release(compartment);
      await this.sleep(this.timing.gapMs);
    });
    return energisedAt;
  }

  /**
   * Refuses queued pulses and cuts the current one short (its relay is released at once).
   * Resolves when no relay is energised any more.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
    await this.tail;
  }

  /** Waits until every queued pulse has finished (used on shutdown). */
  async drain(): Promise<void> {
    await this.tail;
  }

  private async release(compartment: number): Promise<void> {
    try {
      await this.lines.setRelay(compartment, false);
    } catch {
      // The driver reports its own fault; nothing more can be done for this line here.
    } finally {
      // Counted as energised until the driver says the line is locked again.
      this.active.delete(compartment);
    }
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.closed) return Promise.resolve();
    return new Promise((res) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        this.wake = null;
        res();
      };
      this.wake = finish;
      this.timers.setTimeout(finish, ms);
    });
  }
}
