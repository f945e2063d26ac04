// The sd_notify protocol as the locker speaks it, with the sender replaced by a recorder and
// time under vi's fake timers. test/app/notify-socket.test.ts does the same over a real socket.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readNotifyEnvironment, SystemdNotifier, type NotifySender } from '../../server/app/notify.ts';

function recorder() {
  const sent: string[][] = [];
  const send: NotifySender = async (_socket, assignments) => {
    sent.push(assignments);
  };
  return { sent, send };
}

const settle = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('systemd notifications', () => {
  it('stays silent, with no timer, when NOTIFY_SOCKET is unset', async () => {
    const { sent, send } = recorder();
    const n = new SystemdNotifier({ env: { WATCHDOG_USEC: '30000000' }, send });
    n.startWatchdog();
    await n.ready('listening');
    await n.stopping();
    vi.advanceTimersByTime(120_000);
    await settle();
    expect(n.enabled).toBe(false);
    expect(sent).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('says READY=1 with a status line, and STOPPING=1 on shutdown', async () => {
    const { sent, send } = recorder();
    const n = new SystemdNotifier({ env: { NOTIFY_SOCKET: '/run/systemd/notify' }, send });
    await n.ready('listening on http://0.0.0.0:8080\nsecond line');
    await n.stopping('stopping');
    expect(sent).toEqual([['READY=1', 'STATUS=listening on http://0.0.0.0:8080 second line'], ['STOPPING=1', 'STATUS=stopping']]);
  });

  it('pings the watchdog at half of WATCHDOG_USEC, and not after STOPPING=1', async () => {
    const { sent, send } = recorder();
    const n = new SystemdNotifier({ env: { NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '30000000' }, send });
    expect(n.watchdogIntervalMs).toBe(15_000);
    n.startWatchdog();
    vi.advanceTimersByTime(14_999);
    await settle();
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(1);
    await settle();
    expect(sent).toEqual([['WATCHDOG=1']]);
    for (let i = 0; i < 4; i++) {
      vi.advanceTimersByTime(15_000);
      await settle();
    }
    expect(sent.filter((m) => m[0] === 'WATCHDOG=1')).toHaveLength(5);
    await n.stopping();
    vi.advanceTimersByTime(60_000);
    await settle();
    expect(sent.at(-1)).toEqual(['STOPPING=1']);
    expect(sent.filter((m) => m[0] === 'WATCHDOG=1')).toHaveLength(5);
  });

  it('withholds pings while the service is not well, so systemd restarts it', async () => {
    const { sent, send } = recorder();
    let well = false;
    const n = new SystemdNotifier({ env: { NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '2000000' }, send });
    n.startWatchdog(() => well);
    vi.advanceTimersByTime(5_000);
    await settle();
    expect(sent).toEqual([]);
    well = true;
    vi.advanceTimersByTime(1_000);
    await settle();
    expect(sent).toEqual([['WATCHDOG=1']]);
  });

  it('withholds the ping when the liveness check throws (database gone)', async () => {
    const { sent, send } = recorder();
    const log = { info: vi.fn(), warn: vi.fn(), debug: vi.fn() };
    const n = new SystemdNotifier({ env: { NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '2000000' }, send, log });
    n.startWatchdog(() => {
      throw new Error('The database connection is not open');
    });
    vi.advanceTimersByTime(3_000);
    await settle();
    expect(sent).toEqual([]);
    expect(log.warn).toHaveBeenCalled();
  });

  it('skips a ping while the previous one is still on its way, instead of piling up senders', async () => {
    const calls: string[][] = [];
    let release!: () => void;
    const send: NotifySender = (_s, a) => {
      calls.push(a);
      return new Promise<void>((res) => (release = res));
    };
    const n = new SystemdNotifier({ env: { NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '1000000' }, send });
    n.startWatchdog();
    vi.advanceTimersByTime(5_000);
    await settle();
    expect(calls).toHaveLength(1);
    release();
    await settle();
    vi.advanceTimersByTime(500);
    await settle();
    expect(calls).toHaveLength(2);
  });

  it('keeps messages in order: READY=1 reaches systemd before the first ping', async () => {
    const order: string[] = [];
    let release!: () => void;
    const send: NotifySender = (_s, a) => {
      order.push(a[0]);
      return a[0] === 'READY=1' ? new Promise<void>((res) => (release = res)) : Promise.resolve();
    };
    const n = new SystemdNotifier({ env: { NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '1000000' }, send });
    const ready = n.ready();
    n.startWatchdog();
    vi.advanceTimersByTime(500);
    await settle();
    expect(order).toEqual(['READY=1']);
    release();
    await ready;
    await settle();
    expect(order).toEqual(['READY=1', 'WATCHDOG=1']);
  });

  it('ignores a watchdog meant for another process (WATCHDOG_PID), as sd_watchdog_enabled does', () => {
    expect(readNotifyEnvironment({ NOTIFY_SOCKET: '/s', WATCHDOG_USEC: '30000000', WATCHDOG_PID: '42' }, 43).watchdogIntervalMs).toBeNull();
    expect(readNotifyEnvironment({ NOTIFY_SOCKET: '/s', WATCHDOG_USEC: '30000000', WATCHDOG_PID: '43' }, 43).watchdogIntervalMs).toBe(15_000);
    expect(readNotifyEnvironment({ NOTIFY_SOCKET: '/s', WATCHDOG_USEC: 'soon' }, 43).watchdogIntervalMs).toBeNull();
    expect(readNotifyEnvironment({ WATCHDOG_USEC: '30000000' }, 43)).toEqual({ socket: null, watchdogIntervalMs: null });
  });

  it('accepts a socket path or an abstract socket (@...), nothing else', () => {
    expect(readNotifyEnvironment({ NOTIFY_SOCKET: '@/org/freedesktop/systemd1/notify' }, 1).socket).toBe('@/org/freedesktop/systemd1/notify');
    expect(readNotifyEnvironment({ NOTIFY_SOCKET: 'relative/notify' }, 1).socket).toBeNull();
    expect(readNotifyEnvironment({ NOTIFY_SOCKET: '' }, 1).socket).toBeNull();
  });

  it('takes the variables out of the environment, so child processes cannot speak for the service', () => {
    const env: NodeJS.ProcessEnv = { NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '30000000', WATCHDOG_PID: '7', PATH: '/usr/bin' };
    const n = new SystemdNotifier({ env, pid: 7, send: recorder().send });
    expect(n.socket).toBe('/run/systemd/notify');
    expect(n.watchdogIntervalMs).toBe(15_000);
    expect(env).toEqual({ PATH: '/usr/bin' });
  });

  it('logs a failing sender once per distinct failure and never throws', async () => {
    const log = { info: vi.fn(), warn: vi.fn(), debug: vi.fn() };
    const send: NotifySender = () => Promise.reject(new Error('spawn systemd-notify ENOENT'));
    const n = new SystemdNotifier({ env: { NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '2000000' }, send, log });
    await expect(n.ready('up')).resolves.toBeUndefined();
    n.startWatchdog();
    for (let i = 0; i < 5; i++) {
      vi.advanceTimersByTime(1_000);
      await settle();
    }
    expect(log.warn).toHaveBeenCalledTimes(1);
  });
});
