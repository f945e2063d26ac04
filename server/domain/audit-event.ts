import { createHash } from 'node:crypto';
import { canonicalJson } from './jcs.ts';

export type Actor = `staff:${string}` | 'citizen' | 'central' | 'system';

export interface AuditEvent {
  id: string;
  seq: number;
  at: string;
  type: string;
  actor: string;
  compartment?: number;
  dossier?: string;
  data?: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);

/** SHA-256 of the JCS form of the event without its `hash` (and `locker`) fields. */
export function hashEvent(event: Omit<AuditEvent, 'hash'> & { hash?: string; locker?: string }): string {
  const { hash: _h, locker: _l, ...body } = event;
  return createHash('sha256').update(canonicalJson(body), 'utf8').digest('hex');
}

export interface ChainCheck {
  ok: boolean;
  count: number;
  head: string;
  lastSeq: number;
  brokenAt?: number;
  reason?: string;
}

/** Verifies events given in seq order; usable on any copy of a trail. */
export function verifyChain(events: Iterable<AuditEvent>): ChainCheck {
  let prev = GENESIS_HASH;
  let expectedSeq = 1;
  let count = 0;
  for (const e of events) {
    const fail = (reason: string): ChainCheck => ({ ok: false, count, head: prev, lastSeq: expectedSeq - 1, brokenAt: e.seq, reason });
    if (e.seq !== expectedSeq) return fail(`expected seq ${expectedSeq}, found ${e.seq}`);
    if (e.prevHash !== prev) return fail('prevHash does not match the previous event');
    if (hashEvent(e) !== e.hash) return fail('hash does not match the event');
    prev = e.hash;
    expectedSeq++;
    count++;
  }
  return { ok: true, count, head: prev, lastSeq: expectedSeq - 1 };
}
