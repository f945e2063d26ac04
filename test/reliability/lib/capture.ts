// A production logger (same redaction as `npm start`) whose lines the test can read.
import { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { createLogger } from '../../../server/logger.ts';

export interface CapturedLog {
  logger: Logger;
  lines: string[];
}

export function captureLogger(level = 'debug'): CapturedLog {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { logger: createLogger(level, { locker: 'test' }, sink), lines };
}
