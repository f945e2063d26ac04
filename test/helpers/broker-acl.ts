// The production broker's ACL as server/mqtt/README.md gives it, verbatim: the TLS/ACL tests of the
// locker and of the central service run against exactly what an installer copies.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const DOC = join(import.meta.dirname, '..', '..', 'server', 'mqtt', 'README.md');

export function documentedAcl(): string {
  const doc = readFileSync(DOC, 'utf8');
  const m = doc.match(/```conf\n(# \/etc\/mosquitto\/acl\n[\s\S]*?)```/);
  if (!m) throw new Error('server/mqtt/README.md has no ```conf block starting with "# /etc/mosquitto/acl"');
  return m[1];
}
