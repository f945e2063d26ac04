// `npx locker central`: load the CENTRAL_* config, build the service, listen; stop cleanly on
// SIGTERM/SIGINT (the message being stored is finished and acknowledged first).
import type { Writable } from 'node:stream';
import { lanAddresses, reachableUrls, startupFailureLine } from '../app/banner.ts';
import { createLogger } from '../logger.ts';
import { createCentral, type Central } from './compose.ts';
import { loadCentralConfig } from './config.ts';

const STOP_BOUND_MS = 10_000;

export async function runCentral(io: { stdout: Writable; stderr: Writable }, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const boot = createLogger(env.CENTRAL_LOG_LEVEL ?? 'info', { service: 'central' });
  let central: Central | undefined;
  try {
    const config = loadCentralConfig(env);
    central = await createCentral(config);
    const url = await central.start();
    central.log.info({ url, database: central.ctx.db.describe }, `central audit service listening on ${url}`);
    const [lan] = reachableUrls(url, config.host, lanAddresses());
    io.stdout.write(`Central audit service is listening on ${url} (from the office LAN: auditors' page ${lan}/, API docs ${lan}/docs)\n`);
  } catch (err) {
    // One plain line on stderr naming the cause (a bad setting names it); details only at debug.
    io.stderr.write(startupFailureLine('locker central', err) + '\n');
    boot.debug({ err: err instanceof Error ? { message: err.message, stack: err.stack } : err }, 'start-up failed');
    await central?.stop().catch(() => undefined);
    return 1;
  }
  const c = central;
  return new Promise<number>((resolve) => {
    let stopping = false;
    const shutdown = (signal: string) => {
      if (stopping) return;
      stopping = true;
      c.log.info({ signal }, 'stopping');
      const hard = setTimeout(() => {
        c.log.error('shutdown took too long; exiting');
        process.exit(1);
      }, STOP_BOUND_MS);
      hard.unref();
      c.stop().then(
        () => resolve(0),
        (err) => {
          c.log.error({ err }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
}
