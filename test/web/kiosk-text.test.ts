// The kiosk's words (server/web/kiosk-text.js), without a browser: how a public office speaks to a
// citizen, both languages complete, the page's built-in Vietnamese the same as the module's.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WEB_ROOT } from '../../server/http/routes/pages.ts';
// @ts-expect-error plain browser module without types
import { KIOSK_TEXT, SPOKEN, SPOKEN_NUMBERS, VOICES } from '../../server/web/kiosk-text.js';

const vi = KIOSK_TEXT.vi as Record<string, string>;
const en = KIOSK_TEXT.en as Record<string, string>;
// Words that address the citizen: where they appear, the citizen is named, as "Ông/Bà".
const ADDRESSING = /vui lòng|\bmời\b|có thể|\bcủa\b|\bcòn\b|cảm ơn|\bsẽ nhận\b/i;

describe('kiosk texts', () => {
  it('never says "bạn" in Vietnamese, on screen or in the page', () => {
    for (const [key, text] of Object.entries(vi)) expect(text, key).not.toMatch(/\bbạn\b/iu);
    const html = readFileSync(join(WEB_ROOT, 'kiosk.html'), 'utf8');
    expect(html).not.toMatch(/\bbạn\b/iu);
  });

  it('addresses the citizen as Ông/Bà in every Vietnamese sentence that speaks to them', () => {
    const addressing = Object.entries(vi).filter(([, text]) => ADDRESSING.test(text));
    expect(addressing.length).toBeGreaterThan(12);
    for (const [key, text] of addressing) expect(text, key).toContain('Ông/Bà');
    // The spoken prompts are sentences to the citizen, every one of them (door numbers aside).
    for (const key of SPOKEN.filter((k: string) => !['doorOpenBefore', 'doorOpenAfter'].includes(k))) expect(vi[key], key).toContain('Ông/Bà');
  });

  it('has every text in both languages, and every spoken prompt among them', () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(vi).sort());
    for (const key of SPOKEN) {
      expect(vi[key], key).toBeTruthy();
      expect(en[key], key).toBeTruthy();
    }
    expect(Object.keys(VOICES).sort()).toEqual(['en', 'vi']);
    expect(SPOKEN_NUMBERS).toBeGreaterThanOrEqual(24);
  });

  it('builds the page in the same Vietnamese as the text module', () => {
    const html = readFileSync(join(WEB_ROOT, 'kiosk.html'), 'utf8');
    const tagged = [...html.matchAll(/data-t="([A-Za-z0-9]+)"[^>]*>([^<]*)</g)];
    expect(tagged.length).toBeGreaterThan(20);
    for (const [, key, text] of tagged) expect(text, key).toBe(vi[key]);
  });
});
