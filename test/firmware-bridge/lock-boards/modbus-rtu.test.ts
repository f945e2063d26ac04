import { describe, expect, it } from 'vitest';
import {
  crc16,
  expectReply,
  FC_READ_INPUTS,
  packBits,
  parseReply,
  readBits,
  unpackBits,
  withCrc,
  writeCoil,
  writeCoils,
  writeCoilValue,
} from '../../../firmware-bridge/lock-boards/modbus-rtu.ts';

const hex = (b: Buffer) => b.toString('hex').replace(/(..)/g, '$1 ').trim();
const bytes = (s: string) => Buffer.from(s.replace(/ /g, ''), 'hex');

describe('Modbus RTU frames', () => {
  it('switches coil 0 of board 1 on and off with the CRC low byte first', () => {
    expect(hex(writeCoil(1, 0, true))).toBe('01 05 00 00 ff 00 8c 3a');
    expect(hex(writeCoil(1, 0, false))).toBe('01 05 00 00 00 00 cd ca');
  });

  it('reads 8 relays and 8 inputs', () => {
    expect(hex(readBits(1, 0x01, 0, 8))).toBe('01 01 00 00 00 08 3d cc');
    expect(hex(readBits(1, FC_READ_INPUTS, 0, 8))).toBe('01 02 00 00 00 08 79 cc');
  });

  it('asks a board for its own timed pulse with a raw value on a coil address of its own', () => {
    // Waveshare's "flash on" of relay 0 for 7 × 100 ms, as its documentation gives it.
    const f = writeCoilValue(1, 0x0200, 7);
    expect(hex(f)).toBe('01 05 02 00 00 07 8d b0');
    expect(crc16(f.subarray(0, 6))).toBe(f[6]! | (f[7]! << 8));
  });

  it('packs coils LSB first, coil 0 in bit 0', () => {
    expect(packBits([true, false, true, false, false, false, false, false, true])).toEqual([0x05, 0x01]);
    expect(unpackBits(Uint8Array.from([0x05, 0x01]), 9)).toEqual([true, false, true, false, false, false, false, false, true]);
    expect(hex(writeCoils(1, 0, new Array(8).fill(false)).subarray(0, 8))).toBe('01 0f 00 00 00 08 01 00');
  });

  it('refuses an address no board can have', () => {
    expect(() => writeCoil(0, 0, true)).toThrow(/1-247/);
    expect(() => writeCoil(248, 0, true)).toThrow(/1-247/);
  });
});

describe('reading a Modbus reply', () => {
  it('reads the inputs a board reports, bit by bit', () => {
    const req = readBits(3, FC_READ_INPUTS, 0, 16);
    const reply = withCrc([3, 2, 2, 0b0000_0101, 0b1000_0000]);
    const r = parseReply(reply, expectReply(req));
    expect(r).toMatchObject({ status: 'frame', used: 7, frame: { kind: 'bits' } });
    const bits = r.status === 'frame' && r.frame.kind === 'bits' ? r.frame.bits : [];
    expect(bits.map((b, i) => (b ? i : -1)).filter((i) => i >= 0)).toEqual([0, 2, 15]);
  });

  it('waits for the rest of a reply that arrives in pieces', () => {
    const req = writeCoil(1, 3, true);
    expect(parseReply(req.subarray(0, 5), expectReply(req))).toEqual({ status: 'incomplete' });
    expect(parseReply(req, expectReply(req))).toMatchObject({ status: 'frame', used: 8, frame: { kind: 'written' } });
  });

  it('rejects a reply with a bad CRC, and one from another board', () => {
    const req = writeCoil(1, 3, true);
    const bad = Buffer.from(req);
    bad[7] ^= 0xff;
    expect(parseReply(bad, expectReply(req))).toMatchObject({ status: 'bad', reason: 'bad CRC' });
    expect(parseReply(writeCoil(2, 3, true), expectReply(req))).toMatchObject({ status: 'bad' });
  });

  it('reads an exception reply as the board refusing, not as success', () => {
    const req = writeCoil(1, 40, true);
    expect(parseReply(withCrc([1, 0x85, 0x02]), expectReply(req))).toMatchObject({ status: 'frame', frame: { kind: 'exception', code: 2 } });
  });

  it('rejects a write reply that does not echo the request', () => {
    const req = writeCoil(1, 3, true);
    expect(parseReply(writeCoil(1, 4, true), expectReply(req))).toMatchObject({ status: 'bad', reason: 'reply does not echo the request' });
  });

  it('parses a reply given as bytes from a capture', () => {
    expect(parseReply(bytes('01 01 01 00 51 88'), expectReply(readBits(1, 1, 0, 8)))).toMatchObject({ status: 'frame', frame: { bits: new Array(8).fill(false) } });
  });
});
