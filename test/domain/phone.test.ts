import { describe, expect, it } from 'vitest';
import { maskPhone, normalizePhone } from '../../server/domain/phone.ts';

describe('phone numbers', () => {
  it('accepts the local and the +84 form as the same number', () => {
    expect(normalizePhone('0912345678')).toBe('0912345678');
    expect(normalizePhone('+84912345678')).toBe('0912345678');
    expect(normalizePhone('091 234 5678')).toBe('0912345678');
  });

  it('refuses numbers that cannot receive an SMS in Vietnam', () => {
    for (const bad of ['', '091234567', '09123456789', '+8491234567', '0212345678', '+1912345678', '０９１２３４５６７８', 'abc']) {
      expect(normalizePhone(bad)).toBeNull();
    }
  });

  it('masks all but the first and last two digits', () => {
    expect(maskPhone('0912345678')).toBe('09******78');
    expect(maskPhone('+84912345678')).toBe('09******78');
  });
});
