import { describe, expect, it } from 'vitest';
import { KIOSK_FREE_FAILURES, KIOSK_MAX_DELAY_MS, kioskDelayMs } from '../../server/domain/dossier-rules.ts';

describe('kiosk throttle delays', () => {
  it('lets the first few mistakes through without a wait', () => {
    for (let n = 1; n < KIOSK_FREE_FAILURES; n++) expect(kioskDelayMs(n)).toBe(0);
  });

  it('grows with every further failure and stays bounded', () => {
    let last = 0;
    for (let n = KIOSK_FREE_FAILURES; n < KIOSK_FREE_FAILURES + 6; n++) {
      expect(kioskDelayMs(n)).toBeGreaterThan(last);
      last = kioskDelayMs(n);
    }
    expect(kioskDelayMs(10_000)).toBe(KIOSK_MAX_DELAY_MS);
  });

  it('has engaged well before the 20th consecutive failure', () => {
    expect(kioskDelayMs(19)).toBeGreaterThan(0);
  });
});
