// How the running service ends (SIGTERM from systemd, Ctrl-C on a laptop), and what its
// watchdog pings vouch for.
import http from 'node:http';
import type { DoorBus } from '../../firmware-bridge/door-bus.ts';
import { HARD_MAX_PULSE_MS } from '../../firmware-bridge/pulse-sequencer.ts';
import type { Locker } from './compose.ts';
import type { SystemdNotifier } from './notify.ts';

/**
 * Waits until no relay is energised, for at most one full pulse and a margin. Runs once HTTP
 * has closed (so every unlock it answered has started) and before the bus stops.
 */
export async function finishPulses(bus: Pick<DoorBus, 'energised'>, maxMs = HARD_MAX_PULSE_MS + 500): Promise<void> {
  const end = Date.now() + maxMs;
  while (bus.energised().length > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

/**
 * What a watchdog ping vouches for: a real request, GET /healthz over loopback, answered 200
 * within `timeoutMs`, and the database answering. A listener that is open but answers nobody (a
 * flood holding every file descriptor, a handler that hangs) withholds the ping, and systemd
 * restarts the service. Rejects with the reason, so the notifier can log it.
 */
export async function lockerAlive(locker: Pick<Locker, 'endpoints' | 'ctx'>, timeoutMs: number): Promise<boolean> {
  const probe = locker.endpoints?.probeUrl;
  if (!probe) return false;
  await healthAnswers(`${probe}/healthz`, timeoutMs);
  locker.ctx.store.db.prepare('SELECT 1').get();
  return true;
}

/** Resolves once `url` answers 200 on a connection of its own; rejects otherwise or after `timeoutMs`. */
export function healthAnswers(url: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    // agent: false: a fresh connection each time, as a new visitor would open one.
    const req = http.get(url, { agent: false, timeout: timeoutMs, headers: { connection: 'close' } }, (res) => {
      res.resume();
      if (res.statusCode === 200) res.once('end', () => resolve());
      else reject(new Error(`${url} answered ${res.statusCode}`));
    });
    req.once('timeout', () => req.destroy(new Error(`${url} did not answer within ${timeoutMs} ms`)));
    req.once('error', reject);
  });
}

/** How long a watchdog probe may take: well inside the ping interval, so a slow one never overlaps the next. */
export function probeTimeoutMs(intervalMs: number): number {
  return Math.max(50, Math.min(5_000, Math.floor(intervalMs * 0.6)));
}

export interface ShutdownOptions {
  locker: Pick<Locker, 'stop' | 'log' | 'ctx'> & { http?: { server: { closeIdleConnections?: () => void } } };
  notifier: Pick<SystemdNotifier, 'stopping'>;
  /** After this long the process exits anyway (systemd's TimeoutStopSec is set above it). */
  boundMs: number;
  exit: (code: number) => void;
  /** How long the exit waits for STOPPING=1 to reach systemd (default 3 s, inside the bound). */
  notifyGraceMs?: number;
}

/**
 * Returns the signal handler. The order is the composition root's stop order, newest part
 * first: HTTP stops accepting and lets requests in flight finish (a pickup whose door is
 * queued behind another pulse still gets its answer), the door bus finishes the pulses it
 * owes and leaves every relay at its locked level, the MQTT link publishes `offline`, and the
 * database closes last. A second signal changes nothing; a shutdown that hangs ends at the
 * bound with exit code 1.
 */
export function createShutdown(o: ShutdownOptions): (signal: string) => Promise<void> {
  let running: Promise<void> | null = null;
  return (signal) => {
    if (running) return running;
    const log = o.locker.log;
    log.info({ signal }, 'stopping: finishing requests in flight');
    // STOPPING=1 queues behind a watchdog ping whose systemd-notify may still be running; a
    // quick stop must not exit before it has gone out, or systemd never hears it.
    const said = o.notifier.stopping('stopping: finishing requests in flight').catch(() => undefined);
    const exit = (code: number) => {
      const grace = new Promise<void>((r) => setTimeout(r, o.notifyGraceMs ?? 3_000).unref());
      return Promise.race([said, grace]).then(() => o.exit(code));
    };
    const hard = setTimeout(() => {
      log.error({ boundMs: o.boundMs, energised: safeEnergised(o.locker) }, 'shutdown took too long; exiting');
      o.exit(1);
    }, o.boundMs);
    hard.unref();
    // HTTP's close waits for every connection to end, but closes idle keep-alive connections
    // only once, at the start: a kiosk's connection whose pickup answers a moment later would
    // then hold the shutdown open for the whole keep-alive timeout. Close them as they go idle.
    const sweep = setInterval(() => o.locker.http?.server.closeIdleConnections?.(), 50);
    sweep.unref();
    running = o.locker.stop().finally(() => clearInterval(sweep)).then(
      () => {
        clearTimeout(hard);
        const energised = safeEnergised(o.locker);
        if (energised.length > 0) {
          log.error({ energised }, 'stopped with relays still energised');
          return exit(1);
        }
        log.info({ energised }, 'stopped: every relay at its locked level, database closed');
        return exit(0);
      },
      (err: unknown) => {
        clearTimeout(hard);
        log.error({ err }, 'shutdown failed');
        return exit(1);
      },
    );
    return running;
  };
}

function safeEnergised(locker: Pick<Locker, 'ctx'>): number[] {
  try {
    return locker.ctx.doorBus.energised();
  } catch {
    return [];
  }
}
