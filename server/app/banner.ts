// What `npm start` says on the terminal: where to point a browser from the office LAN, every page,
// and, on a fresh install, how to create the first user. And the one plain line a failed start
// leaves on stderr (the installer reads it in the terminal or in `journalctl -u locker`).
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

export interface BannerFacts {
  lockerId: string;
  /** The URL the server answered with (Fastify names 127.0.0.1 when it listens on every address). */
  url: string;
  /** LOCKER_HOST as configured: '0.0.0.0' or '::' listen on every address. */
  host: string;
  /** With HTTPS, the Pi's own kiosk screen's plain-HTTP URL on loopback. */
  kioskUrl: string | null;
  /** LOCKER_DOORS=sim: /sim is served. */
  simulated: boolean;
  /** Active user accounts: none means nobody can log in to /staff yet. */
  users: number;
}

const EVERY_ADDRESS = new Set(['0.0.0.0', '::', '']);

/** The addresses other machines on the LAN reach this one by: IPv4 first, no loopback, no link-local. */
export function lanAddresses(interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces()): string[] {
  const v4: string[] = [];
  const v6: string[] = [];
  for (const list of Object.values(interfaces)) {
    for (const a of list ?? []) {
      if (a.internal) continue;
      if (a.family === 'IPv4') v4.push(a.address);
      else if (!a.address.toLowerCase().startsWith('fe80:')) v6.push(`[${a.address}]`);
    }
  }
  return [...v4, ...v6];
}

/** The URLs to give people: the LAN addresses when listening on every address, else the configured one. */
export function reachableUrls(url: string, host: string, addresses: string[]): string[] {
  if (!EVERY_ADDRESS.has(host)) return [url];
  const u = new URL(url);
  const lan = addresses.map((a) => `${u.protocol}//${a}${u.port ? `:${u.port}` : ''}`);
  // A machine with no network yet (a Pi before its cable is in) is still reachable on itself.
  return lan.length > 0 ? lan : [url];
}

/** The lines printed once the locker listens. */
export function startBanner(f: BannerFacts, addresses: string[] = lanAddresses()): string[] {
  const [main, ...others] = reachableUrls(f.url, f.host, addresses);
  const lines = [`Locker ${f.lockerId} is listening on ${f.url}`];
  lines.push(`  From the office LAN: ${main}${others.length ? ` (also ${others.join(', ')})` : ''}`);
  lines.push(`  Kiosk            ${main}/`);
  lines.push(`  Staff console    ${main}/staff`);
  lines.push(`  Auditor view     ${main}/audit`);
  if (f.simulated) lines.push(`  Simulated doors  ${main}/sim`);
  lines.push(`  API docs         ${main}/docs`);
  if (f.kioskUrl) lines.push(`  The kiosk screen on this Pi (plain HTTP, this host only): ${f.kioskUrl}/`);
  if (f.users === 0) {
    lines.push('No user exists yet: nobody can log in to /staff or /audit. Create the first one with');
    lines.push("  echo 'a-long-password' | npx locker user add admin --role admin --password-stdin");
  }
  return lines;
}

/** One line, whatever the error: a config error names its setting; a multi-line message is joined. */
export function startupFailureLine(program: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return `${program}: start-up failed: ${message.replace(/\s*\n\s*/g, '; ')}`;
}
