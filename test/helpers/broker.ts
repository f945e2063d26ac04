// A real MQTT broker for tests: Debian's `mosquitto` on a free loopback port with its own
// config and persistence in a temp dir, so stopping and starting it keeps sessions and queued
// messages. Where the binary is missing, an in-process aedes broker (MQTT 3.1.1 only) stands in,
// and says so.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface TestBroker {
  kind: 'mosquitto' | 'aedes';
  /** 5 with mosquitto, 4 (3.1.1) with aedes. */
  protocolVersion: 4 | 5;
  /** The value for LOCKER_MQTT_PROTOCOL. */
  protocolSetting: '5' | '3.1.1';
  port: number;
  url: string;
  /** Stops the broker (sessions are saved) and starts it again on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it for good and removes its files. */
  close(): Promise<void>;
  log(): string;
}

export interface BrokerOptions {
  /** Extra mosquitto.conf lines (ignored by the aedes fallback). */
  extraConfig?: string[];
  /** Replaces the default listener block (for TLS tests); must listen on `port`. */
  listener?: (port: number) => string[];
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export function mosquittoBinary(): string | null {
  if (process.env.LOCKER_TEST_BROKER === 'aedes') return null;
  const candidates = [
    process.env.LOCKER_TEST_MOSQUITTO,
    ...(process.env.PATH ?? '').split(delimiter).map((d) => join(d, 'mosquitto')),
    '/usr/sbin/mosquitto',
    '/usr/local/sbin/mosquitto',
  ];
  for (const c of candidates) if (c && existsSync(c)) return c;
  return null;
}

export async function startBroker(opts: BrokerOptions = {}): Promise<TestBroker> {
  const bin = mosquittoBinary();
  if (bin) return startMosquitto(bin, opts);
  console.warn(`test broker: ${process.env.LOCKER_TEST_BROKER === 'aedes' ? 'LOCKER_TEST_BROKER=aedes' : 'mosquitto not found'}; using an in-process aedes broker (MQTT 3.1.1 only)`);
  return startAedes();
}

async function waitForPort(port: number, ms: number, alive: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (!alive()) throw new Error('broker exited during start-up');
    if (Date.now() > deadline) throw new Error(`broker did not listen on ${port} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function startMosquitto(bin: string, opts: BrokerOptions): Promise<TestBroker> {
  const dir = mkdtempSync(join(tmpdir(), 'locker-broker-'));
  const port = await freePort();
  const logFile = join(dir, 'mosquitto.log');
  const conf = [
    ...(opts.listener ? opts.listener(port) : [`listener ${port} 127.0.0.1`, 'allow_anonymous true']),
    'persistence true',
    `persistence_location ${dir}/`,
    'autosave_interval 1',
    // The consumer in a test must not lose messages because a drain outruns it.
    'max_queued_messages 200000',
    `log_dest file ${logFile}`,
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
    'connection_messages true',
    // Started as root, mosquitto would drop to a user that cannot write the temp dir.
    ...(process.getuid?.() === 0 ? ['user root'] : []),
    ...(opts.extraConfig ?? []),
  ];
  const confPath = join(dir, 'mosquitto.conf');
  writeFileSync(confPath, conf.join('\n') + '\n');
  let child: ChildProcess | null = null;
  let stderr = '';

  const start = async () => {
    if (child) return;
    const c = spawn(bin, ['-c', confPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = c;
    c.stderr!.on('data', (d) => (stderr += d));
    let exited = false;
    c.once('exit', () => {
      exited = true;
      if (child === c) child = null;
    });
    try {
      await waitForPort(port, 10_000, () => !exited);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${stderr}\n${safeRead(logFile)}`);
    }
  };
  const stop = async () => {
    const c = child;
    if (!c) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      // SIGTERM: mosquitto writes its persistence file before it exits.
      c.kill('SIGTERM');
    });
    child = null;
  };
  await start();
  return {
    kind: 'mosquitto',
    protocolVersion: 5,
    protocolSetting: '5',
    port,
    url: `mqtt://127.0.0.1:${port}`,
    start,
    stop,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
    log: () => safeRead(logFile),
  };
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

async function startAedes(): Promise<TestBroker> {
  const { Aedes } = await import('aedes');
  // One broker instance for the whole test: its in-memory persistence keeps sessions across
  // stop/start, which only close and reopen the listening socket.
  const broker = await Aedes.createBroker();
  const port = await freePort();
  let server: Server | null = null;
  const sockets = new Set<Socket>();
  const start = async () => {
    if (server) return;
    const s = createServer((socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      broker.handle(socket);
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve());
    });
    server = s;
  };
  const stop = async () => {
    const s = server;
    if (!s) return;
    server = null;
    for (const sock of sockets) sock.destroy();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  await start();
  return {
    kind: 'aedes',
    protocolVersion: 4,
    protocolSetting: '3.1.1',
    port,
    url: `mqtt://127.0.0.1:${port}`,
    start,
    stop,
    async close() {
      await stop();
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
    log: () => '',
  };
}
