// The serial lock-board driver through the real serial bindings, on a pseudo-terminal pair made by
// socat: the driver opens a real tty, and a stand-in Modbus relay board answers on the other end.
import type { ChildProcess } from 'node:child_process';
import { SerialPort } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import type { DoorEvent } from '../../../firmware-bridge/door-bus.ts';
import { modbusBoard } from '../../../firmware-bridge/lock-boards/modbus-board.ts';
import { SerialBoardDoorBus } from '../../../firmware-bridge/lock-boards/serial-board-bus.ts';
import { openSerialPort } from '../../../firmware-bridge/lock-boards/serial-port.ts';
import { tempDir } from '../../helpers/locker.ts';
import { hasSocat, ptyPair, until } from '../../helpers/pty-pair.ts';
import { ModbusBoardStandIn } from './modbus-standin.ts';



let socat: ChildProcess | null = null;
let boardPort: SerialPort | null = null;
let bus: SerialBoardDoorBus | null = null;
afterEach(async () => {
  await bus?.stop();
  if (boardPort?.isOpen) await new Promise((r) => boardPort!.close(r));
  socat?.kill();
  bus = boardPort = socat = null;
});

describe.skipIf(!hasSocat)('serial lock boards on a pseudo-terminal (real serial bindings)', () => {
  it('pulses a lock the board times itself and reports the door opened and shut, over a real tty', async () => {
    const pair = await ptyPair(tempDir(), ['ttyLOCKER', 'ttyBOARD']);
    socat = pair.socat;
    const [locker, cabinet] = [pair.a, pair.b];

    boardPort = new SerialPort({ path: cabinet, baudRate: 9600 });
    await new Promise<void>((resolve, reject) => boardPort!.once('open', resolve).once('error', reject));
    const board = new ModbusBoardStandIn(1, 8, (reply) => boardPort!.write(reply));
    board.inputs.fill(true);
    boardPort.on('data', (d: Buffer) => board.feed(d));

    bus = new SerialBoardDoorBus(
      {
        buses: { rs485: { path: locker, baud: 9600 } },
        boards: [{ id: 'b1', bus: 'rs485', address: 1, protocol: modbusBoard({ timedPulse: true }), channels: 8, closedBit: true }],
        doors: [{ compartment: 4, lock: { board: 'b1', channel: 4 }, sensor: { board: 'b1', channel: 4 } }],
      },
      { timing: { pulseMs: 300, gapMs: 50 }, openPort: openSerialPort, pollMs: 50, transport: { timeoutMs: 200, retries: 2, gapMs: 5 } },
    );
    const events: DoorEvent[] = [];
    bus.onEvent((e) => events.push(e));
    await bus.start();
    expect(bus.doorState(4)).toBe('closed');

    await bus.unlock(4);
    await until(() => board.history.length === 2, 'the board to end its pulse');
    expect(board.history.map(([coil, on]) => [coil, on])).toEqual([[3, true], [3, false]]);
    expect(board.history[1]![2] - board.history[0]![2]).toBeGreaterThanOrEqual(290);

    board.inputs[3] = false;
    await until(() => events.some((e) => e.kind === 'opened'), 'the door opened');
    board.inputs[3] = true;
    await until(() => events.some((e) => e.kind === 'closed'), 'the door shut');
    expect(events.map((e) => [e.kind, e.compartment])).toEqual([['opened', 4], ['closed', 4]]);
  });
});
