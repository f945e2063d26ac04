// The door bus is the only way the rest of the controller touches locks and door sensors.
// Drivers (sim, onoff, gpiod, serial) implement it; the domain sees only typed door events.

export type DoorState = 'open' | 'closed' | 'unknown';

export type DoorEvent =
  | { kind: 'opened'; compartment: number; at: number }
  | { kind: 'closed'; compartment: number; at: number }
  | {
      kind: 'sensor_fault';
      compartment: number;
      at: number;
      reason: string;
      /**
       * The door's feedback comes through this lock board, which stopped answering: the sensor is
       * not known to be broken, and the fault ends once the board reads the door again.
       */
      board?: string;
    };

/** A lock board stopped answering, or answers again (serial driver only). */
export interface BoardEvent {
  kind: 'board_lost' | 'board_back';
  board: string;
  address: number;
  port: string;
  at: number;
  /** Compartments whose lock or feedback is on this board. */
  compartments: number[];
  reason?: string;
}

export type BoardListener = (event: BoardEvent) => void;

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
  /** Drivers with lock boards: boards lost and back. */
  onBoardEvent?(listener: BoardListener): () => void;
  /** Drivers with lock boards: each board's health, for /healthz. */
  boardHealth?(): BoardHealth[];
  /** Drivers with lock boards: the board, now not answering, that this door's feedback depends on. */
  lostBoardOf?(compartment: number): string | null;
}

export interface BoardHealth {
  id: string;
  address: number;
  port: string;
  compartments: number[];
  state: 'ok' | 'gone';
  failuresInRow: number;
  reads: number;
  lastError: string | null;
}
