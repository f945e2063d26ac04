// Stand-in Kerong CU12 and 8A/80 boards, answering byte for byte as their public descriptions
// write the frames (not through the driver's own encoders):
// - CU12: `02 ADDR LOCK CMD ASK LEN 03 SUM DATA…`, SUM the low byte of the sum of every byte, data
//   included; 0x81 releases LOCK (0-11) and answers ASK 0x10; 0x80 answers two data bytes, locks
//   1-8 then 9-12, bit 0 = lock 1.
// - 8A/80: XOR of every byte before it closes each frame; `8A BB LL 11` releases lock LL and is
//   answered `8A BB LL 11`; `80 BB 00 33` is answered `80 BB S1 S2 S3 33`, S3 holding locks 1-8.
// Both keep one hook bit per lock, set while the door is shut (the test's `shut`), and can be
// unplugged (silent) or have a lock stuck (released, answered, and the door stays shut).

export interface StandInBoard {
  shut: boolean[];
  stuck: Set<number>;
  unplugged: boolean;
}

abstract class StandIn {
  readonly board: StandInBoard;
  readonly unlocks: number[] = [];
  onUnlock: (lock: number) => void = () => undefined;
  protected buf = Buffer.alloc(0);

  constructor(
    readonly address: number,
    locks: number,
    protected readonly write: (reply: Buffer) => void,
  ) {
    this.board = { shut: Array(locks).fill(true), stuck: new Set(), unplugged: false };
  }

  feed(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    this.drain();
  }

  protected released(lock: number): void {
    this.unlocks.push(lock);
    if (!this.board.stuck.has(lock)) this.onUnlock(lock);
  }

  protected abstract drain(): void;
}

const sum = (b: number[]) => b.reduce((a, x) => a + x, 0) & 0xff;
const xor = (b: number[]) => b.reduce((a, x) => a ^ x, 0);

export class Cu12StandIn extends StandIn {
  constructor(address: number, write: (reply: Buffer) => void) {
    super(address, 12, write);
  }

  protected drain(): void {
    while (this.buf.length >= 8) {
      const len = 8 + this.buf[5]!;
      if (this.buf[0] !== 0x02 || this.buf[6] !== 0x03 || this.buf[5]! > 40) {
        this.buf = this.buf.subarray(1);
        continue;
      }
      if (this.buf.length < len) return;
      const f = [...this.buf.subarray(0, len)];
      this.buf = this.buf.subarray(len);
      if (f[7] !== sum([...f.slice(0, 7), ...f.slice(8)])) continue;
      const [, addr, lock, cmd] = f as [number, number, number, number];
      if (addr !== this.address || this.board.unplugged) continue;
      if (cmd === 0x81) {
        this.released(lock + 1);
        this.reply(addr, lock, cmd, []);
      } else if (cmd === 0x80) {
        const bits = (from: number, n: number) => this.board.shut.slice(from, from + n).reduce((b, s, i) => b | ((s ? 1 : 0) << i), 0);
        this.reply(addr, 0, cmd, [bits(0, 8), bits(8, 4)]);
      }
    }
  }

  private reply(addr: number, lock: number, cmd: number, data: number[]): void {
    const head = [0x02, addr, lock, cmd, 0x10, data.length, 0x03];
    this.write(Buffer.from([...head, sum([...head, ...data]), ...data]));
  }
}

export class Board8a80StandIn extends StandIn {
  constructor(address: number, write: (reply: Buffer) => void) {
    super(address, 24, write);
  }

  protected drain(): void {
    while (this.buf.length >= 5) {
      const f = [...this.buf.subarray(0, 5)];
      if ((f[0] !== 0x8a && f[0] !== 0x80) || f[4] !== xor(f.slice(0, 4))) {
        this.buf = this.buf.subarray(1);
        continue;
      }
      this.buf = this.buf.subarray(5);
      const [cmd, addr, lock, op] = f as [number, number, number, number];
      if (addr !== this.address || this.board.unplugged) continue;
      if (cmd === 0x8a && op === 0x11) {
        this.released(lock);
        const body = [0x8a, addr, lock, 0x11];
        this.write(Buffer.from([...body, xor(body)]));
      } else if (cmd === 0x80 && op === 0x33) {
        const bits = (from: number) => this.board.shut.slice(from, from + 8).reduce((b, s, i) => b | ((s ? 1 : 0) << i), 0);
        // Locks 17-24, 9-16, 1-8: the last status byte holds the first locks.
        const body = [0x80, addr, bits(16), bits(8), bits(0), 0x33];
        this.write(Buffer.from([...body, xor(body)]));
      }
    }
  }
}
