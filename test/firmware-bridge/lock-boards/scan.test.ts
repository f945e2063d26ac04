// `locker hw scan` on a real pseudo-terminal: two stand-in KR-CU16 boards and a Modbus input board
// with 8 inputs share the wire. The scan finds each at its address, releases nothing, tells the
// feedback polarity from doors all shut, and prints a map skeleton the map check accepts.
import type { ChildProcess } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { SerialPort } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { parseLockerMap } from '../../../locker-map/load.ts';
import { runHwCli } from '../../../server/cli/hw.ts';
import { tempDir } from '../../helpers/locker.ts';
import { hasSocat, ptyPair } from '../../helpers/pty-pair.ts';
import { KerongCu16StandIn } from './kerong-standin.ts';
import { ModbusBoardStandIn } from './modbus-standin.ts';

let socat: ChildProcess | null = null;
let wire: SerialPort | null = null;
afterEach(async () => {
  if (wire?.isOpen) await new Promise((r) => wire!.close(r));
  socat?.kill();
  socat = wire = null;
});

function io() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  return { io: { stdin: new PassThrough(), stdout, stderr }, out: () => out, err: () => err };
}

describe.skipIf(!hasSocat)('locker hw scan', () => {
  it('finds every board on the bus by protocol and address, opens nothing, and prints a map the check accepts', async () => {
    const pair = await ptyPair(tempDir(), ['ttyRS485', 'ttyWIRE']);
    socat = pair.socat;
    wire = new SerialPort({ path: pair.b, baudRate: 19200 });
    await new Promise<void>((resolve, reject) => wire!.once('open', resolve).once('error', reject));
    const kerong = new KerongCu16StandIn([0, 3], (reply) => wire!.write(reply));
    const modbus = new ModbusBoardStandIn(5, 8, (reply) => wire!.write(reply));
    modbus.inputs.fill(true);
    wire.on('data', (d: Buffer) => {
      kerong.feed(d);
      modbus.feed(d);
    });

    const o = io();
    const code = await runHwCli(['scan', '--port', pair.a, '--protocol', 'kr-cu16,modbus', '--timeout', '25'], o.io, {});
    expect([code, o.err()]).toEqual([0, '']);
    expect(o.out()).toContain('Found kr-cu16 board at address 0, 19200 baud: feedback 1111111111111111 (if every door is shut: set-when-closed)');
    expect(o.out()).toContain('Found kr-cu16 board at address 3');
    expect(o.out()).toContain('Found modbus board at address 5, 9600 baud: feedback 11111111');
    expect(kerong.unlocks).toEqual([]);
    expect(modbus.history).toEqual([]);

    // Each family at its factory speed: a real bus cannot carry both, and the scan says so.
    expect(o.out()).toContain('Boards answered at 19200 and 9600 baud: one bus runs at one speed');
    expect(() => parseLockerMap(JSON.parse(o.out().slice(o.out().indexOf('{'))))).toThrow(/one speed per bus/);

    const one = io();
    expect(await runHwCli(['scan', '--port', pair.a, '--protocol', 'kr-cu16,modbus', '--baud', '19200', '--timeout', '25'], one.io, {})).toBe(0);
    const map = parseLockerMap(JSON.parse(one.out().slice(one.out().indexOf('{'))));
    expect(map.boards.map((b) => [b.protocol, b.address, b.baud, b.channels, b.feedback])).toEqual([
      ['kr-cu16', 0, undefined, 16, 'set-when-closed'],
      ['kr-cu16', 3, undefined, 16, 'set-when-closed'],
      ['modbus', 5, 19200, 8, 'set-when-closed'],
    ]);
    expect(map.compartments).toHaveLength(40);
  }, 60_000);

  it('says what to check when nothing answers, and refuses bad options before touching the port', async () => {
    const pair = await ptyPair(tempDir(), ['ttyRS485', 'ttyWIRE']);
    socat = pair.socat;
    const silent = io();
    expect(await runHwCli(['scan', '--port', pair.a, '--protocol', 'kr-cu16', '--timeout', '20'], silent.io, {})).toBe(2);
    expect(silent.out()).toContain('No board answered. Check A/B');
    for (const args of [['scan'], ['scan', '--port', pair.a, '--protocol', 'kr-cu99'], ['scan', '--port', pair.a, '--baud', '7']]) {
      const o = io();
      expect(await runHwCli(args, o.io, {})).toBe(1);
      expect(o.err()).toMatch(/^locker: /);
    }
  });
});
