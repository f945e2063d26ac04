// A whole locker on a Kerong cabinet as the factory delivers it: two KR-CU16 boards on one RS485
// bus, reached through the real serial bindings on a pseudo-terminal pair (socat), the map the
// installer writes (locker-map/kerong-cabinet.example.json) and LOCKER_DOORS=serial. A clerk loads
// a dossier, the citizen gets the SMS and collects with the code; the trail shows each door.
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { SerialPort } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { runHwCli } from '../../../server/cli/hw.ts';
import { startLocker, tempDir, type TestLocker } from '../../helpers/locker.ts';
import { hasSocat, ptyPair, until } from '../../helpers/pty-pair.ts';
import { KerongCu16StandIn } from './kerong-standin.ts';

const CABINET = join(import.meta.dirname, '..', '..', '..', 'locker-map', 'kerong-cabinet.example.json');


let socat: ChildProcess | null = null;
let boardPort: SerialPort | null = null;
let t: TestLocker | null = null;
afterEach(async () => {
  await t?.stop();
  if (boardPort?.isOpen) await new Promise((r) => boardPort!.close(r));
  socat?.kill();
  t = boardPort = socat = null;
});

/** The cabinet on a pty: the locker's end is written into the map as both boards' port. */
async function cabinet(): Promise<{ dataDir: string; boards: KerongCu16StandIn }> {
  const dataDir = tempDir();
  const pair = await ptyPair(dataDir, ['ttyRS485', 'ttyCABINET']);
  socat = pair.socat;
  const [locker, wire] = [pair.a, pair.b];
  const map = JSON.parse(readFileSync(CABINET, 'utf8'));
  for (const b of map.boards) b.port = locker;
  map.locks = { pulseMs: 100, gapMs: 20 };
  writeFileSync(join(dataDir, 'map.json'), JSON.stringify(map));

  boardPort = new SerialPort({ path: wire, baudRate: 19200 });
  await new Promise<void>((resolve, reject) => boardPort!.once('open', resolve).once('error', reject));
  const boards = new KerongCu16StandIn([0, 1], (reply) => boardPort!.write(reply));
  boardPort.on('data', (d: Buffer) => boards.feed(d));
  return { dataDir, boards };
}

/** The compartment's board and lock in the example cabinet: 1-16 on board 0, 17-24 on board 1. */
const where = (n: number): [number, number] => (n <= 16 ? [0, n] : [1, n - 16]);

const auditOf = (tl: TestLocker, n: number) =>
  (tl.locker.ctx.store.db.prepare('SELECT type FROM audit_events WHERE compartment = ? ORDER BY seq').all(n) as { type: string }[]).map((r) => r.type);

