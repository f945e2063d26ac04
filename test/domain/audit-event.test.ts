import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { GENESIS_HASH, hashEvent, verifyChain, type AuditEvent } from '../../server/domain/audit-event.ts';
import { canonicalJson } from '../../server/domain/jcs.ts';

function chain(n: number): AuditEvent[] {
  const out: AuditEvent[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const body = { id: `id-${seq}`, seq, at: '2026-11-23T15:00:00.000Z', type: 'door.opened', actor: 'citizen', compartment: seq, prevHash: prev };
    const e = { ...body, hash: hashEvent(body) };
    out.push(e);
    prev = e.hash;
  }
  return out;
}

describe('canonical JSON (RFC 8785)', () => {
  it('sorts keys by UTF-16 code units and drops no values', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], é: 2, Z: { y: 1, x: 2 } })).toBe('{"Z":{"x":2,"y":1},"a":[true,null,"x"],"b":1,"é":2}');
  });

  it('writes numbers the way ECMAScript does', () => {
    expect(canonicalJson([1e21, 0.1, -0, 100, 1.5e-7])).toBe('[1e+21,0.1,0,100,1.5e-7]');
  });

  it('refuses values JSON cannot carry', () => {
    expect(() => canonicalJson(Number.NaN)).toThrow();
  });
});

describe('audit event hash', () => {
  it('is the SHA-256 of the canonical event without hash and locker', () => {
    const e = chain(1)[0];
    const { hash, ...body } = e;
    const expected = createHash('sha256').update(canonicalJson(body)).digest('hex');
    expect(hash).toBe(expected);
    expect(hashEvent({ ...e, locker: 'locker-9' })).toBe(expected);
  });

  it('verifies an intact chain', () => {
    const r = verifyChain(chain(5));
    expect(r).toMatchObject({ ok: true, count: 5, lastSeq: 5 });
    expect(r.head).toBe(chain(5)[4].hash);
  });

  it('detects an edited field, a removed event and a relinked chain', () => {
    const edited = chain(5);
    edited[2] = { ...edited[2], compartment: 9 };
    expect(verifyChain(edited)).toMatchObject({ ok: false, brokenAt: 3 });

    const gap = chain(5);
    gap.splice(3, 1);
    expect(verifyChain(gap)).toMatchObject({ ok: false, brokenAt: 5 });

    const relinked = chain(5);
    relinked[1] = { ...relinked[1], prevHash: GENESIS_HASH };
    relinked[1].hash = hashEvent(relinked[1]);
    expect(verifyChain(relinked)).toMatchObject({ ok: false, brokenAt: 2 });
  });
});
