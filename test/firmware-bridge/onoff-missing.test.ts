import { describe, expect, it, vi } from 'vitest';
import { createDoorBus } from '../../firmware-bridge/index.ts';
import { smallMap } from './test-maps.ts';

vi.mock('onoff', () => {
  throw new Error("Cannot find package 'onoff' imported from firmware-bridge/index.ts");
});

describe('onoff driver without the onoff package', () => {
  it('refuses to start and says what to install', async () => {
    await expect(createDoorBus('onoff', smallMap(), { sysfsRoot: '/nonexistent' })).rejects.toThrow(
      /LOCKER_DOORS=onoff needs the onoff package.*npm install onoff.*build-essential/,
    );
  });
});
