// The pages word every error code the locker can answer with, in both languages, from one table
// (server/web/lib/error-text.js); the API's English `message` is for integrators, never shown.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error a browser module without types
import { ERROR_TEXT, errorText } from '../../server/web/lib/error-text.js';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === 'web' ? [] : sources(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

/** Every `error` code written in the server's code: DomainError(status, 'code', ...) and `{ error: 'code' }` replies. */
function serverCodes(): Set<string> {
  const codes = new Set<string>();
  for (const file of sources('server')) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/DomainError\(\s*\d{3},\s*'([a-z_]+)'/g)) codes.add(m[1]);
    for (const m of text.matchAll(/\berror: '([a-z_]+)'/g)) codes.add(m[1]);
  }
  return codes;
}

describe('error codes on the pages', () => {
  it('has Vietnamese and English words for every error code the server answers with', () => {
    const codes = serverCodes();
    expect(codes.size).toBeGreaterThan(20);
    const missing = [...codes].filter((c) => !ERROR_TEXT.vi[c] || !ERROR_TEXT.en[c]);
    expect(missing).toEqual([]);
  });

  it('words an unknown code by naming it, in the language on screen', () => {
    expect(errorText('door_open', 'vi')).toBe('Cửa ngăn vẫn mở. Đóng cửa rồi bấm xác nhận lại.');
    expect(errorText('door_open', 'en')).toBe('The door is still open. Shut it, then confirm again.');
    expect(errorText('brand_new_code', 'vi')).toBe('Không thực hiện được (mã lỗi brand_new_code).');
    expect(errorText('constructor', 'vi')).toBe('Không thực hiện được (mã lỗi constructor).');
  });

  it("keeps the staff console and the shared page modules off the API's message", () => {
    for (const file of ['server/web/staff.js', ...readdirSync('server/web/lib').map((f) => `server/web/lib/${f}`)]) {
      expect(readFileSync(file, 'utf8'), file).not.toMatch(/body\??\.message/);
    }
  });
});
