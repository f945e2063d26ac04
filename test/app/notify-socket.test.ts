// The real thing: `npm start` (server/main.ts) under a NOTIFY_SOCKET that this test owns,
// a unix datagram socket bound by a small python3 receiver (Node cannot bind one), with
// Debian's systemd-notify carrying the messages, as under systemd.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/locker.ts';

const ROOT = join(import.meta.dirname, '../..');

// Prints one JSON line per datagram with its arrival time. Closes the file descriptor that
// systemd-notify passes along with BARRIER=1, as PID 1 does, which lets systemd-notify return.
const RECEIVER = `
import array, json, os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print(json.dumps({"bound": True}), flush=True)
while True:
    data, anc, flags, addr = s.recvmsg(4096, socket.CMSG_SPACE(64))
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds = array.array("i")
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
            for fd in fds:
                os.close(fd)
    print(json.dumps({"t": time.monotonic() * 1000, "msg": data.decode()}), flush=True)
`;

interface Datagram {
  t: number;
  msg: string;
}

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function startReceiver(path: string): Promise<{ messages: Datagram[]; next: (pred: (d: Datagram) => boolean, ms: number) => Promise<Datagram> }> {
  const child = spawn('python3', ['-c', RECEIVER, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const messages: Datagram[] = [];
  const waiters: { pred: (d: Datagram) => boolean; resolve: (d: Datagram) => void }[] = [];
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const parsed = JSON.parse(line);
      if (parsed.bound) {
        resolve({
          messages,
          next: (pred, ms) =>
            new Promise((res, rej) => {
              const found = messages.find(pred);
              if (found) return res(found);
              const timer = setTimeout(() => rej(new Error(`no matching notification within ${ms} ms; got ${JSON.stringify(messages.map((m) => m.msg))}`)), ms);
              waiters.push({ pred, resolve: (d) => (clearTimeout(timer), res(d)) });
            }),
        });
        return;
      }
      const d = parsed as Datagram;
      // The barrier that systemd-notify sends after each message is not part of the protocol we speak.
      if (d.msg === 'BARRIER=1') return;
      messages.push(d);
      for (const w of waiters.splice(0)) {
        if (w.pred(d)) w.resolve(d);
        else waiters.push(w);
      }
    });
  });
}

describe('notifications over a real datagram socket', () => {
  it('READY=1 only once HTTP answers, watchdog pings at half of WATCHDOG_USEC, STOPPING=1 on SIGTERM', async () => {
    const dir = tempDir('locker-notify-');
    dirs.push(dir);
    const sock = join(dir, 'notify.sock');
    const rx = await startReceiver(sock);
    const started = Date.now();
    const locker = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        NOTIFY_SOCKET: sock,
        WATCHDOG_USEC: '1000000',
        LOCKER_DATA_DIR: join(dir, 'data'),
        LOCKER_HOST: '127.0.0.1',
        LOCKER_PORT: '0',
        LOCKER_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(locker);
    let out = '';
    locker.stdout!.on('data', (d) => (out += d));
    locker.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((res) => locker.once('exit', (code) => res(code)));

    const ready = await rx.next((d) => d.msg.startsWith('READY=1'), 25_000);
    const url = /STATUS=listening on (http:\S+)/.exec(ready.msg)?.[1];
    expect(url, ready.msg).toBeTruthy();
    // The moment systemd hears READY=1, the locker answers, with its database and doors up.
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    const body = await health.json();
    expect(body.status).toBe('ok');

    // Pings every 500 ms; watch them for three seconds.
    const from = ready.t;
    await new Promise((r) => setTimeout(r, 3_000));
    const pings = rx.messages.filter((m) => m.msg === 'WATCHDOG=1' && m.t > from && m.t <= from + 3_000);
    expect(pings.length, `pings in 3 s: ${pings.length}`).toBeGreaterThanOrEqual(4);
    expect(pings.length).toBeLessThanOrEqual(7);
    const gaps = pings.slice(1).map((p, i) => p.t - pings[i].t).sort((a, b) => a - b);
    const median = gaps[Math.floor(gaps.length / 2)];
    expect(median).toBeGreaterThan(350);
    expect(median).toBeLessThan(750);
    // Pings also came before READY=1 (start-up is not mistaken for a hang) only if start-up
    // took longer than one interval; either way nothing but our three kinds of message arrived.
    for (const m of rx.messages) expect(m.msg).toMatch(/^(READY=1\nSTATUS=.*|WATCHDOG=1|STOPPING=1(\nSTATUS=.*)?)$/s);

    locker.kill('SIGTERM');
    const stopping = await rx.next((d) => d.msg.startsWith('STOPPING=1'), 10_000);
    expect(await exited, out).toBe(0);
    expect(rx.messages.filter((m) => m.msg === 'WATCHDOG=1' && m.t > stopping.t)).toEqual([]);
    expect(Date.now() - started).toBeLessThan(40_000);
  });

  it('sends nothing and starts no notifier when NOTIFY_SOCKET is unset', async () => {
    const dir = tempDir('locker-notify-');
    dirs.push(dir);
    // A systemd-notify on PATH that would leave a trace if it were ever run.
    const bin = join(dir, 'bin');
    const { mkdirSync, writeFileSync, existsSync } = await import('node:fs');
    mkdirSync(bin);
    writeFileSync(join(bin, 'systemd-notify'), `#!/bin/sh\necho "$@" >> ${join(dir, 'trace')}\n`, { mode: 0o755 });
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${bin}:${process.env.PATH}`, WATCHDOG_USEC: '200000', LOCKER_DATA_DIR: join(dir, 'data'), LOCKER_HOST: '127.0.0.1', LOCKER_PORT: '0' };
    delete env.NOTIFY_SOCKET;
    const locker = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(locker);
    let out = '';
    const listening = new Promise<void>((res) =>
      locker.stdout!.on('data', (d) => {
        out += d;
        if (out.includes('is listening on')) res();
      }),
    );
    const exited = new Promise<number | null>((res) => locker.once('exit', (code) => res(code)));
    await listening;
    await new Promise((r) => setTimeout(r, 600));
    locker.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(join(dir, 'trace'))).toBe(false);
  });
});
