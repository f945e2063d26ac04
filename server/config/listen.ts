// The HTTP listener's settings, shared by the locker (LOCKER_*) and the central service
// (CENTRAL_*): HTTPS certificate and key, connection caps and timeouts. One reader for both,
// so the two services refuse the same bad values with the same words.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
// A cycle with load.ts, harmless: ConfigError is used only when a setting is read.
import { ConfigError } from './load.ts';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

/** Caps and timeouts of every HTTP listener (README "Securing the office LAN"). */
export interface ConnectionLimits {
  /** Concurrent connections one remote address may hold; more are closed at accept. */
  perAddress: number;
  /** Concurrent connections of all remote addresses together, the kiosk's own loopback ones not counted. */
  total: number;
  /** A request's headers (and a TLS handshake) must be in within this. */
  headersTimeoutMs: number;
  /** A whole request must be in within this. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** A connection with no traffic either way (one that never sends a byte) is closed after this. */
  idleTimeoutMs: number;
}

export interface ListenSettings {
  tls: TlsFiles | null;
  limits: ConnectionLimits;
}

/** The reads a settings source offers; each throws a ConfigError naming its key. */
export interface SettingReads {
  optional(key: string): string | null;
  int(key: string, def: number, min: number, max: number): number;
}

export function readListenSettings(r: SettingReads, prefix: 'LOCKER' | 'CENTRAL'): ListenSettings {
  const certKey = `${prefix}_TLS_CERT`;
  const keyKey = `${prefix}_TLS_KEY`;
  const cert = r.optional(certKey);
  const key = r.optional(keyKey);
  let tls: TlsFiles | null = null;
  if (cert !== null || key !== null) {
    if (cert === null) throw new ConfigError(certKey, `HTTPS needs both ${certKey} and ${keyKey}; ${keyKey} is set, ${certKey} is not`);
    if (key === null) throw new ConfigError(keyKey, `HTTPS needs both ${certKey} and ${keyKey}; ${certKey} is set, ${keyKey} is not`);
    tls = { certFile: pemFile(certKey, cert, /-----BEGIN CERTIFICATE-----/), keyFile: pemFile(keyKey, key, /-----BEGIN (RSA |EC |ENCRYPTED )?PRIVATE KEY-----/) };
  }
  const headersTimeoutMs = r.int(`${prefix}_HTTP_HEADERS_TIMEOUT_MS`, 10_000, 100, 600_000);
  const requestTimeoutMs = r.int(`${prefix}_HTTP_REQUEST_TIMEOUT_MS`, 30_000, 100, 3_600_000);
  // Node refuses a headers timeout above the request timeout; say so by name instead.
  if (requestTimeoutMs < headersTimeoutMs) {
    throw new ConfigError(`${prefix}_HTTP_REQUEST_TIMEOUT_MS`, `must be at least ${prefix}_HTTP_HEADERS_TIMEOUT_MS (${headersTimeoutMs})`);
  }
  return {
    tls,
    limits: {
      perAddress: r.int(`${prefix}_MAX_CONNECTIONS_PER_ADDRESS`, 32, 1, 100_000),
      total: r.int(`${prefix}_MAX_CONNECTIONS`, 512, 1, 1_000_000),
      headersTimeoutMs,
      requestTimeoutMs,
      keepAliveTimeoutMs: r.int(`${prefix}_HTTP_KEEPALIVE_TIMEOUT_MS`, 5_000, 100, 600_000),
      idleTimeoutMs: r.int(`${prefix}_HTTP_IDLE_TIMEOUT_MS`, 60_000, 100, 3_600_000),
    },
  };
}

function pemFile(key: string, path: string, marker: RegExp): string {
  const full = resolve(path);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch (err) {
    throw new ConfigError(key, `cannot read ${full}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (!marker.test(text)) throw new ConfigError(key, `${full} is not a PEM file of the expected kind (${marker.source.replace(/\\/g, '')})`);
  return full;
}
