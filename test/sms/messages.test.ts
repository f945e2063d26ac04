import { describe, expect, it } from 'vitest';
import { formatDeadline, pickupMessage, stripDiacritics } from '../../server/sms/messages.ts';

const SIX = /(?<!\d)\d{6}(?!\d)/g;
const at = Date.parse('2026-11-30T15:00:00Z');

describe('pickup SMS', () => {
  it('carries the code as the only standalone 6-digit number, in Vietnamese', () => {
    const text = pickupMessage({ code: '042917', expiresAt: at, location: 'UBND phường Bến Nghé', plain: false });
    expect(text.match(SIX)).toEqual(['042917']);
    expect(text).toContain('Mã nhận');
    expect(text).toContain('22:00 ngày 30/11/2026');
  });

  it('drops a location that would add a second 6-digit number', () => {
    const text = pickupMessage({ code: '042917', expiresAt: at, location: 'Tổ 123456', plain: false });
    expect(text.match(SIX)).toEqual(['042917']);
    expect(text).not.toContain('123456');
  });

  it('has no diacritics at all in plain mode', () => {
    const text = pickupMessage({ code: '042917', expiresAt: at, location: 'Đường Lê Lợi', plain: true });
    expect(text).toMatch(/^[\x20-\x7e]+$/);
    expect(text).toContain('Ma nhan: 042917');
    expect(text).toContain('Duong Le Loi');
  });

  it('shows the deadline in Vietnam time', () => {
    expect(formatDeadline(Date.parse('2026-01-01T17:30:00Z'))).toBe('00:30 ngày 02/01/2026');
    expect(stripDiacritics('Hồ sơ đã sẵn sàng')).toBe('Ho so da san sang');
  });
});
