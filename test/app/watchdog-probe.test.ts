// The watchdog is fed only after a real HTTP request over loopback answers: a listener that is
// open but answers nobody withholds the pings. The sender is a recorder, time is real (short interval).
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SystemdNotifier, type NotifySender } from '../../server/app/notify.ts';
import { lockerAlive, probeTimeoutMs } from '../../server/app/lifecycle.ts';
import { startLocker, type TestLocker } from '../helpers/locker.ts';

let t: TestLocker | null = null;
let n: SystemdNotifier | null = null;
afterEach(async () => {
  n?.stopWatchdog();
  await t?.stop();
  t = null;
});

describe('watchdog fed by a loopback HTTP request', () => {
  it('pings while GET /healthz answers over loopback, and stops pinging when the listener stops answering', async () => {
    t = await startLocker();
    const sent: string[][] = [];
    const send: NotifySender = async (_s, a) => {
      sent.push(a);
    };
    n = new SystemdNotifier({ env: { NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '400000' }, send });
    const locker = t.locker;
    n.startWatchdog(() => lockerAlive(locker, probeTimeoutMs(n!.watchdogIntervalMs!)));
    await new Promise((r) => setTimeout(r, 1_100));
    const answered = sent.filter((m) => m[0] === 'WATCHDOG=1').length;
    expect(answered).toBeGreaterThanOrEqual(3);
    // Still listening, but every new connection is dropped at accept: nobody gets an answer
    // (Node's own cap of one connection, held by an idle one).
    const port = Number(new URL(t.url).port);
    const holder = net.connect({ host: '127.0.0.1', port });
    await new Promise((r) => holder.once('connect', r));
    locker.http.server.maxConnections = 1;
    expect(locker.http.server.listening).toBe(true);
    await new Promise((r) => setTimeout(r, 400));
    const before = sent.length;
    await new Promise((r) => setTimeout(r, 1_200));
    expect(sent.length - before).toBe(0);
    // Answering again: pings again.
    locker.http.server.maxConnections = Infinity;
    holder.destroy();
    await new Promise((r) => setTimeout(r, 800));
    expect(sent.length).toBeGreaterThan(before);
  });
});
