// A Modbus RTU relay/input board as the test's stand-in: it reads request frames off the wire,
// checks their CRC, keeps its coils and inputs, and answers as a real board does (an echo for
// writes, packed bits for reads, an exception for a coil it does not have). A timed pulse
// ("flash on", coil address 0x0200 + n, the value in 100 ms units) switches the coil on and, after
// that time, off again by itself. Silent when told to be (unplugged, or a dead board).
import { crc16, packBits, unpackBits, withCrc } from '../../../firmware-bridge/lock-boards/modbus-rtu.ts';

export class ModbusBoardStandIn {
  readonly coils: boolean[];
  readonly inputs: boolean[];
  /** Every coil change: [coil, on, at]. */
  readonly history: Array<[number, boolean, number]> = [];
  silent = false;
  /** Corrupt the CRC of the next n replies. */
  corruptNext = 0;
  private buf = Buffer.alloc(0);

  constructor(
    readonly address: number,
    channels: number,
    private readonly send: (reply: Buffer) => void,
    private readonly now: () => number = Date.now,
    private readonly later: (fn: () => void, ms: number) => void = (fn, ms) => void setTimeout(fn, ms),
  ) {
    this.coils = new Array<boolean>(channels).fill(false);
    this.inputs = new Array<boolean>(channels).fill(false);
  }

  /** Bytes from the bus (every board on it sees every frame). */
  feed(data: Buffer): void {
    this.buf = Buffer.concat([this.buf, data]);
    while (this.buf.length >= 8) {
      const fn = this.buf[1]!;
      const len = fn === 0x0f ? 9 + (this.buf[6] ?? 0) : 8;
      if (this.buf.length < len) return;
      const frame = this.buf.subarray(0, len);
      const crc = crc16(frame.subarray(0, len - 2));
      if (frame[len - 2] !== (crc & 0xff) || frame[len - 1] !== crc >>> 8) {
        this.buf = this.buf.subarray(1);
        continue;
      }
      this.buf = this.buf.subarray(len);
      if (frame[0] === this.address && !this.silent) this.answer(Buffer.from(frame));
    }
  }

  private reply(body: number[]): void {
    const out = withCrc(body);
    if (this.corruptNext > 0) {
      this.corruptNext--;
      out[out.length - 1] ^= 0xff;
    }
    this.send(out);
  }

  private setCoil(coil: number, on: boolean): void {
    this.coils[coil] = on;
    this.history.push([coil, on, this.now()]);
  }

  private answer(frame: Buffer): void {
    const fn = frame[1]!;
    const a = frame.readUInt16BE(2);
    const v = frame.readUInt16BE(4);
    const exception = () => this.reply([this.address, fn | 0x80, 0x02]);
    if (fn === 0x05) {
      if (a >= 0x0200 && a < 0x0200 + this.coils.length) {
        const coil = a - 0x0200;
        this.setCoil(coil, true);
        this.later(() => this.setCoil(coil, false), v * 100);
      } else if (a < this.coils.length && (v === 0xff00 || v === 0)) this.setCoil(a, v === 0xff00);
      else return exception();
      return this.reply([...frame.subarray(0, 6)]);
    }
    if (fn === 0x0f) {
      if (a + v > this.coils.length) return exception();
      unpackBits(frame.subarray(7, 7 + frame[6]!), v).forEach((on, i) => {
        if (this.coils[a + i] !== on) this.setCoil(a + i, on);
      });
      return this.reply([...frame.subarray(0, 6)]);
    }
    if (fn === 0x01 || fn === 0x02) {
      const src = fn === 0x01 ? this.coils : this.inputs;
      if (a + v > src.length) return exception();
      const bytes = packBits(src.slice(a, a + v));
      return this.reply([this.address, fn, bytes.length, ...bytes]);
    }
    exception();
  }
}
