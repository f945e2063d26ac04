// Simulated doors: the same DoorBus contract as the GPIO drivers, with a person's hand
// (setDoor) instead of a reed switch. Used by `npm start` on a laptop and by the tests.
import type { DoorBus, DoorEvent, DoorListener, DoorState, UnlockResult } from './door-bus.ts';
import { PulseSequencer, realTimers, type PulseTiming, type TimerApi } from './pulse-sequencer.ts';

export interface SimRelayRecord {
  compartment: number;
  energised: boolean;
  at: number;
}

export class SimDoorBus implements DoorBus {
  readonly driver = 'sim';
  private readonly doors = new Map<number, DoorState>();
  private readonly listeners = new Set<DoorListener>();
  private readonly sequencer: PulseSequencer;
  /** Every relay edge, in order: lets tests and the simulator panel see what the locks did. */
  readonly relayLog: SimRelayRecord[] = [];
  private started = false;

  constructor(
    compartments: number[],
    timing: PulseTiming,
    private readonly timers: TimerApi = realTimers,
    initialDoors: Record<number, DoorState> = {},
  ) {
    for (const n of compartments) this.doors.set(n, initialDoors[n] ?? 'closed');
    this.sequencer = new PulseSequencer(
      {
        setRelay: (compartment, energised) => {
          this.relayLog.push({ compartment, energised, at: this.timers.now() });
          if (this.relayLog.length > 10_000) this.relayLog.splice(0, 5_000);
        },
      },
      timing,
      timers,
    );
  }

  async start(): Promise<void> {
    for (const n of this.doors.keys()) this.relayLog.push({ compartment: n, energised: false, at: this.timers.now() });
    this.started = true;
  }

  async stop(): Promise<void> {
    this.started = false;
    await this.sequencer.close();
    for (const n of this.doors.keys()) this.relayLog.push({ compartment: n, energised: false, at: this.timers.now() });
  }

  async unlock(compartment: number): Promise<UnlockResult> {
    if (!this.doors.has(compartment)) throw new Error(`no compartment ${compartment} on this bus`);
    if (!this.started) throw new Error('door bus is not started');
    const energisedAt = await this.sequencer.pulse(compartment);
    return { energisedAt };
  }

  doorState(compartment: number): DoorState {
    return this.doors.get(compartment) ?? 'unknown';
  }

  energised(): number[] {
    return this.sequencer.energised();
  }

  onEvent(listener: DoorListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A person opens or closes the door. Returns false for an unknown compartment. */
  setDoor(compartment: number, open: boolean): boolean {
    const current = this.doors.get(compartment);
    if (current === undefined) return false;
    const next: DoorState = open ? 'open' : 'closed';
    if (current === next) return true;
    this.doors.set(compartment, next);
    this.emit({ kind: open ? 'opened' : 'closed', compartment, at: this.timers.now() });
    return true;
  }

  private emit(event: DoorEvent): void {
    for (const l of this.listeners) l(event);
  }
}
