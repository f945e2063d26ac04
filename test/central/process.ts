// Runs `npx locker central` as its own process, as the central office does.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const BIN = join(import.meta.dirname, '../../server/bin/locker.mjs');

export interface CentralProcess {
  child: ChildProcess;
  url: string;
  output(): string;
  /** SIGTERM, and the exit code. */
  stop(): Promise<number | null>;
}

export async function spawnCentral(env: Record<string, string>): Promise<CentralProcess> {
  const child = spawn(process.execPath, [BIN, 'central'], { env: { ...process.env, CENTRAL_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`central did not start:\n${out}`)), 30_000);
    const onData = (d: Buffer) => {
      out += d;
      const m = out.match(/is listening on (http:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`central exited with ${code}:\n${out}`));
    });
  });
  child.stdout!.on('data', (d) => (out += d));
  return {
    child,
    url,
    output: () => out,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      }),
  };
}
