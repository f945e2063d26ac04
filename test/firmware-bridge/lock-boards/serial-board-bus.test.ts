import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DoorEvent } from '../../../firmware-bridge/door-bus.ts';
import { modbusBoard } from '../../../firmware-bridge/lock-boards/modbus-board.ts';
import { SerialBoardDoorBus, type OpenPort, type SerialBankDef } from '../../../firmware-bridge/lock-boards/serial-board-bus.ts';
import { ModbusBoardStandIn } from './modbus-standin.ts';

/** One RS485 pair with boards on it: every frame written reaches every board, replies come back. */
class Wire implements OpenPort {
  readonly boards: ModbusBoardStandIn[] = [];
  private data: (d: Buffer) => void = () => {};
  write(data: Buffer, cb?: (err?: Error | null) => void) {
    const copy = Buffer.from(data);
    queueMicrotask(() => {
      cb?.(null);
      for (const b of this.boards) b.feed(copy);
    });
    return true;
  }
  on(event: 'data' | 'close', fn: (arg: never) => void) {
    if (event === 'data') this.data = fn as (d: Buffer) => void;
    return this;
  }
  close(cb?: () => void) {
    cb?.();
  }
  board(address: number, channels: number) {
    const b = new ModbusBoardStandIn(address, channels, (reply) => queueMicrotask(() => this.data(reply)));
    this.boards.push(b);
    return b;
  }
}

const timing = { pulseMs: 400, gapMs: 100 };

function cabinet(timedPulse: boolean) {
  const wire = new Wire();
  const b1 = wire.board(1, 8);
  const b2 = wire.board(2, 8);
  // Inputs on = door closed (closedBit true), every door shut to begin with.
  b1.inputs.fill(true);
  b2.inputs.fill(true);
  const protocol = modbusBoard({ timedPulse });
  const def: SerialBankDef = {
    buses: { rs485: { path: '/dev/ttyUSB0', baud: 9600 } },
    boards: [
      { id: 'b1', bus: 'rs485', address: 1, protocol, channels: 8, closedBit: true },
      { id: 'b2', bus: 'rs485', address: 2, protocol, channels: 8, closedBit: true },
    ],
    doors: [
      { compartment: 1, lock: { board: 'b1', channel: 1 }, sensor: { board: 'b1', channel: 1 } },
      { compartment: 2, lock: { board: 'b1', channel: 2 }, sensor: { board: 'b1', channel: 2 } },
      { compartment: 9, lock: { board: 'b2', channel: 1 }, sensor: { board: 'b2', channel: 1 } },
    ],
  };
  const bus = new SerialBoardDoorBus(def, { timing, openPort: async () => wire, pollMs: 100, debounceMs: 30 });
  const events: DoorEvent[] = [];
  bus.onEvent((e) => events.push(e));
  return { wire, b1, b2, bus, events };
}

/** Coils on at the same moment, from a board's history. */
function maxOnAtOnce(...boards: ModbusBoardStandIn[]): number {
  const changes = boards.flatMap((b, i) => b.history.map(([coil, on, at]) => ({ key: `${i}:${coil}`, on, at })));
  changes.sort((a, b) => a.at - b.at || Number(a.on) - Number(b.on));
  const live = new Set<string>();
  let max = 0;
  for (const c of changes) {
    if (c.on) live.add(c.key);
    else live.delete(c.key);
    max = Math.max(max, live.size);
  }
  return max;
}

