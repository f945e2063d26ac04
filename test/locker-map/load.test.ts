import { describe, expect, it } from 'vitest';
import { EXAMPLE_MAP_PATH, LockerMapError, loadLockerMap, parseLockerMap, usesHeaderUart } from '../../locker-map/load.ts';
import { readFileSync } from 'node:fs';

function base() {
  return {
    version: 1,
    name: 'n',
    location: 'l',
    locks: { pulseMs: 400, gapMs: 250 },
    expanders: [
      { id: 'exp20', type: 'mcp23017', address: 0x20, interrupt: false },
      { id: 'exp21', type: 'mcp23017', address: 0x21, interrupt: true, interruptPin: 22 },
    ],
    compartments: [
      { number: 1, size: 'S', column: 1, row: 1, lock: { chip: 'header', offset: 17, activeLevel: 'low' }, sensor: { chip: 'exp21', offset: 0, pull: 'up', closedLevel: 'low' } },
      { number: 2, size: 'M', column: 1, row: 2, lock: { chip: 'exp20', offset: 0, activeLevel: 'high' }, sensor: { chip: 'exp21', offset: 1, pull: 'up', closedLevel: 'low' } },
    ],
  } as any;
}

function failure(raw: unknown, opts = {}): LockerMapError {
  try {
    parseLockerMap(raw, opts);
  } catch (err) {
    if (err instanceof LockerMapError) return err;
    throw err;
  }
  throw new Error('the map was accepted');
}

describe('locker map validation', () => {
  it('accepts the shipped example: 24 locks and 24 sensors on the header and three expanders', () => {
    const map = loadLockerMap();
    expect(map.compartments).toHaveLength(24);
    const lines = new Set(map.compartments.flatMap((c) => [c.lock, c.sensor].map((l) => ('chip' in l ? `${l.chip}:${l.offset}` : `${l.board}/${l.channel}`))));
    expect(lines.size).toBe(48);
    expect(JSON.parse(readFileSync(EXAMPLE_MAP_PATH, 'utf8')).expanders.map((e: any) => e.id)).toEqual(['exp20', 'exp21', 'exp22']);
  });

  it('refuses a line used twice, naming both users', () => {
    const m = base();
    m.compartments[1].sensor = { chip: 'exp21', offset: 0, pull: 'up', closedLevel: 'low' };
    const err = failure(m);
    expect(err.field).toBe('compartments.1.sensor');
    expect(err.message).toMatch(/line exp21:0 is already used by compartment 1 sensor/);
  });

  it('takes header lines only from BCM 2-27', () => {
    const m = base();
    m.compartments[0].lock.offset = 28;
    expect(failure(m).message).toMatch(/compartments\.0\.lock\.offset: header lines are BCM 2-27, got 28/);
    m.compartments[0].lock.offset = 1;
    expect(failure(m).field).toBe('compartments.0.lock.offset');
  });

  it('keeps the I2C pins free once expanders are mapped, and free to use without expanders', () => {
    const m = base();
    m.compartments[0].lock.offset = 3;
    expect(failure(m).message).toMatch(/BCM 3 is used by the I2C bus of the expanders/);
    const noExpanders = {
      ...base(),
      expanders: [],
      compartments: [{ number: 1, size: 'S', column: 1, row: 1, lock: { chip: 'header', offset: 2, activeLevel: 'low' }, sensor: { chip: 'header', offset: 3, closedLevel: 'low' } }],
    };
    expect(parseLockerMap(noExpanders).compartments).toHaveLength(1);
  });

  it('keeps the UART pins free when the modem uses the serial header', () => {
    const m = base();
    m.compartments[0].lock.offset = 14;
    expect(parseLockerMap(m).compartments[0].lock).toMatchObject({ offset: 14 });
    expect(failure(m, { uartInUse: true }).message).toMatch(/BCM 14 is used by the UART of the serial modem/);
  });

  it('takes expander offsets 0-15 only, on declared expanders only', () => {
    const m = base();
    m.compartments[1].lock.offset = 16;
    expect(failure(m).message).toMatch(/an MCP23017 has lines 0-15, got 16/);
    m.compartments[1].lock = { chip: 'exp27', offset: 0, activeLevel: 'high' };
    expect(failure(m).message).toMatch(/unknown chip "exp27"/);
  });

  it('refuses a pull-down on an expander, which has pull-ups only', () => {
    const m = base();
    m.compartments[0].sensor.pull = 'down';
    expect(failure(m).message).toMatch(/compartments\.0\.sensor\.pull: an MCP23017 has pull-ups only/);
  });

  it('reserves each expander interrupt pin on the header, and refuses two expanders on one pin', () => {
    const m = base();
    m.compartments[0].lock.offset = 22;
    expect(failure(m).message).toMatch(/line header:22 is already used by the interrupt of expander exp21/);
    const two = base();
    two.expanders.push({ id: 'exp22', type: 'mcp23017', address: 0x22, interrupt: true });
    two.expanders.push({ id: 'exp23', type: 'mcp23017', address: 0x23, interrupt: true });
    const err = failure(two);
    expect(err.field).toBe('expanders.3.interruptPin');
    expect(err.message).toMatch(/BCM 4 is already used by the interrupt of expander exp22 \(4 is the default: set interruptPin\)/);
  });

  it('refuses an interrupt pin on an expander whose interrupt is not wired, and two expanders at one address', () => {
    const m = base();
    m.expanders[0].interruptPin = 5;
    expect(failure(m).field).toBe('expanders.0.interruptPin');
    const dup = base();
    dup.expanders[1].address = 0x20;
    expect(failure(dup).message).toMatch(/two expanders at I2C address 0x20/);
  });

  it('knows which serial devices sit on the header UART', () => {
    for (const d of ['/dev/serial0', '/dev/ttyAMA0', '/dev/ttyS0']) expect(usesHeaderUart(d)).toBe(true);
    for (const d of ['/dev/ttyUSB2', '/dev/ttyACM0', '/dev/serial/by-id/usb-SimTech-if02']) expect(usesHeaderUart(d)).toBe(false);
  });
});
