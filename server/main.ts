// `npm start`: load the config, build the locker, listen; stop cleanly on SIGTERM/SIGINT.
// Under systemd (locker.service, Type=notify) it also says READY, pings the watchdog and
// says STOPPING (server/app/notify.ts); elsewhere that part is silent.
import { loadConfig } from './config/load.ts';
import { createLocker, type Locker } from './app/compose.ts';
import { createShutdown, lockerAlive, probeTimeoutMs } from './app/lifecycle.ts';
import { SystemdNotifier } from './app/notify.ts';
import { startBanner, startupFailureLine } from './app/banner.ts';
import { createLogger } from './logger.ts';

const STOP_BOUND_MS = 10_000;

async function main(): Promise<void> {
  const boot = createLogger(process.env.LOCKER_LOG_LEVEL ?? 'info');
  const notifier = new SystemdNotifier({ log: boot.child({ module: 'systemd' }) });
  let locker: Locker | undefined;
  // Pings from the first moment, so a slow first start on an SD card is not taken for a hang
  // (a start-up that hangs is TimeoutStartSec's to catch); once up, a ping vouches for a real
  // HTTP answer over loopback (what the kiosk screen gets) and the database.
  const probeMs = probeTimeoutMs(notifier.watchdogIntervalMs ?? 15_000);
  notifier.startWatchdog(() => (locker?.endpoints ? lockerAlive(locker, probeMs) : true));
  // Listening from the first moment: without a listener a SIGTERM kills Node on the spot, and
  // one that arrives while the locker starts (systemctl stop, or right after the "listening"
  // line) must still end in the graceful path once start-up is done. A second signal while
  // start-up hangs (on hardware, say) gives up at once.
  let shutdown: ((signal: string) => Promise<void>) | null = null;
  let pending: string | null = null;
  const onSignal = (signal: string) => {
    if (shutdown) void shutdown(signal);
    else if (pending) process.exit(1);
    else pending = signal;
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  try {
    const config = loadConfig();
    locker = await createLocker(config);
    const url = await locker.start();
    const kiosk = locker.endpoints?.loopbackUrl ?? null;
    locker.log.info({ url, kiosk, doors: config.doors, sms: config.sms, dataDir: config.dataDir }, `locker ${config.lockerId} listening on ${url}`);
    const users = locker.ctx.store.db.prepare('SELECT COUNT(*) AS n FROM users WHERE disabled_at IS NULL').get() as { n: number };
    const banner = startBanner({ lockerId: config.lockerId, url, host: config.host, kioskUrl: kiosk, simulated: locker.ctx.sim !== null, users: users.n });
    process.stdout.write(banner.join('\n') + '\n');
    // Only now: the database is open, the doors are driven to locked, HTTP is listening.
    await notifier.ready(`listening on ${url}`);
  } catch (err) {
    // One plain line for the person at the terminal (or in `journalctl -u locker`); the stack only
    // at LOCKER_LOG_LEVEL=debug, since a bad setting is not a bug.
    process.stderr.write(startupFailureLine('locker', err) + '\n');
    boot.debug({ err: err instanceof Error ? { message: err.message, stack: err.stack } : err }, 'start-up failed');
    notifier.stopWatchdog();
    await notifier.status(`start-up failed: ${(err as Error).message}`);
    await locker?.stop().catch(() => undefined);
    process.exit(1);
  }
  shutdown = createShutdown({ locker, notifier, boundMs: STOP_BOUND_MS, exit: (code) => process.exit(code) });
  if (pending) void shutdown(pending);
}

void main();
