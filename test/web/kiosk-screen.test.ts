// The kiosk at 800x480 as an elderly citizen meets it, in headless Chromium: type no smaller than
// 20 px and nothing off the screen on any step, how to collect and whom to call on step 1 (from
// the locker's configuration), back to the start soon after the opened door is shut, and every
// step spoken from the voice files made with espeak-ng (silent, not broken, without them).
import { spawnSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
// @ts-expect-error plain module without types
import { renderVoice } from '../../server/cli/kiosk-voice.mjs';
import { loadDossier, startLocker, tempDir, type TestLocker } from '../helpers/locker.ts';
import { KIOSK, launch, openPage, screenshot, seriousViolations, type Watched } from './browser.ts';
import { openKiosk, tapDigits } from './pages.ts';

const HOTLINE = '0236 3822 111';
const HOURS = 'T2–T6 7:30–11:30, 13:30–17:00';
const OFFICE = { LOCKER_OFFICE_HOTLINE: HOTLINE, LOCKER_OFFICE_HOURS: HOURS };
const hasEspeak = spawnSync('espeak-ng', ['--version']).status === 0;

const step = (page: Page) => page.evaluate(() => document.body.dataset.step);

/** Every visible text node smaller than 20 px, off the screen, or (inside main) running under the footer. */
async function smallOrOutside(page: Page) {
  return page.evaluate(() => {
    const bad: string[] = [];
    let seen = 0;
    const footTop = document.querySelector('.foot')!.getBoundingClientRect().top;
    const main = document.getElementById('main')!;
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const text = n.textContent!.trim();
      const el = n.parentElement!;
      if (!text || !el.checkVisibility({ visibilityProperty: true, opacityProperty: true })) continue;
      const range = document.createRange();
      range.selectNodeContents(n);
      // Zero-sized and 1-px clipped boxes are screen-reader-only text, not seen by anyone.
      const rects = [...range.getClientRects()].filter((r) => r.width > 1 && r.height > 1);
      if (rects.length === 0) continue;
      seen++;
      const size = parseFloat(getComputedStyle(el).fontSize);
      const off = rects.some((r) => r.top < -0.5 || r.left < -0.5 || r.bottom > innerHeight + 0.5 || r.right > innerWidth + 0.5);
      const under = main.contains(el) && !el.closest('dialog') && rects.some((r) => r.bottom > footTop + 0.5);
      if (size < 20 || off || under) bad.push(`${JSON.stringify(text.slice(0, 40))}: ${size}px${off ? ', off screen' : ''}${under ? ', under the footer' : ''}`);
    }
    return { bad, seen };
  });
}

async function look(page: Page, name: string) {
  const { bad, seen } = await smallOrOutside(page);
  expect(seen, `${name}: some text is visible`).toBeGreaterThan(3);
  expect(bad, name).toEqual([]);
  await screenshot(page, name);
}

async function enterPhone(page: Page, phone: string) {
  await tapDigits(page, phone);
  await page.getByRole('button', { name: 'OK', exact: true }).click();
  await expect.poll(() => step(page)).toBe('code');
}

