// Connection caps at accept and the timeouts, against a real locker on real TCP. A "LAN address"
// is 127.0.0.2 (Linux routes all of 127/8 to lo); the kiosk is 127.0.0.1.
import net from 'node:net';
import { afterEach, describe, expect, it, onTestFailed } from 'vitest';
import { startLocker, type TestLocker } from '../helpers/locker.ts';
import { healthAnswers } from '../../server/app/lifecycle.ts';

let t: TestLocker | null = null;
afterEach(async () => {
  await t?.stop();
  t = null;
});

/** Opens n idle connections from `from`; resolves with the sockets still open after a moment. */
async function flood(port: number, from: string, n: number): Promise<{ sockets: net.Socket[]; closed: () => number }> {
  const sockets: net.Socket[] = [];
  let closed = 0;
  await Promise.all(
    Array.from({ length: n }, () =>
      new Promise<void>((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port, localAddress: from });
        sockets.push(s);
        s.on('error', () => undefined);
        s.once('close', () => closed++);
        s.once('connect', () => resolve());
        s.once('error', () => resolve());
      }),
    ),
  );
  return { sockets, closed: () => closed };
}

describe('connection caps', () => {
  it('keeps the kiosk and /healthz answering while 1,100 idle connections come from one LAN address', async () => {
    t = await startLocker();
    const port = Number(new URL(t.url).port);
    const f = await flood(port, '127.0.0.2', 1100);
    try {
      await new Promise((r) => setTimeout(r, 300));
      const counts = t.locker.listeners.guard.counts();
      // Every connection beyond the first 32 that reached accept was closed there.
      expect(counts.refusedPerAddress).toBeGreaterThan(900);
      expect(counts.remoteOpen).toBeLessThanOrEqual(32);
      expect(f.closed()).toBeGreaterThan(900);
      // The kiosk (127.0.0.1) on a fresh connection, the page and the health check.
      await healthAnswers(`${t.url}/healthz`, 2_000);
      const page = await fetch(`${t.url}/`, { headers: { connection: 'close' } });
      expect(page.status).toBe(200);
    } finally {
      for (const s of f.sockets) s.destroy();
    }
  });

  it('caps all LAN addresses together at LOCKER_MAX_CONNECTIONS, the kiosk not counted', async () => {
    t = await startLocker({ env: { LOCKER_MAX_CONNECTIONS_PER_ADDRESS: '5', LOCKER_MAX_CONNECTIONS: '8' } });
    const port = Number(new URL(t.url).port);
    const a = await flood(port, '127.0.0.2', 5);
    const b = await flood(port, '127.0.0.3', 5);
    try {
      await new Promise((r) => setTimeout(r, 200));
      const c = t.locker.listeners.guard.counts();
      expect(c.remoteOpen).toBe(8);
      expect(c.refusedTotal).toBe(2);
      await healthAnswers(`${t.url}/healthz`, 2_000);
    } finally {
      for (const s of [...a.sockets, ...b.sockets]) s.destroy();
    }
  });

  // Once in a few dozen runs under a loaded CI machine, one run of this test has hung until the
  // test timeout without saying where. The phases are now recorded and named when it fails, and
  // the test is given one retry: a server that does not close such connections fails both runs.
  it('closes a connection that never sends a byte, and a slowloris that never finishes its headers', { timeout: 15_000, retry: 1 }, async () => {
    const phase: string[] = [];
    const began = Date.now();
    const mark = (what: string) => phase.push(`${Date.now() - began} ms ${what}`);
    onTestFailed(() => console.error(`connection-caps slowloris phases: ${phase.join('; ')}`));
    t = await startLocker({ env: { LOCKER_HTTP_IDLE_TIMEOUT_MS: '500', LOCKER_HTTP_HEADERS_TIMEOUT_MS: '400', LOCKER_HTTP_REQUEST_TIMEOUT_MS: '800' } });
    mark('locker started');
    const port = Number(new URL(t.url).port);
    const started = Date.now();
    const closedAt = (name: string, s: net.Socket) =>
      new Promise<number>((r) => {
        s.once('connect', () => mark(`${name} connected`));
        s.once('close', () => {
          mark(`${name} closed`);
          r(Date.now() - started);
        });
      });
    // An address of its own, so no connection left from the floods above shares its counts.
    const idle = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.5' });
    const slow = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.5' });
    const gone = Promise.all([closedAt('idle', idle), closedAt('slow', slow)]);
    slow.on('error', (e) => mark(`slow error ${e.message}`));
    idle.on('error', (e) => mark(`idle error ${e.message}`));
    slow.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    const drip = setInterval(() => slow.writable && slow.write('X-Slow: y\r\n'), 100);
    const report = setInterval(() => mark(`guard ${JSON.stringify(t?.locker.listeners.guard.counts())}`), 2_000);
    try {
      const [idleMs, slowMs] = await gone;
      expect(idleMs).toBeLessThan(3_000);
      expect(slowMs).toBeLessThan(3_000);
    } finally {
      clearInterval(drip);
      clearInterval(report);
      idle.destroy();
      slow.destroy();
    }
  });
});
