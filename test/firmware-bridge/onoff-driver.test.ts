import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DoorEvent } from '../../firmware-bridge/door-bus.ts';
import { DriverUnavailableError } from '../../firmware-bridge/errors.ts';
import { createDoorBus } from '../../firmware-bridge/index.ts';
import { bankLines } from '../../firmware-bridge/lines.ts';
import { OnoffDoorBus } from '../../firmware-bridge/onoff-driver.ts';
import { PulseSequencerClosed } from '../../firmware-bridge/pulse-sequencer.ts';
import { loadLockerMap } from '../../locker-map/load.ts';
import { LockerMapError } from '../../locker-map/load.ts';
import type { LockerMap } from '../../locker-map/schema.ts';
import { FakeBoard } from './fake-onoff.ts';
import { PI4, buildSysfs } from './sysfs-fixture.ts';
import { smallMap } from './test-maps.ts';

// Pi 4, kernel 6.6+: header base 512; exp20 at 600, exp21 at 616, exp22 at 632.
const EXPANDERS = [
  { address: 0x20, base: 600, charDev: 'gpiochip2' },
  { address: 0x21, base: 616, charDev: 'gpiochip3' },
  { address: 0x22, base: 632, charDev: 'gpiochip4' },
];
const RELAY_1 = 512 + 17;
const SENSOR_1 = 512 + 27;
const RELAY_2 = 600;
const SENSOR_2 = 608; // exp20, no interrupt: polled
const RELAY_3 = 601;
const SENSOR_3 = 616; // exp21, interrupt wired

let root: string;
let board: FakeBoard;
let buses: OnoffDoorBus[] = [];

beforeEach(() => {
  vi.useFakeTimers();
  root = buildSysfs(PI4, { expanders: EXPANDERS });
  board = new FakeBoard();
});
afterEach(async () => {
  for (const b of buses.splice(0)) await b.stop().catch(() => undefined);
  vi.useRealTimers();
  rmSync(root, { recursive: true, force: true });
});

function bus(map: LockerMap = smallMap(), extra: Partial<ConstructorParameters<typeof OnoffDoorBus>[1]> = {}) {
  const b = new OnoffDoorBus(bankLines(map, { strict: true }), { timing: map.locks, sysfsRoot: root, Gpio: board.Gpio(), ...extra });
  buses.push(b);
  const events: DoorEvent[] = [];
  b.onEvent((e) => events.push(e));
  return { b, events };
}