/** Lets fake time run until `p` settles: the bus paces itself with timers (gaps, timeouts, polls). */
async function settle<T>(p: Promise<T>): Promise<T> {
  let done = false;
  const out = p.finally(() => (done = true));
  out.catch(() => undefined);
  for (let i = 0; i < 1000 && !done; i++) await vi.advanceTimersByTimeAsync(5);
  return out;
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('serial lock boards (Modbus RTU relay boards)', () => {
  it('switches every output off at start, reads the doors, and opens no door by itself', async () => {
    const { b1, bus } = cabinet(false);
    b1.coils[1] = true; // left on by a crash mid-pulse
    await settle(bus.start());
    await vi.advanceTimersByTimeAsync(1000);
    expect(b1.coils.every((c) => !c)).toBe(true);
    expect(b1.history.filter(([, on]) => on)).toEqual([]);
    expect(bus.doorState(1)).toBe('closed');
    expect(bus.doorState(9)).toBe('closed');
    await settle(bus.stop());
  });

  it('pulses one lock at a time, each for the pulse length, ended by the board when it times the pulse', async () => {
    const { b1, b2, bus } = cabinet(true);
    await settle(bus.start());
    const t0 = Date.now();
    await settle(Promise.all([bus.unlock(1), bus.unlock(9), bus.unlock(2)]));
    await vi.advanceTimersByTimeAsync(3000);
    const on = [...b1.history, ...b2.history].filter(([, on]) => on);
    expect(on).toHaveLength(3);
    expect(maxOnAtOnce(b1, b2)).toBe(1);
    for (const b of [b1, b2]) {
      for (let i = 0; i < b.history.length; i += 2) expect(b.history[i + 1]![2] - b.history[i]![2]).toBe(400);
    }
    expect(on[0]![2] - t0).toBeLessThan(50);
    await settle(bus.stop());
  });

  it('switches a lock on and, after the pulse, off again where the board has no timed pulse', async () => {
    const { b1, bus } = cabinet(false);
    await settle(bus.start());
    const { energisedAt } = await settle(bus.unlock(2));
    expect(b1.coils[1]).toBe(true);
    await vi.advanceTimersByTimeAsync(450);
    expect(b1.coils[1]).toBe(false);
    const [on, off] = b1.history;
    expect(on![0]).toBe(1);
    expect(off![2] - energisedAt).toBeGreaterThanOrEqual(400);
    expect(off![2] - energisedAt).toBeLessThan(450);
    await settle(bus.stop());
  });

  it('reports a door opened and shut again from the polled feedback, debounced', async () => {
    const { b1, bus, events } = cabinet(true);
    await settle(bus.start());
    b1.inputs[0] = false;
    await vi.advanceTimersByTimeAsync(20);
    b1.inputs[0] = true; // a bounce shorter than the debounce: nothing
    await vi.advanceTimersByTimeAsync(300);
    expect(events).toEqual([]);
    b1.inputs[0] = false;
    await vi.advanceTimersByTimeAsync(250 + 30);
    expect(events.map((e) => [e.kind, e.compartment])).toEqual([['opened', 1]]);
    b1.inputs[0] = true;
    await vi.advanceTimersByTimeAsync(250 + 30);
    expect(events.map((e) => [e.kind, e.compartment])).toEqual([['opened', 1], ['closed', 1]]);
    await settle(bus.stop());
  });

  it('faults the doors of a board that stops answering, keeps the other board working, and reads them again when it is back', async () => {
    const { b1, b2, bus, events } = cabinet(true);
    await settle(bus.start());
    b2.silent = true;
    await vi.advanceTimersByTimeAsync(3000);
    expect(events.filter((e) => e.kind === 'sensor_fault').map((e) => e.compartment)).toEqual([9]);
    expect(bus.doorState(9)).toBe('unknown');
    expect(bus.boardHealth().find((h) => h.id === 'b2')).toMatchObject({ state: 'gone' });
    await expect(settle(bus.unlock(9))).rejects.toThrow(/no valid answer/);

    b1.inputs[1] = false;
    await vi.advanceTimersByTimeAsync(1000);
    expect(events.some((e) => e.kind === 'opened' && e.compartment === 2)).toBe(true);

    b2.silent = false;
    await vi.advanceTimersByTimeAsync(1000);
    expect(bus.doorState(9)).toBe('closed');
    expect(events.at(-1)).toMatchObject({ kind: 'closed', compartment: 9 });
    expect(bus.boardHealth().find((h) => h.id === 'b2')).toMatchObject({ state: 'ok', failuresInRow: 0 });
    await settle(bus.stop());
  });

  it('retries a reply with a bad checksum and counts nothing against the board', async () => {
    const { b1, bus, events } = cabinet(true);
    await settle(bus.start());
    b1.corruptNext = 2;
    await vi.advanceTimersByTimeAsync(2000);
    expect(events).toEqual([]);
    expect(bus.boardHealth().find((h) => h.id === 'b1')).toMatchObject({ state: 'ok', failuresInRow: 0 });
    await settle(bus.stop());
  });
});
