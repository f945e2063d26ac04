// A stand-in for onoff's Gpio with the same API, over a simulated board: records every export,
// write and read in order, and lets the test move door sensors and break lines.
import type { Bit } from '../../firmware-bridge/lines.ts';
import type { GpioClass, GpioLike } from '../../firmware-bridge/onoff-driver.ts';

type Cb = (err: Error | null | undefined, value: Bit) => void;

export class FakeBoard {
  readonly ops: string[] = [];
  readonly values = new Map<number, Bit>();
  readonly directions = new Map<number, string>();
  readonly exported = new Set<number>();
  readonly watchers = new Map<number, Cb[]>();
  /** Lines whose reads fail with EIO (a dead expander). */
  readonly failReads = new Set<number>();
  /** Lines whose chip has no interrupt: asking for edges throws, as sysfs does (no edge file). */
  readonly noEdges = new Set<number>();
  /** Lines that cannot be exported, with the errno code. */
  readonly refuse = new Map<number, string>();
  accessible = true;
  /** Highest number of relay outputs away from their locked level at once. */
  maxEnergised = 0;
  lockedValue = new Map<number, Bit>();

  energisedNow(): number[] {
    return [...this.lockedValue].filter(([n, v]) => this.values.get(n) !== v).map(([n]) => n);
  }

  /** A door moves: the sensor line changes; an edge reaches the watchers. */
  set(n: number, v: Bit): void {
    this.values.set(n, v);
    for (const cb of this.watchers.get(n) ?? []) cb(null, v);
  }

  Gpio(): GpioClass {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const board = this;
    class FakeGpio implements GpioLike {
      constructor(
        private readonly n: number,
        direction: 'in' | 'out' | 'high' | 'low',
        edge?: string,
      ) {
        const code = board.refuse.get(n);
        if (code) throw Object.assign(new Error(`${code}: cannot export ${n}`), { code });
        if (edge && edge !== 'none' && board.noEdges.has(n)) {
          throw Object.assign(new Error(`ENOENT: no such file or directory, open '/sys/class/gpio/gpio${n}/edge'`), { code: 'ENOENT' });
        }
        board.exported.add(n);
        board.directions.set(n, direction);
        board.ops.push(`export ${n} ${direction}${edge ? ` ${edge}` : ''}`);
        if (direction === 'high' || direction === 'low') {
          const v: Bit = direction === 'high' ? 1 : 0;
          board.values.set(n, v);
          board.lockedValue.set(n, v);
        } else if (!board.values.has(n)) board.values.set(n, 0);
      }
      readSync(): Bit {
        if (board.failReads.has(this.n)) throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
        return board.values.get(this.n) ?? 0;
      }
      writeSync(value: Bit): void {
        board.ops.push(`write ${this.n} ${value}`);
        board.values.set(this.n, value);
        board.maxEnergised = Math.max(board.maxEnergised, board.energisedNow().length);
      }
      watch(cb: Cb): void {
        board.ops.push(`watch ${this.n}`);
        board.watchers.set(this.n, [...(board.watchers.get(this.n) ?? []), cb]);
      }
      unwatchAll(): void {
        board.watchers.delete(this.n);
      }
      unexport(): void {
        board.ops.push(`unexport ${this.n}`);
        board.exported.delete(this.n);
      }
      static get accessible(): boolean {
        return board.accessible;
      }
    }
    return FakeGpio;
  }
}
