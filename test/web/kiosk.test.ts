// The citizen's kiosk in headless Chromium: wrong codes, throttling with a countdown, both
// languages, a USB keypad, inactivity, and nothing that tells whether a phone has a dossier.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { loadDossier, startLocker, type TestLocker } from '../helpers/locker.ts';
import { KIOSK, launch, openPage, screenshot, type Watched } from './browser.ts';
import { openKiosk, tapDigits } from './pages.ts';

const step = (page: Page) => page.evaluate(() => document.body.dataset.step);
const message = (page: Page) => page.locator('#message').textContent();
const cueCount = (page: Page) => page.evaluate(() => Number(document.body.dataset.cueCount ?? 0));

async function enterPhone(page: Page, phone: string) {
  await tapDigits(page, phone);
  await page.getByRole('button', { name: 'OK', exact: true }).click();
  await expect.poll(() => step(page)).toBe('code');
}

/** Types a whole code on the keypad (it submits itself after the sixth digit) and waits for the answer. */
async function enterCode(page: Page, code: string) {
  const before = await cueCount(page);
  await tapDigits(page, code);
  await expect.poll(() => cueCount(page)).toBeGreaterThan(before);
}

function wrongCodeFor(right: string) {
  return right === '000000' ? '111111' : '000000';
}

