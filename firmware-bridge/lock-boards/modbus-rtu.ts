// Modbus RTU frames for relay and input boards (Waveshare "Modbus RTU Relay" and its clones):
// function 05 on one coil, 0F on many, 01 to read the relays, 02 to read the inputs. A frame is
// address, function, data, then CRC-16 (polynomial 0xA001 reflected, initial 0xFFFF) LOW byte
// first. RS485 is half duplex and a reply's length depends on the request, so a reply is read
// against the request that is waiting for it (`expectReply`), never guessed from the bytes alone.

export const FC_READ_COILS = 0x01;
export const FC_READ_INPUTS = 0x02;
export const FC_WRITE_COIL = 0x05;
export const FC_WRITE_COILS = 0x0f;

/** FF00 switches a coil on, 0000 off; any other value is refused by a conforming board. */
export const COIL_ON = 0xff00;
export const COIL_OFF = 0x0000;

/** Broadcast (address 0) gets no reply; boards answer 1–247. */
export const MAX_ADDRESS = 247;

export function crc16(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const b of bytes) {
    crc ^= b;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

/** `body` with its CRC appended, low byte first. */
export function withCrc(body: number[]): Buffer {
  const crc = crc16(Uint8Array.from(body));
  return Buffer.from([...body, crc & 0xff, crc >>> 8]);
}

function checkAddress(address: number): void {
  if (!Number.isInteger(address) || address < 1 || address > MAX_ADDRESS) throw new RangeError(`Modbus address must be 1-${MAX_ADDRESS}, got ${address}`);
}

function word(n: number): number[] {
  return [(n >>> 8) & 0xff, n & 0xff];
}

export function writeCoil(address: number, coil: number, on: boolean): Buffer {
  checkAddress(address);
  return withCrc([address, FC_WRITE_COIL, ...word(coil), ...word(on ? COIL_ON : COIL_OFF)]);
}

/**
 * Function 05 with a raw value: boards with a timed pulse take it on a coil address of their own
 * (Waveshare: 0x0200 + channel, the value the pulse length in 100 ms units), so the board, not this
 * process, ends the pulse.
 */
export function writeCoilValue(address: number, coil: number, value: number): Buffer {
  checkAddress(address);
  return withCrc([address, FC_WRITE_COIL, ...word(coil), ...word(value)]);
}

/** Function 0F: `states[i]` for coil `first + i`, packed LSB first (coil `first` is bit 0 of byte 0). */
export function writeCoils(address: number, first: number, states: boolean[]): Buffer {
  checkAddress(address);
  if (states.length < 1 || states.length > 1968) throw new RangeError(`write 1-1968 coils, got ${states.length}`);
  const bytes = packBits(states);
  return withCrc([address, FC_WRITE_COILS, ...word(first), ...word(states.length), bytes.length, ...bytes]);
}

export function readBits(address: number, fn: typeof FC_READ_COILS | typeof FC_READ_INPUTS, first: number, count: number): Buffer {
  checkAddress(address);
  if (count < 1 || count > 2000) throw new RangeError(`read 1-2000 bits, got ${count}`);
  return withCrc([address, fn, ...word(first), ...word(count)]);
}

export function packBits(states: boolean[]): number[] {
  const out = new Array<number>(Math.ceil(states.length / 8)).fill(0);
  states.forEach((s, i) => {
    if (s) out[i >> 3]! |= 1 << (i & 7);
  });
  return out;
}

export function unpackBits(bytes: Uint8Array, count: number): boolean[] {
  return Array.from({ length: count }, (_, i) => ((bytes[i >> 3] ?? 0) >> (i & 7)) & 1 ? true : false);
}

export type ModbusReply =
  | { kind: 'bits'; address: number; fn: number; bits: boolean[] }
  | { kind: 'written'; address: number; fn: number }
  | { kind: 'exception'; address: number; fn: number; code: number };

/** What a request waits for: who must answer, with which function, and how many bits if it reads. */
export interface Expectation {
  address: number;
  fn: number;
  /** For 01/02: how many bits were asked for. */
  count?: number;
  /** For 05/0F: the request itself, which the reply echoes (05 whole, 0F its first 6 bytes). */
  request?: Buffer;
}

export function expectReply(request: Buffer): Expectation {
  const address = request[0]!;
  const fn = request[1]!;
  if (fn === FC_READ_COILS || fn === FC_READ_INPUTS) return { address, fn, count: request.readUInt16BE(4) };
  return { address, fn, request };
}

export type ParseResult<T> =
  | { status: 'frame'; frame: T; used: number }
  /** Not enough bytes yet. */
  | { status: 'incomplete' }
  /** Bytes that cannot be the reply: drop `used` of them (noise, a bad checksum, another board). */
  | { status: 'bad'; used: number; reason: string };

/** Reads the reply `expect` waits for from the front of `buf`. */
export function parseReply(buf: Buffer, expect: Expectation): ParseResult<ModbusReply> {
  if (buf.length < 2) return { status: 'incomplete' };
  if (buf[0] !== expect.address) return { status: 'bad', used: 1, reason: `reply from address ${buf[0]}, expected ${expect.address}` };
  const fn = buf[1]!;
  let length: number;
  if (fn === (expect.fn | 0x80)) length = 5;
  else if (fn !== expect.fn) return { status: 'bad', used: 1, reason: `function 0x${fn.toString(16)}, expected 0x${expect.fn.toString(16)}` };
  else if (fn === FC_READ_COILS || fn === FC_READ_INPUTS) {
    if (buf.length < 3) return { status: 'incomplete' };
    const want = Math.ceil((expect.count ?? 0) / 8);
    if (buf[2] !== want) return { status: 'bad', used: 1, reason: `byte count ${buf[2]}, expected ${want}` };
    length = 3 + want + 2;
  } else length = 8;
  if (buf.length < length) return { status: 'incomplete' };
  const frame = buf.subarray(0, length);
  const crc = crc16(frame.subarray(0, length - 2));
  if (frame[length - 2] !== (crc & 0xff) || frame[length - 1] !== crc >>> 8) return { status: 'bad', used: 1, reason: 'bad CRC' };
  if (fn & 0x80) return { status: 'frame', used: length, frame: { kind: 'exception', address: expect.address, fn: expect.fn, code: frame[2]! } };
  if (fn === FC_READ_COILS || fn === FC_READ_INPUTS) {
    return { status: 'frame', used: length, frame: { kind: 'bits', address: expect.address, fn, bits: unpackBits(frame.subarray(3, 3 + frame[2]!), expect.count ?? 0) } };
  }
  const echo = expect.request?.subarray(0, 6);
  if (echo && !frame.subarray(0, 6).equals(echo)) return { status: 'bad', used: 1, reason: 'reply does not echo the request' };
  return { status: 'frame', used: length, frame: { kind: 'written', address: expect.address, fn } };
}
