// `npx locker hw test` and `npx locker hw boot-config`: for the installer at the locker.
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { bootConfig } from '../../firmware-bridge/boot-config.ts';
import type { DoorBus } from '../../firmware-bridge/door-bus.ts';
import { DriverUnavailableError, createDoorBus } from '../../firmware-bridge/index.ts';
import { formatHwTable, runHwTest, type HwTestItem } from '../../firmware-bridge/hw-test.ts';
import { bankLines, lineName } from '../../firmware-bridge/lines.ts';
import type { TimerApi } from '../../firmware-bridge/pulse-sequencer.ts';
import { LockerMapError, loadLockerMap, usesHeaderUart } from '../../locker-map/load.ts';
import type { LockerMap } from '../../locker-map/schema.ts';
import { configSource, loadConfig } from '../config/load.ts';
import type { LockerConfig } from '../config/schema.ts';
import { DB_FILE, databaseExists, openDatabase } from '../db/database.ts';
import { Store } from '../db/store.ts';
import { AuditLog } from '../domain/audit-log.ts';
import { Compartments } from '../domain/compartments.ts';
import { systemClock } from '../domain/ports.ts';
import type { CliIo } from './locker.ts';

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

export const HW_USAGE = `  locker hw test [--only 1,2,...] [--wait <seconds>] [--include-occupied]
  locker hw boot-config
`;

export interface HwDeps {
  /** Tests build the bus themselves (a stand-in driver); default: LOCKER_DOORS. */
  createBus?: (config: LockerConfig, map: LockerMap) => Promise<DoorBus>;
  timers?: TimerApi;
  env?: Record<string, string | undefined>;
}

function mapFor(config: LockerConfig): LockerMap {
  return loadLockerMap(config.mapPath, { uartInUse: config.sms === 'modem' && usesHeaderUart(config.smsDevice) });
}

export async function runHwCli(argv: string[], io: CliIo, deps: HwDeps = {}): Promise<number> {
  const say = (s: string) => io.stdout.write(`${s}\n`);
  const fail = (s: string) => {
    io.stderr.write(`locker: ${s}\n`);
    return 1;
  };
  const [action, ...rest] = argv;
  try {
    if (action === 'boot-config' && rest.length === 0) {
      const config = loadConfig(configSource(deps.env ?? process.env));
      io.stdout.write(bootConfig(mapFor(config), { uartInUse: config.sms === 'modem' && usesHeaderUart(config.smsDevice) }));
      return 0;
    }
    if (action === 'test') return await hwTest(rest, io, deps);
    return fail(`unknown command "hw ${argv.join(' ')}"\nusage:\n${HW_USAGE}`);
  } catch (err) {
    if (err instanceof LockerMapError || err instanceof DriverUnavailableError) return fail(err.message);
    throw err;
  }

  async function hwTest(args: string[], io: CliIo, deps: HwDeps): Promise<number> {
    const { values } = parseArgs({
      args,
      options: { only: { type: 'string' }, wait: { type: 'string' }, 'include-occupied': { type: 'boolean' } },
    });
    const waitSec = values.wait === undefined ? 10 : Number(values.wait);
    if (!Number.isFinite(waitSec) || waitSec < 1 || waitSec > 600) return fail('--wait takes seconds, 1 to 600');
    const config = loadConfig(configSource(deps.env ?? process.env));
    const map = mapFor(config);
    let only: Set<number> | null = null;
    if (values.only !== undefined) {
      only = new Set(values.only.split(',').map((x) => Number(x.trim())));
      const unknown = [...only].filter((n) => !map.compartments.some((c) => c.number === n));
      if (unknown.length > 0) return fail(`--only: no compartment ${unknown.join(', ')} in the locker map`);
    }
    if (config.doors === 'sim' && !deps.createBus) {
      return fail('LOCKER_DOORS=sim has no hardware to test: set LOCKER_DOORS=onoff or gpiod (see README, "Hardware")');
    }

    // The trail must show every door a test opened, and a door holding someone's dossier stays shut:
    // both need the service's own database, not a new one in a mistyped data dir.
    if (!databaseExists(config.dataDir)) {
      return fail(`no locker database in ${config.dataDir} (no ${DB_FILE}): set LOCKER_DATA_DIR to the data dir of the service (it makes its database on its first start)`);
    }
    const db = openDatabase(config.dataDir);
    try {
      const store = new Store(db);
      const audit = new AuditLog(store, systemClock);
      const occupied = new Map(new Compartments(store).rows().filter((r) => r.dossier_id !== null).map((r) => [r.number, r.dossier_code]));
      const bank = bankLines(map);
      const items: HwTestItem[] = bank.locks
        .filter((l) => !only || only.has(l.compartment))
        .map((l) => {
          const s = bank.sensors.find((x) => x.compartment === l.compartment)!;
          const holds = occupied.get(l.compartment);
          return {
            compartment: l.compartment,
            lock: `${lineName(l.chip, l.offset)} ${l.activeValue ? 'high' : 'low'}`,
            sensor: `${lineName(s.chip, s.offset)} ${s.bias === 'none' ? 'no pull' : `pull-${s.bias}`}`,
            skip: holds !== undefined && !values['include-occupied'] ? `holds dossier ${holds} (--include-occupied to test it)` : undefined,
          };
        });
      const bus = deps.createBus ? await deps.createBus(config, map) : await createDoorBus(config.doors, map, {
            sysfsRoot: config.sysfsRoot,
            debounceMs: config.doorTiming.debounceMs,
            pollMs: config.doorTiming.pollMs,
          });
      say(`Testing ${items.length} doors with the ${bus.driver} driver. Stop the locker service first (systemctl stop locker).`);
      await bus.start();
      const interrupt = () => void bus.stop().finally(() => process.exit(130));
      process.once('SIGINT', interrupt);
      let results;
      try {
        results = await runHwTest(bus, items, {
          openWaitMs: waitSec * 1000,
          closeWaitMs: waitSec * 1000,
          timers: deps.timers,
          say,
          beforePulse: (item) =>
            store.tx(() =>
              audit.append({ type: 'door.test_pulse', actor: 'system', compartment: item.compartment, data: { tool: 'locker hw test', user: osUser() } }),
            ),
        });
      } finally {
        process.off('SIGINT', interrupt);
        await bus.stop();
      }
      say('');
      say(formatHwTable(results));
      return results.every((r) => r.verdict === 'ok' || r.verdict === 'skipped') ? 0 : 3;
    } finally {
      db.close();
    }
  }
}
