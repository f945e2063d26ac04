// The whole locker with LOCKER_SMS=modem, the modem being a simulated SIM7600 and time a ManualClock.
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadDossier, startLocker, type TestLocker } from '../helpers/locker.ts';
import { septetsOf } from '../../server/sms/encoding.ts';
import { ManualScheduler, until } from './manual-time.ts';
import { Sim7600 } from './sim7600.ts';

const PHONE = '0912345678';

/** Reassembles the text of UCS-2 PDUs addressed to 0912345678 (header 15 octets, then UDH when concatenated). */
function decodeUcs2(hexes: string[]): string {
  return hexes
    .map((hex) => {
      const fo = parseInt(hex.slice(2, 4), 16);
      const ud = Buffer.from(hex.slice(30), 'hex');
      const body = fo & 0x40 ? ud.subarray(ud[0] + 1) : ud;
      return Buffer.from(body).swap16().toString('utf16le');
    })
    .join('');
}

/** Data coding scheme (0x00 GSM-7, 0x08 UCS-2) of a single-part PDU to 0912345678 (SCA, first octet, MR, 8 address octets, PID, then DCS). */
const dcs = (hex: string) => parseInt(hex.slice(24, 26), 16);

/** The text of a single-part GSM-7 PDU to 0912345678 (printable ASCII only: what a GSM-7 text of ours holds). */
function decodeGsm7(hex: string): string {
  const udl = parseInt(hex.slice(28, 30), 16);
  const ud = Buffer.from(hex.slice(30), 'hex');
  const back = new Map<number, string>();
  for (let c = 0x20; c < 0x7f; c++) {
    const s = septetsOf(String.fromCharCode(c));
    if (s?.length === 1) back.set(s[0], String.fromCharCode(c));
  }
  let out = '';
  for (let i = 0; i < udl; i++) {
    const bit = i * 7;
    const septet = ((ud[bit >> 3] | ((ud[(bit >> 3) + 1] ?? 0) << 8)) >> (bit & 7)) & 0x7f;
    out += back.get(septet) ?? '?';
  }
  return out;
}

let t: TestLocker | null = null;
afterEach(async () => {
  await t?.stop();
  t = null;
});

async function modemLocker(sim: Sim7600, env: Record<string, string> = {}, logLines?: string[]) {
  const sched = new ManualScheduler();
  const logger = logLines ? pino({ level: 'debug' }, { write: (s: string) => logLines.push(s) }) : undefined;
  t = await startLocker({
    clock: sched.clock,
    env: { LOCKER_SMS: 'modem', LOCKER_SMS_DEVICE: sim.device, LOCKER_SMS_MODEM_ALARM_S: '60', ...env },
    overrides: { scheduler: sched, serialBinding: sim.binding, ...(logger ? { logger } : {}) },
  });
  await sched.advance(0);
  const health = async () => (await t!.api('GET', '/healthz')).body.sms;
  let last: any = null;
  await until(() => {
    void health().then((h) => (last = h));
    return last?.state === 'ok';
  }, 'modem ok');
  return { t: t!, sched, health };
}

function events(t: TestLocker, type: string) {
  return t.locker.ctx.audit.list(0, 1000).events.filter((e) => e.type === type);
}

