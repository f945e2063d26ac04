import { describe, expect, it } from 'vitest';
import { bootConfig } from '../../firmware-bridge/boot-config.ts';
import { loadLockerMap, parseLockerMap } from '../../locker-map/load.ts';

describe('hw boot-config', () => {
  it('holds every header relay pin at its locked level from power-on and enables the I2C bus and each expander', () => {
    const text = bootConfig(loadLockerMap());
    const lines = text.split('\n').filter((l) => l && !l.startsWith('#'));
    // The example's header relays are active low: locked = driven high.
    expect(lines).toEqual([
      '[all]',
      'gpio=5,6,12,13,16,19,20,21=op,dh',
      'dtparam=i2c_arm=on',
      'dtoverlay=mcp23017,addr=0x20,noints',
      'dtoverlay=mcp23017,addr=0x21,gpiopin=22',
      'dtoverlay=mcp23017,addr=0x22,gpiopin=23',
    ]);
    expect(text).toMatch(/high-impedance/);
    expect(text).toMatch(/exp20 must keep their relays OFF \(locked\) while floating/);
  });

  it('groups relay pins by locked level, sets sensor pulls on header pins, and enables the UART for a modem on it', () => {
    const map = parseLockerMap({
      version: 1,
      name: 'n',
      location: 'l',
      locks: { pulseMs: 400, gapMs: 250 },
      expanders: [],
      compartments: [
        { number: 1, size: 'S', column: 1, row: 1, lock: { chip: 'header', offset: 17, activeLevel: 'low' }, sensor: { chip: 'header', offset: 27, pull: 'up', closedLevel: 'low' } },
        { number: 2, size: 'S', column: 1, row: 2, lock: { chip: 'header', offset: 4, activeLevel: 'high' }, sensor: { chip: 'header', offset: 26, pull: 'none', closedLevel: 'high' } },
        { number: 3, size: 'S', column: 1, row: 3, lock: { chip: 'header', offset: 2, activeLevel: 'low' }, sensor: { chip: 'header', offset: 3, pull: 'down', closedLevel: 'high' } },
      ],
    });
    const lines = bootConfig(map, { uartInUse: true }).split('\n').filter((l) => l && !l.startsWith('#'));
    expect(lines).toEqual(['[all]', 'gpio=2,17=op,dh', 'gpio=4=op,dl', 'gpio=27=ip,pu', 'gpio=3=ip,pd', 'gpio=26=ip,pn', 'enable_uart=1']);
  });
});
