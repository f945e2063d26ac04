// A pseudo-terminal pair made by socat, for serial stand-ins: the code under test opens one end
// as its serial device, the stand-in (modem, lock boards) the other. Plus the polling wait those
// tests share, since a real tty delivers bytes on its own schedule.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const hasSocat = spawnSync('socat', ['-V']).status === 0;

/** Waits until `ok` holds, checking every 10 ms; fails naming `what` after `ms`. */
export async function until(ok: () => boolean | Promise<boolean>, what: string, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Starts socat with two linked ptys in `dir`; resolves once both device links exist. */
export async function ptyPair(dir: string, names: [string, string]): Promise<{ socat: ChildProcess; a: string; b: string }> {
  const [a, b] = [join(dir, names[0]), join(dir, names[1])];
  const socat = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
  await until(() => existsSync(a) && existsSync(b), 'the pseudo-terminals', 5000);
  return { socat, a, b };
}
