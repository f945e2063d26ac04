// `npm start` with a door driver that cannot run here: exit 1 and a message saying what to
// install or enable, and no HTTP port opened (a kiosk must not take codes for doors it cannot open).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PI5, buildSysfs } from './sysfs-fixture.ts';

const ROOT = join(import.meta.dirname, '../..');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function temp(): string {
  const d = mkdtempSync(join(tmpdir(), 'locker-start-'));
  dirs.push(d);
  return d;
}

function start(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
      cwd: ROOT,
      env: { ...process.env, LOCKER_DATA_DIR: temp(), LOCKER_HOST: '127.0.0.1', LOCKER_PORT: '0', ...env },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

describe('start-up with a door driver that cannot run', () => {
  it('gpiod without the gpiod tools: exit 1, "sudo apt install gpiod"', async () => {
    const r = await start({ LOCKER_DOORS: 'gpiod', PATH: temp() });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/LOCKER_DOORS=gpiod needs Debian's gpiod tools: gpio\w+ is not installed; install them with `sudo apt install gpiod`/);
    expect(r.out).not.toMatch(/is listening on/);
  }, 30_000);

  it('onoff on a kernel without sysfs GPIO (trixie): exit 1, use the gpiod driver', async () => {
    const sysfs = buildSysfs(PI5, { legacy: false });
    dirs.push(sysfs);
    const r = await start({ LOCKER_DOORS: 'onoff', LOCKER_SYSFS_ROOT: sysfs });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/LOCKER_DOORS=onoff: .*use LOCKER_DOORS=gpiod/);
  }, 30_000);
});
