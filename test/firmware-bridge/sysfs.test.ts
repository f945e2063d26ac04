import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { DriverUnavailableError } from '../../firmware-bridge/errors.ts';
import type { ChipDef } from '../../firmware-bridge/lines.ts';
import { resolveExpanderCharDevs, resolveSysfsBases } from '../../firmware-bridge/sysfs.ts';
import { PI3, PI4, PI4_OLD_KERNEL, PI5, buildSysfs, type PiLayout } from './sysfs-fixture.ts';

const header: ChipDef = { id: 'header', kind: 'header', edges: true };
const exp = (id: string, address: number, bus = 1): ChipDef => ({ id, kind: 'mcp23017', i2cBus: bus, address, edges: false });

const roots: string[] = [];
function sysfs(...args: Parameters<typeof buildSysfs>): string {
  const r = buildSysfs(...args);
  roots.push(r);
  return r;
}
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

describe('sysfs base resolution', () => {
  const cases: [string, PiLayout, number][] = [
    ['Pi 3 (pinctrl-bcm2835)', PI3, 512],
    ['Pi 4 (pinctrl-bcm2711)', PI4, 512],
    ['Pi 5 (pinctrl-rp1)', PI5, 571],
    ['Pi 4 on a kernel before 6.6', PI4_OLD_KERNEL, 0],
  ];
  for (const [name, layout, base] of cases) {
    it(`finds the header chip of a ${name} by its label, not by a fixed number`, () => {
      const got = resolveSysfsBases(sysfs(layout), [header]);
      expect(got.get('header')).toMatchObject({ base, label: layout.header.label });
    });
  }

  it('tells three MCP23017 expanders apart by their I2C device, though they share a label', () => {
    // Bases deliberately not in address order: the kernel hands them out as the drivers bind.
    const root = sysfs(PI5, {
      expanders: [
        { address: 0x20, base: 640, charDev: 'gpiochip14' },
        { address: 0x21, base: 608, charDev: 'gpiochip13' },
        { address: 0x22, base: 624, charDev: 'gpiochip15' },
      ],
    });
    const got = resolveSysfsBases(root, [header, exp('exp20', 0x20), exp('exp21', 0x21), exp('exp22', 0x22)]);
    expect(got.get('header')!.base).toBe(571);
    expect(got.get('exp20')!.base).toBe(640);
    expect(got.get('exp21')!.base).toBe(608);
    expect(got.get('exp22')!.base).toBe(624);
  });

  it('keeps expanders on different I2C buses apart even at the same address', () => {
    const root = sysfs(PI4, {
      expanders: [
        { bus: 1, address: 0x20, base: 600, charDev: 'gpiochip2' },
        { bus: 3, address: 0x20, base: 616, charDev: 'gpiochip3' },
      ],
    });
    const got = resolveSysfsBases(root, [exp('a', 0x20, 1), exp('b', 0x20, 3)]);
    expect(got.get('a')!.base).toBe(600);
    expect(got.get('b')!.base).toBe(616);
  });

  it('says to use the gpiod driver when the kernel has no sysfs GPIO (trixie)', () => {
    const root = sysfs(PI5, { legacy: false });
    expect(() => resolveSysfsBases(root, [header])).toThrow(DriverUnavailableError);
    expect(() => resolveSysfsBases(root, [header])).toThrow(/LOCKER_DOORS=gpiod/);
  });

  it('names the missing expander and the config.txt lines that enable it', () => {
    const root = sysfs(PI4, { expanders: [{ address: 0x20, base: 600, charDev: 'gpiochip2' }] });
    expect(() => resolveSysfsBases(root, [exp('exp21', 0x21)])).toThrow(/exp21.*0x21.*dtoverlay=mcp23017,addr=0x21.*i2cdetect -y 1/);
  });

  it('reports an expander whose driver did not bind', () => {
    const root = sysfs(PI4, { expanders: [{ address: 0x20, base: 600, charDev: 'gpiochip2', unbound: true }] });
    expect(() => resolveSysfsBases(root, [exp('exp20', 0x20)])).toThrow(/not bound/);
  });
});

describe('character device names of expanders (gpiod)', () => {
  it('finds the gpiochipN of each expander under its I2C device, with or without legacy sysfs', () => {
    for (const legacy of [true, false]) {
      const root = sysfs(PI5, {
        legacy,
        expanders: [
          { address: 0x20, base: 640, charDev: 'gpiochip14' },
          { address: 0x21, base: 608, charDev: 'gpiochip13' },
        ],
      });
      const got = resolveExpanderCharDevs(root, [header, exp('exp20', 0x20), exp('exp21', 0x21)]);
      expect(Object.fromEntries(got)).toEqual({ exp20: 'gpiochip14', exp21: 'gpiochip13' });
    }
  });

  it('refuses an expander that is not on the bus, saying how to enable it', () => {
    const root = sysfs(PI4, { legacy: false });
    expect(() => resolveExpanderCharDevs(root, [exp('exp22', 0x22)])).toThrow(/LOCKER_DOORS=gpiod: expander "exp22".*dtparam=i2c_arm=on/);
  });
});
