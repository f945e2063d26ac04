import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { lanAddresses, reachableUrls, startBanner, startupFailureLine } from '../../server/app/banner.ts';

const nic = (address: string, family: 'IPv4' | 'IPv6', internal = false) => ({ address, family, internal }) as NetworkInterfaceInfo;
const facts = { lockerId: 'ward-1', url: 'http://127.0.0.1:8080', host: '0.0.0.0', kioskUrl: null, simulated: true, users: 0 };

describe('start banner', () => {
  it('gives the LAN address, not loopback, when listening on every address', () => {
    const addresses = lanAddresses({ lo: [nic('127.0.0.1', 'IPv4', true)], eth0: [nic('192.168.1.40', 'IPv4'), nic('fe80::1', 'IPv6')], wlan0: [nic('fd00::7', 'IPv6')] });
    expect(addresses).toEqual(['192.168.1.40', '[fd00::7]']);
    expect(reachableUrls('https://127.0.0.1:8443', '0.0.0.0', addresses)).toEqual(['https://192.168.1.40:8443', 'https://[fd00::7]:8443']);
    const lines = startBanner(facts, addresses);
    expect(lines[1]).toBe('  From the office LAN: http://192.168.1.40:8080 (also http://[fd00::7]:8080)');
    expect(lines.join('\n')).not.toMatch(/127\.0\.0\.1:8080\//);
  });

  it('keeps the configured address when bound to one, and loopback on a machine with no network', () => {
    expect(reachableUrls('http://10.0.0.5:8080', '10.0.0.5', ['192.168.1.40'])).toEqual(['http://10.0.0.5:8080']);
    expect(reachableUrls('http://127.0.0.1:8080', '0.0.0.0', [])).toEqual(['http://127.0.0.1:8080']);
  });

  it('names every page, /sim only with simulated doors, and the kiosk screen URL with HTTPS', () => {
    const text = startBanner(facts, ['192.168.1.40']).join('\n');
    for (const page of ['/', '/staff', '/audit', '/sim', '/docs']) expect(text).toContain(`http://192.168.1.40:8080${page}\n`.trimEnd());
    const real = startBanner({ ...facts, simulated: false, url: 'https://127.0.0.1:8443', kioskUrl: 'http://127.0.0.1:8081', users: 2 }, ['192.168.1.40']).join('\n');
    expect(real).not.toContain('/sim');
    expect(real).toContain('http://127.0.0.1:8081/');
    expect(real).not.toContain('No user');
  });

  it('tells how to create the first user only when there is none', () => {
    expect(startBanner(facts, []).join('\n')).toContain("echo 'a-long-password' | npx locker user add admin --role admin --password-stdin");
    expect(startBanner({ ...facts, users: 1 }, []).join('\n')).not.toContain('user add');
  });
});

describe('start-up failure line', () => {
  it('is one line naming the cause, whatever the message', () => {
    expect(startupFailureLine('locker', new Error('config: LOCKER_PORT: must be an integer'))).toBe('locker: start-up failed: config: LOCKER_PORT: must be an integer');
    expect(startupFailureLine('locker', new Error('map invalid:\n  locks.pulseMs: too long\n  compartments: empty'))).toBe('locker: start-up failed: map invalid:; locks.pulseMs: too long; compartments: empty');
    expect(startupFailureLine('locker central', 'gone')).toBe('locker central: start-up failed: gone');
  });
});
