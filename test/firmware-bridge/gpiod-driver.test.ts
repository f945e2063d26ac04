import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DoorEvent } from '../../firmware-bridge/door-bus.ts';
import { DriverUnavailableError } from '../../firmware-bridge/errors.ts';
import { GpiodDoorBus } from '../../firmware-bridge/gpiod-driver.ts';
import { bankLines } from '../../firmware-bridge/lines.ts';
import { loadLockerMap } from '../../locker-map/load.ts';
import type { LockerMap } from '../../locker-map/schema.ts';
import { installStandins, type Standins } from './gpiod-standins.ts';
import { PI4, buildSysfs } from './sysfs-fixture.ts';
import { smallMap } from './test-maps.ts';

// Expanders as the kernel names them under /dev: exp20 = gpiochip2 (no interrupt), exp21 = gpiochip3.
const EXPANDERS = [
  { address: 0x20, base: 600, charDev: 'gpiochip2' },
  { address: 0x21, base: 616, charDev: 'gpiochip3' },
  { address: 0x22, base: 632, charDev: 'gpiochip4' },
];

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function setup(version: string, map: LockerMap = smallMap(60, 20), opts: { legacy?: boolean; debounceMs?: number } = {}) {
  const tools = installStandins(version);
  const root = buildSysfs(PI4, { expanders: EXPANDERS, legacy: opts.legacy ?? false });
  cleanups.push(() => {
    tools.cleanup();
    rmSync(root, { recursive: true, force: true });
  });
  const bus = new GpiodDoorBus(bankLines(map, { strict: true }), {
    timing: map.locks,
    sysfsRoot: root,
    env: tools.env,
    settleMs: 40,
    debounceMs: opts.debounceMs ?? 10,
  });
  cleanups.push(() => bus.stop().catch(() => undefined));
  const events: DoorEvent[] = [];
  bus.onEvent((e) => events.push(e));
  return { tools, bus, events };
}

/** Intervals during which each relay line was away from its locked level, from the stand-ins' log. */
function energisedIntervals(tools: Standins, locked: Map<string, 0 | 1>) {
  const out: { line: string; from: number; to: number }[] = [];
  const open = new Map<string, number>();
  for (const e of tools.levels()) {
    const line = `${e.chip}:${e.offset}`;
    const lockedValue = locked.get(line);
    if (lockedValue === undefined) continue;
    const active = e.what !== 'release' && e.value !== lockedValue;
    if (active && !open.has(line)) open.set(line, e.at);
    if (!active && open.has(line) && (e.what === 'toggle' || e.what === 'request' || e.what === 'release')) {
      out.push({ line, from: open.get(line)!, to: e.at });
      open.delete(line);
    }
  }
  return { out, stillOpen: [...open.keys()] };
}

const SMALL_LOCKED = new Map<string, 0 | 1>([
  ['gpiochip0:17', 1],
  ['gpiochip2:0', 0],
  ['gpiochip2:1', 0],
]);

