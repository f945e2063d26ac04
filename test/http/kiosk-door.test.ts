// What the kiosk may learn without a login beyond the layout: the office's contact and its voice
// settings, and, through the token its own pickup answer carried, whether THAT door is shut
// again. Nothing about other doors, bookings or dossiers.
import { afterEach, describe, expect, it } from 'vitest';
import { loadDossier, startLocker, type TestLocker } from '../helpers/locker.ts';

describe('kiosk door token and settings', () => {
  let t: TestLocker;
  afterEach(async () => {
    await t?.stop();
  });

  it("answers a pickup's door token with that door's state only: waiting, open, shut", async () => {
    t = await startLocker();
    const token = await t.login('staff');
    const phone = '0912000111';
    const door = await loadDossier(t, token, 'TOKEN-1', phone);
    const other = await loadDossier(t, token, 'TOKEN-2', '0912000222');
    const pickup = await t.api('POST', '/api/v1/pickups', { phone, code: t.codeFor(phone) });
    expect(pickup.status).toBe(200);
    expect(pickup.body.compartment).toBe(door);
    expect(Object.keys(pickup.body).sort()).toEqual(['compartment', 'doorToken']);
    const doorToken: string = pickup.body.doorToken;
    expect(doorToken).toMatch(/^[A-Za-z0-9_-]{20,64}$/);
    const state = async () => {
      const r = await t.api('GET', `/api/v1/kiosk/door/${doorToken}`);
      expect(r.status).toBe(200);
      expect(Object.keys(r.body)).toEqual(['door']);
      return r.body.door;
    };

    expect(await state()).toBe('waiting');
    // Another door moving says nothing through this token.
    t.sim.setDoor(other, true);
    expect(await state()).toBe('waiting');
    t.sim.setDoor(other, false);
    t.sim.setDoor(door, true);
    await expect.poll(state).toBe('open');
    t.sim.setDoor(door, false);
    await expect.poll(state).toBe('shut');
  });

  it('answers 404 to a token it never gave or one past its time, and refuses a malformed one', async () => {
    t = await startLocker({ env: { LOCKER_UNLOCK_WINDOW_S: '30' } });
    const token = await t.login('staff');
    const phone = '0912000333';
    await loadDossier(t, token, 'TOKEN-3', phone);
    const { body } = await t.api('POST', '/api/v1/pickups', { phone, code: t.codeFor(phone) });
    expect((await t.api('GET', '/api/v1/kiosk/door/not-a-token-it-gave')).status).toBe(404);
    expect((await t.api('GET', `/api/v1/kiosk/door/${'x'.repeat(65)}`)).status).toBe(400);
    expect((await t.api('GET', `/api/v1/kiosk/door/${body.doorToken}`)).status).toBe(200);
    t.clock.advance(30_000 + 10 * 60_000);
    const late = await t.api('GET', `/api/v1/kiosk/door/${body.doorToken}`);
    expect(late.status).toBe(404);
    expect(late.body.error).toBe('not_found');
  });

  it("gives the kiosk the office's hotline and hours and its voice settings, nothing about bookings or doors", async () => {
    t = await startLocker({ env: { LOCKER_OFFICE_HOTLINE: '0236 3822 111', LOCKER_OFFICE_HOURS: 'T2-T6 7:30-17:00', LOCKER_KIOSK_VOLUME: '35' } });
    const token = await t.login('staff');
    await loadDossier(t, token, 'SETTINGS-1', '0912000444');
    const res = await t.api('GET', '/api/v1/kiosk/settings');
    expect(res.status).toBe(200);
    // No voice files in the test's data dir: no clips, so the kiosk stays silent.
    expect(res.body).toEqual({ office: { hotline: '0236 3822 111', hours: 'T2-T6 7:30-17:00' }, voice: { on: true, volume: 35, clips: {} } });
    expect(JSON.stringify(res.body)).not.toMatch(/SETTINGS-1|0912000444|status|door/);
    expect((await t.api('GET', '/api/v1/kiosk/voice/vi/sayPhone.wav')).status).toBe(404);
    expect((await t.api('GET', '/api/v1/kiosk/voice/vi/..%2F..%2Fmanifest.json')).status).toBe(404);
  });
});
