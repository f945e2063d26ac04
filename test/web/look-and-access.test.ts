// Every page, in its states that matter, at the kiosk's resolution (800x480) and a desk's
// (1280x800): a screenshot under test-results/web/ and an axe-core check with no serious or
// critical violation. Nothing may be loaded from outside the locker, and no page may log an error.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { loadDossier, startLocker, type TestLocker } from '../helpers/locker.ts';
import { DESK, KIOSK, launch, openPage, screenshot, seriousViolations } from './browser.ts';
import { logInOnPage, openKiosk, tapDigits, waitLive } from './pages.ts';

const VIEWPORTS = [KIOSK, DESK];

describe('every page at 800x480 and 1280x800', () => {
  let browser: Browser;
  let t: TestLocker;
  let token: string;
  let phoneSeq = 0;

  beforeAll(async () => {
    t = await startLocker();
    browser = await launch();
    token = await t.login('staff', 'clerk');
    // Something to look at: a dossier waiting, one being loaded with its door open, a door out
    // of service and a forced-open alarm.
    await loadDossier(t, token, 'H29.12-251123-0007', '0912345001');
    const reg = await t.api('POST', '/api/v1/dossiers', { code: 'H29.12-251123-0008', phone: '0912345002', size: 'M' }, token);
    t.sim.setDoor(reg.body.compartment, true);
    await t.api('POST', '/api/v1/compartments/20/disable', { reason: 'hinge' }, token);
    t.sim.setDoor(24, true);
    t.sim.setDoor(24, false);
  });

  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  async function check(page: Page, name: string) {
    await page.evaluate(() => document.fonts.ready);
    await screenshot(page, name);
    const violations = await seriousViolations(page);
    expect(violations, `${name}: ${JSON.stringify(violations, null, 1)}`).toEqual([]);
    // Nothing spills out sideways (no horizontal scrolling on a touchscreen).
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow, `${name} is wider than the screen`).toBeLessThanOrEqual(0);
  }

  for (const vp of VIEWPORTS) {
    const size = `${vp.width}x${vp.height}`;

    it(`kiosk, every screen, ${size}`, async () => {
      const w = await openPage(browser, t.url, vp);
      const page = w.page;
      await page.clock.install();
      await openKiosk(page);
      await check(page, 'kiosk-1-phone');

      await tapDigits(page, '0912345678');
      await page.getByRole('button', { name: 'OK', exact: true }).click();
      await tapDigits(page, '000000');
      await page.locator('#message').waitFor();
      await check(page, 'kiosk-2-wrong-code');

      // The real throttle is exercised in kiosk.test.ts; here only its screen is looked at.
      await page.route('**/api/v1/pickups', (route) =>
        route.fulfill({ status: 429, headers: { 'retry-after': '95', 'content-type': 'application/json' }, body: JSON.stringify({ error: 'throttled', message: 'wait' }) }),
      );
      await tapDigits(page, '111111');
      await page.locator('#screen-wait').waitFor();
      expect(await page.locator('#countdown').textContent()).toBe('1:35');
      await check(page, 'kiosk-3-throttled');
      await page.unroute('**/api/v1/pickups');
      await page.clock.runFor(96_000);

      const phone = `09770000${String(++phoneSeq).padStart(2, '0')}`;
      const door = await loadDossier(t, token, `LOOK-${phoneSeq}`, phone);
      await page.getByRole('button', { name: 'Đổi số điện thoại' }).click();
      for (let i = 0; i < 10; i++) await page.getByRole('button', { name: 'Xóa một số' }).click();
      await tapDigits(page, phone);
      await page.getByRole('button', { name: 'OK', exact: true }).click();
      await tapDigits(page, t.codeFor(phone));
      await page.locator('#screen-result').waitFor();
      expect(await page.locator('#door-number').textContent()).toBe(String(door));
      await check(page, 'kiosk-4-result');
      t.sim.setDoor(door, true);
      t.sim.setDoor(door, false);

      await page.getByRole('button', { name: 'Xong' }).click();
      await page.getByRole('button', { name: 'English' }).click();
      await tapDigits(page, '09');
      await check(page, 'kiosk-5-english');
      await page.clock.runFor(46_000);
      await page.locator('#idle').waitFor();
      await check(page, 'kiosk-6-inactivity-warning');
      expect(w.problems).toEqual([]);
      await w.context.close();
    });

    it(`staff console, ${size}`, async () => {
      const w = await openPage(browser, t.url, vp);
      const page = w.page;
      await page.goto('/staff');
      await page.waitForSelector('body[data-ready]');
      await check(page, 'staff-1-login');
      await logInOnPage(t, page, '/staff', 'staff', 'clerk');
      await waitLive(page);
      await page.locator('#ready-body tr').first().waitFor();
      await page.locator('#alarm-list li').first().waitFor();
      await page.locator('#grid [data-number="20"]').click();
      await page.evaluate(() => window.scrollTo(0, 0));
      await check(page, 'staff-2-console');
      await page.getByRole('button', { name: 'English' }).click();
      await page.evaluate(() => window.scrollTo(0, 0));
      await check(page, 'staff-3-console-en');
      expect(w.problems).toEqual([]);
      await w.context.close();
    });

    it(`auditor view, ${size}`, async () => {
      const w = await openPage(browser, t.url, vp);
      const page = w.page;
      await page.goto('/audit');
      await page.waitForSelector('body[data-ready]');
      await check(page, 'audit-1-login');
      await logInOnPage(t, page, '/audit', 'auditor', 'inspector');
      await page.locator('#events-body tr').first().waitFor();
      await page.getByRole('button', { name: 'Kiểm tra chuỗi' }).click();
      await page.locator('#verify-result[data-ok]').waitFor();
      await check(page, 'audit-2-trail');
      await page.getByRole('button', { name: 'English' }).click();
      await check(page, 'audit-3-trail-en');
      expect(w.problems).toEqual([]);
      await w.context.close();
    });

    it(`door simulator, ${size}`, async () => {
      const w = await openPage(browser, t.url, vp);
      const page = w.page;
      await page.goto('/sim');
      await page.waitForSelector('body[data-ready]');
      await page.locator('#bank [data-door="open"]').first().waitFor();
      await check(page, 'sim-1-bank');
      expect(w.problems).toEqual([]);
      await w.context.close();
    });
  }
});
