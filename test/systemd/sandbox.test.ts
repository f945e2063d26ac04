// Part of locker.service's hardening, at run time: `npm start` in a private mount namespace
// where, as under ProtectSystem=strict, the whole tree is read-only except the data dir and
// the compile cache, and /proc shows only the service's own processes (ProcSubset=pid,
// ProtectProc=invisible). A dossier goes through its whole life there. The rest of the
// hardening (system call filter, address families, devices) needs systemd as PID 1 and is
// checked statically in units.test.ts. Needs root (unshare, mount): CI has it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fastMap, tempDir } from '../helpers/locker.ts';

const ROOT = join(import.meta.dirname, '../..');
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const canUnshare = spawnSync('unshare', ['--mount', '--fork', 'true']).status === 0;

describe('locker.service sandbox at run time', () => {
  it('serves a dossier from loading to pickup with only its data dir and cache writable and /proc reduced to its own processes', async () => {
    expect(canUnshare, 'unshare --mount needs root with CAP_SYS_ADMIN').toBe(true);
    const dir = tempDir('locker-sandbox-');
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const data = join(dir, 'data');
    const cache = join(dir, 'cache');
    mkdirSync(data);
    mkdirSync(cache);
    const map = fastMap(dir);
    const script = [
      'set -e',
      `mount --bind ${data} ${data}`,
      `mount --bind ${cache} ${cache}`,
      // ProtectSystem=strict: everything else read-only.
      'mount -o remount,bind,ro /',
      // ProcSubset=pid + ProtectProc=invisible.
      'mount -t proc -o subset=pid,hidepid=invisible proc /proc',
      `if touch ${join(dir, 'probe')} 2>/dev/null; then echo "sandbox leaks: ${dir} is writable"; exit 9; fi`,
      'test ! -e /proc/meminfo',
      `printf 'a long staff password\\n' | node server/bin/locker.mjs user add lan --role staff --password-stdin --init`,
      'exec node --import tsx server/main.ts',
    ].join('\n');
    const child: ChildProcess = spawn('unshare', ['--mount', 'bash', '-c', script], {
      cwd: ROOT,
      env: { ...process.env, LOCKER_DATA_DIR: data, LOCKER_MAP: map, TMPDIR: cache, LOCKER_HOST: '127.0.0.1', LOCKER_PORT: '0', LOCKER_LOG_LEVEL: 'warn', NOTIFY_SOCKET: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanups.push(() => void child.kill('SIGKILL'));
    let out = '';
    child.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout!.on('data', (d) => {
        out += d;
        const m = /is listening on (http:\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
      void exited.then((code) => reject(new Error(`exited ${code} before listening:\n${out}`)));
    });
    const api = async (method: string, path: string, body?: unknown, token?: string) => {
      const r = await fetch(`${url}${path}`, {
        method,
        headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: r.status, body: await r.json().catch(() => null) };
    };

    const token = (await api('POST', '/api/v1/session', { username: 'lan', password: 'a long staff password' })).body.token;
    const reg = await api('POST', '/api/v1/dossiers', { code: 'SB-1', phone: '0912345678', size: 'S' }, token);
    expect(reg.status, JSON.stringify(reg.body)).toBe(201);
    await api('POST', `/api/v1/sim/compartments/${reg.body.compartment}/door`, { open: true });
    await api('POST', `/api/v1/sim/compartments/${reg.body.compartment}/door`, { open: false });
    expect((await api('POST', '/api/v1/dossiers/SB-1/loaded', undefined, token)).status).toBe(200);
    const smsFile = join(data, 'sms.jsonl');
    for (let i = 0; i < 200 && !(existsSync(smsFile) && readFileSync(smsFile, 'utf8').includes('0912345678')); i++) await new Promise((r) => setTimeout(r, 25));
    const code = /(?<!\d)\d{6}(?!\d)/.exec(readFileSync(smsFile, 'utf8'))![0];
    expect(await api('POST', '/api/v1/pickups', { phone: '0912345678', code })).toEqual({ status: 200, body: { compartment: reg.body.compartment, doorToken: expect.any(String) } });
    expect((await fetch(`${url}/metrics`)).status).toBe(200);
    expect((await api('GET', '/healthz')).body.status).toBe('ok');

    child.kill('SIGTERM');
    expect(await exited, out).toBe(0);
    expect(out).not.toMatch(/EROFS|read-only file system/i);
  });
});
