// The door bus for cabinets whose locks hang on RS485 lock-control boards: several boards per
// bus (one half-duplex queue each), several buses. Locks are pulsed through the same
// one-at-a-time sequencer as on GPIO, with the same hard upper bound; a board that times its own
// pulse gets one command, others an on and an off. Door feedback is polled per board, each at most
// `pollMs` apart, and debounced by the same trackers as GPIO sensors, so the domain sees the same
// door events. A board that stops answering is a sensor fault on each of its doors (the domain
// marks them `fault`) without stopping the other boards; once it answers again its doors report
// their state afresh. A port that will not open or that closes (a USB adapter unplugged) is the
// same for each board on it, and is opened again every REOPEN_MS.
import type { BoardEvent, BoardHealth, BoardListener, DoorBus, DoorEvent, DoorListener, DoorState, UnlockResult } from '../door-bus.ts';
import { SensorTracker } from '../debounce.ts';
import { DoorListeners } from '../door-listeners.ts';
import { silentLog, type BusLog } from '../hardware-bus.ts';
import { PulseSequencer, realTimers, type PulseTiming, type TimerApi } from '../pulse-sequencer.ts';
import type { LockBoardProtocol } from './protocol.ts';
import { DEFAULT_TRANSPORT, Rs485Transport, type SerialLink, type TransportOptions } from './rs485-transport.ts';

export interface SerialBoardDef {
  id: string;
  /** Key into `buses`. */
  bus: string;
  address: number;
  protocol: LockBoardProtocol;
  /** Channels in use on this board (feedback is read for 1..channels). */
  channels: number;
  /** The raw feedback bit that means "door closed" (sources disagree per family: a setting). */
  closedBit: boolean;
}

export interface SerialDoorDef {
  compartment: number;
  lock: { board: string; channel: number };
  sensor: { board: string; channel: number } | null;
}

export interface SerialBankDef {
  buses: Record<string, { path: string; baud: number }>;
  boards: SerialBoardDef[];
  doors: SerialDoorDef[];
}

export interface OpenPort extends SerialLink {
  close(cb?: (err?: Error | null) => void): unknown;
}

export interface SerialBusOptions {
  timing: PulseTiming;
  openPort(path: string, baud: number): Promise<OpenPort>;
  timers?: TimerApi;
  log?: BusLog;
  debounceMs?: number;
  /** Each board's feedback is read at least this often (at most 250 ms). */
  pollMs?: number;
  transport?: TransportOptions;
  /** Failed reads in a row after which a board counts as gone. */
  goneAfter?: number;
}

export const MAX_BOARD_POLL_MS = 250;

interface Bus {
  id: string;
  path: string;
  baud: number;
  port: OpenPort | null;
  transport: Rs485Transport | null;
  boards: SerialBoardDef[];
  /** Why the port could not be opened (unplugged adapter, wrong path, no permission). */
  openError: string | null;
  /** When to try opening it again (bus timers' clock). */
  reopenAt: number;
}

/** How often a port that would not open, or that closed (adapter unplugged), is tried again. */
export const REOPEN_MS = 2000;

export class SerialBoardDoorBus implements DoorBus {
  readonly driver = 'serial';
  private readonly timers: TimerApi;
  private readonly log: BusLog;
  private readonly pollMs: number;
  private readonly goneAfter: number;
  private readonly sequencer: PulseSequencer;
  private readonly boards = new Map<string, SerialBoardDef>();
  private readonly health = new Map<string, BoardHealth>();
  private readonly buses = new Map<string, Bus>();
  private readonly doors = new Map<number, SerialDoorDef>();
  private readonly trackers = new Map<number, SensorTracker>();
  private readonly listeners: DoorListeners;
  private readonly boardListeners = new Set<BoardListener>();
  private started = false;
  private stopping = false;

