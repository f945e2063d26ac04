// 5. Footprint: start-up to ready, and resident memory after start and after 10,000 closed dossiers,
// of the real service process as `npm start` and the unit run it (package.json's start script, built first),
// simulated doors with 10 ms lock pulses:
// the shipped map's 400 ms pulses would make the 10,000 cycles take hours and measure nothing more).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { openSync, readSync, closeSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { fastMap, tempDir } from '../helpers/locker.ts';
import { startArgs } from '../helpers/start-command.ts';
import { round, type BenchResult } from './stats.ts';

const ROOT = join(import.meta.dirname, '../..');

/** VmRSS, and its file-backed part (mostly the node binary's pages, shared with any other node process). */
function rss(pid: number): { total: number; file: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)![1]) / 1024;
  return { total: kb('VmRSS'), file: kb('RssFile') };
}

async function startService(dataDir: string): Promise<{ child: ChildProcess; url: string; ms: number }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, startArgs(), {
    cwd: ROOT,
    env: { ...process.env, LOCKER_DATA_DIR: dataDir, LOCKER_MAP: fastMap(dataDir), LOCKER_PORT: '0', LOCKER_HOST: '127.0.0.1', LOCKER_LOG_LEVEL: 'warn', LOCKER_SESSION_TTL_MIN: '10080' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/[^ ]+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.on('exit', (c) => reject(new Error(`service exited ${c}`)));
  });
  return { child, url, ms: performance.now() - t0 };
}

export async function footprint(dossiers = 10_000): Promise<BenchResult> {
  const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('footprint: npm run build failed');
  const dataDir = tempDir('bench-foot-');
  // The user is created before the measured start, with the CLI as an installer would.
  const add = spawn(process.execPath, [join(ROOT, 'server/bin/locker.mjs'), 'user', 'add', 'clerk', '--role', 'staff', '--password-stdin', '--init'], {
    env: { ...process.env, LOCKER_DATA_DIR: dataDir },
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  add.stdin!.end('bench-password\n');
  await new Promise((r) => add.on('exit', r));

  const { child, url, ms: startMs } = await startService(dataDir);
  await new Promise((r) => setTimeout(r, 500));
  const rssStart = rss(child.pid!);
  const call = async (method: string, path: string, body?: unknown, token?: string) => {
    const res = await fetch(url + path, {
      method,
      headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = await res.json().catch(() => null);
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const { token } = await call('POST', '/api/v1/session', { username: 'clerk', password: 'bench-password' });
  const smsFile = join(dataDir, 'sms.jsonl');
  let offset = 0;
  // The next pickup code sent to `phone`; other messages (receipts after a pickup) are passed over.
  let pending = '';
  const utf8 = new StringDecoder('utf8'); // a chunk may end inside a Vietnamese character
  const nextCode = async (phone: string): Promise<string> => {
    for (;;) {
      const nl = pending.indexOf('\n');
      if (nl >= 0) {
        const msg = JSON.parse(pending.slice(0, nl)) as { to: string; text: string };
        pending = pending.slice(nl + 1);
        const code = /(?<!\d)\d{6}(?!\d)/.exec(msg.text);
        if (msg.to === phone && code) return code[0];
        continue;
      }
      if (existsSync(smsFile)) {
        const fd = openSync(smsFile, 'r');
        const buf = Buffer.alloc(65536);
        const n = readSync(fd, buf, 0, buf.length, offset);
        closeSync(fd);
        offset += n;
        pending += utf8.write(buf.subarray(0, n));
        if (n > 0) continue;
      }
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  const door = (n: number, open: boolean) => call('POST', `/api/v1/sim/compartments/${n}/door`, { open });
  const t0 = performance.now();
  for (let i = 0; i < dossiers; i++) {
    const phone = `09${String(40_000_000 + i).padStart(8, '0')}`;
    const code = `FP-${i}`;
    const { compartment } = await call('POST', '/api/v1/dossiers', { code, phone, size: 'S' }, token);
    await door(compartment, true);
    await door(compartment, false);
    await call('POST', `/api/v1/dossiers/${code}/loaded`, undefined, token);
    const pin = await nextCode(phone);
    await call('POST', '/api/v1/pickups', { phone, code: pin });
    await door(compartment, true);
    await door(compartment, false);
  }
  const cycleMs = (performance.now() - t0) / dossiers;
  const rssAfter = rss(child.pid!);
  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', r));
  return {
    name: 'footprint',
    figures: {
      'start-up to listening ms': round(startMs, 0),
      'RSS after start MB': round(rssStart.total, 1),
      [`RSS after ${dossiers} closed dossiers MB`]: round(rssAfter.total, 1),
      [`of which file-backed (node binary) MB`]: round(rssAfter.file, 1),
      'full dossier cycle ms': round(cycleMs, 2),
    },
    target: 'RSS <= 90 MB; start-up <= 1000 ms',
    met: rssAfter.total <= 90 && startMs <= 1000,
    limit:
      "Node's own pages (~49 MB file-backed after the run), the V8 heap (~35 MB: Fastify, Ajv validators, TypeBox, mqtt.js, our code), malloc's arena (~20 MB high-water, plateaus)",
  };
}
