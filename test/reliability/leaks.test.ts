// The leak scan used by every reliability suite must itself be able to fail.
import { describe, expect, it } from 'vitest';
import { LeakScan } from './lib/leaks.ts';

describe('the leak scan', () => {
  it('finds a pickup code and a phone number in any of its written forms', () => {
    const scan = new LeakScan();
    scan.addPhone('0912345678');
    scan.addCode('042917');
    scan.feed('log', '{"msg":"SMS sent","to":"09******78"}');
    scan.feed('audit', '{"id":"6f0e4a2b-0429-17ab-8c1d-042917abcdef","hash":"a042917b"}');
    scan.feed('log', '{"responseTime":0.042917}');
    expect(scan.hits()).toEqual([]);
    for (const [source, text] of [
      ['log', '{"msg":"code 042917 accepted"}'],
      ['mqtt', '{"to":"+84912345678"}'],
      ['error', 'phone 84912345678 unknown'],
      ['log', 'national 912345678'],
      ['audit', '{"phone":"0912345678"}'],
    ] as const) {
      const one = new LeakScan();
      one.addPhone('0912345678');
      one.addCode('042917');
      one.feed(source, text);
      expect(one.hits(), text).toHaveLength(1);
    }
  });

  it('checks texts fed before the code was known', () => {
    const scan = new LeakScan();
    scan.feed('log', 'pickup with 555123 failed');
    scan.addCode('555123');
    expect(scan.hits()).toEqual(['pickup code 555123 in log: pickup with 555123 failed']);
  });
});
