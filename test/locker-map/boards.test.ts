// The map's RS485 lock boards: what the installer writes for a cabinet as the factory wired it,
// and the mistakes the start-up check must name before any frame goes out.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LockerMapError, parseLockerMap } from '../../locker-map/load.ts';
import { serialBank } from '../../firmware-bridge/lock-boards/bank.ts';

const CABINET = join(import.meta.dirname, '..', '..', 'locker-map', 'kerong-cabinet.example.json');
const cabinet = () => JSON.parse(readFileSync(CABINET, 'utf8'));

function failure(raw: unknown): LockerMapError {
  try {
    const map = parseLockerMap(raw);
    serialBank(map);
  } catch (err) {
    if (err instanceof LockerMapError) return err;
    throw err;
  }
  throw new Error('the map was accepted');
}

describe('lock boards in the locker map', () => {
  it('accepts the example Kerong cabinet: 24 doors on two KR-CU16 boards sharing one bus at 19200', () => {
    const bank = serialBank(parseLockerMap(cabinet()));
    expect(Object.values(bank.buses)).toEqual([{ path: expect.stringMatching(/^\/dev\/serial\/by-id\//), baud: 19200 }]);
    expect(bank.boards.map((b) => [b.id, b.address, b.channels, b.closedBit])).toEqual([
      ['cu0', 0, 16, true],
      ['cu1', 1, 8, true],
    ]);
    expect(bank.doors.find((d) => d.compartment === 20)).toEqual({ compartment: 20, lock: { board: 'cu1', channel: 4 }, sensor: { board: 'cu1', channel: 4 } });
  });

  it('names the field of a channel given as a string, not "matches no form"', () => {
    const raw = cabinet();
    raw.compartments[2].lock = { board: 'cu0', channel: '3' };
    expect(failure(raw).field).toBe('compartments.2.lock.channel');
  });

  it('refuses a reference to a board the map does not declare', () => {
    const raw = cabinet();
    raw.compartments[5].sensor = { board: 'cu9', channel: 6 };
    const err = failure(raw);
    expect([err.field, err.message]).toEqual(['compartments.5.sensor.board', expect.stringContaining('unknown board "cu9"')]);
  });

  it('refuses two boards at one address on one bus, and one bus at two speeds', () => {
    const same = cabinet();
    same.boards[1].address = 0;
    expect([failure(same).field, failure(same).message]).toEqual(['boards.1.address', expect.stringContaining('board "cu0" has address 0')]);
    const speeds = cabinet();
    speeds.boards[1].baud = 9600;
    expect(failure(speeds).field).toBe('boards.1.baud');
    // The same address on another bus is another board.
    const twoBuses = cabinet();
    twoBuses.boards[1] = { ...twoBuses.boards[1], address: 0, port: '/dev/ttyUSB1' };
    expect(serialBank(parseLockerMap(twoBuses)).buses).toHaveProperty(['/dev/ttyUSB1']);
  });

  it("keeps addresses and channels within the board family's limits", () => {
    const address = cabinet();
    address.boards[0].address = 10;
    expect([failure(address).field, failure(address).message]).toEqual(['boards.0.address', expect.stringContaining('addresses 0-9')]);
    const channel = cabinet();
    channel.compartments[17].lock = { board: 'cu1', channel: 9 };
    expect([failure(channel).field, failure(channel).message]).toEqual(['compartments.17.lock.channel', expect.stringContaining('channels 1-8')]);
    const declared = cabinet();
    declared.boards[0].channels = 17;
    expect(failure(declared).field).toBe('boards.0.channels');
  });

  it('refuses one channel as the lock of two compartments', () => {
    const raw = cabinet();
    raw.compartments[1].lock = { board: 'cu0', channel: 1 };
    const err = failure(raw);
    expect([err.field, err.message]).toEqual(['compartments.1.lock', expect.stringContaining('already the lock of compartment 1')]);
  });

  it('makes an 8A/80 board say what its feedback bit means, since its sources disagree', () => {
    const raw = cabinet();
    raw.boards = [{ id: 'b1', protocol: '8a80', port: '/dev/ttyUSB0', address: 1 }];
    raw.compartments = raw.compartments.slice(0, 4).map((c: any, i: number) => ({ ...c, lock: { board: 'b1', channel: i + 1 }, sensor: { board: 'b1', channel: i + 1 } }));
    expect(failure(raw).field).toBe('boards.0.feedback');
    raw.boards[0].feedback = 'set-when-open';
    const bank = serialBank(parseLockerMap(raw));
    expect([bank.boards[0]!.closedBit, bank.buses['/dev/ttyUSB0']!.baud]).toEqual([false, 9600]);
  });

  it('refuses board references under the GPIO drivers, and GPIO lines under the serial driver', async () => {
    const { bankLines } = await import('../../firmware-bridge/lines.ts');
    expect(() => bankLines(parseLockerMap(cabinet()), { strict: true })).toThrow(/LOCKER_DOORS=serial/);
    const gpio = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'locker-map', 'example.json'), 'utf8'));
    expect(failure(gpio).field).toBe('compartments.0.lock');
  });
});

describe('boot-config of a board cabinet', () => {
  it('prints no GPIO lines for locks on boards, and enables the header UART only for a HAT on it', async () => {
    const { bootConfig } = await import('../../firmware-bridge/boot-config.ts');
    const usb = bootConfig(parseLockerMap(cabinet()));
    expect(usb).toContain('2 RS485 lock boards on /dev/serial/by-id/');
    expect(usb).not.toMatch(/^gpio=|^dtoverlay=|^enable_uart/m);
    const hat = cabinet();
    for (const b of hat.boards) b.port = '/dev/ttyAMA0';
    expect(bootConfig(parseLockerMap(hat))).toMatch(/^enable_uart=1$/m);
    // The SMS modem on the same UART cannot share it with the boards.
    expect(() => parseLockerMap(hat, { uartInUse: true })).toThrow(/boards\.0\.port: .*SMS modem/);
  });
});
