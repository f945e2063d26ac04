import pino, { type Logger } from 'pino';
import type { LockerConfig } from '../config/schema.ts';
import { timerScheduler, type Clock, type Scheduler } from '../domain/ports.ts';
import type { ExtendedSmsChannel } from './channel.ts';
import { FileSmsChannel } from './file-channel.ts';
import { HttpSmsChannel } from './http-channel.ts';
import { ModemSmsChannel } from './modem-channel.ts';

export interface ChannelDeps {
  scheduler?: Scheduler;
  log?: Logger;
  /** A serialport binding for the modem (tests); default: the platform's. */
  serialBinding?: unknown;
}

export function createSmsChannel(config: LockerConfig, clock: Clock, deps: ChannelDeps = {}): ExtendedSmsChannel {
  switch (config.sms) {
    case 'file':
      return new FileSmsChannel(config.smsFile, clock);
    case 'http':
      return new HttpSmsChannel(config.smsHttp!);
    case 'modem':
      return new ModemSmsChannel({
        device: config.smsDevice,
        baudRate: config.smsBaud,
        scheduler: deps.scheduler ?? timerScheduler,
        log: deps.log ?? pino({ level: 'silent' }),
        binding: deps.serialBinding,
        checkEveryMs: config.smsOptions.modemCheckMs,
      });
  }
}
