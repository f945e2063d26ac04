// Where the locker map's chips live on this Pi. Since kernel 6.6 the sysfs GPIO numbers are
// offset (BCM 17 is no longer gpio17), so the header chip's base is read from
// class/gpio/gpiochip*/label+base. MCP23017 expanders all carry the label "mcp23017": they are
// told apart by the I2C device they hang off (bus/i2c/devices/<bus>-00<addr>).
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { DriverUnavailableError } from './errors.ts';
import type { ChipDef } from './lines.ts';

/** The header chip's label: Pi Zero-3, Pi 4/400/CM4, Pi 5. */
export const HEADER_LABELS: Record<string, string> = {
  'pinctrl-bcm2835': 'Raspberry Pi 1-3 / Zero',
  'pinctrl-bcm2711': 'Raspberry Pi 4 / 400 / CM4',
  'pinctrl-rp1': 'Raspberry Pi 5',
};

export interface SysfsChip {
  /** e.g. gpiochip512 */
  name: string;
  label: string;
  base: number;
  ngpio: number;
  /** The chip's real sysfs path, which names the device it belongs to. */
  path: string;
}

export function i2cDeviceName(bus: number, address: number): string {
  return `${bus}-${address.toString(16).padStart(4, '0')}`;
}

function readTrim(path: string): string {
  return readFileSync(path, 'utf8').trim();
}

export function listSysfsChips(sysfsRoot: string): SysfsChip[] {
  const dir = join(sysfsRoot, 'class', 'gpio');
  const out: SysfsChip[] = [];
  for (const name of readdirSync(dir)) {
    if (!/^gpiochip\d+$/.test(name)) continue;
    const p = join(dir, name);
    try {
      out.push({
        name,
        label: readTrim(join(p, 'label')),
        base: Number(readTrim(join(p, 'base'))),
        ngpio: Number(readTrim(join(p, 'ngpio'))),
        path: realpathSync(p),
      });
    } catch {
      // A chip that vanished while we looked, or one we may not read: not one of ours.
    }
  }
  return out;
}

export interface ResolvedSysfsChip {
  base: number;
  ngpio: number;
  label: string;
  name: string;
}

function expanderHint(chip: ChipDef): string {
  const addr = `0x${chip.address!.toString(16)}`;
  return (
    `enable it in config.txt (\`npx locker hw boot-config\` prints the lines: dtparam=i2c_arm=on and ` +
    `dtoverlay=mcp23017,addr=${addr}), reboot, and check the wiring with \`i2cdetect -y ${chip.i2cBus}\``
  );
}

function i2cDeviceDir(sysfsRoot: string, chip: ChipDef): string | null {
  const p = join(sysfsRoot, 'bus', 'i2c', 'devices', i2cDeviceName(chip.i2cBus!, chip.address!));
  try {
    return realpathSync(p);
  } catch {
    return null;
  }
}

function describe(chip: ChipDef): string {
  return `expander "${chip.id}" (MCP23017 at 0x${chip.address!.toString(16)} on I2C bus ${chip.i2cBus})`;
}

/** sysfs (onoff): the base number of every chip the map uses. */
export function resolveSysfsBases(sysfsRoot: string, chips: ChipDef[]): Map<string, ResolvedSysfsChip> {
  const classDir = join(sysfsRoot, 'class', 'gpio');
  if (!existsSync(classDir)) {
    throw new DriverUnavailableError(
      `LOCKER_DOORS=onoff: ${classDir} does not exist: this kernel has no sysfs GPIO (Raspberry Pi OS trixie and later). ` +
        'Use LOCKER_DOORS=gpiod instead (`sudo apt install gpiod`).',
    );
  }
  const all = listSysfsChips(sysfsRoot);
  const out = new Map<string, ResolvedSysfsChip>();
  for (const chip of chips) {
    if (chip.kind === 'header') {
      const found = all.filter((c) => c.label in HEADER_LABELS);
      if (found.length !== 1) {
        const seen = all.map((c) => `${c.name} "${c.label}"`).join(', ') || 'none';
        throw new DriverUnavailableError(
          `LOCKER_DOORS=onoff: ${found.length === 0 ? 'no' : 'more than one'} Raspberry Pi header GPIO chip ` +
            `(label ${Object.keys(HEADER_LABELS).join(', ')}) under ${classDir}; chips seen: ${seen}`,
        );
      }
      const c = found[0];
      if (c.ngpio < 28) throw new DriverUnavailableError(`LOCKER_DOORS=onoff: header chip ${c.name} has only ${c.ngpio} lines`);
      out.set(chip.id, { base: c.base, ngpio: c.ngpio, label: c.label, name: c.name });
      continue;
    }
    const dev = i2cDeviceDir(sysfsRoot, chip);
    if (!dev) throw new DriverUnavailableError(`LOCKER_DOORS=onoff: ${describe(chip)} is not on the I2C bus: ${expanderHint(chip)}`);
    const c = all.find((x) => x.path.startsWith(`${dev}/`));
    if (!c) {
      throw new DriverUnavailableError(
        `LOCKER_DOORS=onoff: ${describe(chip)} has no GPIO chip: the mcp23017 driver is not bound to it; ${expanderHint(chip)}`,
      );
    }
    if (c.ngpio < 16) throw new DriverUnavailableError(`LOCKER_DOORS=onoff: ${describe(chip)} shows ${c.ngpio} lines, not 16 (an MCP23008?)`);
    out.set(chip.id, { base: c.base, ngpio: c.ngpio, label: c.label, name: c.name });
  }
  return out;
}

/**
 * Character device (gpiod): the gpiochipN name of each expander. The kernel puts the GPIO device
 * under its parent, so bus/i2c/devices/1-0020/gpiochip3 names /dev/gpiochip3.
 */
export function resolveExpanderCharDevs(sysfsRoot: string, chips: ChipDef[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const chip of chips) {
    if (chip.kind !== 'mcp23017') continue;
    const dev = i2cDeviceDir(sysfsRoot, chip);
    if (!dev) throw new DriverUnavailableError(`LOCKER_DOORS=gpiod: ${describe(chip)} is not on the I2C bus: ${expanderHint(chip)}`);
    const names = readdirSync(dev).filter((n) => /^gpiochip\d+$/.test(n));
    if (names.length !== 1) {
      throw new DriverUnavailableError(
        `LOCKER_DOORS=gpiod: ${describe(chip)} has ${names.length === 0 ? 'no' : 'more than one'} GPIO chip under ${dev}: ` +
          `the mcp23017 driver is not bound to it; ${expanderHint(chip)}`,
      );
    }
    out.set(chip.id, names[0]);
  }
  return out;
}
