// The central office's commands over a real broker: each command, a repeated transaction, a
// reused transaction id, malformed and unknown requests, and answers that survive a restart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type TestBroker } from '../helpers/broker.ts';
import { loadDossier, startLocker, type TestLocker } from '../helpers/locker.ts';
import { Consumer } from './consumer.ts';

let broker: TestBroker;
let t: TestLocker;
let central: Consumer;

const eventsOfType = (type: string) => t.locker.ctx.audit.list(0, 1000).events.filter((e) => e.type === type);

beforeAll(async () => {
  broker = await startBroker();
  central = await Consumer.connect(broker);
  t = await startLocker({ env: { LOCKER_MQTT_URL: broker.url, LOCKER_MQTT_PROTOCOL: broker.protocolSetting } });
  await central.waitFor('online', () => central.lastAvailability() === 'online');
});

afterAll(async () => {
  await t?.stop();
  await central?.close();
  await broker?.close();
});

describe('commands over MQTT', () => {
  it('answers state/get with every compartment and the latest seq', async () => {
    const r = await central.request('state/get', { transaction: 'get-1' }, 'get-1');
    expect(r.status).toBe('ok');
    expect(r.data.compartments).toEqual(t.locker.ctx.compartments.list());
    expect(r.data.seq).toBe(t.locker.ctx.audit.latestSeq());
    expect(r.data.compartments[0]).toEqual({ number: 1, size: expect.any(String), status: 'free', door: 'closed' });
  });

  it('disables a compartment once, as actor central, and answers a repeat without applying it again', async () => {
    const before = eventsOfType('compartment.disabled').length;
    const r = await central.request('compartment/disable', { transaction: 'dis-3', number: 3, reason: 'hinge broken' }, 'dis-3');
    expect(r).toMatchObject({ transaction: 'dis-3', status: 'ok', data: { number: 3, status: 'disabled' } });
    expect(r.duplicate).toBeUndefined();
    const events = eventsOfType('compartment.disabled');
    expect(events).toHaveLength(before + 1);
    expect(events.at(-1)).toMatchObject({ actor: 'central', compartment: 3, data: { reason: 'hinge broken' } });

    // Enabled by staff in between: a repeat of the old transaction must not disable it again.
    t.locker.ctx.compartmentAdmin.enable('staff:clerk', 3);
    const again = await central.request('compartment/disable', { transaction: 'dis-3', number: 3, reason: 'hinge broken' }, 'dis-3');
    expect(again).toMatchObject({ transaction: 'dis-3', status: 'ok', duplicate: true, data: { number: 3, status: 'disabled' } });
    expect(eventsOfType('compartment.disabled')).toHaveLength(before + 1);
    expect(t.locker.ctx.compartments.row(3)!.disabled).toBe(0);
  });

  it('publishes the audit event of a command and a retained state showing the change', async () => {
    await central.request('compartment/disable', { transaction: 'dis-5', number: 5 }, 'dis-5');
    await central.waitFor('the event', () => central.events.some((e) => e.type === 'compartment.disabled' && e.compartment === 5));
    await central.waitFor('the state', () => central.lastState()?.compartments.find((c: any) => c.number === 5)?.status === 'disabled');
    const r = await central.request('compartment/enable', { transaction: 'en-5', number: 5 }, 'en-5');
    expect(r).toMatchObject({ status: 'ok', data: { number: 5, status: 'free' } });
    await central.waitFor('the state', () => central.lastState()?.compartments.find((c: any) => c.number === 5)?.status === 'free');
    expect(eventsOfType('compartment.enabled').at(-1)).toMatchObject({ actor: 'central', compartment: 5 });
  });

  it('cancels a dossier so its pickup code stops working', async () => {
    const token = await t.login('staff');
    const n = await loadDossier(t, token, 'H29.12-0001', '0912345678');
    const code = t.codeFor('0912345678');
    const r = await central.request('dossier/cancel', { transaction: 'cx-1', code: 'H29.12-0001', reason: 'citizen moved' }, 'cx-1');
    expect(r).toMatchObject({ status: 'ok', data: { code: 'H29.12-0001', compartment: n, status: 'cancelled' } });
    expect(eventsOfType('dossier.cancelled').at(-1)).toMatchObject({ actor: 'central', dossier: 'H29.12-0001' });
    const pickup = await t.api('POST', '/api/v1/pickups', { phone: '0912345678', code });
    expect(pickup.status).toBe(401);
    const again = await central.request('dossier/cancel', { transaction: 'cx-1', code: 'H29.12-0001', reason: 'citizen moved' }, 'cx-1');
    expect(again).toMatchObject({ status: 'ok', duplicate: true });
    expect(eventsOfType('dossier.cancelled')).toHaveLength(1);
  });

  it('refuses an unknown compartment with an error, and gives the same answer to a repeat', async () => {
    const seq = t.locker.ctx.audit.latestSeq();
    const r = await central.request('compartment/disable', { transaction: 'dis-99', number: 99 }, 'dis-99');
    expect(r).toMatchObject({ transaction: 'dis-99', status: 'error', error: { code: 'not_found' } });
    const again = await central.request('compartment/disable', { transaction: 'dis-99', number: 99 }, 'dis-99');
    expect(again).toMatchObject({ status: 'error', error: { code: 'not_found' }, duplicate: true });
    expect(t.locker.ctx.audit.latestSeq()).toBe(seq);
  });

  it('refuses a transaction id reused for a different request and changes nothing', async () => {
    await central.request('compartment/disable', { transaction: 'dup-id', number: 7 }, 'dup-id');
    const seq = t.locker.ctx.audit.latestSeq();
    const r = await central.request('compartment/enable', { transaction: 'dup-id', number: 7 }, 'dup-id');
    expect(r).toMatchObject({ status: 'error', error: { code: 'transaction_conflict' } });
    expect(t.locker.ctx.compartments.row(7)!.disabled).toBe(1);
    expect(t.locker.ctx.audit.latestSeq()).toBe(seq);
  });

  it('answers malformed payloads with invalid_payload and changes nothing', async () => {
    const seq = t.locker.ctx.audit.latestSeq();
    const notJson = await central.request('compartment/disable', '{"transaction": "x", number: 2', null);
    expect(notJson).toMatchObject({ transaction: null, status: 'error', error: { code: 'invalid_payload' } });
    const noTxn = await central.request('compartment/disable', { number: 2 }, null);
    expect(noTxn.error.code).toBe('invalid_payload');
    const wrongType = await central.request('compartment/disable', { transaction: 'bad-1', number: '2' }, 'bad-1');
    expect(wrongType).toMatchObject({ transaction: 'bad-1', status: 'error', error: { code: 'invalid_payload' } });
    expect(wrongType.error.message).toMatch(/number/);
    const extra = await central.request('compartment/enable', { transaction: 'bad-2', number: 2, force: true }, 'bad-2');
    expect(extra.error.code).toBe('invalid_payload');
    const badCode = await central.request('dossier/cancel', { transaction: 'bad-3', code: 'no spaces/allowed' }, 'bad-3');
    expect(badCode.error.code).toBe('invalid_payload');
    const array = await central.request('state/get', '[1,2]', null);
    expect(array.error.code).toBe('invalid_payload');
    expect(t.locker.ctx.audit.latestSeq()).toBe(seq);
    expect(t.locker.ctx.compartments.row(2)!.disabled).toBe(0);
    // A corrected request with the same id is then applied: the bad one was not recorded.
    const fixed = await central.request('compartment/disable', { transaction: 'bad-1', number: 2 }, 'bad-1');
    expect(fixed).toMatchObject({ status: 'ok', data: { number: 2, status: 'disabled' } });
  });

  it('answers an unknown command with unknown_command on its own response topic', async () => {
    const seq = t.locker.ctx.audit.latestSeq();
    const r = await central.request('door/open', { transaction: 'open-1', number: 1 }, 'open-1');
    expect(r).toMatchObject({ command: 'door/open', status: 'error', error: { code: 'unknown_command' } });
    expect(t.locker.ctx.audit.latestSeq()).toBe(seq);
  });

  it('publishes past events again on events/republish, for a consumer that lost them', async () => {
    await central.waitFor('the outbox to drain', () => t.locker.ctx.mqttStatus().outbox === 0);
    const copies = (seq: number) => central.events.filter((e) => e.seq === seq).length;
    const before = [1, 2, 3].map(copies);
    const r = await central.request('events/republish', { transaction: 'rep-1', from: 1, to: 3 }, 'rep-1');
    expect(r).toMatchObject({ status: 'ok', data: { from: 1, to: 3, queued: 3 } });
    await central.waitFor('the copies', () => [1, 2, 3].every((s, i) => copies(s) === before[i] + 1));
    expect(central.check()).toMatchObject({ gaps: [], conflicts: [], chainOk: true });
    const bad = await central.request('events/republish', { transaction: 'rep-2', from: 5, to: 2 }, 'rep-2');
    expect(bad).toMatchObject({ status: 'error', error: { code: 'invalid_range' } });
  });

  it('remembers answered transactions across a restart', async () => {
    t = await t.restart();
    await central.waitFor('online again', () => central.lastAvailability() === 'online' && central.availability.length >= 3);
    const seq = t.locker.ctx.audit.latestSeq();
    const r = await central.request('compartment/disable', { transaction: 'dis-3', number: 3, reason: 'hinge broken' }, 'dis-3');
    expect(r).toMatchObject({ status: 'ok', duplicate: true });
    expect(t.locker.ctx.audit.latestSeq()).toBe(seq);
    expect(t.locker.ctx.compartments.row(3)!.disabled).toBe(0);
  });
});