  constructor(
    private readonly def: SerialBankDef,
    private readonly opts: SerialBusOptions,
  ) {
    this.timers = opts.timers ?? realTimers;
    this.log = opts.log ?? silentLog;
    this.listeners = new DoorListeners(this.log);
    this.pollMs = Math.min(opts.pollMs ?? MAX_BOARD_POLL_MS, MAX_BOARD_POLL_MS);
    this.goneAfter = opts.goneAfter ?? 3;
    for (const [id, b] of Object.entries(def.buses)) this.buses.set(id, { id, path: b.path, baud: b.baud, port: null, transport: null, boards: [], openError: null, reopenAt: 0 });
    for (const b of def.boards) {
      const bus = this.buses.get(b.bus);
      if (!bus) throw new Error(`board "${b.id}" names bus "${b.bus}", which is not declared`);
      this.boards.set(b.id, b);
      bus.boards.push(b);
    }
    // Feedback is sampled, not edge-triggered: a level counts only once two polls in a row agree
    // (the debounce outlasts one poll interval), so a bounce caught by one poll is no door event.
    const debounce = Math.max(opts.debounceMs ?? 30, Math.round(this.pollMs * 1.5));
    for (const d of def.doors) {
      for (const ref of [d.lock, d.sensor]) if (ref && !this.boards.has(ref.board)) throw new Error(`compartment ${d.compartment} names board "${ref.board}", which is not declared`);
      this.doors.set(d.compartment, d);
      if (d.sensor) this.trackers.set(d.compartment, new SensorTracker(d.compartment, 1, debounce, this.timers, (e) => this.emit(e)));
    }
    for (const b of def.boards) {
      const compartments = def.doors.filter((d) => d.lock.board === b.id || d.sensor?.board === b.id).map((d) => d.compartment);
      this.health.set(b.id, { id: b.id, address: b.address, port: this.buses.get(b.bus)!.path, compartments, state: 'ok', failuresInRow: 0, reads: 0, lastError: null });
    }
    this.sequencer = new PulseSequencer({ setRelay: (n, on) => this.setLock(n, on) }, opts.timing, this.timers);
  }

  async start(): Promise<void> {
    // A port that will not open (the USB adapter unplugged at boot) does not stop the service: its
    // boards start lost, their doors in fault, and the port is tried again every REOPEN_MS.
    // Every output off before anything else: a driver-timed board may have been left on by a crash.
    await Promise.all([...this.buses.values()].map((bus) => this.open(bus)));
    // The first reading sets each door's state without an event; the domain reconciles it.
    await Promise.all(
      [...this.buses.values()].map(async (bus) => {
        for (const board of bus.boards) {
          const bits = await this.read(bus, board);
          // An unreadable door starts `unknown`, which the start-up reconcile records as a fault.
          for (const d of this.doorsOn(board)) this.trackers.get(d.compartment)!.init(bits ? this.level(board, bits, d.sensor!.channel) : null);
        }
      }),
    );
    this.started = true;
    for (const bus of this.buses.values()) this.schedulePoll(bus, 0);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.started = false;
    await this.sequencer.close();
    for (const t of this.trackers.values()) t.stop();
    for (const bus of this.buses.values()) {
      await this.allOff(bus).catch(() => undefined);
      bus.transport?.close('stopping');
      const port = bus.port;
      bus.port = null;
      if (port) await new Promise<void>((r) => port.close(() => r()));
    }
  }

