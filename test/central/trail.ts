// Hand-built audit trails for the central tests, hashed exactly as a locker hashes them.
import { randomUUID } from 'node:crypto';
import { GENESIS_HASH, hashEvent, type AuditEvent } from '../../server/domain/audit-event.ts';

const T0 = Date.parse('2026-11-23T08:00:00Z');

/** n chained events; every third is a pickup of dossier `<prefix>-<seq>` at compartment seq % 24 + 1. */
export function makeTrail(n: number, prefix = 'DOS', startMs = T0): AuditEvent[] {
  const out: AuditEvent[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const pickup = seq % 3 === 0;
    const body: Omit<AuditEvent, 'hash'> = {
      id: randomUUID(),
      seq,
      at: new Date(startMs + seq * 60_000).toISOString(),
      type: pickup ? 'pickup.succeeded' : 'door.closed',
      actor: pickup ? 'citizen' : 'system',
      compartment: (seq % 24) + 1,
      ...(pickup ? { dossier: `${prefix}-${seq}` } : { data: { after: 'pickup' } }),
      prevHash: prev,
    };
    const e = { ...body, hash: hashEvent(body) };
    out.push(e);
    prev = e.hash;
  }
  return out;
}

/** The payload a locker publishes on `B/L/events`. */
export const wire = (e: AuditEvent | Record<string, unknown>, locker: string) => Buffer.from(JSON.stringify({ ...e, locker }));

/** Re-hashes an edited event, as someone covering their tracks would. */
export function rehash(e: AuditEvent): AuditEvent {
  const { hash: _h, ...body } = e;
  return { ...body, hash: hashEvent(body) };
}
