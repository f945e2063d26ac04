// `npx locker hw test`, `hw scan` and `hw boot-config`: for the installer at the locker.
import { existsSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { bootConfig } from '../../firmware-bridge/boot-config.ts';
import type { DoorBus } from '../../firmware-bridge/door-bus.ts';
import { DriverUnavailableError, createDoorBus } from '../../firmware-bridge/index.ts';
import { formatHwTable, runHwTest, type HwTestItem } from '../../firmware-bridge/hw-test.ts';
import { lineName } from '../../firmware-bridge/lines.ts';
import type { TimerApi } from '../../firmware-bridge/pulse-sequencer.ts';
import { mapSkeleton, polarityHint, scanPort, SCAN_PROTOCOLS, type ScanProtocol } from '../../firmware-bridge/lock-boards/scan.ts';
import type { OpenPort } from '../../firmware-bridge/lock-boards/serial-board-bus.ts';
import { openSerialPort } from '../../firmware-bridge/lock-boards/serial-port.ts';
import { BOARD_LIMITS } from '../../locker-map/boards.ts';
import { LockerMapError, loadLockerMap, usesHeaderUart } from '../../locker-map/load.ts';
import { onBoard, type CompartmentDef, type LockerMap } from '../../locker-map/schema.ts';
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
  locker hw scan --port <device> [--protocol kr-cu16,kr-cu12,8a80,modbus] [--baud <n>] [--timeout <ms>] [--out <map.json>]
  locker hw boot-config
`;

export interface HwDeps {
  /** Tests build the bus themselves (a stand-in driver); default: LOCKER_DOORS. */
  createBus?: (config: LockerConfig, map: LockerMap) => Promise<DoorBus>;
  timers?: TimerApi;
  env?: Record<string, string | undefined>;
  /** Opens a serial port for `hw scan` (tests: a pseudo-terminal); default: serialport. */
  openPort?: (path: string, baud: number) => Promise<OpenPort>;
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
    if (action === 'scan') return await hwScan(rest);
    return fail(`unknown command "hw ${argv.join(' ')}"\nusage:\n${HW_USAGE}`);
  } catch (err) {
    if (err instanceof LockerMapError || err instanceof DriverUnavailableError) return fail(err.message);
    throw err;
  }

  async function hwScan(args: string[]): Promise<number> {
    const { values } = parseArgs({ args, options: { port: { type: 'string' }, protocol: { type: 'string' }, baud: { type: 'string' }, timeout: { type: 'string' }, out: { type: 'string' } } });
    if (!values.port) return fail('hw scan needs --port, the serial device of the RS485 bus (ls /dev/serial/by-id/)');
    if (values.out && existsSync(values.out)) return fail(`--out: ${values.out} exists; name a new file (a scan never overwrites a map)`);
    const protocols = values.protocol === undefined ? SCAN_PROTOCOLS : (values.protocol.split(',').map((p) => p.trim()) as ScanProtocol[]);
    const unknown = protocols.filter((p) => !(p in BOARD_LIMITS));
    if (unknown.length > 0) return fail(`--protocol: unknown ${unknown.join(', ')} (kr-cu16, kr-cu12, 8a80 or modbus)`);
    const baud = values.baud === undefined ? undefined : Number(values.baud);
    if (baud !== undefined && (!Number.isInteger(baud) || baud < 1200 || baud > 115_200)) return fail('--baud takes a speed from 1200 to 115200');
    const timeoutMs = values.timeout === undefined ? undefined : Number(values.timeout);
    if (timeoutMs !== undefined && (!Number.isInteger(timeoutMs) || timeoutMs < 10 || timeoutMs > 2000)) return fail('--timeout takes milliseconds per address, 10 to 2000');
    say(`Scanning ${values.port} for lock boards; nothing is released, only read. Stop the locker service first (systemctl stop locker).`);
    const found = await scanPort({
      port: values.port,
      openPort: deps.openPort ?? openSerialPort,
      protocols,
      baud,
      timeoutMs,
      progress: (p, b, n) => say(`  ${p} at ${b} baud: ${n} addresses`),
    });
    if (found.length === 0) {
      say('No board answered. Check A/B (swap them if unsure), the termination, the boards\' power and DIP addresses, and try --baud.');
      return 2;
    }
    say('');
    for (const b of found) {
      const hint = polarityHint(b.bits);
      const bits = b.bits.map((x) => (x ? '1' : '0')).join('');
      say(`Found ${b.protocol} board at address ${b.address}, ${b.baud} baud: feedback ${bits}${hint ? ` (if every door is shut: ${hint})` : ' (mixed: shut every door and scan again to tell its polarity)'}`);
    }
    const speeds = [...new Set(found.map((b) => b.baud))];
    if (speeds.length > 1) {
      say(`Boards answered at ${speeds.join(' and ')} baud: one bus runs at one speed. Set them to one speed (or give each speed its own adapter), then scan with --baud.`);
    }
    if (found.some((b) => b.protocol === 'modbus')) say('Modbus boards: use "modbus-timed" if the board times a pulse itself (Waveshare flash-on), else "modbus".');
    const skeleton = `${JSON.stringify(mapSkeleton(values.port, found), null, 2)}\n`;
    if (values.out) {
      writeFileSync(values.out, skeleton, { flag: 'wx' });
      say(`\nMap skeleton written to ${values.out}: set each compartment's size, column and row, then LOCKER_MAP.`);
    } else {
      say("\nMap skeleton (set each compartment's size, column and row, then LOCKER_MAP):");
      io.stdout.write(skeleton);
    }
    return 0;
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
      return fail('LOCKER_DOORS=sim has no hardware to test: set LOCKER_DOORS=onoff, gpiod or serial (see README, "Hardware")');
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
      const items: HwTestItem[] = map.compartments
        .filter((c) => !only || only.has(c.number))
        .map((c) => {
          const holds = occupied.get(c.number);
          return {
            compartment: c.number,
            lock: refText(c.lock, 'lock'),
            sensor: refText(c.sensor, 'sensor'),
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
      if (map.boards.length > 0) for (const line of boardReport(bus, map)) say(line);
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

/**
 * Before the pulses: what each board's feedback reads with the map's polarity. The installer has
 * shut every door, so a board whose doors all read open has the opposite polarity of the map's.
 */
function boardReport(bus: DoorBus, map: LockerMap): string[] {
  const health = new Map((bus.boardHealth?.() ?? []).map((h) => [h.id, h]));
  return map.boards.map((b) => {
    const doors = map.compartments.filter((c) => onBoard(c.sensor) && c.sensor.board === b.id).map((c) => bus.doorState(c.number));
    const polarity = b.feedback ?? 'set-when-closed';
    const head = `Board ${b.id} (${b.protocol}, address ${b.address}, feedback ${polarity}):`;
    if (health.get(b.id)?.state === 'gone') return `${head} not answering (${health.get(b.id)?.lastError ?? 'no reply'}): check its power, A/B and address`;
    const open = doors.filter((d) => d === 'open').length;
    const line = `${head} ${doors.length - open} doors read shut, ${open} open`;
    if (doors.length > 0 && open === doors.length) {
      return `${line}. If every door is shut, the polarity is the other way: set "feedback": "${polarity === 'set-when-closed' ? 'set-when-open' : 'set-when-closed'}" for ${b.id}`;
    }
    return line;
  });
}

/** How `hw test` names a lock or sensor: a GPIO line with its level or pull, or a board channel. */
function refText(ref: CompartmentDef['lock'] | CompartmentDef['sensor'], kind: 'lock' | 'sensor'): string {
  if (onBoard(ref)) return `board ${ref.board} channel ${ref.channel}`;
  const line = lineName(ref.chip, ref.offset);
  if (kind === 'lock') return `${line} ${('activeLevel' in ref && ref.activeLevel) || 'high'}`;
  const pull = ('pull' in ref && ref.pull) || 'up';
  return `${line} ${pull === 'none' ? 'no pull' : `pull-${pull}`}`;
}
