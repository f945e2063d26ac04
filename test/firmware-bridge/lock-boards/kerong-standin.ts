// Stand-in KR-CU16 boards on one RS485 wire, answering byte for byte as Kerong's specification
// describes: `02 ADDR 31 03 SUM` releases a lock (no reply, the board times the solenoid), and
// `02 B0 30 03 SUM` asks board B for its state, answered `02 B0 35 D1 D2 D3 D4 03 SUM`. Built from the
// specification, not from the driver's own encoder, so a frame the driver gets wrong goes unanswered.
// Doors are the test's: `open`/`shut` move the hook switch. Faults: a board unplugged (silent),
// replies with a bad checksum.

export interface Cu16Board {
  /** Hook switch per lock 1..16: true while the door is shut (the bit this stand-in reports set). */
  shut: boolean[];
  unplugged: boolean;
  /** The next N replies carry a wrong checksum. */
  corrupt: number;
}

export class KerongCu16StandIn {
  readonly boards = new Map<number, Cu16Board>();
  /** Every lock released: [board, lock, ms since the stand-in started]. */
  readonly unlocks: [number, number, number][] = [];
  /** Status requests answered, per board. */
  readonly polls = new Map<number, number>();
  /** Called when a lock is released (a test may let its door spring open). */
  onUnlock: (board: number, lock: number) => void = () => undefined;
  private buf = Buffer.alloc(0);
  private readonly began = Date.now();

  constructor(
    addresses: number[],
    private readonly write: (reply: Buffer) => void,
  ) {
    for (const a of addresses) this.boards.set(a, { shut: Array(16).fill(true), unplugged: false, corrupt: 0 });
  }

  open(board: number, lock: number): void {
    this.boards.get(board)!.shut[lock - 1] = false;
  }

  shutDoor(board: number, lock: number): void {
    this.boards.get(board)!.shut[lock - 1] = true;
  }

  feed(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    // Requests are five bytes: STX, address, command, ETX, sum. Anything else is line noise.
    while (this.buf.length >= 5) {
      if (this.buf[0] !== 0x02) {
        this.buf = this.buf.subarray(1);
        continue;
      }
      const f = this.buf.subarray(0, 5);
      const sum = (f[0]! + f[1]! + f[2]! + f[3]!) & 0xff;
      if (f[3] !== 0x03 || f[4] !== sum) {
        this.buf = this.buf.subarray(1);
        continue;
      }
      this.buf = this.buf.subarray(5);
      this.handle(f[1]! >> 4, (f[1]! & 0x0f) + 1, f[2]!);
    }
  }

  private handle(address: number, lock: number, cmd: number): void {
    const board = this.boards.get(address);
    if (!board || board.unplugged) return;
    if (cmd === 0x31) {
      this.unlocks.push([address, lock, Date.now() - this.began]);
      this.onUnlock(address, lock);
      return;
    }
    if (cmd !== 0x30) return;
    this.polls.set(address, (this.polls.get(address) ?? 0) + 1);
    const byte = (from: number) => board.shut.slice(from, from + 8).reduce((b, shut, i) => b | ((shut ? 1 : 0) << i), 0);
    const body = [0x02, address << 4, 0x35, byte(0), byte(8), 0x00, 0x00, 0x03];
    let sum = body.reduce((a, b) => a + b, 0) & 0xff;
    if (board.corrupt > 0) {
      board.corrupt--;
      sum ^= 0x5a;
    }
    this.write(Buffer.from([...body, sum]));
  }
}
