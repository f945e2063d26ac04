// Connection floods against an in-process locker on real TCP: idle connections and a slowloris
// (headers that never end) from LAN-range addresses (127.0.0.2/3; Linux routes 127/8 to lo),
// while the kiosk (127.0.0.1) keeps asking for its page and /healthz on fresh connections.
import { readdirSync } from 'node:fs';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { healthAnswers } from '../../server/app/lifecycle.ts';
import { startLocker } from '../helpers/locker.ts';
import { scaled, writeFigures } from './lib/figures.ts';

const IDLE = scaled(1100);
const SLOW = scaled(64);

describe('connection floods', () => {
  it('holds off idle and slowloris floods from LAN addresses while the kiosk and /healthz answer', async () => {
    const started = Date.now();
    const t = await startLocker({ env: { LOCKER_HTTP_HEADERS_TIMEOUT_MS: '1000', LOCKER_HTTP_REQUEST_TIMEOUT_MS: '2000', LOCKER_HTTP_IDLE_TIMEOUT_MS: '2000' } });
    const port = Number(new URL(t.url).port);
    const sockets: net.Socket[] = [];
    let closedByServer = 0;
    const open = (from: string, slow: boolean) =>
      new Promise<void>((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port, localAddress: from });
        sockets.push(s);
        s.on('error', () => undefined);
        s.once('close', () => closedByServer++);
        s.once('connect', () => {
          if (slow) {
            s.write('GET /healthz HTTP/1.1\r\nHost: locker\r\n');
            const drip = setInterval(() => (s.writable ? s.write('X-Slow: 1\r\n') : clearInterval(drip)), 200);
            s.once('close', () => clearInterval(drip));
          }
          resolve();
        });
        s.once('error', () => resolve());
      });
    const kioskMs: number[] = [];
    let kioskFailures = 0;
    let fdPeak = 0;
    const kiosk = async () => {
      const t0 = Date.now();
      try {
        await healthAnswers(`${t.url}/healthz`, 2_000);
        const page = await fetch(`${t.url}/`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(2_000) });
        await page.text();
        if (page.status !== 200) throw new Error(String(page.status));
        kioskMs.push(Date.now() - t0);
      } catch {
        kioskFailures++;
      }
      fdPeak = Math.max(fdPeak, readdirSync('/proc/self/fd').length);
    };
    try {
      await Promise.all([...Array.from({ length: IDLE }, () => open('127.0.0.2', false)), ...Array.from({ length: SLOW }, () => open('127.0.0.3', true))]);
      const end = Date.now() + 3_000;
      while (Date.now() < end) {
        await kiosk();
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      for (const s of sockets) s.destroy();
    }
    const g = t.locker.listeners.guard.counts();
    await t.stop();
    kioskMs.sort((a, b) => a - b);
    const p = (q: number) => kioskMs[Math.min(kioskMs.length - 1, Math.floor(q * kioskMs.length))] ?? 0;
    writeFigures({
      suite: '10-connection-flood',
      title: 'Connection floods',
      summary: `${IDLE} idle connections from 127.0.0.2 and ${SLOW} slowloris connections from 127.0.0.3 against a locker (cap 32 per address, 1 s headers timeout, 2 s idle timeout), the kiosk asking for /healthz and its page on fresh connections from 127.0.0.1 meanwhile.`,
      inputsTried: IDLE + SLOW,
      faultsInjected: IDLE + SLOW,
      doorsWronglyOpened: 0,
      eventsLost: 0,
      details: {
        'connections attempted': IDLE + SLOW,
        'refused at accept (per-address cap)': g.refusedPerAddress,
        'refused at accept (total cap)': g.refusedTotal,
        'closed by the server (caps or timeouts) during the run': closedByServer,
        'kiosk rounds answered / failed': `${kioskMs.length} / ${kioskFailures}`,
        'kiosk round latency p50 / max (ms)': `${p(0.5)} / ${kioskMs.at(-1) ?? 0}`,
        'open file descriptors of the service at peak (in-process)': fdPeak,
      },
      durationMs: Date.now() - started,
    });
    expect(kioskFailures).toBe(0);
    expect(kioskMs.length).toBeGreaterThan(5);
    expect(g.refusedPerAddress).toBeGreaterThan(IDLE / 2);
  }, 60_000);
});