describe.each([
  ['1.6.3', 1],
  ['2.1.3', 2],
] as const)('gpiod driver with libgpiod %s', (version, dialect) => {
  const hold = (chip: string, line: string) => (dialect === 1 ? ['gpioset', '--mode=signal', chip, line] : ['gpioset', '--banner', '-c', chip, line]);

  it('holds every relay line at its locked level before it reads any sensor', async () => {
    const { tools, bus } = setup(version);
    await bus.start();
    const calls = tools.calls().filter((c) => c[0] !== 'gpiodetect');
    expect(calls.slice(0, 3)).toEqual(
      expect.arrayContaining([hold('gpiochip0', '17=1'), hold('gpiochip2', '0=0'), hold('gpiochip2', '1=0')]),
    );
    expect(calls.slice(3).every((c) => c[0] !== 'gpioset')).toBe(true);
    expect(energisedIntervals(tools, SMALL_LOCKED).stillOpen).toEqual([]);
  });

  it(`reads and watches sensors with the ${version} syntax`, async () => {
    const { tools, bus } = setup(version);
    tools.setInput('gpiochip0', 27, 1);
    await bus.start();
    await vi.waitFor(() => expect(tools.gpiomonPid('gpiochip3')).not.toBeNull());
    if (dialect === 1) {
      expect(tools.calls('gpioget')).toContainEqual(['gpioget', '--bias=pull-up', 'gpiochip0', '27']);
      expect(tools.calls('gpiomon')).toContainEqual(['gpiomon', '--line-buffered', '--bias=pull-up', '--format=%o %e', 'gpiochip3', '0']);
    } else {
      expect(tools.calls('gpioget')).toContainEqual(['gpioget', '--bias', 'pull-up', '-c', 'gpiochip0', '27']);
      expect(tools.calls('gpiomon')).toContainEqual(['gpiomon', '--banner', '--bias', 'pull-up', '--format', '%o %E', '-c', 'gpiochip3', '0']);
    }
    expect(bus.doorState(1)).toBe('open');
    expect(bus.doorState(3)).toBe('closed');
    expect(bus.version).toBe(`v${version}`);
  });

  it('pulses a lock for about the pulse length and holds it locked again afterwards', async () => {
    const { tools, bus } = setup(version, smallMap(80, 20));
    await bus.start();
    await bus.unlock(1);
    await vi.waitFor(() => expect(bus.energised()).toEqual([]), { timeout: 3000 });
    const { out, stillOpen } = energisedIntervals(tools, SMALL_LOCKED);
    expect(stillOpen).toEqual([]);
    expect(out).toHaveLength(1);
    expect(out[0].line).toBe('gpiochip0:17');
    const ms = out[0].to - out[0].from;
    expect(ms).toBeGreaterThanOrEqual(70);
    expect(ms).toBeLessThan(1000);
    // and the line is held again, at its locked level, by a process that stays
    await vi.waitFor(() =>
      expect(tools.levels().filter((e) => e.chip === 'gpiochip0' && e.offset === 17).at(-1)).toMatchObject({ what: 'request', value: 1 }),
    );
  });

  it('reports door edges emitted by gpiomon, debounced', async () => {
    const { tools, bus, events } = setup(version);
    await bus.start();
    await vi.waitFor(() => expect(tools.gpiomonPid('gpiochip3')).not.toBeNull());
    tools.edge('gpiochip3', 0, 'rising');
    await vi.waitFor(() => expect(events).toEqual([expect.objectContaining({ kind: 'opened', compartment: 3 })]), { timeout: 3000 });
    tools.edge('gpiochip3', 0, 'falling');
    await vi.waitFor(() => expect(events.map((e) => e.kind)).toEqual(['opened', 'closed']), { timeout: 3000 });
  });

  it('polls the sensors of an expander without interrupt, never waiting more than 50 ms between reads', async () => {
    const { tools, bus, events } = setup(version);
    await bus.start();
    const first = tools.calls('gpioget').filter((c) => c.includes('gpiochip2')).length;
    tools.setInput('gpiochip2', 8, 1);
    await vi.waitFor(() => expect(events).toEqual([expect.objectContaining({ kind: 'opened', compartment: 2 })]), { timeout: 3000 });
    await new Promise((r) => setTimeout(r, 500));
    expect(tools.calls('gpioget').filter((c) => c.includes('gpiochip2')).length - first).toBeGreaterThanOrEqual(4);
  });

  it('turns a dead gpiomon into a sensor fault, then restarts it and reads the doors again', async () => {
    const { tools, bus, events } = setup(version);
    await bus.start();
    await vi.waitFor(() => expect(tools.gpiomonPid('gpiochip3')).not.toBeNull());
    const pid = tools.gpiomonPid('gpiochip3')!;
    process.kill(-pid, 'SIGKILL');
    await vi.waitFor(() => expect(events[0]).toMatchObject({ kind: 'sensor_fault', compartment: 3 }), { timeout: 3000 });
    expect(bus.doorState(3)).toBe('unknown');
    await vi.waitFor(() => expect(events.map((e) => e.kind)).toEqual(['sensor_fault', 'closed']), { timeout: 5000 });
    await vi.waitFor(() => expect(tools.gpiomonPid('gpiochip3')).not.toBe(pid));
  });

  it('releases every relay line only at its locked level on stop, even mid-pulse', async () => {
    const { tools, bus } = setup(version, smallMap(400, 20));
    await bus.start();
    await bus.unlock(2);
    await bus.stop();
    const byLine = new Map<string, { value: number; what: string }>();
    for (const e of tools.levels()) byLine.set(`${e.chip}:${e.offset}`, e);
    for (const [line, locked] of SMALL_LOCKED) expect(byLine.get(line)).toMatchObject({ what: 'release', value: locked });
  });
});

