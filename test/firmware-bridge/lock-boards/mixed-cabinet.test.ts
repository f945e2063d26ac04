// A mixed cabinet through createDoorBus('serial'): both locks on a KR-CU16 board (a stand-in on a
// pseudo-terminal), door 1 read by the board, door 2 by a reed switch on the Pi header (BCM 5)
// read through stand-in gpiod tools. The domain sees one bus: the board's door and the GPIO door
// each report their own events, the lock is always the board's, and no GPIO line is driven.
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { SerialPort } from 'serialport';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DoorBus, DoorEvent } from '../../../firmware-bridge/door-bus.ts';
import { createDoorBus } from '../../../firmware-bridge/index.ts';
import { parseLockerMap } from '../../../locker-map/load.ts';
import { tempDir } from '../../helpers/locker.ts';
import { hasSocat, ptyPair, until } from '../../helpers/pty-pair.ts';
import { installStandins } from '../gpiod-standins.ts';
import { PI4, buildSysfs } from '../sysfs-fixture.ts';
import { KerongCu16StandIn } from './kerong-standin.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe.skipIf(!hasSocat)('a mixed cabinet: locks on a lock board, one door sensor on GPIO', () => {
  it('reads each door where the map says, pulses both locks on the board, and drives no GPIO line', async () => {
    const pair = await ptyPair(tempDir(), ['ttyRS485', 'ttyBOARD']);
    cleanups.push(() => pair.socat.kill());
    const wire = new SerialPort({ path: pair.b, baudRate: 19200 });
    await new Promise<void>((resolve, reject) => wire.once('open', resolve).once('error', reject));
    cleanups.push(() => new Promise((r) => wire.close(r)));
    const board = new KerongCu16StandIn([0], (reply) => wire.write(reply));
    wire.on('data', (d: Buffer) => board.feed(d));

    const tools = installStandins('2.1.3');
    const root = buildSysfs(PI4, { legacy: false });
    cleanups.push(() => {
      tools.cleanup();
      rmSync(root, { recursive: true, force: true });
    });
    tools.setInput('gpiochip0', 5, 0);

    const map = parseLockerMap({
      version: 1,
      name: 'mixed',
      location: 'Một cửa',
      locks: { pulseMs: 100, gapMs: 10 },
      boards: [{ id: 'cu0', protocol: 'kr-cu16', port: pair.a, address: 0 }],
      compartments: [
        { number: 1, size: 'S', column: 1, row: 1, lock: { board: 'cu0', channel: 1 }, sensor: { board: 'cu0', channel: 1 } },
        { number: 2, size: 'S', column: 1, row: 2, lock: { board: 'cu0', channel: 2 }, sensor: { chip: 'header', offset: 5, pull: 'up', closedLevel: 'low' } },
      ],
    });
    const bus: DoorBus = await createDoorBus('serial', map, { sysfsRoot: root, env: tools.env, settleMs: 40, debounceMs: 10, pollMs: 30 });
    cleanups.push(() => bus.stop());
    const events: DoorEvent[] = [];
    bus.onEvent((e) => events.push(e));
    await bus.start();
    expect([bus.driver, bus.doorState(1), bus.doorState(2)]).toEqual(['serial', 'closed', 'closed']);
    await vi.waitFor(() => expect(tools.gpiomonPid('gpiochip0')).not.toBeNull());

    await bus.unlock(2);
    await until(() => board.unlocks.length === 1, 'the release on the board');
    expect(board.unlocks[0]!.slice(0, 2)).toEqual([0, 2]);
    tools.edge('gpiochip0', 5, 'rising');
    await until(() => events.some((e) => e.kind === 'opened' && e.compartment === 2), 'door 2 seen open on GPIO');
    tools.edge('gpiochip0', 5, 'falling');
    await until(() => events.some((e) => e.kind === 'closed' && e.compartment === 2), 'door 2 seen shut');

    await bus.unlock(1);
    await until(() => board.unlocks.length === 2, 'the second release');
    board.open(0, 1);
    await until(() => events.some((e) => e.kind === 'opened' && e.compartment === 1), 'door 1 seen open on the board');
    board.shutDoor(0, 1);
    await until(() => events.some((e) => e.kind === 'closed' && e.compartment === 1), 'door 1 seen shut');

    expect(events.map((e) => `${e.kind} ${e.compartment}`)).toEqual(['opened 2', 'closed 2', 'opened 1', 'closed 1']);
    // The GPIO driver only read: no gpioset ever ran.
    expect(tools.calls('gpioset')).toEqual([]);
  }, 20_000);
});
