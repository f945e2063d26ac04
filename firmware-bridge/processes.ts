// Child processes for the gpiod driver: short commands with a time bound, and long-running
// holders/monitors whose output is read line by line. Long ones get their own process group,
// so a stop reaches the whole pulse script, and a Ctrl-C in the installer's terminal does not
// release the relay lines behind the service's back.
import { spawn, type ChildProcess } from 'node:child_process';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export class ToolMissingError extends Error {}

export function runTool(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 3000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      reject(err);
      return;
    }
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      stderr += `\n${cmd} did not finish within ${timeoutMs} ms`;
    }, timeoutMs);
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(err.code === 'ENOENT' ? new ToolMissingError(`${cmd} is not installed (not found on PATH)`) : err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr: stderr.trim() });
    });
  });
}

type Waiter = { check: () => boolean };

export class LongProcess {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  stderr = '';
  exitCode: number | null = null;
  exitSignal: string | null = null;
  exited = false;
  readonly done: Promise<void>;
  /** Set when we stopped it ourselves, so its exit is not reported as a failure. */
  stopping = false;
  private readonly waiters = new Set<Waiter>();
  private partial = '';

  constructor(
    cmd: string,
    args: string[],
    env: NodeJS.ProcessEnv,
    private readonly onLine?: (line: string) => void,
  ) {
    this.child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => {
      this.partial += chunk;
      let i: number;
      while ((i = this.partial.indexOf('\n')) >= 0) {
        const line = this.partial.slice(0, i).replace(/\r$/, '');
        this.partial = this.partial.slice(i + 1);
        this.lines.push(line);
        if (this.lines.length > 200) this.lines.splice(0, 100);
        this.onLine?.(line);
        this.poke();
      }
    });
    this.child.stderr!.on('data', (d) => {
      this.stderr = (this.stderr + d).slice(-2000);
    });
    this.done = new Promise((resolve) => {
      const finish = (code: number | null, signal: string | null) => {
        if (this.exited) return;
        this.exited = true;
        this.exitCode = code;
        this.exitSignal = signal;
        this.poke();
        resolve();
      };
      this.child.on('error', (err: NodeJS.ErrnoException) => {
        this.stderr += err.code === 'ENOENT' ? `${cmd} is not installed (not found on PATH)` : err.message;
        finish(null, null);
      });
      this.child.on('close', finish);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  describeExit(): string {
    const how = this.exitSignal ? `was killed by ${this.exitSignal}` : `exited with code ${this.exitCode}`;
    return `${how}${this.stderr.trim() ? `: ${this.stderr.trim()}` : ''}`;
  }

  /** Waits until `test` holds (checked on every new line and at exit), or fails after `timeoutMs`. */
  waitUntil(test: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        reject(new Error(`${what}: nothing after ${timeoutMs} ms`));
      }, timeoutMs);
      const w: Waiter = {
        check: () => {
          let ok = false;
          try {
            ok = test();
          } catch (err) {
            clearTimeout(timer);
            this.waiters.delete(w);
            reject(err);
            return true;
          }
          if (ok) {
            clearTimeout(timer);
            this.waiters.delete(w);
            resolve();
            return true;
          }
          if (this.exited) {
            clearTimeout(timer);
            this.waiters.delete(w);
            reject(new Error(`${what}: the process ${this.describeExit()}`));
            return true;
          }
          return false;
        },
      };
      if (!w.check()) this.waiters.add(w);
    });
  }

  /** Resolves if the process is still running after `ms` (1.6 tools print nothing when ready). */
  staysUp(ms: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        resolve();
      }, ms);
      const w: Waiter = {
        check: () => {
          if (!this.exited) return false;
          clearTimeout(timer);
          this.waiters.delete(w);
          reject(new Error(`${what}: the process ${this.describeExit()}`));
          return true;
        },
      };
      if (!w.check()) this.waiters.add(w);
    });
  }

  /** Signals the whole process group and waits for the exit (SIGKILL after `graceMs`). */
  async stop(graceMs = 1000): Promise<void> {
    this.stopping = true;
    if (this.exited) return;
    this.signal('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.signal('SIGKILL');
        resolve();
      }, graceMs);
    });
    await Promise.race([this.done, killed]);
    clearTimeout(timer);
    await this.done;
  }

  /** Synchronous: for the exit hook, where nothing can be awaited. */
  signal(sig: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined || this.exited) return;
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        this.child.kill(sig);
      } catch {
        // already gone
      }
    }
  }

  private poke(): void {
    for (const w of [...this.waiters]) w.check();
  }
}
