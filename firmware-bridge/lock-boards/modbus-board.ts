// Modbus RTU relay and input boards as lock boards: each lock a relay coil (channel n = coil n-1),
// each door sensor a discrete input (channel n = input n-1). Boards that time a pulse themselves
// (Waveshare's "flash on" at coil address 0x0200 + coil, the value in 100 ms units) are driven with
// that one command, so a pulse ends on time even if the controller dies mid-pulse; other boards
// get coil on, then coil off from the driver. A Modbus exception reply is the board refusing.
import {
  expectReply,
  FC_READ_INPUTS,
  parseReply,
  readBits,
  writeCoil,
  writeCoils,
  writeCoilValue,
  type ModbusReply,
} from './modbus-rtu.ts';
import type { Exchange, LockBoardProtocol } from './protocol.ts';

export class ModbusRefusedError extends Error {
  constructor(readonly code: number) {
    super(`the board refused the request (Modbus exception ${code})`);
  }
}

/** Waveshare's timed pulse: coil address base, and the unit of its value. */
export const FLASH_ON_BASE = 0x0200;
export const FLASH_UNIT_MS = 100;

function exchange<T>(frame: Buffer, pick: (r: ModbusReply) => T): Exchange<T> {
  const expect = expectReply(frame);
  return {
    frame,
    parse: (buf) => {
      const r = parseReply(buf, expect);
      if (r.status !== 'frame') return r;
      if (r.frame.kind === 'exception') throw new ModbusRefusedError(r.frame.code);
      return { status: 'frame', used: r.used, frame: pick(r.frame) };
    },
  };
}

export function modbusBoard(opts: { timedPulse: boolean }): LockBoardProtocol {
  return {
    name: opts.timedPulse ? 'modbus-timed' : 'modbus',
    defaultBaud: 9600,
    addresses: { min: 1, max: 247 },
    maxChannels: 32,
    pulse: opts.timedPulse ? 'board' : 'driver',
    unlock(address, channel, pulseMs) {
      const frame = opts.timedPulse
        ? writeCoilValue(address, FLASH_ON_BASE + channel - 1, Math.max(1, Math.round(pulseMs / FLASH_UNIT_MS)))
        : writeCoil(address, channel - 1, true);
      return exchange(frame, () => ({ ok: true }));
    },
    lockOff(address, channel) {
      return exchange(writeCoil(address, channel - 1, false), () => ({ ok: true }));
    },
    allOff(address, channels) {
      return exchange(writeCoils(address, 0, new Array<boolean>(channels).fill(false)), () => ({ ok: true }));
    },
    readFeedback(address, channels) {
      return exchange(readBits(address, FC_READ_INPUTS, 0, channels), (r) => (r.kind === 'bits' ? r.bits : []));
    },
  };
}