describe('gpiod driver safety and start-up', () => {
  it('energises only one lock at a time when 20 unlocks arrive at once', async () => {
    const map = loadLockerMap();
    map.locks = { pulseMs: 30, gapMs: 10 };
    const { tools, bus } = setup('2.1.3', map);
    await bus.start();
    const bank = bankLines(map);
    const chipOf: Record<string, string> = { header: 'gpiochip0', exp20: 'gpiochip2', exp21: 'gpiochip3', exp22: 'gpiochip4' };
    const locked = new Map(bank.locks.map((l) => [`${chipOf[l.chip]}:${l.offset}`, l.lockedValue]));
    const order = [20, 3, 17, 1, 9, 24, 5, 13, 2, 18, 7, 22, 11, 4, 16, 19, 6, 21, 10, 8];
    await Promise.all(order.map((n) => bus.unlock(n)));
    await vi.waitFor(() => expect(bus.energised()).toEqual([]), { timeout: 10_000 });
    const { out, stillOpen } = energisedIntervals(tools, locked);
    expect(stillOpen).toEqual([]);
    expect(out).toHaveLength(20);
    out.sort((a, b) => a.from - b.from);
    for (let i = 1; i < out.length; i++) expect(out[i].from).toBeGreaterThanOrEqual(out[i - 1].to);
    const lineOf = (n: number) => {
      const l = bank.locks.find((x) => x.compartment === n)!;
      return `${chipOf[l.chip]}:${l.offset}`;
    };
    expect(out.map((o) => o.line)).toEqual(order.map(lineOf));
  }, 20_000);

  it('refuses to start and says to install the gpiod package when the tools are missing', async () => {
    const { bus } = setup('2.1.3');
    const empty = mkdtempSync(join(tmpdir(), 'locker-empty-'));
    cleanups.push(() => rmSync(empty, { recursive: true, force: true }));
    (bus as unknown as { env: NodeJS.ProcessEnv }).env = { PATH: empty };
    const err = await bus.start().catch((e) => e);
    expect(err).toBeInstanceOf(DriverUnavailableError);
    expect(err.message).toMatch(/gpiod tools: gpio\w+ is not installed; install them with `sudo apt install gpiod`/);
  });

  it('refuses libgpiod older than 1.5, which cannot set pull resistors', async () => {
    const { bus } = setup('1.4.1');
    await expect(bus.start()).rejects.toThrow(/libgpiod v1\.4\.1 cannot set pull resistors/);
  });

  it('refuses to start when a relay line is held by someone else, and lets go of the others', async () => {
    const { tools, bus } = setup('2.1.3');
    tools.touch('busy-gpiochip2-1');
    const err = await bus.start().catch((e) => e);
    expect(err).toBeInstanceOf(DriverUnavailableError);
    expect(err.message).toMatch(/exp20:1: .*Device or resource busy.*held by another program/);
    const released = tools.levels().filter((e) => e.what === 'release').map((e) => `${e.chip}:${e.offset}`);
    expect(released.sort()).toEqual(['gpiochip0:17', 'gpiochip2:0']);
  });

  it('refuses to start when the header chip is not among the chips gpiodetect lists', async () => {
    const { tools, bus } = setup('2.1.3');
    tools.touch('detect.txt', 'gpiochip0 [some-other-board] (32 lines)\n');
    await expect(bus.start()).rejects.toThrow(/no Raspberry Pi header GPIO chip .*gpiodetect lists: gpiochip0 \[some-other-board\]/);
    expect(tools.calls('gpioset')).toEqual([]);
  });

  it('lets go of idle relay holders at their locked level when the process exits without a stop', async () => {
    const before = new Set(process.listeners('exit'));
    const { tools, bus } = setup('1.6.3');
    await bus.start();
    const guard = process.listeners('exit').find((l) => !before.has(l)) as () => void;
    expect(guard).toBeDefined();
    // libgpiod 1.6 prints nothing once it holds a line: wait until the stand-ins say they do.
    await vi.waitFor(() => expect(tools.levels().filter((e) => e.what === 'request')).toHaveLength(3), { timeout: 3000 });
    guard();
    await vi.waitFor(() => expect(tools.levels().filter((e) => e.what === 'release')).toHaveLength(3), { timeout: 10_000 });
    for (const e of tools.levels().filter((x) => x.what === 'release')) expect(e.value).toBe(SMALL_LOCKED.get(`${e.chip}:${e.offset}`));
  });
});
