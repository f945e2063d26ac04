// The real service as a child process (`node --import tsx server/main.ts`), as systemd runs it:
// for tests that kill it, starve it of disk, or read exactly what it writes to stdout.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '../..');

export interface ServiceProcess {
  child: ChildProcess;
  /** Resolves with the base URL once the service says it listens; rejects if it exits first. */
  listening: Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Every complete line written to stdout and stderr, in order. */
  lines: string[];
  startedAt: number;
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnService(env: Record<string, string>): ServiceProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, LOCKER_HOST: '127.0.0.1', LOCKER_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let partial = '';
  let onLine: ((line: string) => void) | null = null;
  const take = (d: Buffer) => {
    const text = partial + d.toString('utf8');
    const parts = text.split('\n');
    partial = parts.pop()!;
    for (const l of parts) {
      lines.push(l);
      onLine?.(l);
    }
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      if (partial) lines.push(partial);
      partial = '';
      resolve({ code, signal });
    });
  });
  const listening = new Promise<string>((resolve, reject) => {
    onLine = (l) => {
      const m = /is listening on (https?:\/\/[^\s]+)/.exec(l);
      if (m) resolve(m[1]);
    };
    void exited.then(({ code, signal }) => reject(new Error(`service exited (${code ?? signal}) before listening:\n${lines.slice(-20).join('\n')}`)));
  });
  listening.catch(() => undefined);
  return {
    child,
    listening,
    exited,
    lines,
    startedAt: Date.now(),
    kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
