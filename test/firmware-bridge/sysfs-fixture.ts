// Builds a Raspberry Pi's GPIO corner of sysfs in a temp dir, the way the kernel lays it out:
// class/gpio/gpiochipN are links into devices/…/gpio/gpiochipN (legacy sysfs; absent on trixie),
// each expander is an I2C device bus/i2c/devices/<bus>-00<addr> holding its gpiochipM device.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';

export interface ChipSpec {
  label: string;
  base: number;
  ngpio: number;
  /** Device path under devices/, e.g. platform/soc/fe200000.gpio */
  device: string;
  /** Character device name, e.g. gpiochip0 */
  charDev: string;
}

export interface PiLayout {
  header: ChipSpec;
  others: ChipSpec[];
  i2cAdapter: string;
}

export const PI3: PiLayout = {
  header: { label: 'pinctrl-bcm2835', base: 512, ngpio: 54, device: 'platform/soc/3f200000.gpio', charDev: 'gpiochip0' },
  others: [{ label: 'raspberrypi-exp-gpio', base: 566, ngpio: 8, device: 'platform/soc/soc:firmware/soc:firmware:expgpio', charDev: 'gpiochip1' }],
  i2cAdapter: 'platform/soc/3f804000.i2c',
};

export const PI4: PiLayout = {
  header: { label: 'pinctrl-bcm2711', base: 512, ngpio: 58, device: 'platform/soc/fe200000.gpio', charDev: 'gpiochip0' },
  others: [{ label: 'raspberrypi-exp-gpio', base: 570, ngpio: 8, device: 'platform/soc/soc:firmware/soc:firmware:gpio', charDev: 'gpiochip1' }],
  i2cAdapter: 'platform/soc/fe804000.i2c',
};

export const PI5: PiLayout = {
  header: { label: 'pinctrl-rp1', base: 571, ngpio: 54, device: 'platform/axi/1000120000.pcie/1f000d0000.gpio', charDev: 'gpiochip0' },
  others: [
    { label: 'gpio-brcmstb@107d508500', base: 512, ngpio: 32, device: 'platform/soc/107d508500.gpio', charDev: 'gpiochip10' },
    { label: 'gpio-brcmstb@107d517c00', base: 548, ngpio: 17, device: 'platform/soc/107d517c00.gpio', charDev: 'gpiochip12' },
  ],
  i2cAdapter: 'platform/axi/1000120000.pcie/1f00074000.i2c',
};

/** A kernel before 6.6: the header chip still starts at 0. */
export const PI4_OLD_KERNEL: PiLayout = { ...PI4, header: { ...PI4.header, base: 0 }, others: [{ ...PI4.others[0], base: 504 }] };

export interface ExpanderSpec {
  bus?: number;
  address: number;
  base: number;
  charDev: string;
  /** The overlay is loaded but the driver did not bind (no gpiochip under the I2C device). */
  unbound?: boolean;
}

export interface SysfsOptions {
  expanders?: ExpanderSpec[];
  /** false: Raspberry Pi OS trixie, no class/gpio at all. */
  legacy?: boolean;
}

function writeChip(root: string, devDir: string, spec: { label: string; base: number; ngpio: number; charDev: string }, legacy: boolean): void {
  mkdirSync(join(root, 'devices', devDir, spec.charDev), { recursive: true });
  if (!legacy) return;
  const chipDir = join(root, 'devices', devDir, 'gpio', `gpiochip${spec.base}`);
  mkdirSync(chipDir, { recursive: true });
  writeFileSync(join(chipDir, 'label'), `${spec.label}\n`);
  writeFileSync(join(chipDir, 'base'), `${spec.base}\n`);
  writeFileSync(join(chipDir, 'ngpio'), `${spec.ngpio}\n`);
  const link = join(root, 'class', 'gpio', `gpiochip${spec.base}`);
  symlinkSync(relative(dirname(link), chipDir), link);
}

export function buildSysfs(layout: PiLayout, opts: SysfsOptions = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'locker-sysfs-'));
  const legacy = opts.legacy ?? true;
  if (legacy) {
    mkdirSync(join(root, 'class', 'gpio'), { recursive: true });
    writeFileSync(join(root, 'class', 'gpio', 'export'), '');
    writeFileSync(join(root, 'class', 'gpio', 'unexport'), '');
  }
  mkdirSync(join(root, 'bus', 'i2c', 'devices'), { recursive: true });
  for (const chip of [layout.header, ...layout.others]) writeChip(root, chip.device, chip, legacy);
  for (const e of opts.expanders ?? []) {
    const bus = e.bus ?? 1;
    const name = `${bus}-${e.address.toString(16).padStart(4, '0')}`;
    const devDir = `${layout.i2cAdapter}/i2c-${bus}/${name}`;
    mkdirSync(join(root, 'devices', devDir), { recursive: true });
    writeFileSync(join(root, 'devices', devDir, 'name'), 'mcp23017\n');
    if (!e.unbound) writeChip(root, devDir, { label: 'mcp23017', base: e.base, ngpio: 16, charDev: e.charDev }, legacy);
    const link = join(root, 'bus', 'i2c', 'devices', name);
    symlinkSync(relative(dirname(link), join(root, 'devices', devDir)), link);
  }
  return root;
}
