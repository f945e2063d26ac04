// A reed switch bounces and a slammed door rattles: a level counts only once it has held for
// the debounce time. Edges (interrupts) and polled samples go through the same tracker, which
// also turns read errors into one sensor_fault per episode (not one per poll).
import type { DoorEvent, DoorState } from './door-bus.ts';
import type { Bit } from './lines.ts';
import type { TimerApi } from './pulse-sequencer.ts';

export class SensorTracker {
  private stableLevel: Bit | null = null;
  private pending: Bit | null = null;
  private token = 0;
  private faulted = false;
  private stopped = false;
  state: DoorState = 'unknown';

  constructor(
    readonly compartment: number,
    private readonly closedValue: Bit,
    private readonly debounceMs: number,
    private readonly timers: TimerApi,
    private readonly emit: (event: DoorEvent) => void,
  ) {}

  /** The reading taken at start: sets the state without an event (the domain reconciles it). */
  init(level: Bit | null): void {
    this.stableLevel = level;
    this.pending = null;
    this.token++;
    this.faulted = level === null;
    this.state = level === null ? 'unknown' : this.stateOf(level);
  }

  /** One raw observation of the line: from an edge interrupt or a poll. */
  sample(level: Bit): void {
    if (this.stopped) return;
    if (level === this.stableLevel && !this.faulted) {
      // Back to where it was before the debounce time ran out: a bounce, not a change.
      if (this.pending !== null) {
        this.pending = null;
        this.token++;
      }
      return;
    }
    if (level === this.pending) return;
    this.pending = level;
    const token = ++this.token;
    if (this.debounceMs <= 0) {
      this.commit(level);
      return;
    }
    this.timers.setTimeout(() => {
      if (token !== this.token || this.stopped) return;
      this.commit(level);
    }, this.debounceMs);
  }

  /** The line could not be read (`board`: because the lock board it is read through is gone). */
  fail(reason: string, board?: string): void {
    if (this.stopped) return;
    this.pending = null;
    this.token++;
    this.stableLevel = null;
    if (this.faulted && this.state === 'unknown') return;
    this.faulted = true;
    this.state = 'unknown';
    this.emit({ kind: 'sensor_fault', compartment: this.compartment, at: this.timers.now(), reason, ...(board ? { board } : {}) });
  }

  stop(): void {
    this.stopped = true;
    this.token++;
  }

  private commit(level: Bit): void {
    this.pending = null;
    this.stableLevel = level;
    this.faulted = false;
    const next = this.stateOf(level);
    if (next === this.state) return;
    this.state = next;
    this.emit({ kind: next === 'open' ? 'opened' : 'closed', compartment: this.compartment, at: this.timers.now() });
  }

  private stateOf(level: Bit): DoorState {
    return level === this.closedValue ? 'closed' : 'open';
  }
}
