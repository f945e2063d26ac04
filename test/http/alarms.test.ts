// Alarms are acknowledged on the locker, not in one browser: audited with the clerk and a note,
// listed with who handled them, left out of a new console's snapshot, and announced on the live
// stream so another open console clears them too. One list of alarm types serves server and page.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WEB_ROOT } from '../../server/http/routes/pages.ts';
import { ALARM_TYPES } from '../../server/http/routes/events.ts';
import { startLocker, type TestLocker } from '../helpers/locker.ts';

let t: TestLocker;
afterEach(async () => {
  await t?.stop();
});

/** A forced-open door: the sim opens a locked door. Returns the alarm's seq. */
function forceOpen(n: number): number {
  t.sim.setDoor(n, true);
  t.sim.setDoor(n, false);
  const e = t.locker.ctx.audit.list(0, 10_000).events.filter((x) => x.type === 'door.forced_open' && x.compartment === n).at(-1);
  if (!e) throw new Error('no door.forced_open');
  return e.seq;
}

async function streamMessages(token: string) {
  const ac = new AbortController();
  const res = await fetch(`${t.url}/api/v1/events/stream`, { headers: { authorization: `Bearer ${token}` }, signal: ac.signal });
  let text = '';
  (async () => {
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) text += Buffer.from(chunk).toString('utf8');
    } catch {
      // aborted
    }
  })();
  const messages = () =>
    text
      .split('\n\n')
      .filter((b) => b.includes('data: '))
      .map((b) => ({ name: /event: (\S+)/.exec(b)?.[1] ?? 'message', data: JSON.parse(/data: (.*)/.exec(b)![1]) }));
  return { messages, close: () => ac.abort() };
}

async function until(check: () => boolean, what: string, ms = 5000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('acknowledging alarms on the server', () => {
  it('records who acknowledged an alarm, when and why, as an audited event every console sees', async () => {
    t = await startLocker();
    const clerk = await t.login('staff', 'clerk');
    const other = await t.login('admin', 'boss');
    const seq = forceOpen(5);
    let open = await t.api('GET', '/api/v1/alarms?open=1', undefined, other);
    expect(open.body.alarms).toEqual([expect.objectContaining({ seq, type: 'door.forced_open', compartment: 5, ack: null })]);

    const r = await t.api('POST', `/api/v1/alarms/${seq}/ack`, { note: 'cleaner opened it with the key' }, clerk);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ seq, type: 'door.forced_open', ack: { by: 'staff:clerk', note: 'cleaner opened it with the key', at: new Date(t.clock.now()).toISOString() } });

    const ack = t.locker.ctx.audit.list(0, 10_000).events.find((e) => e.type === 'alarm.acknowledged')!;
    expect(ack).toMatchObject({ actor: 'staff:clerk', compartment: 5, data: { alarmSeq: seq, alarmType: 'door.forced_open', note: 'cleaner opened it with the key' } });
    expect(r.body.ack.seq).toBe(ack.seq);

    open = await t.api('GET', '/api/v1/alarms?open=1', undefined, other);
    expect(open.body.alarms).toEqual([]);
    const all = await t.api('GET', '/api/v1/alarms', undefined, await t.login('auditor'));
    expect(all.body.alarms).toEqual([expect.objectContaining({ seq, ack: expect.objectContaining({ by: 'staff:clerk' }) })]);
  });

  it('survives a restart: an acknowledged alarm stays handled and out of a new stream snapshot', async () => {
    t = await startLocker();
    const clerk = await t.login('staff', 'clerk');
    const handled = forceOpen(3);
    const pending = forceOpen(4);
    expect((await t.api('POST', `/api/v1/alarms/${handled}/ack`, undefined, clerk)).status).toBe(200);
    t = await t.restart();
    const token = await t.login('staff', 'clerk');
    const open = await t.api('GET', '/api/v1/alarms?open=1', undefined, token);
    expect(open.body.alarms.map((a: { seq: number }) => a.seq)).toEqual([pending]);
    const s = await streamMessages(token);
    await until(() => s.messages().length >= 1, 'the snapshot');
    expect(s.messages()[0].data.alarms.map((a: { seq: number }) => a.seq)).toEqual([pending]);
    s.close();
  });

  it('tells another open console at once, on the stream, which alarm was acknowledged', async () => {
    t = await startLocker();
    const clerk = await t.login('staff', 'clerk');
    const watcher = await t.login('staff', 'other');
    const seq = forceOpen(7);
    const s = await streamMessages(watcher);
    await until(() => s.messages().length >= 1, 'the snapshot');
    expect(s.messages()[0].data.alarms.map((a: { seq: number }) => a.seq)).toEqual([seq]);
    await t.api('POST', `/api/v1/alarms/${seq}/ack`, { note: 'checked' }, clerk);
    await until(() => s.messages().some((m) => m.name === 'change' && m.data.events.some((e: { type: string }) => e.type === 'alarm.acknowledged')), 'the ack');
    const change = s.messages().find((m) => m.name === 'change' && m.data.events.some((e: { type: string }) => e.type === 'alarm.acknowledged'))!;
    const e = change.data.events.find((x: { type: string }) => x.type === 'alarm.acknowledged');
    expect(e).toMatchObject({ alarmSeq: seq, actor: 'staff:clerk', compartment: 7 });
    expect(e).not.toHaveProperty('data');
    s.close();
  });

  it('refuses an unknown seq, an event that is no alarm, a second acknowledgement, a long note and an auditor', async () => {
    t = await startLocker();
    const clerk = await t.login('staff', 'clerk');
    const auditor = await t.login('auditor');
    const seq = forceOpen(2);
    const notAlarm = t.locker.ctx.audit.list(0, 10_000).events.find((e) => e.type === 'door.closed')!.seq;
    expect((await t.api('POST', `/api/v1/alarms/${seq}/ack`, {}, auditor)).status).toBe(403);
    expect((await t.api('POST', `/api/v1/alarms/${seq}/ack`, { note: 'x'.repeat(201) }, clerk)).status).toBe(400);
    expect((await t.api('POST', `/api/v1/alarms/abc/ack`, {}, clerk)).status).toBe(400);
    const before = t.locker.ctx.audit.latestSeq();
    expect((await t.api('POST', `/api/v1/alarms/99999/ack`, {}, clerk)).body.error).toBe('not_found');
    expect((await t.api('POST', `/api/v1/alarms/${notAlarm}/ack`, {}, clerk)).body.error).toBe('not_found');
    expect(t.locker.ctx.audit.latestSeq()).toBe(before);
    expect((await t.api('POST', `/api/v1/alarms/${seq}/ack`, {}, clerk)).status).toBe(200);
    const again = await t.api('POST', `/api/v1/alarms/${seq}/ack`, { note: 'me too' }, clerk);
    expect(again.status).toBe(409);
    expect(again.body.error).toBe('already_acknowledged');
    expect(t.locker.ctx.audit.latestSeq()).toBe(before + 1);
  });
});

describe('one list of alarm types', () => {
  it('serves the server and the staff page from one module, with sms.modem_lost and dossier.loading_stale in it', () => {
    expect(ALARM_TYPES).toEqual(expect.arrayContaining(['sms.modem_lost', 'dossier.loading_stale', 'door.forced_open', 'sms.failed']));
    const page = readFileSync(join(WEB_ROOT, 'staff.js'), 'utf8');
    expect(page).toMatch(/from '\.\/lib\/alarm-types\.js'/);
    expect(page).not.toMatch(/'door\.jammed'/);
  });
});
