// Picks the door driver named by LOCKER_DOORS. Only this folder talks to GPIO and lock boards.
import type { LockerMap } from '../locker-map/schema.ts';
import type { DoorBus } from './door-bus.ts';
import { DriverUnavailableError } from './errors.ts';
import { GpiodDoorBus } from './gpiod-driver.ts';
import type { BusLog } from './hardware-bus.ts';
import { bankLines } from './lines.ts';
import { OnoffDoorBus, type GpioClass } from './onoff-driver.ts';
import { SimDoorBus } from './sim-driver.ts';
import { serialBank } from './lock-boards/bank.ts';
import { MixedDoorBus } from './lock-boards/mixed-bus.ts';
import { SerialBoardDoorBus, type OpenPort } from './lock-boards/serial-board-bus.ts';
import { openSerialPort } from './lock-boards/serial-port.ts';
import type { TimerApi } from './pulse-sequencer.ts';

export type { DoorBus, DoorEvent, DoorState } from './door-bus.ts';
export { SimDoorBus } from './sim-driver.ts';
export { DriverUnavailableError } from './errors.ts';

export interface DriverOptions {
  sysfsRoot: string;
  timers?: TimerApi;
  log?: BusLog;
  debounceMs?: number;
  pollMs?: number;
  /** onoff's Gpio class; tests pass a stand-in. Default: the onoff package. */
  Gpio?: GpioClass;
  /** Environment of the gpiod tools (their PATH). */
  env?: NodeJS.ProcessEnv;
  settleMs?: number;
  /** Opens a lock-board bus (tests: a pseudo-terminal or an in-memory wire). Default: serialport. */
  openPort?: (path: string, baud: number) => Promise<OpenPort>;
}

async function loadOnoff(): Promise<GpioClass> {
  try {
    const mod = (await import('onoff')) as unknown as { Gpio?: GpioClass; default?: { Gpio: GpioClass } };
    const Gpio = mod.Gpio ?? mod.default?.Gpio;
    if (!Gpio) throw new Error('the onoff package has no Gpio export');
    return Gpio;
  } catch (err) {
    throw new DriverUnavailableError(
      `LOCKER_DOORS=onoff needs the onoff package, which did not load (${(err as Error).message.split('\n')[0]}). ` +
        'Install it with `npm install onoff` (it compiles a small addon: `sudo apt install build-essential python3` first), ' +
        'or on Raspberry Pi OS trixie use LOCKER_DOORS=gpiod',
    );
  }
}

export async function createDoorBus(name: string, map: LockerMap, opts: DriverOptions): Promise<DoorBus> {
  const numbers = map.compartments.map((c) => c.number);
  const common = { timing: map.locks, timers: opts.timers, log: opts.log, debounceMs: opts.debounceMs, pollMs: opts.pollMs };
  switch (name) {
    case 'sim':
      return new SimDoorBus(numbers, map.locks, opts.timers);
    case 'onoff':
      return new OnoffDoorBus(bankLines(map, { strict: true }), { ...common, sysfsRoot: opts.sysfsRoot, Gpio: opts.Gpio ?? (await loadOnoff()) });
    case 'gpiod':
      return new GpiodDoorBus(bankLines(map, { strict: true }), { ...common, sysfsRoot: opts.sysfsRoot, env: opts.env, settleMs: opts.settleMs });
    case 'serial': {
      const bank = serialBank(map);
      const serial = new SerialBoardDoorBus(bank, { ...common, openPort: opts.openPort ?? openSerialPort });
      if (bank.gpioSensors.length === 0) return serial;
      // Reed switches on GPIO beside board locks: read through gpiod, which drives no lock here.
      const gpio = new GpiodDoorBus(bankLines(map, { strict: true, skipBoards: true }), { ...common, sysfsRoot: opts.sysfsRoot, env: opts.env, settleMs: opts.settleMs });
      return new MixedDoorBus(serial, gpio, bank.gpioSensors);
    }
    default:
      throw new DriverUnavailableError(`LOCKER_DOORS=${name}: unknown driver (sim, onoff, gpiod or serial)`);
  }
}
