// How the running service ends (SIGTERM from systemd, Ctrl-C on a laptop), and what its
// watchdog pings vouch for.
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

/** What a watchdog ping vouches for: HTTP still listening and the database answering. */
export function lockerAlive(locker: Pick<Locker, 'http' | 'ctx'>): boolean {
  if (!locker.http.server.listening) return false;
  locker.ctx.store.db.prepare('SELECT 1').get();
  return true;
}

export interface ShutdownOptions {
  locker: Pick<Locker, 'stop' | 'log' | 'ctx'> & { http?: { server: { closeIdleConnections?: () => void } } };
  notifier: Pick<SystemdNotifier, 'stopping'>;
  /** After this long the process exits anyway (systemd's TimeoutStopSec is set above it). */
  boundMs: number;
  exit: (code: number) => void;
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
    void o.notifier.stopping('stopping: finishing requests in flight');
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
          o.exit(1);
          return;
        }
        log.info({ energised }, 'stopped: every relay at its locked level, database closed');
        o.exit(0);
      },
      (err: unknown) => {
        clearTimeout(hard);
        log.error({ err }, 'shutdown failed');
        o.exit(1);
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
