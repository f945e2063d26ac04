// The unit files as systemd itself reads them: `systemd-analyze verify` (syntax, references,
// executables) and `systemd-analyze security --offline=yes` (the exposure score), with each
// door driver's drop-in applied. Needs Debian's `systemd` package (.ci/run installs it) and
// the executables the units name (/usr/bin/node, /usr/bin/cage).
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/locker.ts';
import { startArgs } from '../helpers/start-command.ts';

const ROOT = join(import.meta.dirname, '../..');
const UNITS = join(ROOT, 'systemd');
const work = tempDir('locker-units-');
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The unit, and its drop-ins in <unit>.d/, in a folder of their own, as systemd would see them installed. */
function staged(unit: string, dropIns: string[] = []): string {
  const dir = join(work, `${unit}-${dropIns.join('-') || 'plain'}`);
  mkdirSync(dir, { recursive: true });
  cpSync(join(UNITS, unit), join(dir, unit));
  if (dropIns.length) mkdirSync(join(dir, `${unit}.d`), { recursive: true });
  for (const d of dropIns) cpSync(join(UNITS, 'drop-ins', d), join(dir, `${unit}.d`, d));
  return join(dir, unit);
}

function analyze(args: string[]) {
  const r = spawnSync('systemd-analyze', args, { encoding: 'utf8' });
  if (r.error) throw new Error(`systemd-analyze is not installed (Debian package systemd; .ci/run installs it): ${r.error.message}`);
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function exposure(path: string): number {
  const r = analyze(['security', '--offline=yes', '--no-pager', path]);
  const m = /Overall exposure level for \S+: (\d+\.\d)/.exec(r.out);
  if (!m) throw new Error(`no exposure level in:\n${r.out}${r.err}`);
  return Number(m[1]);
}

interface Check {
  name: string;
  set: boolean;
  exposure: string | null;
}

function failingChecks(path: string): Check[] {
  const r = analyze(['security', '--offline=yes', '--json=short', path]);
  return (JSON.parse(r.out) as Check[]).filter((c) => !c.set && c.exposure !== null && Number(c.exposure) > 0);
}

function unitText(name: string): string {
  return readFileSync(join(UNITS, name), 'utf8');
}

/** `Key=value` settings of a unit, comments dropped; repeated keys keep every value. */
function settings(name: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const line of unitText(name).split('\n')) {
    const t = line.trim();
    if (!t || t.startsWith('#') || t.startsWith('[')) continue;
    const i = t.indexOf('=');
    m.set(t.slice(0, i), [...(m.get(t.slice(0, i)) ?? []), t.slice(i + 1)]);
  }
  return m;
}

