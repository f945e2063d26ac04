import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * JSON to stdout (journald keeps it). Fields that could carry personal data are redacted.
 * `destination` lets tests read exactly what production would write.
 */
export function createLogger(level: string, base: Record<string, unknown> = {}, destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { ...base },
    redact: {
      paths: ['req.headers.authorization', 'phone', '*.phone', 'code', 'password', '*.password', 'token', '*.token', 'body', '*.body'],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
