// The locker map's lock boards as the serial driver needs them: one bus per port, each board with
// its protocol's frames, its channels in use and what its feedback bit means.
import { LockerMapError } from '../../locker-map/load.ts';
import { BOARD_LIMITS } from '../../locker-map/boards.ts';
import { onBoard, type LockBoardDef, type LockerMap } from '../../locker-map/schema.ts';
import { board8a80 } from './board-8a80.ts';
import { kerongCu12 } from './kerong-cu12.ts';
import { kerongCu16 } from './kerong-cu16.ts';
import { modbusBoard } from './modbus-board.ts';
import type { LockBoardProtocol } from './protocol.ts';
import type { SerialBankDef, SerialBoardDef } from './serial-board-bus.ts';

export const PROTOCOLS: Record<LockBoardDef['protocol'], LockBoardProtocol> = {
  'kr-cu16': kerongCu16,
  'kr-cu12': kerongCu12,
  '8a80': board8a80,
  modbus: modbusBoard({ timedPulse: false }),
  'modbus-timed': modbusBoard({ timedPulse: true }),
};

/**
 * What a set feedback bit means when the map does not say: Kerong's own specifications read 1 as
 * locked (the door shut), and a reed switch wired to a Modbus input closes it when the door shuts.
 * The 8A/80 boards' sources contradict each other outright, so their maps must say.
 */
const DEFAULT_FEEDBACK: Partial<Record<LockBoardDef['protocol'], 'set-when-closed'>> = {
  'kr-cu16': 'set-when-closed',
  'kr-cu12': 'set-when-closed',
  modbus: 'set-when-closed',
  'modbus-timed': 'set-when-closed',
};

/** The serial driver's part of the map, and the doors whose sensor is a GPIO line instead. */
export function serialBank(map: LockerMap): SerialBankDef & { gpioSensors: number[] } {
  const buses: SerialBankDef['buses'] = {};
  const boards: SerialBoardDef[] = map.boards.map((b, i) => {
    const feedback = b.feedback ?? DEFAULT_FEEDBACK[b.protocol];
    if (!feedback) {
      throw new LockerMapError(`boards.${i}.feedback`, `state what a set feedback bit means on this ${b.protocol} board ("set-when-closed" or "set-when-open"): its sources disagree`);
    }
    buses[b.port] ??= { path: b.port, baud: b.baud ?? BOARD_LIMITS[b.protocol].baud };
    const named = map.compartments.flatMap((c) => [c.lock, c.sensor]).filter((r) => onBoard(r) && r.board === b.id);
    const highest = Math.max(1, ...named.map((r) => (onBoard(r) ? r.channel : 0)));
    return { id: b.id, bus: b.port, address: b.address, protocol: PROTOCOLS[b.protocol], channels: b.channels ?? highest, closedBit: feedback === 'set-when-closed' };
  });
  const gpioSensors: number[] = [];
  const doors = map.compartments.map((c, i) => {
    if (!onBoard(c.lock)) throw new LockerMapError(`compartments.${i}.lock`, 'LOCKER_DOORS=serial drives locks on lock boards only: name a board and channel');
    // A reed switch on GPIO beside a board lock (a mixed cabinet): the GPIO driver reads that door.
    if (!onBoard(c.sensor)) gpioSensors.push(c.number);
    const sensor = onBoard(c.sensor) ? { board: c.sensor.board, channel: c.sensor.channel } : null;
    return { compartment: c.number, lock: { board: c.lock.board, channel: c.lock.channel }, sensor };
  });
  return { buses, boards, doors, gpioSensors };
}
