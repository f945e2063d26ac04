import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SmsSendError } from '../../server/sms/http-channel.ts';
import { stripDiacritics } from '../../server/sms/messages.ts';
import { ModemSmsChannel } from '../../server/sms/modem-channel.ts';
import { ManualScheduler, settle, until } from './manual-time.ts';
import { expectedGsm7, expectedUcs2, LONG_VI } from './pdu-fixtures.ts';
import { Sim7600 } from './sim7600.ts';

const TO = '0912345678';

let ch: ModemSmsChannel | null = null;
afterEach(async () => {
  await ch?.close();
  ch = null;
});

async function ready(sim: Sim7600, extra: Partial<ConstructorParameters<typeof ModemSmsChannel>[0]> = {}, isReady = () => ch!.available()) {
  const sched = new ManualScheduler();
  ch = new ModemSmsChannel({ device: sim.device, baudRate: 115200, scheduler: sched, log: pino({ level: 'silent' }), binding: sim.binding, ...extra });
  ch.start();
  await sched.advance(0);
  await until(isReady, 'modem ready');
  return { ch, sched };
}

function context(ref: number) {
  const handovers: number[] = [];
  return { handovers, ctx: { id: 'locker-1-1', ref, handover: () => handovers.push(0) } };
}

describe('modem channel (simulated SIM7600)', () => {
  it('initialises the modem one command at a time: echo off, numeric errors, PDU mode, status reports', async () => {
    const sim = new Sim7600();
    await ready(sim);
    expect(sim.commands.slice(0, 5)).toEqual(['AT', 'ATE0', 'AT+CMEE=1', 'AT+CMGF=0', 'AT+CNMI=2,1,0,1,0']);
    expect(sim.commands).toEqual(expect.arrayContaining(['AT+CPIN?', 'AT+CEREG?', 'AT+CSQ']));
    expect(ch!.health()).toMatchObject({ state: 'ok', sim: 'ready', registration: 'home', signal: { rssi: 20, dbm: -73 }, operator: 'Viettel', deliveryReports: true });
  });

  it('sends a long Vietnamese text as concatenated UCS-2 parts, byte for byte as TS 23.040 lays them out', async () => {
    const sim = new Sim7600();
    const { ch } = await ready(sim);
    const seenAtHandover: number[] = [];
    const result = await ch.send({ to: TO, text: LONG_VI }, { id: 'x', ref: 0x2a, handover: () => seenAtHandover.push(sim.pdus.length) });

    const expected = expectedUcs2(LONG_VI, 0x2a);
    expect(expected).toHaveLength(3);
    expect(sim.pdus.map((p) => p.hex)).toEqual(expected);
    // AT+CMGS counts the TPDU octets only, not the "00" service-centre octet.
    expect(sim.pdus.map((p) => p.length)).toEqual(expected.map((h) => h.length / 2 - 1));
    expect(sim.commands.filter((c) => c.startsWith('AT+CMGS='))).toEqual(expected.map((h) => `AT+CMGS=${h.length / 2 - 1}`));
    // The point of no return is announced once, before the first part is written.
    expect(seenAtHandover).toEqual([0]);
    expect(result).toEqual({ refs: ['1', '2', '3'] });
  });

  it('encodes a short Vietnamese text exactly as the hand-built fixture', async () => {
    const sim = new Sim7600();
    const { ch } = await ready(sim);
    await ch.send({ to: '+84912345678', text: 'Mã nhận: 042917' }, context(1).ctx);
    expect(sim.pdus[0].hex).toBe(
      '00' + // SMSC from the SIM
        '31' + // SMS-SUBMIT, VPF relative, status report requested, no UDH
        '00' + // TP-MR
        '0B914819325476F8' + // +84912345678
        '00' + // TP-PID
        '08' + // UCS-2
        'A7' + // 24 hours
        '1E' + // 15 characters = 30 octets
        '004D00E30020006E00681EAD006E003A0020003000340032003900310037', // M ã ␠ n h ậ n : ␠ 0 4 2 9 1 7
    );
    expect(sim.pdus[0].length).toBe(44); // FO, MR, 8 address octets, PID, DCS, VP, UDL and 30 octets of text
  });

  it('sends text without diacritics as GSM-7 septets, in one part or concatenated with a fill bit', async () => {
    const sim = new Sim7600();
    const { ch } = await ready(sim);
    await ch.send({ to: TO, text: 'hellohello' }, context(1).ctx);
    // The textbook example: "hellohello" packs to E8 32 9B FD 46 97 D9 EC 37.
    expect(sim.pdus[0].hex).toBe(`0031000B914819325476F80000A70AE8329BFD4697D9EC37`);

    const plain = stripDiacritics(LONG_VI);
    expect(plain.length).toBeGreaterThan(160);
    await ch.send({ to: TO, text: plain }, context(7).ctx);
    const expected = expectedGsm7(plain, 7);
    expect(expected).toHaveLength(2);
    expect(sim.pdus.slice(1).map((p) => p.hex)).toEqual(expected);
  });

  it('fails a send the modem answers with ERROR, hands nothing over when refused at the prompt, and stays usable', async () => {
    const sim = new Sim7600();
    const { ch } = await ready(sim);
    sim.errors.set('AT+CMGS', '+CMS ERROR: 302');
    const refused = context(1);
    const err = await ch.send({ to: TO, text: 'xin chao' }, refused.ctx).catch((e: Error) => e);
    expect(err).toBeInstanceOf(SmsSendError);
    expect((err as Error).message).toContain('+CMS ERROR: 302');
    expect((err as Error).message).not.toContain('912345678');
    expect(refused.handovers).toEqual([]);

    sim.errors.clear();
    sim.pduError = '+CMS ERROR: 500';
    const rejected = context(2);
    await expect(ch.send({ to: TO, text: 'xin chao' }, rejected.ctx)).rejects.toThrow(/CMS ERROR: 500/);
    expect(rejected.handovers).toHaveLength(1);

    sim.pduError = null;
    await expect(ch.send({ to: TO, text: 'xin chao' }, context(3).ctx)).resolves.toEqual({ refs: ['1'] });
    expect(ch.available()).toBe(true);
  });

  it('gives up on a modem that stops answering, reopens it, and sends again once it answers', async () => {
    const sim = new Sim7600();
    const { ch, sched } = await ready(sim, { promptTimeoutMs: 10_000, commandTimeoutMs: 5_000, reopenMs: [1_000] });
    sim.deaf = true;
    const first = ch.send({ to: TO, text: 'xin chao' }, context(1).ctx).catch((e: Error) => e);
    await sched.advance(9_999);
    expect(await Promise.race([first, Promise.resolve('pending')])).toBe('pending');
    await sched.advance(1);
    const err = await first;
    expect(err).toBeInstanceOf(SmsSendError);
    expect((err as Error).message).toMatch(/no answer within 10000 ms/);

    // The next command first cancels a prompt the modem may still be sitting at; the second silence reopens the port.
    const second = ch.send({ to: TO, text: 'xin chao' }, context(2).ctx).catch((e: Error) => e);
    await sched.advance(10_000);
    expect(await second).toBeInstanceOf(SmsSendError);
    expect(sim.escapes).toBeGreaterThan(0);
    await settle();
    expect(ch.available()).toBe(false);
    expect(ch.health()).toMatchObject({ state: 'down', reason: 'modem not answering' });

    // It keeps being reopened and probed (AT, up to three tries of 5 s) until it answers again.
    const opensBefore = sim.opens;
    await sched.advance(20_000);
    expect(ch.available()).toBe(false);
    expect(sim.opens).toBeGreaterThan(opensBefore);
    sim.deaf = false;
    await sched.advance(16_000);
    await until(() => ch.available(), 'modem back');
    await expect(ch.send({ to: TO, text: 'xin chao' }, context(3).ctx)).resolves.toEqual({ refs: ['1'] });
  });

  it('notices a modem that disappears (USB unplug), refuses to send while it is gone, and reopens it when it returns', async () => {
    const sim = new Sim7600();
    const { ch, sched } = await ready(sim, { reopenMs: [1_000, 5_000] });
    const changes: string[] = [];
    ch.onHealthChange((h) => changes.push(`${h.state}:${h.reason ?? ''}`));

    sim.unplug();
    await until(() => !ch.available(), 'modem gone');
    expect(ch.health()).toMatchObject({ state: 'down', connected: false });
    await expect(ch.send({ to: TO, text: 'xin chao' }, context(1).ctx)).rejects.toThrow(/modem unavailable/);

    // Still gone at the first retry; the wait grows.
    await sched.advance(1_000);
    expect(ch.available()).toBe(false);
    expect(ch.health().reason).toMatch(/no such device/);

    sim.plug();
    await sched.advance(5_000);
    await until(() => ch.available(), 'modem back');
    expect(changes[0]).toMatch(/^down:modem disconnected/);
    expect(changes.at(-1)).toBe('ok:');
    await expect(ch.send({ to: TO, text: 'xin chao' }, context(2).ctx)).resolves.toEqual({ refs: ['1'] });
    expect(sim.commands.filter((c) => c === 'AT+CMGF=0')).toHaveLength(2); // set up again after the replug
  });

  it('fails a send in flight when the modem vanishes mid-message', async () => {
    const sim = new Sim7600();
    const { ch } = await ready(sim);
    sim.deafAfterPdu = true;
    const sending = ch.send({ to: TO, text: 'xin chao' }, context(1).ctx).catch((e: Error) => e);
    await until(() => sim.commands.some((c) => c.startsWith('AT+CMGS')), 'CMGS');
    await settle();
    sim.unplug();
    const err = await sending;
    expect(err).toBeInstanceOf(SmsSendError);
    expect((err as Error).message).toMatch(/disconnected/);
  });

  it('reports SIM, registration and signal problems as degraded and holds sending while it cannot reach the network', async () => {
    const sim = new Sim7600();
    sim.cereg = 2;
    sim.creg = 2;
    sim.csq = 99;
    const { ch: modem } = await ready(sim, {}, () => ch!.health().state === 'degraded');
    expect(modem.available()).toBe(false);
    expect(modem.health()).toMatchObject({ state: 'degraded', registration: 'searching', signal: { rssi: 99, dbm: null } });

    sim.cereg = 5;
    sim.csq = 3;
    await modem.check();
    expect(modem.available()).toBe(true);
    expect(modem.health()).toMatchObject({ state: 'degraded', reason: 'weak or no signal', registration: 'roaming' });

    sim.sim = 'absent';
    await modem.check();
    expect(modem.available()).toBe(false);
    expect(modem.health()).toMatchObject({ state: 'degraded', reason: 'no SIM card', sim: 'absent' });
  });

  it('sets the modem up again after it reboots on its own (RDY)', async () => {
    const sim = new Sim7600();
    const { ch } = await ready(sim);
    const before = sim.commands.filter((c) => c === 'ATE0').length;
    sim.plug(); // echo back on, as after a reboot
    sim.urc('RDY');
    await until(() => sim.commands.filter((c) => c === 'ATE0').length > before, 'second ATE0');
    await until(() => ch.available(), 'ready again');
    await expect(ch.send({ to: TO, text: 'xin chao' }, context(1).ctx)).resolves.toEqual({ refs: ['1'] });
  });

  it('turns +CDS status reports into delivery reports', async () => {
    const sim = new Sim7600();
    const { ch } = await ready(sim);
    const reports: unknown[] = [];
    ch.onDelivery((r) => reports.push(r));
    sim.statusReport(1, 0x00);
    sim.statusReport(2, 0x45);
    sim.statusReport(3, 0x30);
    await until(() => reports.length === 3, 'three reports');
    expect(reports).toEqual([
      { ref: '1', to: TO, outcome: 'delivered', detail: 'TP-ST 0x00' },
      { ref: '2', to: TO, outcome: 'failed', detail: 'TP-ST 0x45' },
      { ref: '3', to: TO, outcome: 'pending', detail: 'TP-ST 0x30' },
    ]);
  });

  it('keeps working without delivery reports when the modem refuses AT+CNMI', async () => {
    const sim = new Sim7600();
    sim.cnmiSupported = false;
    const { ch } = await ready(sim);
    expect(ch.health()).toMatchObject({ state: 'ok', deliveryReports: false });
    await ch.send({ to: TO, text: 'hellohello' }, context(1).ctx);
    expect(sim.pdus[0].hex.slice(2, 4)).toBe('11'); // no TP-SRR bit
  });
});
