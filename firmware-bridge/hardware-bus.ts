// What the onoff and gpiod drivers share: the pulse queue (one lock at a time), the debounced
// sensor trackers, the listeners, and the crash guard that drives every relay locked when the
// process exits without a clean stop.
import type { DoorBus, DoorEvent, DoorListener, DoorState, UnlockResult } from './door-bus.ts';
import { SensorTracker } from './debounce.ts';
import { DoorListeners } from './door-listeners.ts';
import type { BankLines, LockLineDef } from './lines.ts';
import { PulseSequencer, realTimers, type PulseTiming, type TimerApi } from './pulse-sequencer.ts';

export interface BusLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLog: BusLog = { info() {}, warn() {}, error() {} };

export interface HardwareOptions {
  timing: PulseTiming;
  timers?: TimerApi;
  /** A level counts once it has held this long. */
  debounceMs?: number;
  /** Sensors on chips without edge interrupts are read this often. */
  pollMs?: number;
  log?: BusLog;
}

export const DEFAULT_DEBOUNCE_MS = 30;
/** The bound: a door on a chip without interrupts is seen within 50 ms. */
export const MAX_POLL_MS = 50;

export abstract class HardwareDoorBus implements DoorBus {
  abstract readonly driver: string;
  protected readonly timers: TimerApi;
  protected readonly log: BusLog;
  protected readonly debounceMs: number;
  protected readonly pollMs: number;
  protected readonly sequencer: PulseSequencer;
  protected readonly trackers = new Map<number, SensorTracker>();
  protected readonly locks = new Map<number, LockLineDef>();
  protected started = false;
  private readonly listeners: DoorListeners;
  private exitHook: (() => void) | null = null;

  constructor(
    protected readonly bank: BankLines,
    opts: HardwareOptions,
  ) {
    this.timers = opts.timers ?? realTimers;
    this.log = opts.log ?? silentLog;
    this.listeners = new DoorListeners(this.log);
    this.debounceMs = opts.debounceMs ?? DEFAULT_DEBOUNCE_MS;
    this.pollMs = Math.min(opts.pollMs ?? MAX_POLL_MS, MAX_POLL_MS);
    for (const l of bank.locks) this.locks.set(l.compartment, l);
    for (const s of bank.sensors) {
      this.trackers.set(s.compartment, new SensorTracker(s.compartment, s.closedValue, this.debounceMs, this.timers, (e) => this.emit(e)));
    }
    this.sequencer = new PulseSequencer({ setRelay: (n, on) => this.setRelay(n, on) }, opts.timing, this.timers);
  }

  abstract start(): Promise<void>;
  abstract stop(): Promise<void>;
  protected abstract setRelay(compartment: number, energised: boolean): void | Promise<void>;

  async unlock(compartment: number): Promise<UnlockResult> {
    if (!this.locks.has(compartment)) throw new Error(`no compartment ${compartment} on this bus`);
    if (!this.started) throw new Error('door bus is not started');
    const energisedAt = await this.sequencer.pulse(compartment);
    return { energisedAt };
  }

  doorState(compartment: number): DoorState {
    return this.trackers.get(compartment)?.state ?? 'unknown';
  }

  energised(): number[] {
    return this.sequencer.energised();
  }

  onEvent(listener: DoorListener): () => void {
    return this.listeners.add(listener);
  }

  protected emit(event: DoorEvent): void {
    this.listeners.emit(event);
  }

  /**
   * Runs `lockAll` synchronously if the process exits without stop(): an uncaught exception,
   * process.exit() from elsewhere. (SIGKILL and power loss are covered by the relay board's
   * locked default and the `gpio=` lines of config.txt.)
   */
  protected armCrashGuard(lockAll: () => void): void {
    this.disarmCrashGuard();
    const hook = () => {
      try {
        lockAll();
      } catch {
        // Exiting anyway: nothing left to report to.
      }
    };
    process.on('exit', hook);
    this.exitHook = hook;
  }

  protected disarmCrashGuard(): void {
    if (this.exitHook) process.off('exit', this.exitHook);
    this.exitHook = null;
  }
}
