// The composition root: builds every part, starts them in order, stops them in reverse.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createDoorBus, type DoorBus } from '../../firmware-bridge/index.ts';
import { SimDoorBus } from '../../firmware-bridge/sim-driver.ts';
import { loadLockerMap, usesHeaderUart } from '../../locker-map/load.ts';
import type { LockerConfig } from '../config/schema.ts';
import { openDatabase, type Db } from '../db/database.ts';
import { Store } from '../db/store.ts';
import { AuditLog } from '../domain/audit-log.ts';
import { AuthService } from '../domain/auth-service.ts';
import { PickupCodes } from '../domain/codes.ts';
import { Bookings } from '../domain/bookings.ts';
import { CompartmentAdmin } from '../domain/compartment-admin.ts';
import { Compartments } from '../domain/compartments.ts';
import { DoorControl } from '../domain/door-control.ts';
import { DoorFaults } from '../domain/door-faults.ts';
import { DoorSupervisor } from '../domain/door-supervisor.ts';
import { BoardWatch } from '../domain/board-watch.ts';
import { DossierService } from '../domain/dossier-service.ts';
import { DossierRepairs } from '../domain/dossier-repairs.ts';
import { Alarms } from '../domain/alarms.ts';
import { CitizenNotices } from '../domain/citizen-notices.ts';
import { PickupService } from '../domain/pickup-service.ts';
import { Retention, RETENTION_SWEEP_MS } from '../domain/retention.ts';
import { systemClock, timerScheduler, type Clock, type Scheduler, type SmsChannel } from '../domain/ports.ts';
import { loadOrCreateSecrets } from '../domain/secrets.ts';
import { buildHttpApp } from '../http/app.ts';
import { EventStreams } from '../http/event-streams.ts';
import { HttpListeners, type ListenUrls } from '../http/listeners.ts';
import { createLogger } from '../logger.ts';
import { SmsDispatcher } from '../sms/dispatcher.ts';
import { createSmsChannel } from '../sms/index.ts';
import { MqttLink } from '../mqtt/link.ts';
import { SmsQueue } from '../sms/queue.ts';
import type { LockerContext } from './context.ts';
import { lockDataDir } from './instance-lock.ts';
import { finishPulses } from './lifecycle.ts';

export interface Overrides {
  clock?: Clock;
  scheduler?: Scheduler;
  doorBus?: DoorBus;
  smsChannel?: SmsChannel;
  /** A serialport binding for LOCKER_SMS=modem (tests use @serialport/binding-mock). */
  serialBinding?: unknown;
  logger?: Logger;
}

export interface Locker {
  ctx: LockerContext;
  http: FastifyInstance;
  sms: SmsDispatcher;
  log: Logger;
  /** Starts every part and listens; resolves with the base URL. */
  start(): Promise<string>;
  /** Where it listens, once started: the main URL, the kiosk's loopback URL (with HTTPS), the watchdog's probe URL. */
  endpoints: ListenUrls | null;
  /** Connection caps: what was let in and held off (server/http/listeners.ts). */
  listeners: HttpListeners;
  stop(): Promise<void>;
  runExpiry(): number;
  /** Erases phone numbers and code hashes of dossiers closed longer than LOCKER_RETENTION_DAYS ago. */
  runRetention(): number;
}