describe('kiosk screens at 800x480', () => {
  let browser: Browser;
  let t: TestLocker;
  let w: Watched;
  let voiceDir: string;

  beforeAll(async () => {
    browser = await launch();
    voiceDir = tempDir('kiosk-voice-');
    if (hasEspeak) renderVoice(voiceDir);
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    expect(w.problems).toEqual([]);
    await w.context.close();
    await t.stop();
  });

  async function start(env: Record<string, string> = {}) {
    t = await startLocker({ env: { ...OFFICE, ...env } });
    w = await openPage(browser, t.url, KIOSK);
    return t.login('staff');
  }

  it('shows no text under 20 px, and nothing off the screen or under the footer, on every step and result screen', async () => {
    const token = await start();
    const page = w.page;
    const owner = '0987001122';
    const door = await loadDossier(t, token, 'LOOK-20', owner);
    await page.clock.install();
    await openKiosk(page);
    await page.waitForSelector('body[data-settings]');
    await look(page, 'kiosk-step-1-phone');
    await page.getByRole('button', { name: 'OK', exact: true }).click();
    await look(page, 'kiosk-step-1-phone-invalid');
    await page.getByRole('button', { name: 'English' }).click();
    await look(page, 'kiosk-step-1-phone-invalid-en');
    await page.getByRole('button', { name: 'Tiếng Việt' }).click();

    await enterPhone(page, owner);
    await look(page, 'kiosk-step-2-code');
    await tapDigits(page, t.codeFor(owner) === '000000' ? '111111' : '000000');
    await page.locator('#message').waitFor();
    await look(page, 'kiosk-step-2-wrong-code');
    await page.getByRole('button', { name: 'English' }).click();
    await look(page, 'kiosk-step-2-wrong-code-en');
    await page.getByRole('button', { name: 'Tiếng Việt' }).click();
    t.clock.advance(61_000);
    await page.getByRole('button', { name: 'Chưa nhận được mã?' }).click();
    await page.locator('#message.info').waitFor();
    await look(page, 'kiosk-step-2-resent');

    // The throttle's own screen (the real throttle is in kiosk.test.ts).
    await page.route('**/api/v1/pickups', (route) =>
      route.fulfill({ status: 429, headers: { 'retry-after': '95', 'content-type': 'application/json' }, body: '{"error":"throttled","message":"wait"}' }),
    );
    await tapDigits(page, '123456');
    await page.locator('#screen-wait').waitFor();
    await look(page, 'kiosk-wait');
    await page.unroute('**/api/v1/pickups');
    await page.clock.runFor(96_000);
    expect(await step(page)).toBe('code');

    await tapDigits(page, t.codeFor(owner));
    await page.locator('#screen-result').waitFor();
    await look(page, 'kiosk-result-open');
    t.sim.setDoor(door, true);
    await page.clock.runFor(1_100);
    await expect.poll(() => page.evaluate(() => document.body.dataset.door)).toBe('open');
    t.sim.setDoor(door, false);
    await page.clock.runFor(1_100);
    await expect.poll(() => page.evaluate(() => document.body.dataset.door)).toBe('shut');
    await look(page, 'kiosk-result-shut');
    expect(await seriousViolations(page)).toEqual([]);

    await page.clock.runFor(6_000);
    expect(await step(page)).toBe('phone');
    await tapDigits(page, '09');
    await page.clock.runFor(46_000);
    await page.locator('#idle').waitFor();
    await look(page, 'kiosk-idle-warning');
  });

  it('shows how to collect, the office hotline and hours from configuration, and "Chưa nhận được mã?" on step 1', async () => {
    const token = await start();
    const page = w.page;
    const owner = '0977334455';
    await loadDossier(t, token, 'HELP-1', owner);
    await openKiosk(page);
    await page.waitForSelector('body[data-settings]');
    expect(await page.locator('#how').innerText()).toBe(['Nhập số điện thoại, bấm OK.', 'Nhập mã 6 số trong tin nhắn SMS.', 'Cửa ngăn mở: lấy hồ sơ, đóng cửa.'].join('\n'));
    await expect.poll(() => page.locator('#contact').innerText()).toBe(`Hỗ trợ: ${HOTLINE} · Giờ làm việc: ${HOURS}`);
    expect(await page.locator('#contact').isVisible()).toBe(true);
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'English' }).click();
    expect(await page.locator('#contact').innerText()).toBe(`Help: ${HOTLINE} · Office hours: ${HOURS}`);
    await page.getByRole('button', { name: 'Tiếng Việt' }).click();

    // "Chưa nhận được mã?" on step 1: first it asks for the number, then sends to it.
    const resend = page.getByRole('button', { name: 'Chưa nhận được mã?' });
    expect(await resend.isVisible()).toBe(true);
    await resend.click();
    expect(await page.locator('#message.info').textContent()).toBe('Ông/Bà nhập số điện thoại trước, rồi bấm «Chưa nhận được mã?» để nhận mã mới.');
    expect(await step(page)).toBe('phone');
    await tapDigits(page, owner);
    t.clock.advance(61_000);
    const before = t.sms().length;
    await resend.click();
    await expect.poll(() => step(page)).toBe('code');
    await expect.poll(() => page.locator('#message.info').textContent()).toContain('Ông/Bà sẽ nhận mã mới bằng SMS');
    expect(await page.locator('#phone-echo').textContent()).toBe('0977 334 455');
    await t.locker.sms.drain();
    expect(t.sms().slice(before).map((m) => m.to)).toEqual([owner]);
  });

  it('names the one-stop desk when no hotline or hours are configured', async () => {
    t = await startLocker();
    w = await openPage(browser, t.url, KIOSK);
    await openKiosk(w.page);
    await w.page.waitForSelector('body[data-settings]');
    expect(await w.page.locator('#contact').innerText()).toBe('Cần hỗ trợ: Bộ phận Một cửa.');
  });

  it('goes back to the start 5 seconds after the door it opened is shut, and waits while that door stands open', async () => {
    const token = await start();
    const page = w.page;
    const owner = '0355667788';
    const door = await loadDossier(t, token, 'SHUT-1', owner);
    await page.clock.install();
    await openKiosk(page);
    await enterPhone(page, owner);
    await tapDigits(page, t.codeFor(owner));
    await page.locator('#screen-result').waitFor();

    // Opened with the simulator's door endpoint, as a citizen at the real bank would.
    expect((await t.api('POST', `/api/v1/sim/compartments/${door}/door`, { open: true })).status).toBe(200);
    await page.clock.runFor(1_100);
    await expect.poll(() => page.evaluate(() => document.body.dataset.door)).toBe('open');
    // The citizen is still taking the paper out: the screen does not leave after its 30 s.
    await page.clock.runFor(40_000);
    expect(await step(page)).toBe('result');

    expect((await t.api('POST', `/api/v1/sim/compartments/${door}/door`, { open: false })).status).toBe(200);
    await page.clock.runFor(1_100);
    await expect.poll(() => page.evaluate(() => document.body.dataset.door)).toBe('shut');
    expect(await page.locator('#door-shut').textContent()).toBe('Cửa đã đóng. Cảm ơn Ông/Bà.');
    expect(await page.locator('#result-reset').textContent()).toBe('Màn hình sẽ quay về đầu sau 5 giây.');
    await page.clock.runFor(3_500);
    expect(await step(page)).toBe('result');
    await page.clock.runFor(2_000);
    expect(await step(page)).toBe('phone');
    expect(await page.locator('#phone').inputValue()).toBe('');
  });

  /** Records what the page asks its <audio> element to play; each clip "ends" at once. */
  async function recordPlays(page: Page) {
    await page.addInitScript(() => {
      const played: { src: string; volume: number }[] = [];
      (window as any).__played = played;
      HTMLMediaElement.prototype.play = function (this: HTMLMediaElement) {
        played.push({ src: new URL(this.src).pathname, volume: this.volume });
        setTimeout(() => this.dispatchEvent(new Event('ended')), 0);
        return Promise.resolve();
      };
    });
    return async () => (await page.evaluate(() => (window as any).__played as { src: string; volume: number }[])).map((p) => p);
  }

  it.skipIf(!hasEspeak)('speaks every step and result from the espeak-ng files, in English when switched, at the configured volume', async () => {
    const token = await start({ LOCKER_KIOSK_VOICE_DIR: voiceDir, LOCKER_KIOSK_VOLUME: '40' });
    const page = w.page;
    const owner = '0911223344';
    const door = await loadDossier(t, token, 'VOICE-1', owner);
    const played = await recordPlays(page);
    const srcs = async () => (await played()).map((p) => p.src);
    const clip = (lang: string, name: string) => `/api/v1/kiosk/voice/${lang}/${name}.wav`;

    await openKiosk(page);
    await expect.poll(srcs).toEqual([clip('vi', 'sayPhone')]);
    expect((await played())[0].volume).toBeCloseTo(0.4);
    await page.getByRole('button', { name: 'OK', exact: true }).click();
    await expect.poll(srcs).toContain(clip('vi', 'phoneInvalid'));
    await enterPhone(page, owner);
    await expect.poll(async () => (await srcs()).at(-1)).toBe(clip('vi', 'sayCode'));
    await tapDigits(page, t.codeFor(owner) === '000000' ? '111111' : '000000');
    await expect.poll(async () => (await srcs()).at(-1)).toBe(clip('vi', 'wrongCode'));
    await page.getByRole('button', { name: 'English' }).click();
    await expect.poll(async () => (await srcs()).at(-1)).toBe(clip('en', 'wrongCode'));

    const n = (await srcs()).length;
    await tapDigits(page, t.codeFor(owner));
    await page.locator('#screen-result').waitFor();
    await expect.poll(async () => (await srcs()).slice(n)).toEqual([clip('en', 'doorOpenBefore'), clip('en', `n${door}`), clip('en', 'doorOpenAfter'), clip('en', 'takeIt')]);
    t.sim.setDoor(door, true);
    t.sim.setDoor(door, false);
    await expect.poll(async () => (await srcs()).at(-1), { timeout: 10_000 }).toBe(clip('en', 'doorShut'));
    // Back at the start in Vietnamese, greeting the next citizen.
    await expect.poll(async () => (await srcs()).at(-1), { timeout: 10_000 }).toBe(clip('vi', 'sayPhone'));

    // Every clip it played is a WAV file the locker serves.
    for (const src of new Set(await srcs())) {
      const res = await fetch(`${t.url}${src}`);
      expect(res.status, src).toBe(200);
      expect(res.headers.get('content-type')).toBe('audio/wav');
      expect(Buffer.from(await res.arrayBuffer()).subarray(0, 4).toString('latin1')).toBe('RIFF');
    }
  });

  it.each([
    ['without voice files', {}],
    ['with LOCKER_KIOSK_VOICE=off', { LOCKER_KIOSK_VOICE: 'off', withFiles: 'yes' }],
  ])('stays silent %s and says nothing broken', async (_name, env: Record<string, string>) => {
    const { withFiles, ...rest } = env;
    if (withFiles && !hasEspeak) return;
    const token = await start(withFiles ? { ...rest, LOCKER_KIOSK_VOICE_DIR: voiceDir } : rest);
    const page = w.page;
    const asked: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/voice/')) asked.push(r.url());
    });
    const played = await recordPlays(page);
    const owner = '0922334455';
    await loadDossier(t, token, 'SILENT-1', owner);
    await openKiosk(page);
    await page.waitForSelector('body[data-settings]');
    await enterPhone(page, owner);
    await tapDigits(page, t.codeFor(owner));
    await page.locator('#screen-result').waitFor();
    expect(await played()).toEqual([]);
    expect(asked).toEqual([]);
    expect(await page.evaluate(() => document.body.dataset.spoken)).toBe('');
  });
});
