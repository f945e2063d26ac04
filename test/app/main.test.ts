import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/locker.ts';
import { spawnService } from '../helpers/service.ts';
import { startArgs } from '../helpers/start-command.ts';

const ROOT = join(import.meta.dirname, '../..');

function run(env: Record<string, string>, untilListening = false): Promise<{ code: number | null; out: string; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], { cwd: ROOT, env: { ...process.env, ...env } });
    let out = '';
    let stdout = '';
    let stderr = '';
    // The banner is written in one go; wait for its last line before stopping.
    const onData = (d: Buffer) => {
      out += d.toString();
      if (untilListening && /API docs .*\n/.test(out) && /is listening on/.test(out)) child.kill('SIGTERM');
    };
    child.stdout.on('data', (d: Buffer) => ((stdout += d.toString()), onData(d)));
    child.stderr.on('data', (d: Buffer) => ((stderr += d.toString()), onData(d)));
    child.on('exit', (code) => resolve({ code, out, stdout, stderr }));
  });
}

describe('start-up', () => {
  it('refuses to start on bad config, naming the field, with exit code 1', async () => {
    const r = await run({ LOCKER_DATA_DIR: tempDir(), LOCKER_DOORS: 'relays' });
    expect(r.code).toBe(1);
    expect(r.out).toContain('LOCKER_DOORS');
  });

  it('says a bad setting in one plain line on stderr, naming it, with no JSON log line or stack trace', async () => {
    const r = await run({ LOCKER_DATA_DIR: tempDir(), LOCKER_DOORS: 'relays', LOCKER_LOG_LEVEL: 'info' });
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(/^locker: start-up failed: config: LOCKER_DOORS: /)]);
    expect(r.stdout).not.toContain('{');
    expect(r.out).not.toMatch(/\n\s+at /);
  });

  it('names every page at the address to use from the LAN, and how to create the first user when there is none', async () => {
    const r = await run({ LOCKER_DATA_DIR: tempDir(), LOCKER_PORT: '0', LOCKER_HOST: '0.0.0.0', LOCKER_LOG_LEVEL: 'warn' }, true);
    expect(r.code).toBe(0);
    const base = /From the office LAN: (http:\/\/\S+?)[\s(]/.exec(r.stdout)?.[1];
    expect(base, r.stdout).toBeDefined();
    for (const page of ['/', '/staff', '/audit', '/sim', '/docs']) expect(r.stdout).toContain(`${base}${page}`);
    expect(r.stdout).toContain('No user exists yet');
    expect(r.stdout).toContain('npx locker user add admin --role admin --password-stdin');
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

  it('refuses a second copy on the same data dir with exit code 1 and one line naming the holder, and a SIGKILLed copy does not block the next', async () => {
    const dir = tempDir();
    const env = { LOCKER_DATA_DIR: dir, LOCKER_LOG_LEVEL: 'info', NOTIFY_SOCKET: '' };
    const first = spawnService(env);
    let second: ReturnType<typeof spawnService> | null = null;
    let third: ReturnType<typeof spawnService> | null = null;
    try {
      await first.listening;
      second = spawnService(env);
      // Either it exits or it listens: a copy that listens fails here at once, not by timing out.
      const outcome = await Promise.race([
        second.exited.then(({ code }) => `exit ${code}`),
        second.listening.then(
          () => 'listening',
          () => new Promise<string>(() => undefined),
        ),
      ]);
      expect(outcome).toBe('exit 1');
      const said = second.lines.filter((l) => l.includes('in use'));
      expect(said).toHaveLength(1);
      expect(said[0]).toContain(dir);
      expect(said[0]).toContain(`pid ${first.child.pid}`);
      expect(second.lines.some((l) => l.includes('is listening on'))).toBe(false);
      // The first copy is untouched by the attempt.
      expect((await fetch(`${await first.listening}/healthz`)).status).toBe(200);

      await first.kill('SIGKILL');
      third = spawnService(env);
      const url = await third.listening;
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
    } finally {
      await first.kill('SIGKILL');
      await second?.kill('SIGKILL');
      await third?.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serves every page, the docs and the example map from the bundle that `npm start` builds and runs', async () => {
    const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, encoding: 'utf8' });
    expect(build.stderr).toBe('');
    expect(build.status).toBe(0);
    const child = spawn(process.execPath, startArgs(), {
      cwd: ROOT,
      env: { ...process.env, LOCKER_DATA_DIR: tempDir(), LOCKER_PORT: '0', LOCKER_HOST: '127.0.0.1', LOCKER_MAP: '' },
    });
    try {
      let out = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /is listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (m) resolve(m[1]);
        });
        child.on('exit', (code) => reject(new Error(`the bundle exited with ${code}: ${out}`)));
      });
      for (const path of ['/', '/staff', '/audit', '/sim', '/docs/json', '/api/v1/kiosk/layout']) {
        expect((await fetch(url + path)).status, path).toBe(200);
      }
      const health = await (await fetch(`${url}/healthz`)).json();
      expect(health.status).toBe('ok');
      const docs = await (await fetch(`${url}/docs/json`)).json();
      expect(Object.keys(docs.paths)).toContain('/api/v1/pickups');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });
});
