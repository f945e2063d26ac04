// The central audit service's composition root: database, ingest, MQTT link, commands, HTTP.
// start() in order, stop() in reverse: the broker link goes first so nothing arrives for a
// database that is closing, and the database closes last.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { systemClock, timerScheduler, type Clock, type Scheduler } from '../domain/ports.ts';
import { createLogger } from '../logger.ts';
import { CentralAuth } from './auth.ts';
import { CommandSender } from './commands.ts';
import type { CentralConfig } from './config.ts';
import { migrateCentral } from './db/migrations.ts';
import { openCentralDb } from './db/open.ts';
import type { CentralDb } from './db/sql.ts';
import { buildCentralHttp } from './http/app.ts';
import { HttpListeners } from '../http/listeners.ts';
import type { CentralContext } from './http/context.ts';
import { GapHealer } from './gap-heal.ts';
import { Ingestor } from './ingest.ts';
import { CentralLink } from './mqtt/link.ts';

export interface CentralOverrides {
  clock?: Clock;
  scheduler?: Scheduler;
  logger?: Logger;
  /** An already-open database (migrated here); by default it is opened from the config. */
  db?: CentralDb;
}

export interface Central {
  ctx: CentralContext;
  http: FastifyInstance;
  link: CentralLink;
  log: Logger;
  /** Connects to the broker and listens; resolves with the base URL. */
  start(): Promise<string>;
  /** Connection caps: what was let in and held off (server/http/listeners.ts). */
  listeners: HttpListeners;
  stop(): Promise<void>;
}

const GAP_SWEEP_MIN_MS = 1000;

export async function createCentral(config: CentralConfig, o: CentralOverrides = {}): Promise<Central> {
  const log = o.logger ?? createLogger(config.logLevel, { service: 'central', instance: config.mqtt.clientId });
  const clock = o.clock ?? systemClock;
  const scheduler = o.scheduler ?? timerScheduler;
  const db: CentralDb = o.db ?? (await openCentralDb(config));
  if (o.db) await migrateCentral(o.db);
  const stops: (() => Promise<void> | void)[] = [() => db.close()];
  try {
    const ingest = new Ingestor(db, clock, log.child({ module: 'ingest' }), { gapGraceMs: config.gapGraceSec * 1000 });
    const commands = new CommandSender(db, ingest, clock, config.commandTimeoutMs, log.child({ module: 'commands' }));
    const link = new CentralLink(config.mqtt, ingest, (locker, command, payload) => commands.onResponse(locker, command, payload), log.child({ module: 'mqtt' }));
    commands.attach({
      get connected() {
        return link.connected;
      },
      publish: (topic, payload) => link.publish(topic, payload),
      request: (locker, command) => link.topics.request(locker, command),
    });
    const healer = config.gapRepublish
      ? new GapHealer(db, commands, clock, config.gapRepublishEverySec * 1000, log.child({ module: 'gaps' }))
      : null;
    const auth = new CentralAuth(db, clock, config.sessionTtlMin * 60_000, log.child({ module: 'auth' }));
    const ctx: CentralContext = {
      config,
      db,
      auth,
      ingest,
      commands,
      clock,
      mqttStatus: () => link.status(),
      log,
      startedAt: Date.now(),
    };
    const listeners = new HttpListeners(config.listen, null);
    const http = await buildCentralHttp(ctx, log.child({ module: 'http' }), listeners.fastifyOptions());
    return {
      ctx,
      http,
      link,
      log,
      listeners,
      async start() {
        link.start();
        stops.push(() => link.stop());
        const every = Math.max(GAP_SWEEP_MIN_MS, Math.floor((config.gapGraceSec * 1000) / 4));
        let sweeping = false;
        const stopSweep = scheduler.every(every, () => {
          if (sweeping) return;
          sweeping = true;
          ingest
            .sweepGaps()
            .then(() => (healer ? healer.run(link.connected) : 0))
            .catch((err) => log.error({ err: (err as Error).message }, 'gap sweep failed'))
            .finally(() => (sweeping = false));
        });
        stops.push(stopSweep);
        stops.push(() => http.close());
        return (await listeners.listen(http, config.host, config.port)).url;
      },
      async stop() {
        while (stops.length > 0) {
          const s = stops.pop()!;
          try {
            await s();
          } catch (err) {
            log.error({ err }, 'error while stopping');
          }
        }
      },
    };
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
}
