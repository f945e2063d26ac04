// Checks of the map's RS485 lock boards: ids and bus addresses unique, addresses and channels
// within what the board's family allows, every board channel used once as a lock and once as a
// sensor at most, and every reference naming a declared board. The families' limits are here
// (the map imports nothing of the bridge); firmware-bridge/lock-boards holds their frames.
import { onBoard, type LockBoardDef, type LockerMap } from './schema.ts';

type Fail = (field: string, message: string) => Error;

export const BOARD_LIMITS: Record<LockBoardDef['protocol'], { minAddress: number; maxAddress: number; channels: number; baud: number }> = {
  'kr-cu16': { minAddress: 0, maxAddress: 9, channels: 16, baud: 19200 },
  'kr-cu12': { minAddress: 0, maxAddress: 15, channels: 12, baud: 19200 },
  '8a80': { minAddress: 1, maxAddress: 31, channels: 32, baud: 9600 },
  modbus: { minAddress: 1, maxAddress: 247, channels: 32, baud: 9600 },
  'modbus-timed': { minAddress: 1, maxAddress: 247, channels: 32, baud: 9600 },
};

export function checkBoards(map: LockerMap, fail: Fail): void {
  const boards = new Map<string, LockBoardDef>();
  const onBus = new Map<string, string>();
  const speeds = new Map<string, number>();
  map.boards.forEach((b, i) => {
    const limits = BOARD_LIMITS[b.protocol];
    if (boards.has(b.id)) throw fail(`boards.${i}.id`, `duplicate board id "${b.id}"`);
    if (b.address < limits.minAddress || b.address > limits.maxAddress) {
      throw fail(`boards.${i}.address`, `a ${b.protocol} board has addresses ${limits.minAddress}-${limits.maxAddress}, got ${b.address}`);
    }
    const key = `${b.port}#${b.address}`;
    const other = onBus.get(key);
    if (other) throw fail(`boards.${i}.address`, `board "${other}" has address ${b.address} on ${b.port} already`);
    const baud = b.baud ?? limits.baud;
    const speed = speeds.get(b.port);
    if (speed !== undefined && speed !== baud) throw fail(`boards.${i}.baud`, `${b.port} runs at ${speed} for the boards before it: one speed per bus`);
    if (b.channels !== undefined && b.channels > limits.channels) throw fail(`boards.${i}.channels`, `a ${b.protocol} board has ${limits.channels} channels, got ${b.channels}`);
    speeds.set(b.port, baud);
    onBus.set(key, b.id);
    boards.set(b.id, b);
  });

  const used = new Map<string, string>();
  map.compartments.forEach((c, i) => {
    for (const kind of ['lock', 'sensor'] as const) {
      const ref = c[kind];
      if (!onBoard(ref)) continue;
      const field = `compartments.${i}.${kind}`;
      const board = boards.get(ref.board);
      if (!board) throw fail(`${field}.board`, `unknown board "${ref.board}" (declare it under boards)`);
      const max = board.channels ?? BOARD_LIMITS[board.protocol].channels;
      if (ref.channel > max) throw fail(`${field}.channel`, `board "${board.id}" has channels 1-${max}, got ${ref.channel}`);
      const key = `${kind}:${board.id}:${ref.channel}`;
      const other = used.get(key);
      if (other) throw fail(field, `channel ${ref.channel} of board "${board.id}" is already the ${kind} of compartment ${other}`);
      used.set(key, String(c.number));
    }
  });
}