describe('systemd units', () => {
  it.each(['locker.service', 'locker-kiosk.service', 'locker-central.service'])('%s passes systemd-analyze verify', (unit) => {
    const r = analyze(['verify', '--no-pager', staged(unit)]);
    expect(r.err + r.out).toBe('');
    expect(r.code).toBe(0);
  });

  it.each(['locker.service', 'locker-central.service'])('%s raises LimitNOFILE well above the connection caps', (unit) => {
    const limit = Number(settings(unit).get('LimitNOFILE')?.at(-1));
    // 512 remote connections by default, plus the kiosk's, the database, the broker and the log.
    expect(limit).toBeGreaterThanOrEqual(4096);
  });

  it('locker.service with the sysfs (onoff) drop-in passes verify', () => {
    const r = analyze(['verify', '--no-pager', staged('locker.service', ['doors-onoff.conf'])]);
    expect(r.err + r.out).toBe('');
    expect(r.code).toBe(0);
  });

  it('locker.service scores an exposure of 2.5 or lower, with and without the onoff drop-in', () => {
    const plain = staged('locker.service');
    const onoff = staged('locker.service', ['doors-onoff.conf']);
    expect(exposure(plain)).toBeLessThanOrEqual(2.5);
    expect(exposure(onoff)).toBeLessThanOrEqual(2.5);
    // The drop-in really lifts that one protection, and only costs its weight.
    expect(failingChecks(onoff).map((c) => c.name)).toContain('ProtectKernelTunables=');
    expect(failingChecks(plain).map((c) => c.name)).not.toContain('ProtectKernelTunables=');
    // systemd-analyze's own verdict (threshold on its 0-100 scale) agrees.
    expect(analyze(['security', '--offline=yes', '--threshold=25', plain]).code).toBe(0);
    expect(analyze(['security', '--offline=yes', '--threshold=25', onoff]).code).toBe(0);
  });

  it('locker-central.service scores 2.5 or lower; the kiosk keeps its light hardening', () => {
    expect(exposure(staged('locker-central.service'))).toBeLessThanOrEqual(2.5);
    expect(exposure(staged('locker-kiosk.service'))).toBeLessThanOrEqual(4.5);
  });

  it.each([
    ['locker.service', []],
    ['locker.service', ['doors-onoff.conf']],
    ['locker-central.service', []],
  ] as const)('every setting still counted against %s (drop-ins %j) is explained in a comment', (unit, dropIns) => {
    const text = unitText(unit) + dropIns.map((d) => readFileSync(join(UNITS, 'drop-ins', d), 'utf8')).join('\n');
    const comments = text
      .split('\n')
      .filter((l) => l.trim().startsWith('#'))
      .join('\n');
    const missing: string[] = [];
    for (const c of failingChecks(staged(unit, [...dropIns]))) {
      // "RestrictAddressFamilies=~AF_(INET|INET6)" is explained by naming AF_INET; the rest by their key.
      const word = c.name.includes('~') ? c.name.split('~')[1].replace(/\(.*$/, '').replace(/^AF_$/, 'AF_INET') : c.name.split('=')[0];
      if (!comments.includes(word)) missing.push(`${c.name} (${c.exposure})`);
    }
    expect(missing).toEqual([]);
  });

  it('locker.service: notify with a watchdog, restarts forever, journal only, a stop timeout above the service\'s own bound', () => {
    const s = settings('locker.service');
    expect(s.get('Type')).toEqual(['notify']);
    expect(s.get('NotifyAccess')).toEqual(['all']);
    expect(s.get('WatchdogSec')).toEqual(['30']);
    expect(s.get('Restart')).toEqual(['always']);
    expect(s.get('StartLimitIntervalSec')).toEqual(['0']);
    expect(Number(s.get('RestartSec')![0])).toBeGreaterThanOrEqual(1);
    expect(s.get('StandardOutput')).toEqual(['journal']);
    expect(s.get('StandardError')).toEqual(['journal']);
    expect(s.get('KillMode')).toEqual(['mixed']);
    const bound = /STOP_BOUND_MS = ([\d_]+)/.exec(readFileSync(join(ROOT, 'server/main.ts'), 'utf8'))![1].replace(/_/g, '');
    expect(Number(s.get('TimeoutStopSec')![0]) * 1000).toBeGreaterThan(Number(bound));
    // Only the data dir persists and is writable; the devices are the GPIO chips and the modem's ttys.
    expect(s.get('ProtectSystem')).toEqual(['strict']);
    expect(s.get('StateDirectory')).toEqual(['locker']);
    expect(s.get('StateDirectoryMode')).toEqual(['0700']);
    expect(s.get('ReadWritePaths')).toBeUndefined();
    expect(s.get('CapabilityBoundingSet')).toEqual(['']);
    expect(s.get('DevicePolicy')).toEqual(['closed']);
    expect(s.get('DeviceAllow')!.map((d) => d.split(' ')[0])).toEqual(['char-gpiochip', 'char-ttyUSB', 'char-ttyACM', 'char-ttyAMA', 'char-ttyS']);
    expect(s.get('MemoryDenyWriteExecute')).toEqual(['no']);
    expect(s.get('Environment')).toContain('LOCKER_DATA_DIR=/var/lib/locker');
    // The unit runs what `npm start` runs (and what the footprint benchmark measures), node flags included.
    expect(s.get('ExecStart')).toEqual([['/usr/bin/node', ...startArgs()].join(' ')]);
  });

  it('locker-kiosk.service shows the local kiosk page in Chromium\'s kiosk mode, after the locker, and comes back when it dies', () => {
    const s = settings('locker-kiosk.service');
    expect(s.get('Restart')).toEqual(['always']);
    expect(s.get('StartLimitIntervalSec')).toEqual(['0']);
    expect(s.get('After')).toContain('locker.service');
    expect(s.get('Environment')).toContain('LOCKER_KIOSK_URL=http://127.0.0.1:8080/');
    const exec = s.get('ExecStart')![0];
    expect(exec).toMatch(/^\/usr\/bin\/cage -d -- \$\{LOCKER_KIOSK_BROWSER\} --kiosk /);
    expect(exec.endsWith('${LOCKER_KIOSK_URL}')).toBe(true);
    expect(exec).toContain('--disable-background-networking');
    expect(s.get('User')).toEqual(['locker-kiosk']);
  });

  it('locker-central.service runs `locker central` with its own user and data dir', () => {
    const s = settings('locker-central.service');
    expect(s.get('ExecStart')![0]).toMatch(/server\/bin\/locker\.mjs central$/);
    expect(s.get('User')).toEqual(['locker-central']);
    expect(s.get('Environment')).toContain('CENTRAL_DATA_DIR=/var/lib/locker-central');
    expect(s.get('StateDirectory')).toEqual(['locker-central']);
  });
});
