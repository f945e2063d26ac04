// The door bus is the only way the rest of the controller touches locks and door sensors.
// Drivers (sim, onoff, gpiod) implement it; the domain sees only typed door events.

export type DoorState = 'open' | 'closed' | 'unknown';

export type DoorEvent =
  | { kind: 'opened'; compartment: number; at: number }
  | { kind: 'closed'; compartment: number; at: number }
  | { kind: 'sensor_fault'; compartment: number; at: number; reason: string };

export type DoorListener = (event: DoorEvent) => void;

export interface UnlockResult {
  /** When the relay was energised (epoch ms, from the bus clock). */
  energisedAt: number;
}

export interface DoorBus {
  readonly driver: string;
  /** Drive every relay to its locked level, then read every sensor. */
  start(): Promise<void>;
  /** Drive every relay to its locked level and release the hardware. */
  stop(): Promise<void>;
  /**
   * Pulse one lock. Pulses are serialised (one lock energised at a time); resolves when this
   * compartment's relay is energised, rejects when the pulse could not be started.
   */
  unlock(compartment: number): Promise<UnlockResult>;
  doorState(compartment: number): DoorState;
  onEvent(listener: DoorListener): () => void;
  /** Relays currently energised: for health checks and the one-at-a-time invariant. */
  energised(): number[];
}
