// Doors through the kernel's sysfs GPIO interface, via the onoff package (Raspberry Pi OS
// bookworm and older). Relay lines are exported as outputs already at their locked level (the
// "high"/"low" direction sets value and direction in one write: no glitch). sysfs cannot set pull
// resistors, so header pulls come from config.txt and expander sensors need external pull-ups.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DriverUnavailableError } from './errors.ts';
import { HardwareDoorBus, type HardwareOptions } from './hardware-bus.ts';
import { lineName, type BankLines, type Bit, type SensorLineDef } from './lines.ts';
import { resolveSysfsBases } from './sysfs.ts';

/** The part of onoff's Gpio the driver uses; tests pass a stand-in with the same shape. */
export interface GpioLike {
  readSync(): Bit;
  writeSync(value: Bit): void;
  watch(callback: (err: Error | null | undefined, value: Bit) => void): void;
  unwatchAll(): void;
  unexport(): void;
}

export interface GpioClass {
  new (gpio: number, direction: 'in' | 'out' | 'high' | 'low', edge?: 'none' | 'rising' | 'falling' | 'both', options?: object): GpioLike;
  readonly accessible: boolean;
}

export interface OnoffOptions extends HardwareOptions {
  Gpio: GpioClass;
  sysfsRoot: string;
}

/** Lines with edges are still read this often: catches a missed edge and a dead expander. */
export const VERIFY_MS = 1000;

function why(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const hint =
    e?.code === 'EACCES' || e?.code === 'EPERM'
      ? ' (no permission: add the service user to group "gpio"; under systemd do not set ProtectKernelTunables=yes)'
      : e?.code === 'EBUSY'
        ? ' (the line is claimed by a kernel driver or overlay, or by another program)'
        : e?.code === 'EINVAL'
          ? ' (not a GPIO number this kernel knows: check the chip base)'
          : '';
  return `${e?.message ?? String(err)}${hint}`;
}

interface SensorHandle {
  def: SensorLineDef;
  gpio: GpioLike | null;
  everyMs: number;
}

export class OnoffDoorBus extends HardwareDoorBus {
  readonly driver = 'onoff';
  private readonly Gpio: GpioClass;
  private readonly sysfsRoot: string;
  private readonly relays = new Map<number, GpioLike>();
  private sensors: SensorHandle[] = [];
  private pollToken = 0;

  constructor(bank: BankLines, opts: OnoffOptions) {
    super(bank, opts);
    this.Gpio = opts.Gpio;
    this.sysfsRoot = opts.sysfsRoot;
  }

  async start(): Promise<void> {
    if (!this.Gpio.accessible) {
      const classDir = join(this.sysfsRoot, 'class', 'gpio');
      throw new DriverUnavailableError(
        existsSync(classDir)
          ? `LOCKER_DOORS=onoff: ${classDir}/export is not writable: add the service user to group "gpio" ` +
              '(`sudo usermod -aG gpio <user>`), and under systemd do not set ProtectKernelTunables=yes or PrivateDevices=yes'
          : `LOCKER_DOORS=onoff: this kernel has no sysfs GPIO (${classDir} is missing, as on Raspberry Pi OS trixie): ` +
              'use LOCKER_DOORS=gpiod (`sudo apt install gpiod`)',
      );
    }
    const usedChips = new Set([...this.bank.locks.map((l) => l.chip), ...this.bank.sensors.map((s) => s.chip)]);
    const bases = resolveSysfsBases(this.sysfsRoot, [...usedChips].map((id) => this.bank.chips.get(id)!));
    const number = (chip: string, offset: number) => bases.get(chip)!.base + offset;

    // Relays first, before anything else touches the hardware: each one at its locked level.
    for (const l of this.bank.locks) {
      try {
        this.relays.set(l.compartment, new this.Gpio(number(l.chip, l.offset), l.lockedValue === 1 ? 'high' : 'low'));
      } catch (err) {
        this.lockAll();
        throw new DriverUnavailableError(`LOCKER_DOORS=onoff: relay ${lineName(l.chip, l.offset)} of compartment ${l.compartment}: ${why(err)}`);
      }
    }
    this.armCrashGuard(() => this.lockAll());

    const pulled = this.bank.sensors.filter((s) => s.chip !== 'header' && s.bias !== 'none');
    if (pulled.length > 0) {
      this.log.warn(
        { lines: pulled.map((s) => lineName(s.chip, s.offset)) },
        'sysfs cannot switch on an expander pull-up: these sensors need external pull-up resistors (or use LOCKER_DOORS=gpiod)',
      );
    }
    for (const s of this.bank.sensors) this.sensors.push(this.openSensor(s, number(s.chip, s.offset)));
    this.started = true;
    this.schedulePolls(++this.pollToken);
  }