describe('the locker sending through its modem', () => {
  it('sends the pickup code as ONE GSM-7 SMS by default, the code opens the door, and the status report marks it delivered', async () => {
    const sim = new Sim7600();
    const logs: string[] = [];
    const { t, health } = await modemLocker(sim, { LOCKER_OFFICE_HOTLINE: '024 3825 3536' }, logs);
    expect(await health()).toMatchObject({ channel: 'modem', state: 'ok', sim: 'ready', registration: 'home', signal: { rssi: 20, dbm: -73 }, operator: 'Viettel', queued: 0 });

    const staff = await t.login('staff');
    const n = await loadDossier(t, staff, 'H29.12-251123-0001', PHONE);
    expect(sim.pdus).toHaveLength(1);
    expect(dcs(sim.pdus[0].hex)).toBe(0x00);
    const text = decodeGsm7(sim.pdus[0].hex);
    expect(text).toMatch(/^Ho so \.\.\.3-0001 cua Ong\/Ba da san sang/);
    expect(text).toContain('Ho tro: 024 3825 3536');
    const codes = text.match(/(?<!\d)\d{6}(?!\d)/g)!;
    expect(codes).toHaveLength(1);
    expect((await t.api('GET', '/api/v1/dossiers/H29.12-251123-0001', undefined, staff)).body.sms).toBe('sent');

    sim.statusReport(sim.pdus[0].mr, 0x00);
    await until(() => events(t, 'sms.delivered').length === 1, 'sms.delivered');
    expect((await t.api('GET', '/api/v1/dossiers/H29.12-251123-0001', undefined, staff)).body.sms).toBe('delivered');
    expect(events(t, 'sms.delivered')[0]).toMatchObject({ dossier: 'H29.12-251123-0001', compartment: n, data: { to: '09******78', channel: 'modem', kind: 'pickup_code' } });
    expect(await health()).toMatchObject({ delivered: 1 });

    const pickup = await t.api('POST', '/api/v1/pickups', { phone: PHONE, code: codes[0] });
    expect(pickup.status).toBe(200);
    const trail = JSON.stringify(t.locker.ctx.audit.list(0, 1000).events);
    const logText = logs.join('');
    for (const secret of [PHONE, '912345678', codes[0]]) {
      expect(trail).not.toContain(secret);
      expect(logText).not.toContain(secret);
    }
  });

  it('sends the pickup code as ONE UCS-2 SMS with diacritics when LOCKER_SMS_ENCODING=ucs2', async () => {
    const sim = new Sim7600();
    const { t } = await modemLocker(sim, { LOCKER_SMS_ENCODING: 'ucs2', LOCKER_OFFICE_HOTLINE: '024 3825 3536' });
    const staff = await t.login('staff');
    await loadDossier(t, staff, 'H29.12-251123-0002', PHONE);
    expect(sim.pdus).toHaveLength(1);
    expect(dcs(sim.pdus[0].hex)).toBe(0x08);
    const text = decodeUcs2(sim.pdus.map((p) => p.hex));
    expect(text).toMatch(/^Mã nhận HS …3-0002: \d{6}, hạn \d\d:\d\d \d\d\/\d\d\. LH 024 3825 3536$/);
  });

  it('audits a message the network reports undeliverable as sms.failed', async () => {
    const sim = new Sim7600();
    const { t } = await modemLocker(sim);
    const staff = await t.login('staff');
    await loadDossier(t, staff, 'M-2', PHONE);
    sim.statusReport(sim.pdus[0].mr, 0x41); // incompatible destination: the centre gives up
    await until(() => events(t, 'sms.failed').length === 1, 'sms.failed');
    expect(events(t, 'sms.failed')[0]).toMatchObject({ dossier: 'M-2', data: { to: '09******78', reason: 'undeliverable (TP-ST 0x41)' } });
    expect((await t.api('GET', '/api/v1/dossiers/M-2', undefined, staff)).body.sms).toBe('failed');
  });

  it('holds the queue while the modem is unplugged, raises an alarm after the configured time, and sends once it is back', async () => {
    const sim = new Sim7600();
    const { t, sched, health } = await modemLocker(sim);
    const staff = await t.login('staff');

    sim.unplug();
    await until(() => t.locker.ctx.smsStatus!().state === 'down', 'modem down');
    const code = 'M-3';
    await loadDossier(t, staff, code, PHONE);
    expect(sim.pdus).toHaveLength(0);
    const row = () => t.locker.ctx.store.db.prepare('SELECT status, attempts FROM sms_queue').get();
    expect(row()).toEqual({ status: 'queued', attempts: 0 }); // no attempt spent on a modem that is not there
    expect(await health()).toMatchObject({ state: 'down', connected: false, queued: 1 });

    await sched.advance(59_000);
    expect(events(t, 'sms.modem_lost')).toHaveLength(0);
    await sched.advance(1_000);
    expect(events(t, 'sms.modem_lost')).toEqual([expect.objectContaining({ actor: 'system', data: expect.objectContaining({ channel: 'modem', state: 'down' }) })]);

    sim.plug();
    await sched.advance(30_000); // the reopen attempts back off to 30 s at most
    await until(() => sim.pdus.length > 0 && events(t, 'sms.sent').length === 1, 'sent after replug');
    expect(events(t, 'sms.modem_restored')).toHaveLength(1);
    expect(row()).toEqual({ status: 'sent', attempts: 1 });
    expect((await t.api('GET', `/api/v1/dossiers/${code}`, undefined, staff)).body.sms).toBe('sent');
  });

  it('raises no alarm for a short replug', async () => {
    const sim = new Sim7600();
    const { t, sched } = await modemLocker(sim);
    sim.unplug();
    await until(() => t.locker.ctx.smsStatus!().state === 'down', 'modem down');
    await sched.advance(1_000);
    sim.plug();
    await sched.advance(2_000);
    await until(() => t.locker.ctx.smsStatus!().state === 'ok', 'modem back');
    await sched.advance(120_000);
    expect(events(t, 'sms.modem_lost')).toHaveLength(0);
    expect(events(t, 'sms.modem_restored')).toHaveLength(0);
  });
});
