// The command lines of Debian's `gpiod` tools, in both dialects: libgpiod 1.6 (bookworm:
// `gpioset [opts] <chip> <off>=<v>`, `--mode=signal` to hold) and 2.x (trixie:
// `gpioset [opts] -c <chip> <off>=<v>`, holds until killed). Pure functions, so both dialects
// are tested without the tools.
import type { Bias, Bit } from './lines.ts';

export type Dialect = 1 | 2;

export interface ToolVersion {
  dialect: Dialect;
  text: string;
}

/** `gpioset (libgpiod) v1.6.3`, `gpioset (libgpiod) v2.1.3`, `gpioset v2.2.1 (libgpiod v2.2.1)`. */
export function parseToolVersion(output: string): { major: number; minor: number; text: string } | null {
  const m = /v(\d+)\.(\d+)(?:\.\d+)?/.exec(output);
  if (!m) return null;
  return { major: Number(m[1]), minor: Number(m[2]), text: m[0] };
}

function biasArg(d: Dialect, bias: Bias): string[] {
  const name = bias === 'up' ? 'pull-up' : bias === 'down' ? 'pull-down' : d === 1 ? 'disable' : 'disabled';
  return d === 1 ? [`--bias=${name}`] : ['--bias', name];
}

/** Holds one relay line at `value` until the process is killed. 2.x prints a banner once the line is set. */
export function holdArgs(d: Dialect, chip: string, offset: number, value: Bit): string[] {
  return d === 1 ? ['--mode=signal', chip, `${offset}=${value}`] : ['--banner', '-c', chip, `${offset}=${value}`];
}

/** Marker the pulse script prints between the pulse and the hold that follows it. */
export const PULSE_EXIT = 'pulse-exit';

/**
 * One pulse as a shell script, so its end does not depend on this process: the first gpioset
 * energises the line and ends the pulse on its own after `pulseMs` (1.6: --mode=time; 2.x: toggles
 * back to the locked value, then exits), then the script becomes the hold at the locked level.
 * If this process dies mid-pulse, the lock still closes on time.
 */
export function pulseCommand(d: Dialect, chip: string, offset: number, active: Bit, locked: Bit, pulseMs: number): { cmd: string; args: string[] } {
  const ms = Math.max(1, Math.round(pulseMs));
  const pulse =
    d === 1
      ? ['--mode=time', `--sec=${Math.floor(ms / 1000)}`, `--usec=${(ms % 1000) * 1000}`, chip, `${offset}=${active}`]
      : ['--banner', '-t', `${ms}ms,0`, '-c', chip, `${offset}=${active}`];
  const hold = holdArgs(d, chip, offset, locked);
  const script = `gpioset ${pulse.map(shQuote).join(' ')}; echo "${PULSE_EXIT} $?"; exec gpioset ${hold.map(shQuote).join(' ')}`;
  return { cmd: 'sh', args: ['-c', script] };
}

export function shQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

export function getArgs(d: Dialect, chip: string, offsets: number[], bias: Bias): string[] {
  return d === 1 ? [...biasArg(d, bias), chip, ...offsets.map(String)] : [...biasArg(d, bias), '-c', chip, ...offsets.map(String)];
}

/** 1.6 prints `1 0 1`; 2.x prints `"5"=active "6"=inactive` (or 5=active with --unquoted). */
export function parseGetOutput(output: string, offsets: number[]): Bit[] {
  const tokens = output.trim().split(/\s+/).filter(Boolean);
  if (tokens.length !== offsets.length) throw new Error(`gpioget printed ${tokens.length} values for ${offsets.length} lines: "${output.trim()}"`);
  return tokens.map((t) => {
    const v = t.includes('=') ? t.slice(t.lastIndexOf('=') + 1) : t;
    if (v === '1' || v === 'active') return 1;
    if (v === '0' || v === 'inactive') return 0;
    throw new Error(`gpioget printed an unreadable value "${t}"`);
  });
}

/**
 * Edge monitor printing "<offset> <edge>" per event, flushed per line in both dialects (1.6 needs
 * --line-buffered: it writes into a pipe). 2.x announces with a banner once the lines are watched.
 */
export function monArgs(d: Dialect, chip: string, offsets: number[], bias: Bias): string[] {
  return d === 1
    ? ['--line-buffered', ...biasArg(d, bias), '--format=%o %e', chip, ...offsets.map(String)]
    : ['--banner', ...biasArg(d, bias), '--format', '%o %E', '-c', chip, ...offsets.map(String)];
}

/** 1.6 `%e`: 1 rising, 0 falling. 2.x `%E`: rising / falling. The level after the edge. */
export function parseMonLine(line: string): { offset: number; level: Bit } | null {
  const m = /^\s*(\d+)\s+(rising|falling|1|0)\s*$/.exec(line);
  if (!m) return null;
  return { offset: Number(m[1]), level: m[2] === 'rising' || m[2] === '1' ? 1 : 0 };
}

/** `gpiochip0 [pinctrl-bcm2711] (58 lines)`: the same in 1.6 and 2.x. */
export function parseDetect(output: string): { name: string; label: string; lines: number }[] {
  const out: { name: string; label: string; lines: number }[] = [];
  for (const line of output.split('\n')) {
    const m = /^(gpiochip\d+)\s+\[([^\]]*)\]\s+\((\d+) lines?\)/.exec(line.trim());
    if (m) out.push({ name: m[1], label: m[2], lines: Number(m[3]) });
  }
  return out;
}
