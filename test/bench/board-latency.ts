// 9. Door-open latency over RS485: a real locker on LOCKER_DOORS=serial, its two KR-CU16 boards
// stand-ins on a pseudo-terminal pair (socat), as in the cabinet test. Per cycle a clerk registers a
// dossier (its loading unlock) and the citizen collects it (the pickup unlock). Timed: from the
// request leaving the client to the unlock frame complete at the board, and from that frame to the
// board's next status request (the first poll that can see the door open). Beside them, the line's
// own limit at 19200 8N1: the unlock frame's 5 bytes take 2.6 ms on the wire, one status exchange
// (5 + 9 bytes) 7.3 ms, so a poll can come at most one poll interval plus one exchange later.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { KerongCu16StandIn } from '../firmware-bridge/lock-boards/kerong-standin.ts';
import { startLocker, tempDir } from '../helpers/locker.ts';
import { hasSocat, ptyPair, until } from '../helpers/pty-pair.ts';
import { round, summary, type BenchResult } from './stats.ts';

const CYCLES = 40;
const BAUD = 19200;
const POLL_MS = 50;
const charMs = (bytes: number) => (bytes * 10 * 1000) / BAUD;
const FRAME_MS = charMs(5);
const EXCHANGE_MS = charMs(5 + 9);
/** The request's own work (HTTP, a committed transaction, the queue) beside the line: 10 ms at p99. */
const REQUEST_BUDGET_MS = 10;
/** The bus is half duplex: an unlock may wait for a status exchange in flight and the gap after it. */
const GAP_MS = 5;
const FRAME_LIMIT_MS = FRAME_MS + EXCHANGE_MS + GAP_MS + REQUEST_BUDGET_MS;

export async function boardLatency(): Promise<BenchResult> {
  if (!hasSocat) throw new Error('the board bench needs socat (apt-get install socat)');
  const dataDir = tempDir('locker-bench-');
  const pair = await ptyPair(dataDir, ['ttyRS485', 'ttyCABINET']);
  const map = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'locker-map', 'kerong-cabinet.example.json'), 'utf8'));
  for (const b of map.boards) b.port = pair.a;
  map.locks = { pulseMs: 100, gapMs: 0 };
  writeFileSync(join(dataDir, 'map.json'), JSON.stringify(map));

  const wire = new SerialPort({ path: pair.b, baudRate: BAUD });
  await new Promise<void>((resolve, reject) => wire.once('open', resolve).once('error', reject));
  const boards = new KerongCu16StandIn([0, 1], (reply) => wire.write(reply));
  // When each unlock frame was complete, and the first status request after it.
  const frames: { unlockAt: number; pollAt: number | null }[] = [];
  wire.on('data', (d: Buffer) => {
    const before = boards.unlocks.length;
    const polls = [...boards.polls.values()].reduce((a, b) => a + b, 0);
    boards.feed(d);
    const now = performance.now();
    if (boards.unlocks.length > before) frames.push({ unlockAt: now, pollAt: null });
    const pollsNow = [...boards.polls.values()].reduce((a, b) => a + b, 0);
    const last = frames.at(-1);
    if (pollsNow > polls && last && last.pollAt === null && last.unlockAt < now) last.pollAt = now;
  });

  const t = await startLocker({ dataDir, env: { LOCKER_DOORS: 'serial', LOCKER_JAM_TIMEOUT_S: '0', LOCKER_AJAR_TIMEOUT_S: '0', LOCKER_POLL_MS: String(POLL_MS) } });
  const toFrame: number[] = [];
  const toPoll: number[] = [];
  const loads: number[] = [];
  const pickups: number[] = [];
  try {
    const staff = await t.login('staff');
    const where = (n: number): [number, number] => (n <= 16 ? [0, n] : [1, n - 16]);
    const door = async (n: number, state: 'open' | 'closed') => until(() => t.locker.ctx.doorBus.doorState(n) === state, `door ${n} ${state}`);
    const timed = async (kind: 'load' | 'pickup', send: () => Promise<{ status: number; body: any }>) => {
      const count = frames.length;
      const sent = performance.now();
      const res = await send();
      if (res.status >= 300) throw new Error(`request refused: ${res.status} ${JSON.stringify(res.body)}`);
      await until(() => frames.length > count && frames[count]!.pollAt !== null, 'the unlock frame and the next poll');
      if (warm) {
        toFrame.push(frames[count]!.unlockAt - sent);
        (kind === 'load' ? loads : pickups).push(frames[count]!.unlockAt - sent);
        toPoll.push(frames[count]!.pollAt! - frames[count]!.unlockAt);
      }
      return res;
    };
    // The first two cycles warm the routes and statements up and are not counted.
    let warm = false;
    for (let i = 0; i < CYCLES + 2; i++) {
      warm = i >= 2;
      const phone = `09${String(10_000_000 + i).padStart(8, '0')}`;
      const code = `H29.1-241204-${String(i).padStart(4, '0')}`;
      const reg = await timed('load', () => t.api('POST', '/api/v1/dossiers', { code, phone, size: 'S' }, staff));
      const n = reg.body.compartment as number;
      const [b, l] = where(n);
      boards.open(b, l);
      await door(n, 'open');
      boards.shutDoor(b, l);
      await until(async () => (await t.api('GET', `/api/v1/dossiers/${code}`, undefined, staff)).body.status === 'ready', 'ready');
      await t.locker.sms.drain();
      await timed('pickup', () => t.api('POST', '/api/v1/pickups', { phone, code: t.codeFor(phone) }));
      boards.open(b, l);
      await door(n, 'open');
      boards.shutDoor(b, l);
      await door(n, 'closed');
      // The kiosk throttle counts per-kiosk pickups; the bench is one citizen after another.
      t.clock.advance(60_000);
    }
  } finally {
    await t.stop();
    if (wire.isOpen) await new Promise((r) => wire.close(r));
    pair.socat.kill();
  }
  const f = summary(toFrame);
  const p = summary(toPoll);
  const pollLimit = POLL_MS + 2 * EXCHANGE_MS;
  return {
    name: 'door-open over RS485',
    figures: {
      unlocks: f.n,
      'request → unlock frame at the board p50 (ms)': round(f.p50),
      'request → unlock frame p99 (ms)': round(f.p99),
      'of which loading / pickup p50 (ms)': `${round(summary(loads).p50)} / ${round(summary(pickups).p50)}`,
      'of which loading / pickup p99 (ms)': `${round(summary(loads).p99)} / ${round(summary(pickups).p99)}`,
      'unlock frame → next status poll p50 (ms)': round(p.p50),
      'unlock frame → next status poll max (ms)': round(p.max),
      'line: unlock frame / one status exchange at 19200 (ms)': `${round(FRAME_MS)} / ${round(EXCHANGE_MS)}`,
    },
    target: `request → frame p99 ≤ ${round(FRAME_LIMIT_MS, 1)} ms (frame + a status exchange in flight + ${GAP_MS} ms gap + ${REQUEST_BUDGET_MS} ms for the request); frame → poll ≤ ${round(pollLimit, 1)} ms (poll interval + two exchanges)`,
    met: f.p99 <= FRAME_LIMIT_MS && p.max <= pollLimit,
    limit: `the serial line: ${BAUD} baud 8N1 (${round(FRAME_MS)} ms per unlock frame), polls every ${POLL_MS} ms`,
  };
}
