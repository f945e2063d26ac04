// 7. The kiosk on a Pi-class CPU: Chromium (Debian's, through playwright-core) at 800x480 with its
// CPU slowed 4x by the DevTools protocol (Emulation.setCPUThrottlingRate), against a real locker.
// First screen: from navigation start to the first frame painted after the kiosk says it is ready
// (body[data-ready]), over fresh page loads; the worst one counts. Key press: from the pointerdown
// of a keypad tap to the first frame painted after the digit is in the field (the frame's
// requestAnimationFrame, then a task after it), over many taps; p95 counts.
import { loadavg } from 'node:os';
import type { Page } from 'playwright-core';
import { startLocker } from '../helpers/locker.ts';
import { KIOSK, launch } from '../web/browser.ts';
import { percentile, round, type BenchResult } from './stats.ts';

const THROTTLE = 4;
const LOADS = 8;
const PRESSES = 80;
const READY_LIMIT_MS = 1500;
const KEY_LIMIT_MS = 50;

/**
 * Installed before any of the page's scripts: stamps the first frame after ready, and each tap's
 * paint. A string, not a function: tsx would wrap a function's inner helpers in calls the page lacks.
 */
const INSTRUMENT = `(() => {
  const w = window;
  w.__keys = [];
  const afterPaint = (done) => requestAnimationFrame(() => setTimeout(() => done(performance.now()), 0));
  new MutationObserver((_m, obs) => {
    if (document.body && document.body.dataset.ready) {
      obs.disconnect();
      afterPaint((t) => (w.__ready = t));
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-ready'] });
  document.addEventListener('pointerdown', (e) => {
    const start = e.timeStamp;
    const field = document.getElementById('phone');
    const before = field.value;
    // The click (and the digit) follows the pointerdown: look at each frame's start; the frame whose
    // start sees the digit paints it, and a task queued from its requestAnimationFrame runs after.
    const wait = () => {
      if (field.value === before) return requestAnimationFrame(wait);
      setTimeout(() => w.__keys.push(performance.now() - start), 0);
    };
    requestAnimationFrame(wait);
  }, true);
})();`;

async function throttled(page: Page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: THROTTLE });
}

export async function kioskPaint(): Promise<BenchResult> {
  const t = await startLocker();
  const browser = await launch();
  try {
    const ready: number[] = [];
    for (let i = 0; i < LOADS; i++) {
      const context = await browser.newContext({ viewport: KIOSK, locale: 'vi-VN', baseURL: t.url });
      const page = await context.newPage();
      await page.addInitScript({ content: INSTRUMENT });
      await throttled(page);
      await page.goto('/');
      await page.waitForFunction(() => (window as any).__ready !== undefined);
      ready.push(await page.evaluate(() => (window as any).__ready as number));
      await context.close();
    }

    const context = await browser.newContext({ viewport: KIOSK, locale: 'vi-VN', baseURL: t.url });
    const page = await context.newPage();
    await page.addInitScript({ content: INSTRUMENT });
    await throttled(page);
    await page.goto('/');
    await page.waitForFunction(() => (window as any).__ready !== undefined);
    const boxes = new Map<string, { x: number; y: number }>();
    for (const key of ['5', 'del']) {
      const b = (await page.locator(`#keypad button[data-key="${key}"]`).boundingBox())!;
      boxes.set(key, { x: b.x + b.width / 2, y: b.y + b.height / 2 });
    }
    for (let i = 0; i < PRESSES; i++) {
      const { x, y } = boxes.get(i % 2 === 0 ? '5' : 'del')!;
      await page.mouse.click(x, y);
      await page.waitForFunction((n) => (window as any).__keys.length > n, i);
    }
    const keys = (await page.evaluate(() => (window as any).__keys as number[])).sort((a, b) => a - b);
    await context.close();

    const worstReady = Math.max(...ready);
    const p95 = percentile(keys, 95);
    return {
      name: `kiosk at ${THROTTLE}x CPU throttling`,
      figures: {
        // Other work on the machine slows the browser beyond the 4x asked for: read the figures with it.
        'load average (1 min) at the end': round(loadavg()[0], 1),
        'page loads': LOADS,
        'first screen ready, p50 ms': round(percentile([...ready].sort((a, b) => a - b), 50), 0),
        'first screen ready, worst ms': round(worstReady, 0),
        'first screen limit ms': READY_LIMIT_MS,
        'key presses': keys.length,
        'key press painted, p50 ms': round(percentile(keys, 50), 1),
        'key press painted, p95 ms': round(p95, 1),
        'key press limit ms (p95)': KEY_LIMIT_MS,
      },
      target: `first screen ready within ${READY_LIMIT_MS} ms, a key press painted within ${KEY_LIMIT_MS} ms at p95 (800x480, CPU ${THROTTLE}x slower)`,
      met: worstReady <= READY_LIMIT_MS && p95 <= KEY_LIMIT_MS,
      limit: "the page's own script and style work on a slowed CPU; the locker answers from memory",
    };
  } finally {
    await browser.close();
    await t.stop();
  }
}