describe('kiosk', () => {
  let browser: Browser;
  let t: TestLocker;
  let w: Watched;
  let token: string;

  beforeAll(async () => {
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    t = await startLocker();
    token = await t.login('staff');
    w = await openPage(browser, t.url, KIOSK);
  });
  afterEach(async () => {
    expect(w.problems).toEqual([]);
    await w.context.close();
    await t.stop();
  });

  it('answers a wrong code and a resend with the same words whether or not the phone has a dossier', async () => {
    const owner = '0987654321';
    const stranger = '0911111111';
    await loadDossier(t, token, 'K-1', owner);
    const right = t.codeFor(owner);
    const page = w.page;

    const attempt = async (phone: string) => {
      await openKiosk(page);
      await enterPhone(page, phone);
      await enterCode(page, wrongCodeFor(right));
      expect(await page.evaluate(() => document.body.dataset.cue)).toBe('error');
      expect(await step(page)).toBe('code');
      expect(await page.locator('#code').inputValue()).toBe('');
      const wrong = await message(page);
      t.clock.advance(61_000); // past the minimum interval between two codes
      await page.getByRole('button', { name: 'Chưa nhận được mã?' }).click();
      await expect.poll(() => page.locator('#message.info').count()).toBe(1);
      return { wrong, resent: await message(page), screen: await page.locator('main').innerText() };
    };

    const smsBefore = t.sms().length;
    const a = await attempt(owner);
    await screenshot(page, 'kiosk-wrong-code');
    const b = await attempt(stranger);
    expect(a.wrong).toBe('Số điện thoại hoặc mã nhận không đúng. Ông/Bà vui lòng xem lại tin nhắn SMS và nhập lại.');
    expect(b.wrong).toBe(a.wrong);
    expect(b.resent).toBe(a.resent);
    expect(b.screen.replace(/0911 111 111/, 'PHONE')).toBe(a.screen.replace(/0987 654 321/, 'PHONE'));

    // Only the owner was actually sent a new code; the screen could not tell.
    await t.locker.sms.drain();
    const sent = t.sms().slice(smsBefore);
    expect(sent.map((m) => m.to)).toEqual([owner]);
  });

  it('counts down from Retry-After when throttled, then lets the rightful citizen collect in English', async () => {
    const owner = '0977000111';
    const door = await loadDossier(t, token, 'K-2', owner);
    const code = t.codeFor(owner);
    const page = w.page;
    await page.clock.install();
    await openKiosk(page);
    await page.getByRole('button', { name: 'English' }).click();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');

    // Someone guesses with another number until the kiosk slows everyone down.
    await enterPhone(page, '0900000001');
    for (let i = 0; i < 5; i++) {
      await enterCode(page, '123456');
      expect(await message(page)).toBe('The phone number or pickup code is not right. Please check the SMS and try again.');
    }
    await enterCode(page, '123456');
    expect(await step(page)).toBe('wait');
    expect(await page.locator('#countdown').textContent()).toBe('0:30');
    expect(await page.locator('#wait-title').textContent()).toBe('Please wait');
    await screenshot(page, 'kiosk-throttled-en');
    // The keypad is not there while waiting: typing does nothing.
    await page.keyboard.type('123456');
    expect(await step(page)).toBe('wait');

    // From here the page's time moves only when the test says, so the countdown is exact.
    await page.clock.pauseAt(await page.evaluate(() => Date.now() + 200));
    const left = async () => {
      const [m, s] = (await page.locator('#countdown').textContent())!.split(':').map(Number);
      return m * 60 + s;
    };
    const before = await left();
    expect(before).toBeGreaterThan(20);
    await page.clock.runFor(10_000);
    expect(await left()).toBe(before - 10);
    t.clock.advance(30_000);
    await page.clock.runFor(20_000);
    expect(await step(page)).toBe('code');
    expect(await message(page)).toBe('You can type the code again.');

    // The rightful citizen changes the number and collects.
    await page.getByRole('button', { name: 'Change phone number' }).click();
    expect(await step(page)).toBe('phone');
    for (let i = 0; i < 10; i++) await page.getByRole('button', { name: 'Delete one digit' }).click();
    expect(await page.locator('#phone').inputValue()).toBe('');
    await enterPhone(page, owner);
    await enterCode(page, code);
    expect(await step(page)).toBe('result');
    expect((await page.locator('#result-title').innerText()).replace(/\s+/g, ' ')).toBe(`Door ${door} is open`);
    expect(await page.locator('#bank').getAttribute('aria-label')).toContain(`number ${door}`);
    await screenshot(page, 'kiosk-result-en');

    // The result stays 30 seconds, then the next citizen gets a clean screen in Vietnamese.
    await page.clock.runFor(29_000);
    expect(await step(page)).toBe('result');
    await page.clock.runFor(1_500);
    expect(await step(page)).toBe('phone');
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('vi');
    expect(await page.locator('h1').textContent()).toBe('Nhận hồ sơ');
  });

  it('warns before going back to the start after inactivity, and a touch keeps what was typed', async () => {
    const page = w.page;
    await page.clock.install();
    await openKiosk(page);
    await page.getByRole('button', { name: 'English' }).click();
    await tapDigits(page, '0912');
    await page.clock.runFor(44_000);
    expect(await page.locator('#idle').isVisible()).toBe(false);
    await page.clock.runFor(2_000);
    expect(await page.locator('#idle').isVisible()).toBe(true);
    expect(await page.locator('#idle-title').textContent()).toBe('Are you still there?');
    await screenshot(page, 'kiosk-idle-warning-en');

    await page.getByRole('button', { name: "I'm still here" }).click();
    expect(await page.locator('#idle').isVisible()).toBe(false);
    expect(await page.locator('#phone').inputValue()).toBe('0912');

    await page.clock.runFor(45_000);
    expect(await page.locator('#idle').isVisible()).toBe(true);
    expect(await page.locator('#idle-count').textContent()).toBe('15');
    await page.clock.runFor(10_000);
    expect(await page.locator('#idle-count').textContent()).toBe('5');
    await page.clock.runFor(5_500);
    expect(await page.locator('#idle').isVisible()).toBe(false);
    expect(await page.locator('#phone').inputValue()).toBe('');
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('vi');
    expect(await page.locator('label[for=phone]').textContent()).toBe('Số điện thoại đã đăng ký nhận SMS');
  });

  it('takes a USB keypad: digits, Backspace and Enter work with nothing focused, letters do nothing', async () => {
    const owner = '0355123456';
    const door = await loadDossier(t, token, 'K-3', owner);
    const code = t.codeFor(owner);
    const page = w.page;
    await openKiosk(page);
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.keyboard.type('0355x12');
    expect(await page.locator('#phone').inputValue()).toBe('035512');
    await page.keyboard.press('Backspace');
    await page.keyboard.type('23456');
    await page.keyboard.press('Enter');
    expect(await step(page)).toBe('code');
    expect(await page.locator('#phone-echo').textContent()).toBe('0355 123 456');

    await page.keyboard.type('12');
    await page.keyboard.press('Enter');
    expect(await message(page)).toBe('Mã nhận gồm đúng 6 chữ số. Ông/Bà vui lòng nhập đủ 6 số.');
    await page.keyboard.press('Backspace');
    await page.keyboard.press('Backspace');
    await page.keyboard.type(code);
    await expect.poll(() => step(page)).toBe('result');
    expect(await page.locator('#door-number').textContent()).toBe(String(door));
  });

  it('refuses a phone number that is not ten digits before asking the locker anything', async () => {
    const page = w.page;
    const asked: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/api/v1/pickups')) asked.push(r.url());
    });
    await openKiosk(page);
    await tapDigits(page, '09123');
    await page.getByRole('button', { name: 'OK', exact: true }).click();
    expect(await step(page)).toBe('phone');
    expect(await message(page)).toBe('Số điện thoại gồm 10 chữ số, bắt đầu bằng số 0. Ông/Bà vui lòng nhập lại.');
    expect(asked).toEqual([]);
  });
});
