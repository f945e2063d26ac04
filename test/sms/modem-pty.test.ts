// The modem channel through the real serial bindings, on a pseudo-terminal pair made by socat:
// what the locker opens is a real tty, and the simulated SIM7600 sits on the other end.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { SerialPort } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { timerScheduler } from '../../server/domain/ports.ts';
import { ModemSmsChannel } from '../../server/sms/modem-channel.ts';
import { buildSubmitPdus } from '../../server/sms/pdu.ts';
import { NO_TEMPLATES, renderSms } from '../../server/sms/templates.ts';
import { tempDir } from '../helpers/locker.ts';
import { until } from './manual-time.ts';
import { expectedUcs2, LONG_VI } from './pdu-fixtures.ts';
import { Sim7600 } from './sim7600.ts';

const hasSocat = spawnSync('socat', ['-V']).status === 0;

let socat: ChildProcess | null = null;
let simPort: SerialPort | null = null;
let ch: ModemSmsChannel | null = null;
afterEach(async () => {
  await ch?.close();
  if (simPort?.isOpen) await new Promise((r) => simPort!.close(r));
  socat?.kill();
  ch = simPort = socat = null;
});

describe.skipIf(!hasSocat)('modem channel on a pseudo-terminal (real serial bindings)', () => {
  it('sets the modem up, sends a concatenated UCS-2 message and a default GSM-7 pickup text in one part through a real tty', async () => {
    const dir = tempDir();
    const [locker, modem] = [join(dir, 'ttyLOCKER'), join(dir, 'ttyMODEM')];
    socat = spawn('socat', [`pty,raw,echo=0,link=${locker}`, `pty,raw,echo=0,link=${modem}`], { stdio: 'ignore' });
    await until(() => existsSync(locker) && existsSync(modem), 'the pseudo-terminals');

    const sim = new Sim7600();
    simPort = new SerialPort({ path: modem, baudRate: 115200 });
    await new Promise<void>((resolve, reject) => simPort!.once('open', resolve).once('error', reject));
    simPort.on('data', sim.connectStream(simPort));

    ch = new ModemSmsChannel({ device: locker, baudRate: 115200, scheduler: timerScheduler, log: pino({ level: 'silent' }), reopenMs: [200] });
    ch.start();
    await until(() => ch!.available(), 'modem ready', 10_000);
    const result = await ch.send({ to: '0912345678', text: LONG_VI }, { id: 'pty', ref: 5, handover: () => undefined });
    expect(sim.pdus.map((p) => p.hex)).toEqual(expectedUcs2(LONG_VI, 5));
    expect(result).toEqual({ refs: ['1', '2', '3'] });
    expect(ch.health()).toMatchObject({ state: 'ok', registration: 'home', operator: 'Viettel' });

    // A pickup text as the locker composes it by default (GSM-7) goes through the tty as ONE part.
    const text = renderSms('code', { dossier: 'H29.12-251123-0001', code: '042917', deadline: Date.now() }, {
      encoding: 'gsm7',
      templates: NO_TEMPLATES,
      location: '',
      office: { hotline: '024 3825 3536', hours: null },
      dossierTail: 6,
    });
    const one = await ch.send({ to: '0912345678', text }, { id: 'pty-2', ref: 6, handover: () => undefined });
    expect(one).toEqual({ refs: ['4'] });
    expect(sim.pdus).toHaveLength(4);
    expect(sim.pdus[3].hex.slice(24, 26)).toBe('00'); // DCS: GSM-7
    expect(sim.pdus[3].hex).toBe(buildSubmitPdus({ to: '0912345678', text, ref: 6, statusReport: true }).parts[0].hex);
  });
});