describe.skipIf(!hasSocat)('a Kerong KR-CU16 cabinet over RS485 (stand-in boards on a pseudo-terminal)', () => {
  it('loads a dossier, texts the code and hands it over at the kiosk, each door released by a board frame', async () => {
    const { dataDir, boards } = await cabinet();
    t = await startLocker({ dataDir, env: { LOCKER_DOORS: 'serial', LOCKER_JAM_TIMEOUT_S: '0', LOCKER_AJAR_TIMEOUT_S: '0' } });
    expect(t.locker.ctx.doorBus.driver).toBe('serial');
    // Both boards are polled from the start, and no lock was released by starting.
    await until(() => (boards.polls.get(0) ?? 0) > 2 && (boards.polls.get(1) ?? 0) > 2, 'both boards polled');
    expect(boards.unlocks).toEqual([]);

    const staff = await t.login('staff');
    const reg = await t.api('POST', '/api/v1/dossiers', { code: 'H29.1-241203-0001', phone: '0912345678', size: 'L' }, staff);
    expect(reg.status).toBe(201);
    const n = reg.body.compartment as number;
    const [board, lock] = where(n);
    await until(() => boards.unlocks.length === 1, 'the loading unlock');
    expect(boards.unlocks[0]!.slice(0, 2)).toEqual([board, lock]);

    // The clerk opens the door, puts the dossier in and shuts it: auto-confirm sends the code.
    boards.open(board, lock);
    await until(() => t!.locker.ctx.doorBus.doorState(n) === 'open', 'the door seen open');
    boards.shutDoor(board, lock);
    await until(async () => (await t!.api('GET', '/api/v1/dossiers/H29.1-241203-0001', undefined, staff)).body.status === 'ready', 'the dossier ready');
    await t.locker.sms.drain();
    const code = t.codeFor('0912345678');

    // 22:00, the citizen at the kiosk.
    const pickup = await t.api('POST', '/api/v1/pickups', { phone: '0912345678', code });
    expect(pickup.status).toBe(200);
    expect(pickup.body.compartment).toBe(n);
    await until(() => boards.unlocks.length === 2, 'the pickup unlock');
    expect(boards.unlocks[1]!.slice(0, 2)).toEqual([board, lock]);
    boards.open(board, lock);
    await until(() => t!.locker.ctx.doorBus.doorState(n) === 'open', 'the door seen open');
    boards.shutDoor(board, lock);
    const compartment = async () => (await t!.api('GET', '/api/v1/compartments', undefined, staff)).body.compartments.find((c: { number: number }) => c.number === n);
    await until(async () => (await compartment()).status === 'free', 'the compartment free again');
    expect((await t.api('GET', '/api/v1/dossiers/H29.1-241203-0001', undefined, staff)).body.status).toBe('picked_up');

    const trail = auditOf(t, n);
    expect(trail).toEqual(expect.arrayContaining(['door.unlocked', 'door.opened', 'door.closed', 'pickup.succeeded']));
    expect(trail.filter((e) => e === 'door.opened')).toHaveLength(2);
    expect(trail).not.toContain('door.sensor_fault');
    expect(boards.unlocks).toHaveLength(2);
  });

  it('puts the doors of an unplugged board in fault with an alarm, keeps the other board serving, and recovers both when it is back', async () => {
    const { dataDir, boards } = await cabinet();
    t = await startLocker({ dataDir, env: { LOCKER_DOORS: 'serial', LOCKER_JAM_TIMEOUT_S: '0', LOCKER_AJAR_TIMEOUT_S: '0' } });
    const staff = await t.login('staff');
    const status = async (n: number) => (await t!.api('GET', '/api/v1/compartments', undefined, staff)).body.compartments.find((c: { number: number }) => c.number === n).status;
    const events = (type: string) => t!.locker.ctx.store.db.prepare('SELECT compartment, data FROM audit_events WHERE type = ? ORDER BY seq').all(type) as { compartment: number | null; data: string }[];

    // Bad checksums now and then are retried: no fault, no event.
    boards.boards.get(1)!.corrupt = 2;
    await until(() => boards.boards.get(1)!.corrupt === 0, 'the corrupt replies sent');
    expect(events('door.sensor_fault')).toEqual([]);

    boards.boards.get(1)!.unplugged = true;
    await until(() => events('board.lost').length === 1, 'board.lost');
    const lost = JSON.parse(events('board.lost')[0]!.data);
    expect(lost).toMatchObject({ board: 'cu1', address: 1, compartments: [17, 18, 19, 20, 21, 22, 23, 24] });
    await until(async () => (await status(24)) === 'fault', 'compartment 24 in fault');
    expect(events('door.sensor_fault').map((e) => e.compartment)).toEqual([17, 18, 19, 20, 21, 22, 23, 24]);
    expect((await t.api('GET', '/api/v1/alarms', undefined, staff)).body.alarms.map((a: { type: string }) => a.type)).toContain('board.lost');
    const health = (await t.api('GET', '/healthz')).body.doors;
    expect(health).toMatchObject({ driver: 'serial', state: 'degraded', boards: [{ id: 'cu0', state: 'ok' }, { id: 'cu1', state: 'gone', compartments: 8 }] });

    // Board 0 goes on serving: a dossier loads into one of its compartments.
    const reg = await t.api('POST', '/api/v1/dossiers', { code: 'H29.1-241203-0002', phone: '0912345678', size: 'S' }, staff);
    expect(reg.status).toBe(201);
    expect(reg.body.compartment).toBeLessThanOrEqual(16);
    await until(() => boards.unlocks.length === 1, 'the unlock on board 0');

    boards.boards.get(1)!.unplugged = false;
    await until(() => events('board.recovered').length === 1, 'board.recovered');
    await until(async () => (await status(24)) === 'free', 'compartment 24 free again');
    expect(events('door.sensor_recovered').map((e) => e.compartment)).toEqual([17, 18, 19, 20, 21, 22, 23, 24]);
    expect((await t.api('GET', '/healthz')).body.doors.state).toBe('ok');
    expect(boards.unlocks).toHaveLength(1);
  });

  it('starts with a board that does not answer: its doors in fault, recorded at start, and in use once it answers', async () => {
    const { dataDir, boards } = await cabinet();
    boards.boards.get(0)!.unplugged = true;
    t = await startLocker({ dataDir, env: { LOCKER_DOORS: 'serial', LOCKER_JAM_TIMEOUT_S: '0', LOCKER_AJAR_TIMEOUT_S: '0' } });
    const lost = t.locker.ctx.store.db.prepare("SELECT data FROM audit_events WHERE type = 'board.lost'").all() as { data: string }[];
    expect(lost.map((r) => JSON.parse(r.data))).toEqual([expect.objectContaining({ board: 'cu0', atStartup: true })]);
    const faults = () => (t!.locker.ctx.store.db.prepare('SELECT number, fault FROM compartments WHERE fault IS NOT NULL').all() as { number: number; fault: string }[]);
    expect(faults().map((f) => [f.number, f.fault])).toEqual(Array.from({ length: 16 }, (_, i) => [i + 1, 'board']));
    boards.boards.get(0)!.unplugged = false;
    await until(() => faults().length === 0, 'the faults cleared');
    expect(boards.unlocks).toEqual([]);
  });

  it('hw test reports what each board reads with the map\'s polarity, names the board read the other way, and pulses its locks over RS485', async () => {
    const { dataDir, boards } = await cabinet();
    t = await startLocker({ dataDir, env: { LOCKER_DOORS: 'serial' } });
    await t.stop();
    t = null;
    // Board 0 was wired so that its bit is set while a door is open: with every door shut it reads 0s.
    boards.boards.get(0)!.shut.fill(false);
    // A door on board 1 springs open on its release and the installer shuts it again.
    boards.onUnlock = (board, lock) => {
      if (board !== 1) return;
      boards.open(board, lock);
      setTimeout(() => boards.shutDoor(board, lock), 300);
    };
    const out: string[] = [];
    const err: string[] = [];
    const stdout = new PassThrough().on('data', (d) => out.push(String(d)));
    const stderr = new PassThrough().on('data', (d) => err.push(String(d)));
    const env = { LOCKER_DATA_DIR: dataDir, LOCKER_MAP: join(dataDir, 'map.json'), LOCKER_DOORS: 'serial' };
    const code = await runHwCli(['test', '--only', '17', '--wait', '3'], { stdin: new PassThrough(), stdout, stderr }, { env });
    const text = out.join('');
    expect([code, err.join('')]).toEqual([0, '']);
    expect(text).toContain('Board cu0 (kr-cu16, address 0, feedback set-when-closed): 0 doors read shut, 16 open. If every door is shut, the polarity is the other way: set "feedback": "set-when-open" for cu0');
    expect(text).toContain('Board cu1 (kr-cu16, address 1, feedback set-when-closed): 8 doors read shut, 0 open\n');
    expect(text).toMatch(/^17 .*board cu1 channel 1.*ok$/m);
    expect(boards.unlocks.map(([b, l]) => [b, l])).toEqual([[1, 1]]);
  }, 20_000);

  it('refuses a pickup behind a lost board without a pulse, gives the pickup back, and hands it over once the board answers', async () => {
    const { dataDir, boards } = await cabinet();
    t = await startLocker({ dataDir, env: { LOCKER_DOORS: 'serial', LOCKER_JAM_TIMEOUT_S: '0', LOCKER_AJAR_TIMEOUT_S: '0' } });
    const staff = await t.login('staff');
    // Large compartments are 6, 12, 18 and 24: load until one lands on board 1.
    let n = 0;
    let phone = '';
    for (let i = 0; n <= 16; i++) {
      phone = `091234560${i}`;
      const code = `H29.1-241204-000${i}`;
      const reg = await t.api('POST', '/api/v1/dossiers', { code, phone, size: 'L' }, staff);
      expect(reg.status).toBe(201);
      n = reg.body.compartment;
      const [b, l] = where(n);
      await until(() => boards.unlocks.length === i + 1, 'the loading unlock');
      boards.open(b, l);
      await until(() => t!.locker.ctx.doorBus.doorState(n) === 'open', 'the door seen open');
      boards.shutDoor(b, l);
      await until(async () => (await t!.api('GET', `/api/v1/dossiers/${code}`, undefined, staff)).body.status === 'ready', 'ready');
    }
    await t.locker.sms.drain();
    const code = t.codeFor(phone);
    const unlocked = boards.unlocks.length;

    boards.boards.get(1)!.unplugged = true;
    await until(() => t!.locker.ctx.doorBus.lostBoardOf?.(n) === 'cu1' && (t!.locker.ctx.store.db.prepare('SELECT fault FROM compartments WHERE number = ?').get(n) as { fault: string | null }).fault === 'board', 'the door in fault');
    const refused = await t.api('POST', '/api/v1/pickups', { phone, code });
    expect([refused.status, refused.body.error]).toEqual([503, 'door_fault']);
    expect(refused.body.message).toContain('lock board is not answering');
    expect(boards.unlocks).toHaveLength(unlocked);
    const held = t.locker.ctx.store.db.prepare("SELECT status FROM dossiers WHERE code LIKE 'H29.1-241204-%' ORDER BY id DESC LIMIT 1").get() as { status: string };
    expect(held.status).toBe('ready');

    boards.boards.get(1)!.unplugged = false;
    await until(() => (t!.locker.ctx.store.db.prepare('SELECT fault FROM compartments WHERE number = ?').get(n) as { fault: string | null }).fault === null, 'the fault cleared');
    // The kiosk's throttle counts the refused try; the citizen comes back a minute later.
    t.clock.advance(60_000);
    const ok = await t.api('POST', '/api/v1/pickups', { phone, code });
    expect([ok.status, ok.body.compartment]).toEqual([200, n]);
    await until(() => boards.unlocks.length === unlocked + 1, 'the pickup unlock');
    expect(boards.unlocks.at(-1)!.slice(0, 2)).toEqual(where(n));
  }, 20_000);

  it('starts without its USB adapter, and recovers each time it is plugged back in', async () => {
    const dataDir = tempDir();
    const locker = join(dataDir, 'ttyRS485');
    const map = JSON.parse(readFileSync(CABINET, 'utf8'));
    for (const b of map.boards) b.port = locker;
    map.locks = { pulseMs: 100, gapMs: 20 };
    writeFileSync(join(dataDir, 'map.json'), JSON.stringify(map));
    const plugIn = async () => {
      const pair = await ptyPair(dataDir, ['ttyRS485', 'ttyCABINET']);
      socat = pair.socat;
      boardPort = new SerialPort({ path: pair.b, baudRate: 19200 });
      await new Promise<void>((resolve, reject) => boardPort!.once('open', resolve).once('error', reject));
      const boards = new KerongCu16StandIn([0, 1], (reply) => boardPort!.write(reply));
      boardPort.on('data', (d: Buffer) => boards.feed(d));
      return boards;
    };
    const unplug = async () => {
      if (boardPort?.isOpen) await new Promise((r) => boardPort!.close(r));
      const gone = new Promise((r) => socat!.once('exit', r));
      socat!.kill();
      await gone;
    };
    const faults = () => (t!.locker.ctx.store.db.prepare("SELECT COUNT(*) AS n FROM compartments WHERE fault = 'board'").get() as { n: number }).n;
    const count = (type: string) => (t!.locker.ctx.store.db.prepare('SELECT COUNT(*) AS n FROM audit_events WHERE type = ?').get(type) as { n: number }).n;

    t = await startLocker({ dataDir, env: { LOCKER_DOORS: 'serial', LOCKER_JAM_TIMEOUT_S: '0', LOCKER_AJAR_TIMEOUT_S: '0' } });
    expect([faults(), count('board.lost')]).toEqual([24, 2]);
    expect((await t.api('GET', '/healthz')).body.doors.state).toBe('degraded');

    let boards = await plugIn();
    await until(() => faults() === 0 && count('board.recovered') === 2, 'both boards back once the adapter is in', 10_000);

    await unplug();
    await until(() => faults() === 24 && count('board.lost') === 4, 'both boards lost with the adapter');
    boards = await plugIn();
    await until(() => faults() === 0 && count('board.recovered') === 4, 'both boards back again', 10_000);
    expect(boards.unlocks).toEqual([]);
    // In service: a dossier loads.
    const staff = await t.login('staff');
    expect((await t.api('POST', '/api/v1/dossiers', { code: 'H29.1-241204-0200', phone: '0912345678', size: 'S' }, staff)).status).toBe(201);
    await until(() => boards.unlocks.length === 1, 'the loading release');
  }, 40_000);
});