  async unlock(compartment: number): Promise<UnlockResult> {
    if (!this.doors.has(compartment)) throw new Error(`no compartment ${compartment} on this bus`);
    if (!this.started) throw new Error('door bus is not started');
    return { energisedAt: await this.sequencer.pulse(compartment) };
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

  onBoardEvent(listener: BoardListener): () => void {
    this.boardListeners.add(listener);
    return () => this.boardListeners.delete(listener);
  }

  lostBoardOf(compartment: number): string | null {
    const ref = this.doors.get(compartment)?.sensor;
    return ref && this.health.get(ref.board)?.state === 'gone' ? ref.board : null;
  }

  /** Each board's health: for /healthz and `locker hw test`. */
  boardHealth(): BoardHealth[] {
    return [...this.health.values()].map((h) => ({ ...h, compartments: [...h.compartments] }));
  }

  private emit(event: DoorEvent): void {
    this.listeners.emit(event);
  }

  private emitBoard(board: SerialBoardDef, kind: BoardEvent['kind'], reason?: string): void {
    const h = this.health.get(board.id)!;
    const event: BoardEvent = { kind, board: board.id, address: board.address, port: h.port, at: this.timers.now(), compartments: [...h.compartments], ...(reason ? { reason } : {}) };
    for (const l of this.boardListeners) {
      try {
        l(event);
      } catch (err) {
        this.log.error({ err, board: board.id }, 'board event listener failed');
      }
    }
  }

  private doorsOn(board: SerialBoardDef): SerialDoorDef[] {
    return [...this.doors.values()].filter((d) => d.sensor?.board === board.id);
  }

  private level(board: SerialBoardDef, bits: boolean[], channel: number): 0 | 1 {
    return bits[channel - 1] === board.closedBit ? 1 : 0;
  }

  private goneReason(board: SerialBoardDef): string {
    return `lock board "${board.id}" (address ${board.address}) is not answering: ${this.health.get(board.id)!.lastError ?? 'no reply'}`;
  }

  private busOf(board: SerialBoardDef): Bus {
    return this.buses.get(board.bus)!;
  }

  private async setLock(compartment: number, on: boolean): Promise<void> {
    const door = this.doors.get(compartment)!;
    const board = this.boards.get(door.lock.board)!;
    const transport = this.busOf(board).transport;
    if (!transport || transport.isClosed) throw new Error(`the serial port of lock board "${board.id}" is not open`);
    if (on) {
      const ex = board.protocol.unlock(board.address, door.lock.channel, this.sequencer.pulseMs);
      if (ex.noReply) await transport.send(ex.frame);
      else await transport.request(ex.frame, ex.parse);
    } else if (board.protocol.pulse === 'driver' && board.protocol.lockOff) {
      const ex = board.protocol.lockOff(board.address, door.lock.channel);
      await transport.request(ex.frame, ex.parse);
    }
  }

  /** Opens the bus's port and switches its outputs off; false (and the reason kept) when it will not open. */
  private async open(bus: Bus): Promise<boolean> {
    bus.reopenAt = this.timers.now() + REOPEN_MS;
    try {
      const port = await this.opts.openPort(bus.path, bus.baud);
      if (this.stopping) {
        await new Promise<void>((r) => port.close(() => r()));
        return false;
      }
      bus.port = port;
      bus.transport = new Rs485Transport(port, this.opts.transport ?? DEFAULT_TRANSPORT, this.timers);
      if (bus.openError) this.log.info({ port: bus.path }, 'lock-board port open again');
      bus.openError = null;
    } catch (err) {
      const message = (err as Error).message;
      if (bus.openError !== message) this.log.error({ port: bus.path, err: message }, 'lock-board port will not open; trying again');
      bus.openError = message;
      return false;
    }
    await this.allOff(bus);
    return true;
  }

  /** A port that closed under us (the adapter unplugged): let it go, and open it again in time. */
  private async reopenIfClosed(bus: Bus): Promise<void> {
    if (bus.transport && !bus.transport.isClosed) return;
    if (this.timers.now() < bus.reopenAt) return;
    const old = bus.port;
    bus.port = null;
    bus.transport = null;
    if (old) await new Promise<void>((r) => old.close(() => r()));
    await this.open(bus);
  }

  private async allOff(bus: Bus): Promise<void> {
    const transport = bus.transport;
    if (!transport) return;
    for (const board of bus.boards) {
      if (board.protocol.pulse !== 'driver' || !board.protocol.allOff) continue;
      const ex = board.protocol.allOff(board.address, board.channels);
      await transport.request(ex.frame, ex.parse).catch((err: Error) => this.log.warn({ board: board.id, err: err.message }, 'lock board: could not switch its outputs off'));
    }
  }

  /** One feedback read; null when it failed (counted towards the board being gone). */
  private async read(bus: Bus, board: SerialBoardDef): Promise<boolean[] | null> {
    const h = this.health.get(board.id)!;
    if (!bus.transport || bus.transport.isClosed) {
      this.failed(board, bus.openError ? `its port will not open: ${bus.openError}` : 'its port closed');
      return null;
    }
    try {
      const ex = board.protocol.readFeedback(board.address, board.channels);
      const bits = await bus.transport.request(ex.frame, ex.parse);
      h.reads++;
      h.failuresInRow = 0;
      h.lastError = null;
      if (h.state === 'gone') {
        h.state = 'ok';
        this.log.info({ board: board.id, address: board.address }, 'lock board answering again');
        this.emitBoard(board, 'board_back');
      }
      return bits;
    } catch (err) {
      this.failed(board, (err as Error).message);
      return null;
    }
  }

  private failed(board: SerialBoardDef, message: string): void {
    const h = this.health.get(board.id)!;
    h.failuresInRow++;
    h.lastError = message;
    // At start one failed read is enough: the board's doors start unreadable either way.
    if ((h.failuresInRow >= this.goneAfter || !this.started) && h.state === 'ok') {
      h.state = 'gone';
      this.log.error({ board: board.id, address: board.address, err: h.lastError }, 'lock board not answering');
      this.emitBoard(board, 'board_lost', this.goneReason(board));
    }
  }

  private schedulePoll(bus: Bus, delay: number): void {
    if (this.stopping) return;
    this.timers.setTimeout(() => void this.poll(bus), delay);
  }

  private async poll(bus: Bus): Promise<void> {
    if (this.stopping) return;
    const began = this.timers.now();
    await this.reopenIfClosed(bus);
    for (const board of bus.boards) {
      if (this.stopping) return;
      const bits = await this.read(bus, board);
      const gone = this.health.get(board.id)!.state === 'gone';
      for (const d of this.doorsOn(board)) {
        const t = this.trackers.get(d.compartment)!;
        if (bits) t.sample(this.level(board, bits, d.sensor!.channel));
        else if (gone) t.fail(this.goneReason(board), board.id);
      }
    }
    this.schedulePoll(bus, Math.max(0, this.pollMs - (this.timers.now() - began)));
  }
}
