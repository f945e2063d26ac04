import { describe, expect, it } from 'vitest';
import { formatDeadline, formatSmsTime, SMS_TIME_LENGTH, stripDiacritics } from '../../server/sms/messages.ts';

describe('SMS values', () => {
  it('shows the deadline in Vietnam time, long on screens and 11 characters in an SMS', () => {
    const at = Date.parse('2026-01-01T17:30:00Z');
    expect(formatDeadline(at)).toBe('00:30 ngày 02/01/2026');
    expect(formatSmsTime(at)).toBe('00:30 02/01');
    for (const t of [0, at, Date.parse('2026-12-31T23:59:00Z')]) expect(formatSmsTime(t)).toHaveLength(SMS_TIME_LENGTH);
  });

  it('strips every Vietnamese tone and vowel mark, đ to d and Đ to D', () => {
    expect(stripDiacritics('Hồ sơ đã sẵn sàng')).toBe('Ho so da san sang');
    expect(stripDiacritics('ĐƯỜNG Nguyễn Thị Minh Khai, Quận Đống Đa')).toBe('DUONG Nguyen Thi Minh Khai, Quan Dong Da');
    expect(stripDiacritics('à á ả ã ạ ằ ắ ẳ ẵ ặ ầ ấ ẩ ẫ ậ è é ẻ ẽ ẹ ề ế ể ễ ệ ì í ỉ ĩ ị ò ó ỏ õ ọ ồ ố ổ ỗ ộ ờ ớ ở ỡ ợ ù ú ủ ũ ụ ừ ứ ử ữ ự ỳ ý ỷ ỹ ỵ')).toBe(
      'a a a a a a a a a a a a a a a e e e e e e e e e e i i i i i o o o o o o o o o o o o o o o u u u u u u u u u u y y y y y',
    );
    // Written with combining marks (NFD input) it comes out the same.
    expect(stripDiacritics('Nguyễn'.normalize('NFD'))).toBe('Nguyen');
  });
});
