import { describe, expect, it } from 'vitest';
import { KIOSK_FREE_FAILURES, KIOSK_MAX_DELAY_MS, kioskDelayMs } from '../../server/domain/dossier-rules.ts';

describe('kiosk throttle delays', () => {
  it('lets the first few mistakes through without a wait', () => {
    for (let n = 1; n < KIOSK_FREE_FAILURES; n++) expect(kioskDelayMs(n)).toBe(0);
  });

  it('grows with every further failure up to its cap', () => {
    let last = 0;
    for (let n = KIOSK_FREE_FAILURES; kioskDelayMs(n) < KIOSK_MAX_DELAY_MS; n++) {
      expect(kioskDelayMs(n)).toBeGreaterThan(last);
      last = kioskDelayMs(n);
    }
    expect(kioskDelayMs(10_000)).toBe(KIOSK_MAX_DELAY_MS);
  });

  it('never keeps the kiosk waiting more than 60 seconds, however many failures in a row', () => {
    for (const n of [KIOSK_FREE_FAILURES, 7, 10, 20, 100, 10_000]) expect(kioskDelayMs(n)).toBeLessThanOrEqual(60_000);
  });

  it('has engaged well before the 20th consecutive failure', () => {
    expect(kioskDelayMs(19)).toBeGreaterThan(0);
  });
});