export async function createLocker(config: LockerConfig, o: Overrides = {}): Promise<Locker> {
  const log = o.logger ?? createLogger(config.logLevel, { locker: config.lockerId });
  const clock = o.clock ?? systemClock;
  const scheduler = o.scheduler ?? timerScheduler;
  const map = loadLockerMap(config.mapPath, { uartInUse: config.sms === 'modem' && usesHeaderUart(config.smsDevice) });

  // Before the database and the doors: a second copy on the same data dir stops here, having
  // driven nothing.
  const lock = lockDataDir(config.dataDir);
  let db: Db | null = (() => {
    try {
      return openDatabase(config.dataDir);
    } catch (err) {
      lock.release();
      throw err;
    }
  })();
  const stops: (() => Promise<void> | void)[] = [
    // Last out: the lock outlives every other part, so a new copy never starts while this one
    // is still closing the database or releasing the doors.
    () => lock.release(),
    () => {
      db?.close();
    },
  ];
  try {
    const secrets = loadOrCreateSecrets(config.dataDir);
    const store = new Store(db);
    const audit = new AuditLog(store, clock);
    const compartments = new Compartments(store);
    compartments.syncWithMap(map);
    const doorBus =
      o.doorBus ??
      (await createDoorBus(config.doors, map, {
        sysfsRoot: config.sysfsRoot,
        log: log.child({ module: 'gpio' }),
        debounceMs: config.doorTiming.debounceMs,
        pollMs: config.doorTiming.pollMs,
      }));
    const codes = new PickupCodes(secrets);
    const smsQueue = new SmsQueue(store);
    const smsChannel = o.smsChannel ?? createSmsChannel(config, clock, { scheduler, log: log.child({ module: 'modem' }), serialBinding: o.serialBinding });
    const bookings = new Bookings(store, audit, compartments, codes, clock, log.child({ module: 'bookings' }));
    const doorFaults = new DoorFaults({
      store,
      audit,
      compartments,
      bus: doorBus,
      bookings,
      clock,
      scheduler,
      log: log.child({ module: 'doors' }),
      timing: { jamMs: config.doorTiming.jamSec * 1000, ajarMs: config.doorTiming.ajarSec * 1000 },
    });
    const doors = new DoorControl(store, audit, doorBus, clock, config.unlockWindowSec * 1000, log.child({ module: 'doors' }), bookings, scheduler, doorFaults);
    // Auto-confirm: `dossiers` is built below; the supervisor calls it only once the service runs.
    const loadingConfirm = {
      enabled: config.autoConfirm,
      confirm: (dossierId: number, startup?: Record<string, unknown>) => dossiers.confirmByDoor(dossierId, startup),
      committed: () => dossiers.smsQueued(),
    };
    const supervisor = new DoorSupervisor(store, audit, compartments, doorBus, clock, log.child({ module: 'doors' }), doorFaults, scheduler, loadingConfirm);
    const boardWatch = new BoardWatch(doorBus, audit, clock, scheduler, log.child({ module: 'boards' }));
    const sms = new SmsDispatcher(store, audit, smsQueue, smsChannel, codes, clock, scheduler, log.child({ module: 'sms' }), {
      location: map.location,
      encoding: config.smsOptions.encoding ?? (config.smsPlainText ? 'gsm7' : 'ucs2'),
      dossierTail: config.smsOptions.dossierTail,
      lockerId: config.lockerId,
      templates: config.smsOptions.templates,
      office: config.smsOptions.office,
      phoneLimit: config.smsOptions.phoneLimit,
      phoneWindowMs: config.smsOptions.phoneWindowMs,
      reminderBeforeMs: config.smsOptions.reminderBeforeMs,
      receiptDelayMs: config.smsOptions.receiptDelayMs,
      alarmAfterMs: config.smsOptions.modemAlarmMs,
    });
    const notices = new CitizenNotices(store, smsQueue);
    const dossiers = new DossierService({
      store,
      audit,
      compartments,
      doors,
      bookings,
      codes,
      sms: smsQueue,
      clock,
      pickupWindowMs: Math.round(config.pickupDays * 24 * 3600 * 1000),
      loadingAlarmMs: Math.round(config.loadingAlarmMin * 60_000),
      autoConfirm: config.autoConfirm,
      onSmsQueued: () => sms.kick(),
      onExpired: (row, now) => notices.expired(row, now),
    });
    const pickups = new PickupService({
      store,
      audit,
      doors,
      codes,
      sms: smsQueue,
      clock,
      log: log.child({ module: 'kiosk' }),
      issueCode: (row, counter, limit, now) => dossiers.issueCode(row, counter, limit, now),
      onSmsQueued: () => sms.kick(),
      // Queued with the failure; the dispatcher's next poll sends it (a kick here would run inside the transaction).
      onCodeLocked: (row, now) => notices.codeLocked(row, now),
    });
    const repairs = new DossierRepairs({
      store,
      audit,
      clock,
      issueCode: (row, counter, limit, now) => dossiers.issueCode(row, counter, limit, now),
      onSmsQueued: () => sms.kick(),
    });
    const alarms = new Alarms(store, audit, clock);
    const auth = new AuthService(store, audit, clock, config.sessionTtlMin * 60_000);
    const compartmentAdmin = new CompartmentAdmin(store, audit, compartments, doors, bookings, smsQueue, clock);
    const mqtt = new MqttLink({ config, store, audit, compartments, compartmentAdmin, dossiers, clock, scheduler, log: log.child({ module: 'mqtt' }) });
    const ctx: LockerContext = {
      config,
      map,
      clock,
      store,
      audit,
      compartments,
      compartmentAdmin,
      dossiers,
      pickups,
      repairs,
      alarms,
      auth,
      doorBus,
      sim: doorBus instanceof SimDoorBus ? doorBus : null,
      smsQueue,
      smsChannel: smsChannel.name,
      smsStatus: () => sms.status(),
      mqttStatus: () => mqtt.status(),
      streams: new EventStreams(clock, log.child({ module: 'streams' })),
      startedAt: Date.now(),
    };
    const listeners = new HttpListeners(config.listen, config.loopbackPort);
    const http = await buildHttpApp(ctx, log.child({ module: 'http' }), listeners.fastifyOptions());
    let stopExpiry: (() => void) | null = null;
    const retention = new Retention(store, audit, clock, config.retentionDays * 86_400_000, log.child({ module: 'retention' }));
    const runRetention = () => retention.purge();
    // The periodic sweep, in lifecycle order: pickups whose door never opened are undone first (so a
    // dossier past its deadline is then expired, not left collected), then deadlines, then loading alarms.
    const runExpiry = () => {
      doors.sweepLapsed();
      const n = dossiers.expireDue();
      if (n > 0) log.info({ count: n }, 'dossiers expired');
      const stale = dossiers.alarmStaleLoading();
      if (stale > 0) log.warn({ count: stale }, 'dossiers left in loading');
      // The expiry notices were queued with the expiry: send them now, not at the next poll.
      if (n > 0) sms.kick();
      return n;
    };

    const locker: Locker = {
      ctx,
      http,
      sms,
      log,
      runExpiry,
      runRetention,
      endpoints: null,
      listeners,
      async start() {
        // First in, so last out: events from every other part's shutdown still reach the broker
        // (or wait in the outbox), and the link lets go before the database closes.
        mqtt.start();
        stops.push(() => mqtt.stop());
        await doorBus.start();
        stops.push(() => doorBus.stop());
        // Stopping the bus cuts a pulse short; a citizen whose pickup was answered while HTTP
        // closed must get the whole pulse first (bounded by the lock's hard pulse limit).
        stops.push(() => finishPulses(doorBus));
        // What the doors show at boot first, then the lifecycle's verdict on every booking: no
        // unlock window survives the restart, a pickup whose door never opened is undone.
        supervisor.reconcile();
        const boot = bookings.reconcileAfterRestart();
        if (boot.reverted + boot.released > 0) log.warn(boot, 'start-up reconcile changed bookings');
        supervisor.start();
        stops.push(() => supervisor.stop());
        boardWatch.start();
        stops.push(() => boardWatch.stop());
        stops.push(() => doors.stop());
        doorFaults.start();
        stops.push(() => doorFaults.stop());
        sms.start();
        stops.push(() => sms.stop());
        runExpiry();
        stopExpiry = scheduler.every(config.expirySweepSec * 1000, () => {
          try {
            runExpiry();
          } catch (err) {
            log.error({ err }, 'expiry sweep failed');
          }
        });
        stops.push(() => stopExpiry?.());
        const sweepRetention = () => {
          try {
            runRetention();
          } catch (err) {
            log.error({ err }, 'retention sweep failed');
          }
        };
        sweepRetention();
        stops.push(scheduler.every(RETENTION_SWEEP_MS, sweepRetention));
        // Fastify's close stops the main listener; the kiosk's loopback one stops with it.
        stops.push(() => Promise.all([http.close(), listeners.closeLoopback()]).then(() => undefined));
        locker.endpoints = await listeners.listen(http, config.host, config.port);
        return locker.endpoints.url;
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
        db = null;
      },
    };
    return locker;
  } catch (err) {
    db?.close();
    lock.release();
    throw err;
  }
}
