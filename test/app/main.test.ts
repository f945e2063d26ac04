import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/locker.ts';

const ROOT = join(import.meta.dirname, '../..');

function run(env: Record<string, string>, untilListening = false): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], { cwd: ROOT, env: { ...process.env, ...env } });
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      if (untilListening && out.includes('is listening on')) child.kill('SIGTERM');
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => resolve({ code, out }));
  });
}

describe('start-up', () => {
  it('refuses to start on bad config, naming the field, with exit code 1', async () => {
    const r = await run({ LOCKER_DATA_DIR: tempDir(), LOCKER_DOORS: 'relays' });
    expect(r.code).toBe(1);
    expect(r.out).toContain('LOCKER_DOORS');
  });

  it('refuses to start on a bad locker map, naming the field', async () => {
    const dir = tempDir();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'bad-map.json'), JSON.stringify({ version: 1, name: 'x', location: 'y', locks: { pulseMs: 5000, gapMs: 0 }, compartments: [] }));
    const r = await run({ LOCKER_DATA_DIR: dir, LOCKER_MAP: join(dir, 'bad-map.json') });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/locks\.pulseMs|compartments/);
  });

  it('starts with no hardware and no broker, says where it listens, and stops cleanly on SIGTERM', async () => {
    const r = await run({ LOCKER_DATA_DIR: tempDir(), LOCKER_PORT: '0', LOCKER_HOST: '127.0.0.1' }, true);
    expect(r.out).toMatch(/is listening on http:\/\/127\.0\.0\.1:\d+/);
    expect(r.code).toBe(0);
  });
});
