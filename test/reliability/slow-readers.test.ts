// Slow readers on the event stream: the real service (a child process, as systemd runs it) with 32
// staff streams that never read a byte while doors change as fast as HTTP allows. Every laggard must
// be dropped once its backlog passes the limit, no stream may hold more than that, the service's
// memory must stay bounded, and a fresh console must still get in.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../server/db/database.ts';
import { Store } from '../../server/db/store.ts';
import { AuditLog } from '../../server/domain/audit-log.ts';
import { AuthService } from '../../server/domain/auth-service.ts';
import { systemClock } from '../../server/domain/ports.ts';
import { fastMap } from '../helpers/locker.ts';
import { spawnService, type ServiceProcess } from '../helpers/service.ts';
import { scaled, writeFigures } from './lib/figures.ts';

const STREAMS = 32;
const SESSIONS = 8;
const LIMIT = 256 * 1024;
const BUDGET_MS = scaled(40_000);
const PASSWORD = 'slow-readers-password';

let service: ServiceProcess | null = null;
let dataDir: string | null = null;
const deaf: net.Socket[] = [];
afterAll(async () => {
  for (const s of deaf) s.destroy();
  await service?.kill('SIGKILL');
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const rssMB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

describe('slow readers on the event stream', () => {
  it(`drops ${STREAMS} streams that never read, keeps each under ${LIMIT / 1024} KiB and the service's memory bounded, and lets a fresh console in`, async () => {
    const started = Date.now();
    // The stream is measured, not the disk: tmpfs spares each commit its fsync.
    dataDir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'locker-slow-'));
    {
      const db = openDatabase(dataDir);
      const auth = new AuthService(new Store(db), new AuditLog(new Store(db), systemClock), systemClock, 8 * 3600_000);
      await auth.addUser('clerk', 'staff', PASSWORD);
      db.close();
    }
    service = spawnService({ LOCKER_DATA_DIR: dataDir, LOCKER_MAP: fastMap(dataDir), LOCKER_LOG_LEVEL: 'info' });
    const url = await service.listening;
    const pid = service.child.pid!;
    const post = (path: string, body: unknown) =>
      fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const metric = async (name: string) => {
      const text = await (await fetch(`${url}/metrics`)).text();
      const m = new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\d+)`, 'm').exec(text);
      return m ? Number(m[1]) : 0;
    };
    const tokens: string[] = [];
    for (let i = 0; i < SESSIONS; i++) tokens.push((await (await post('/api/v1/session', { username: 'clerk', password: PASSWORD })).json()).token);
    const u = new URL(url);
    for (let i = 0; i < STREAMS; i++) {
      const s = net.connect(Number(u.port), u.hostname);
      s.on('error', () => undefined);
      s.write(`GET /api/v1/events/stream HTTP/1.1\r\nhost: ${u.host}\r\nauthorization: Bearer ${tokens[i % SESSIONS]}\r\n\r\n`);
      s.pause();
      deaf.push(s);
    }
    await new Promise((r) => setTimeout(r, 500));
    const opened = await metric('locker_event_streams');
    const rssBefore = rssMB(pid);

    let commits = 0;
    let failed = 0;
    const end = Date.now() + BUDGET_MS;
    const worker = async (w: number) => {
      let n = (w % 24) + 1;
      while (Date.now() < end && (await metric('locker_event_streams')) > 0) {
        for (let k = 0; k < 20; k++) {
          for (const open of [true, false]) {
            const r = await post(`/api/v1/sim/compartments/${n}/door`, { open });
            await r.arrayBuffer();
            if (r.ok) commits++;
            else failed++;
          }
        }
        n = (n % 24) + 1;
      }
    };
    await Promise.all(Array.from({ length: 12 }, (_, w) => worker(w)));
    const rssAfter = rssMB(pid);
    const dropped = await metric('locker_event_streams_dropped_total{reason="too_slow"}') + (await metric('locker_event_streams_dropped_total{reason="stalled"}'));
    const maxBuffered = await metric('locker_event_stream_buffered_bytes_max');
    const left = await metric('locker_event_streams');

    const fresh = await fetch(`${url}/api/v1/events/stream`, { headers: { authorization: `Bearer ${tokens[0]}` } });
    const reader = fresh.body!.getReader();
    const first = fresh.ok ? new TextDecoder().decode((await reader.read()).value) : '';
    await reader.cancel().catch(() => undefined);
    const freshOk = fresh.status === 200 && /retry|snapshot/.test(first);
    const dropLogs = service.lines.filter((l) => l.includes('live stream dropped'));

    writeFigures({
      suite: '11-slow-readers',
      title: 'Slow readers on the event stream',
      summary: `${STREAMS} staff streams (${SESSIONS} sessions) that never read, against the real service while doors changed over HTTP until every laggard was dropped.`,
      inputsTried: commits,
      faultsInjected: STREAMS,
      doorsWronglyOpened: 0,
      eventsLost: 0,
      details: {
        'streams opened': opened,
        'commits made': commits,
        'streams dropped': dropped,
        'streams still open': left,
        'buffered bytes per stream at most': maxBuffered,
        'limit per stream (bytes)': LIMIT,
        'service RSS before MB': Math.round(rssBefore),
        'service RSS after MB': Math.round(rssAfter),
        'fresh console connects': freshOk ? 'yes' : 'no',
      },
      durationMs: Date.now() - started,
    });
    expect(opened).toBe(STREAMS);
    expect(failed).toBe(0);
    expect(dropped).toBe(STREAMS);
    expect(left).toBe(0);
    expect(maxBuffered).toBeLessThanOrEqual(LIMIT);
    expect(dropLogs).toHaveLength(STREAMS);
    for (const l of dropLogs) expect(JSON.parse(l)).toMatchObject({ user: 'clerk', level: 30 });
    expect(rssAfter - rssBefore).toBeLessThan(STREAMS * LIMIT / 1e6 + 60);
    expect(freshOk).toBe(true);
  }, 120_000);
});
