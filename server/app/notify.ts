// Talks to systemd (sd_notify): READY=1 once the database, the doors and HTTP are up,
// WATCHDOG=1 at half of WATCHDOG_USEC, STOPPING=1 on shutdown, and nothing at all when
// NOTIFY_SOCKET is unset (`npm start` on a laptop, the tests).
//
// How a message gets out: Node has no unix datagram sockets (nodejs/node#29339), and a native
// addon would be one more thing to compile on every Pi. So each message is handed to Debian's
// `systemd-notify` (package systemd: wherever NOTIFY_SOCKET is set, it is there). Trade-offs:
// - The sender is that child, not our PID, so the unit needs NotifyAccess=all: any process of
//   the unit may then notify (ours are only gpioset/gpiomon and this helper).
// - PID 1 attributes a message by the sender's cgroup, so a sender that exits at once can see
//   its message dropped. systemd-notify waits until PID 1 has processed it (sd_notify_barrier,
//   since systemd 246; never pass --no-block): bookworm ships 252, trixie 257.
// - One short process per message: one every WatchdogSec/2 (15 s), never on a request path.
// - A ping that cannot be sent (no process slot, binary gone) is a missed ping, and systemd
//   restarts the locker after WatchdogSec: the right outcome for a process that cannot fork.
// Alternatives weighed: a native addon (unix-dgram, sd-notify: a compiler on the Pi, and a
// module to rebuild for each Node ABI), a long-lived python3 or socat relay (a second
// runtime or package to install, and a process to supervise).
import { spawn } from 'node:child_process';
import type { Logger } from 'pino';

/** Delivers one notification (KEY=value lines) to the socket; rejects when it could not. */
export type NotifySender = (socket: string, assignments: string[]) => Promise<void>;

export interface NotifierOptions {
  /** Where NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Remove those three from `env` once read, as sd_notify's unset_environment does, so child
   * processes (gpioset, the modem) cannot speak for the service. Default true. */
  unsetEnvironment?: boolean;
  pid?: number;
  send?: NotifySender;
  log?: Pick<Logger, 'info' | 'warn' | 'debug'>;
}

export interface NotifyEnvironment {
  socket: string | null;
  /** Time between two watchdog pings: half of WATCHDOG_USEC, or null without a watchdog. */
  watchdogIntervalMs: number | null;
}

/** Reads the variables as sd_notify(3) and sd_watchdog_enabled(3) do. */
export function readNotifyEnvironment(env: NodeJS.ProcessEnv, pid: number): NotifyEnvironment {
  const raw = env.NOTIFY_SOCKET;
  // A path, or an abstract socket written with a leading '@'; anything else is not for us.
  const socket = raw && (raw.startsWith('/') || raw.startsWith('@')) ? raw : null;
  let watchdogIntervalMs: number | null = null;
  const usec = env.WATCHDOG_USEC;
  const forPid = env.WATCHDOG_PID;
  if (socket && usec && /^\d+$/.test(usec) && Number(usec) > 0 && (!forPid || Number(forPid) === pid)) {
    watchdogIntervalMs = Math.max(1, Math.floor(Number(usec) / 2 / 1000));
  }
  return { socket, watchdogIntervalMs };
}

/** Hands the message to `systemd-notify` and waits for it (it waits for PID 1). */
export function systemdNotifySender(binary = 'systemd-notify', timeoutMs = 5000): NotifySender {
  return (socket, assignments) =>
    new Promise((resolve, reject) => {
      const child = spawn(binary, assignments, {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NOTIFY_SOCKET: socket },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr!.on('data', (d) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      timer.unref();
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else reject(new Error(`${binary} ${signal ? `killed by ${signal}` : `exited ${code}`}: ${stderr.trim()}`));
      });
    });
}

export class SystemdNotifier {
  readonly socket: string | null;
  readonly watchdogIntervalMs: number | null;
  private readonly send: NotifySender;
  private readonly log: NotifierOptions['log'];
  private queue: Promise<void> = Promise.resolve();
  private timer: ReturnType<typeof setInterval> | null = null;
  private pingPending = false;
  private lastError = '';

  constructor(opts: NotifierOptions = {}) {
    const env = opts.env ?? process.env;
    const found = readNotifyEnvironment(env, opts.pid ?? process.pid);
    if (opts.unsetEnvironment ?? true) {
      delete env.NOTIFY_SOCKET;
      delete env.WATCHDOG_USEC;
      delete env.WATCHDOG_PID;
    }
    this.socket = found.socket;
    this.watchdogIntervalMs = found.watchdogIntervalMs;
    this.send = opts.send ?? systemdNotifySender();
    this.log = opts.log;
  }

  get enabled(): boolean {
    return this.socket !== null;
  }

  /** Start-up is complete: the database, the doors and HTTP are up. */
  ready(status?: string): Promise<void> {
    return this.notify(['READY=1', ...statusLine(status)]);
  }

  status(text: string): Promise<void> {
    return this.notify(statusLine(text));
  }

  /** Shutdown has begun: no more watchdog pings, and systemd shows the unit as deactivating. */
  stopping(status?: string): Promise<void> {
    this.stopWatchdog();
    return this.notify(['STOPPING=1', ...statusLine(status)]);
  }

  /**
   * Pings every WATCHDOG_USEC/2 while `alive()` says the service is well; `alive` may be a
   * probe that takes time (an HTTP request), and nothing is sent until it has said yes. A ping
   * (with its probe) that would overlap one still in flight is skipped, so a slow PID 1 or a
   * slow probe never piles up processes or requests.
   */
  startWatchdog(alive: () => boolean | Promise<boolean> = () => true): void {
    if (!this.socket || this.watchdogIntervalMs === null || this.timer) return;
    const withheld = (err: unknown) => this.log?.warn({ err: (err as Error).message }, 'liveness check failed; watchdog ping withheld');
    this.timer = setInterval(() => {
      if (this.pingPending) return;
      let verdict: boolean | Promise<boolean>;
      try {
        verdict = alive();
      } catch (err) {
        withheld(err);
        return;
      }
      if (verdict === false) return;
      this.pingPending = true;
      const ping = (ok: boolean) => (ok ? this.notify(['WATCHDOG=1']) : undefined);
      // A plain `true` pings at once; a probe pings once it has answered yes.
      const sent = verdict === true ? ping(true) : verdict.then(ping, withheld);
      void Promise.resolve(sent).finally(() => {
        this.pingPending = false;
      });
    }, this.watchdogIntervalMs);
    this.timer.unref();
  }

  stopWatchdog(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Messages go out one after another, in order; a failure is logged, never thrown. */
  private notify(assignments: string[]): Promise<void> {
    const socket = this.socket;
    if (!socket || assignments.length === 0) return Promise.resolve();
    this.queue = this.queue.then(() =>
      this.send(socket, assignments).then(
        () => {
          this.lastError = '';
        },
        (err: Error) => {
          // Said once per distinct failure: a missing binary would otherwise log every 15 s.
          if (err.message !== this.lastError) this.log?.warn({ err: err.message, message: assignments[0] }, 'systemd notification failed');
          this.lastError = err.message;
        },
      ),
    );
    return this.queue;
  }
}

function statusLine(text: string | undefined): string[] {
  return text ? [`STATUS=${text.replace(/[\r\n]+/g, ' ')}`] : [];
}