describe('onoff driver', () => {
  it('drives every relay to its locked level before it touches any sensor, at sysfs numbers offset by the chip base', async () => {
    const { b } = bus();
    await b.start();
    expect(board.ops.slice(0, 3)).toEqual([`export ${RELAY_1} high`, `export ${RELAY_2} low`, `export ${RELAY_3} low`]);
    expect(board.ops.slice(3)).toContain(`export ${SENSOR_1} in both`);
    expect(board.ops.slice(3)).toContain(`export ${SENSOR_2} in`);
    expect(board.ops.slice(3)).toContain(`export ${SENSOR_3} in both`);
    expect(board.energisedNow()).toEqual([]);
  });

  it('pulses a lock for the map pulse length, at its active level, then locks it again', async () => {
    const { b } = bus(smallMap(400, 250));
    await b.start();
    const res = await b.unlock(1);
    expect(res.energisedAt).toBe(Date.now());
    expect(board.values.get(RELAY_1)).toBe(0); // active low
    expect(b.energised()).toEqual([1]);
    await vi.advanceTimersByTimeAsync(399);
    expect(board.values.get(RELAY_1)).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(board.values.get(RELAY_1)).toBe(1);
    expect(b.energised()).toEqual([]);
  });

  it('energises only one lock at a time when 20 unlocks arrive at once, in the order they came', async () => {
    const map = loadLockerMap(); // 24 compartments: 16 relays on exp20, 8 on the header
    const { b } = bus(map);
    await b.start();
    const numbers = [20, 3, 17, 1, 9, 24, 5, 13, 2, 18, 7, 22, 11, 4, 16, 19, 6, 21, 10, 8];
    const writes: number[] = [];
    const opsBefore = board.ops.length;
    const all = Promise.all(numbers.map((n) => b.unlock(n)));
    await vi.advanceTimersByTimeAsync(numbers.length * (map.locks.pulseMs + map.locks.gapMs));
    const times = (await all).map((r) => r.energisedAt);
    for (const op of board.ops.slice(opsBefore)) if (op.startsWith('write')) writes.push(Number(op.split(' ')[1]));
    expect(board.maxEnergised).toBe(1);
    const bank = bankLines(map);
    const numberOf = (gpio: number) =>
      bank.locks.find((l) => (l.chip === 'header' ? 512 : 600) + l.offset === gpio && (l.chip === 'header' || l.chip === 'exp20'))!.compartment;
    // on, off, on, off ... in request order
    expect(writes.filter((_, i) => i % 2 === 0).map(numberOf)).toEqual(numbers);
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBe(map.locks.pulseMs + map.locks.gapMs);
  });

  it('locks every relay on stop, even in the middle of a pulse, refuses queued pulses, and keeps relay lines driven', async () => {
    const { b } = bus(smallMap(1000, 500));
    await b.start();
    await b.unlock(2);
    const queued = b.unlock(3);
    queued.catch(() => undefined);
    expect(board.values.get(RELAY_2)).toBe(1);
    await b.stop();
    expect(board.values.get(RELAY_2)).toBe(0);
    expect(board.energisedNow()).toEqual([]);
    await expect(queued).rejects.toBeInstanceOf(PulseSequencerClosed);
    expect(board.exported.has(RELAY_1) && board.exported.has(RELAY_2)).toBe(true);
    expect(board.exported.has(SENSOR_1) || board.exported.has(SENSOR_3)).toBe(false);
    await expect(b.unlock(1)).rejects.toThrow(/not started/);
  });

  it('drives the relays locked when the process exits without a stop (crash), and stops guarding after a stop', async () => {
    const before = new Set(process.listeners('exit'));
    const { b } = bus();
    await b.start();
    const guard = process.listeners('exit').find((l) => !before.has(l));
    expect(guard).toBeDefined();
    await b.unlock(3);
    expect(board.values.get(RELAY_3)).toBe(1);
    (guard as () => void)();
    expect(board.values.get(RELAY_3)).toBe(0);
    await b.stop();
    expect(process.listeners('exit')).not.toContain(guard);
  });

  it('reports a door opening on an interrupt line once it stops bouncing', async () => {
    const { b, events } = bus();
    await b.start();
    expect(b.doorState(3)).toBe('closed');
    board.set(SENSOR_3, 1);
    await vi.advanceTimersByTimeAsync(10);
    board.set(SENSOR_3, 0);
    await vi.advanceTimersByTimeAsync(10);
    board.set(SENSOR_3, 1);
    expect(events).toEqual([]);
    await vi.advanceTimersByTimeAsync(30);
    expect(events).toEqual([{ kind: 'opened', compartment: 3, at: Date.now() }]);
    expect(b.doorState(3)).toBe('open');
  });

  it('polls a sensor on an expander without interrupt often enough to see a door within 50 ms plus debounce', async () => {
    const { b, events } = bus(smallMap(), { debounceMs: 20 });
    await b.start();
    board.values.set(SENSOR_2, 1); // no edge: this chip raises none
    await vi.advanceTimersByTimeAsync(50 + 20);
    expect(events).toEqual([expect.objectContaining({ kind: 'opened', compartment: 2 })]);
  });

  it('falls back to polling when an expander said to have its interrupt wired has none', async () => {
    board.noEdges.add(SENSOR_3);
    const warn = vi.fn();
    const { b, events } = bus(smallMap(), { log: { info() {}, warn, error() {} }, debounceMs: 0 });
    await b.start();
    expect(board.ops).toContain(`export ${SENSOR_3} in`);
    board.values.set(SENSOR_3, 1);
    await vi.advanceTimersByTimeAsync(50);
    expect(events).toEqual([expect.objectContaining({ kind: 'opened', compartment: 3 })]);
    expect(warn).toHaveBeenCalledWith(expect.objectContaining({ line: 'exp21:0' }), expect.stringMatching(/polling/));
  });

  it('turns an unreadable sensor into one sensor fault, and reports the door again when it reads', async () => {
    const { b, events } = bus();
    await b.start();
    board.failReads.add(SENSOR_2);
    board.failReads.add(SENSOR_3);
    await vi.advanceTimersByTimeAsync(1000);
    await vi.advanceTimersByTimeAsync(3000);
    const faults = events.filter((e) => e.kind === 'sensor_fault');
    expect(faults.map((e) => e.compartment).sort()).toEqual([2, 3]);
    expect(b.doorState(2)).toBe('unknown');
    board.failReads.delete(SENSOR_2);
    await vi.advanceTimersByTimeAsync(100);
    expect(events.at(-1)).toMatchObject({ kind: 'closed', compartment: 2 });
  });

  it('marks a sensor unknown at start when it cannot be read (the domain turns that into a fault)', async () => {
    board.failReads.add(SENSOR_1);
    const { b } = bus();
    await b.start();
    expect(b.doorState(1)).toBe('unknown');
    expect(b.doorState(2)).toBe('closed');
  });

  it('warns that sysfs cannot switch on expander pull-ups', async () => {
    const warn = vi.fn();
    const { b } = bus(smallMap(), { log: { info() {}, warn, error() {} } });
    await b.start();
    expect(warn).toHaveBeenCalledWith({ lines: ['exp20:8', 'exp21:0'] }, expect.stringMatching(/external pull-up/));
  });

  it('refuses to start, naming the relay and the cause, when a relay line cannot be exported', async () => {
    board.refuse.set(RELAY_3, 'EACCES');
    const { b } = bus();
    const err = await b.start().catch((e) => e);
    expect(err).toBeInstanceOf(DriverUnavailableError);
    expect(err.message).toMatch(/relay exp20:1 of compartment 3: .*group "gpio"/);
    // what was already exported stays locked
    expect(board.energisedNow()).toEqual([]);
  });

  it('refuses to start with what to enable when sysfs GPIO is not writable, and what to use when it is gone', async () => {
    board.accessible = false;
    await expect(bus().b.start()).rejects.toThrow(/export is not writable: add the service user to group "gpio"/);
    rmSync(`${root}/class`, { recursive: true });
    await expect(bus().b.start()).rejects.toThrow(/no sysfs GPIO .*use LOCKER_DOORS=gpiod \(`sudo apt install gpiod`\)/);
    expect(board.ops).toEqual([]);
  });

  it('refuses a map whose locks do not say which level unlocks them', async () => {
    const map = smallMap();
    delete (map.compartments[1].lock as { activeLevel?: string }).activeLevel;
    await expect(createDoorBus('onoff', map, { sysfsRoot: root, Gpio: board.Gpio() })).rejects.toThrow(LockerMapError);
    await expect(createDoorBus('onoff', map, { sysfsRoot: root, Gpio: board.Gpio() })).rejects.toThrow(/compartments\.1\.lock\.activeLevel/);
  });
});
