// Kerong CU12 and 8A/80 boards on a real pseudo-terminal (socat), each a stand-in answering as its
// description writes the frames: a lock released by the board, the door seen open and shut, a board
// unplugged and back; and, in a whole locker on a CU12 cabinet, a stuck lock that the domain calls a
// jam (one retry, then `door.jammed`, the citizen's pickup given back).
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import type { DoorEvent } from '../../../firmware-bridge/door-bus.ts';
import { board8a80 } from '../../../firmware-bridge/lock-boards/board-8a80.ts';
import { kerongCu12 } from '../../../firmware-bridge/lock-boards/kerong-cu12.ts';
import type { LockBoardProtocol } from '../../../firmware-bridge/lock-boards/protocol.ts';
import { SerialBoardDoorBus } from '../../../firmware-bridge/lock-boards/serial-board-bus.ts';
import { openSerialPort } from '../../../firmware-bridge/lock-boards/serial-port.ts';
import { ManualScheduler } from '../../domain/door-fixtures.ts';
import { ManualClock } from '../../helpers/clock.ts';
import { startLocker, tempDir, type TestLocker } from '../../helpers/locker.ts';
import { hasSocat, ptyPair, until } from '../../helpers/pty-pair.ts';
import { Board8a80StandIn, Cu12StandIn } from './cu12-8a80-standins.ts';

let socat: ChildProcess | null = null;
let wire: SerialPort | null = null;
let bus: SerialBoardDoorBus | null = null;
let t: TestLocker | null = null;
afterEach(async () => {
  await bus?.stop();
  await t?.stop();
  if (wire?.isOpen) await new Promise((r) => wire!.close(r));
  socat?.kill();
  socat = wire = bus = t = null;
});

async function line(dir: string, baud: number): Promise<string> {
  const pair = await ptyPair(dir, ['ttyRS485', 'ttyBOARD']);
  socat = pair.socat;
  wire = new SerialPort({ path: pair.b, baudRate: baud });
  await new Promise<void>((resolve, reject) => wire!.once('open', resolve).once('error', reject));
  return pair.a;
}

const families: [string, LockBoardProtocol, number, number, (addr: number, write: (b: Buffer) => void) => Cu12StandIn | Board8a80StandIn][] = [
  ['Kerong CU12', kerongCu12, 19200, 2, (a, w) => new Cu12StandIn(a, w)],
  ['8A/80', board8a80, 9600, 3, (a, w) => new Board8a80StandIn(a, w)],
];

describe.skipIf(!hasSocat)('CU12 and 8A/80 boards on a pseudo-terminal', () => {
  for (const [name, protocol, baud, address, make] of families) {
    it(`${name}: releases a lock, sees its door open and shut, and reports the board gone and back`, async () => {
      const port = await line(tempDir(), baud);
      const board = make(address, (reply) => wire!.write(reply));
      wire!.on('data', (d: Buffer) => board.feed(d));
      board.onUnlock = (lock) => (board.board.shut[lock - 1] = false);
      bus = new SerialBoardDoorBus(
        {
          buses: { rs485: { path: port, baud } },
          boards: [{ id: 'b', bus: 'rs485', address, protocol, channels: 12, closedBit: true }],
          doors: [{ compartment: 11, lock: { board: 'b', channel: 11 }, sensor: { board: 'b', channel: 11 } }],
        },
        { timing: { pulseMs: 100, gapMs: 10 }, openPort: openSerialPort, pollMs: 30, transport: { timeoutMs: 100, retries: 1, gapMs: 3 } },
      );
      const events: DoorEvent[] = [];
      const boardEvents: string[] = [];
      bus.onEvent((e) => events.push(e));
      bus.onBoardEvent((e) => boardEvents.push(`${e.kind} ${e.board}`));
      await bus.start();
      expect([bus.doorState(11), board.unlocks]).toEqual(['closed', []]);

      await bus.unlock(11);
      await until(() => events.some((e) => e.kind === 'opened'), 'the door seen open');
      expect(board.unlocks).toEqual([11]);
      board.board.shut[10] = true;
      await until(() => events.some((e) => e.kind === 'closed'), 'the door seen shut');

      board.board.unplugged = true;
      await until(() => events.some((e) => e.kind === 'sensor_fault'), 'the sensor fault');
      expect(events.find((e) => e.kind === 'sensor_fault')).toMatchObject({ compartment: 11, board: 'b' });
      board.board.unplugged = false;
      await until(() => boardEvents.length === 2 && bus!.doorState(11) === 'closed', 'the board back');
      expect(boardEvents).toEqual(['board_lost b', 'board_back b']);
      expect(bus.boardHealth().map((h) => h.state)).toEqual(['ok']);
    });
  }

  it('calls a CU12 lock that the board releases but whose door never opens a jam, and gives the pickup back', async () => {
    const dataDir = tempDir();
    const port = await line(dataDir, 19200);
    const board = new Cu12StandIn(0, (reply) => wire!.write(reply));
    wire!.on('data', (d: Buffer) => board.feed(d));
    const compartments = Array.from({ length: 12 }, (_, i) => ({
      number: i + 1, size: 'S', column: 1 + (i >> 2), row: 1 + (i & 3),
      lock: { board: 'cu', channel: i + 1 }, sensor: { board: 'cu', channel: i + 1 },
    }));
    const map = { version: 1, name: 'CU12', location: 'Một cửa', locks: { pulseMs: 100, gapMs: 10 }, boards: [{ id: 'cu', protocol: 'kr-cu12', port, address: 0 }], compartments };
    writeFileSync(join(dataDir, 'map.json'), JSON.stringify(map));
    const scheduler = new ManualScheduler();
    const clock = new ManualClock();
    t = await startLocker({ dataDir, clock, overrides: { scheduler }, env: { LOCKER_DOORS: 'serial', LOCKER_JAM_TIMEOUT_S: '5', LOCKER_AJAR_TIMEOUT_S: '0' } });
    const staff = await t.login('staff');
    const reg = await t.api('POST', '/api/v1/dossiers', { code: 'H29.1-241204-0100', phone: '0912345678', size: 'S' }, staff);
    const n = reg.body.compartment as number;
    await until(() => board.unlocks.length === 1, 'the loading release');
    board.board.shut[n - 1] = false;
    await until(() => t!.locker.ctx.doorBus.doorState(n) === 'open', 'open');
    board.board.shut[n - 1] = true;
    await until(async () => (await t!.api('GET', '/api/v1/dossiers/H29.1-241204-0100', undefined, staff)).body.status === 'ready', 'ready');
    await t.locker.sms.drain();

    board.board.stuck.add(n);
    const pickup = await t.api('POST', '/api/v1/pickups', { phone: '0912345678', code: t.codeFor('0912345678') });
    expect(pickup.status).toBe(200);
    await until(() => board.unlocks.length === 2, 'the pickup release');
    const types = () => (t!.locker.ctx.store.db.prepare('SELECT type FROM audit_events WHERE compartment = ? ORDER BY seq').all(n) as { type: string }[]).map((r) => r.type);
    await scheduler.advance(6_000, clock);
    await until(() => types().includes('door.unlock_retried') && board.unlocks.length === 3, 'the one retry');
    await scheduler.advance(6_000, clock);
    await until(() => types().includes('door.jammed'), 'door.jammed');
    const dossier = (await t.api('GET', '/api/v1/dossiers/H29.1-241204-0100', undefined, staff)).body;
    expect(dossier.status).toBe('ready');
    expect(board.unlocks).toEqual([n, n, n]);
  }, 20_000);
});