  async stop(): Promise<void> {
    this.started = false;
    this.pollToken++;
    await this.sequencer.close();
    this.lockAll();
    for (const t of this.trackers.values()) t.stop();
    for (const s of this.sensors) {
      try {
        s.gpio?.unwatchAll();
        s.gpio?.unexport();
      } catch {
        // Releasing an input cannot hurt anything; keep going.
      }
    }
    this.sensors = [];
    // Relay lines stay exported and driven locked: unexporting would turn them into floating inputs.
    this.relays.clear();
    this.disarmCrashGuard();
  }

  protected setRelay(compartment: number, energised: boolean): void {
    const gpio = this.relays.get(compartment);
    const def = this.locks.get(compartment)!;
    if (!gpio) throw new Error(`relay of compartment ${compartment} is not open`);
    gpio.writeSync(energised ? def.activeValue : def.lockedValue);
  }

  private lockAll(): void {
    for (const [n, gpio] of this.relays) {
      try {
        gpio.writeSync(this.locks.get(n)!.lockedValue);
      } catch (err) {
        this.log.error({ compartment: n, err: why(err) }, 'could not drive relay to locked');
      }
    }
  }

  private openSensor(def: SensorLineDef, gpioNumber: number): SensorHandle {
    const tracker = this.trackers.get(def.compartment)!;
    const chip = this.bank.chips.get(def.chip)!;
    let gpio: GpioLike | null = null;
    let edges = chip.edges;
    if (edges) {
      try {
        gpio = new this.Gpio(gpioNumber, 'in', 'both');
      } catch (err) {
        // e.g. the expander's interrupt is not wired after all: poll instead of going blind.
        this.log.warn({ line: lineName(def.chip, def.offset), err: why(err) }, 'no edge interrupts on this line: polling it');
        edges = false;
      }
    }
    if (!gpio) {
      try {
        gpio = new this.Gpio(gpioNumber, 'in');
      } catch (err) {
        tracker.init(null);
        this.log.error({ compartment: def.compartment, line: lineName(def.chip, def.offset), err: why(err) }, 'door sensor cannot be opened');
        return { def, gpio: null, everyMs: VERIFY_MS };
      }
    }
    try {
      tracker.init(gpio.readSync());
    } catch (err) {
      tracker.init(null);
      this.log.error({ compartment: def.compartment, err: why(err) }, 'door sensor cannot be read');
    }
    if (edges) {
      gpio.watch((err, value) => {
        if (err) tracker.fail(`read error: ${err.message}`);
        else tracker.sample(value);
      });
    }
    return { def, gpio, everyMs: edges ? VERIFY_MS : this.pollMs };
  }

  private schedulePolls(token: number): void {
    const groups = new Map<number, SensorHandle[]>();
    for (const s of this.sensors) {
      const list = groups.get(s.everyMs) ?? [];
      list.push(s);
      groups.set(s.everyMs, list);
    }
    for (const [everyMs, handles] of groups) {
      const tick = () => {
        if (token !== this.pollToken) return;
        for (const h of handles) this.read(h);
        this.timers.setTimeout(tick, everyMs);
      };
      this.timers.setTimeout(tick, everyMs);
    }
  }

  private read(h: SensorHandle): void {
    const tracker = this.trackers.get(h.def.compartment)!;
    if (!h.gpio) {
      tracker.fail('the sensor line could not be opened');
      return;
    }
    try {
      tracker.sample(h.gpio.readSync());
    } catch (err) {
      tracker.fail(`read error: ${(err as Error).message}`);
    }
  }
}
