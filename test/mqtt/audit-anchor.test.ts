// The trail's anchor: the newest event the broker acknowledged (with every earlier one) is kept in
// the database, so cutting the newest events or rewriting the tail and re-hashing it no longer
// passes `locker audit verify`, while events not yet sent are counted as unconfirmed.
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { hashEvent, type AuditEvent } from '../../server/domain/audit-event.ts';
import { rowToEvent } from '../../server/domain/audit-log.ts';
import { startBroker } from '../helpers/broker.ts';
import { loadDossier, startLocker, tempDir, type TestLocker } from '../helpers/locker.ts';
import { Consumer } from './consumer.ts';

const BIN = join(import.meta.dirname, '../../server/bin/locker.mjs');
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
});

function verifyCli(dataDir: string) {
  const r = spawnSync(process.execPath, [BIN, 'audit', 'verify'], {
    env: { ...process.env, LOCKER_DATA_DIR: dataDir, LOCKER_LOG_LEVEL: 'silent' },
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A locker on a real broker whose every event so far the broker has acknowledged; then stopped. */
async function anchoredTrail() {
  const broker = await startBroker();
  cleanups.push(() => broker.close());
  const central = await Consumer.connect(broker);
  cleanups.push(() => central.close());
  const dataDir = tempDir();
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const t = await startLocker({ dataDir, env: { LOCKER_MQTT_URL: broker.url, LOCKER_MQTT_PROTOCOL: broker.protocolSetting } });
  let stopped = false;
  cleanups.push(() => (stopped ? undefined : t.stop()));
  const staff = await t.login('staff');
  for (let i = 0; i < 3; i++) await loadDossier(t, staff, `AN-${i}`, `091200000${i}`);
  const auditor = await t.login('auditor');
  const last = t.locker.ctx.audit.latestSeq();
  await central.waitFor('the outbox to drain', () => t.locker.ctx.mqttStatus().outbox === 0, 30_000);
  await central.waitFor('the anchor to reach the head', () => t.locker.ctx.audit.anchor().seq === t.locker.ctx.audit.latestSeq(), 30_000);
  const v = await t.api('GET', '/api/v1/audit/verify', undefined, auditor);
  const head = t.locker.ctx.audit.latestSeq();
  await t.stop();
  stopped = true;
  return { broker, central, dataDir, last, head, verify: v.body };
}

function copyOf(dataDir: string): string {
  const dir = tempDir();
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(dataDir, dir, { recursive: true });
  return dir;
}

describe('the audit trail anchor', () => {
  it('records the newest event the broker acknowledged, and verify says the whole trail is anchored', async () => {
    const { dataDir, head, last, verify } = await anchoredTrail();
    expect(head).toBeGreaterThanOrEqual(last);
    expect(verify).toMatchObject({ ok: true, count: head, unconfirmed: 0, anchored: { seq: head, hash: verify.head } });
    expect(Date.parse(verify.anchored.at)).not.toBeNaN();
    const cli = verifyCli(dataDir);
    expect(cli.code).toBe(0);
    expect(cli.out).toContain(`anchored up to seq ${head}`);
    expect(cli.out).toContain('0 events not yet confirmed centrally');
  }, 60_000);

  it('calls a trail broken when its newest events were deleted after the broker acknowledged them', async () => {
    const { dataDir, head } = await anchoredTrail();
    const db = new Database(join(dataDir, 'locker.db'));
    db.prepare('DELETE FROM audit_events WHERE seq > ?').run(head - 3);
    db.close();
    const cli = verifyCli(dataDir);
    expect(cli.code, cli.out).not.toBe(0);
    expect(cli.err).toContain(`BROKEN at seq ${head}`);
    expect(cli.err).toMatch(new RegExp(`ends at seq ${head - 3}.*acknowledged events up to seq ${head}.*deleted`));
  }, 60_000);

  it('calls a trail broken when its tail was rewritten and re-hashed after the broker acknowledged it', async () => {
    const { dataDir, head } = await anchoredTrail();
    const dir = copyOf(dataDir);
    const db = new Database(join(dir, 'locker.db'));
    // A root on the Pi rewrites the last three events and re-chains them: the chain alone is intact.
    const rows = db.prepare('SELECT * FROM audit_events WHERE seq >= ? ORDER BY seq').all(head - 2) as Parameters<typeof rowToEvent>[0][];
    let prev = (db.prepare('SELECT hash FROM audit_events WHERE seq = ?').get(head - 3) as { hash: string }).hash;
    const update = db.prepare('UPDATE audit_events SET data = ?, prev_hash = ?, hash = ? WHERE seq = ?');
    for (const r of rows) {
      const e = rowToEvent(r);
      const changed: Omit<AuditEvent, 'hash'> = { ...e, data: { ...(e.data ?? {}), note: 'rewritten' }, prevHash: prev };
      delete (changed as Partial<AuditEvent>).hash;
      const hash = hashEvent(changed);
      update.run(JSON.stringify(changed.data), prev, hash, r.seq);
      prev = hash;
    }
    db.close();
    const cli = verifyCli(dir);
    expect(cli.code, cli.out).not.toBe(0);
    expect(cli.err).toContain(`BROKEN at seq ${head}`);
    expect(cli.err).toContain('another hash than the one the broker acknowledged');
    // Without its anchor the same rewritten trail verifies: the chain alone could not tell.
    const bare = new Database(join(dir, 'locker.db'));
    bare.prepare('UPDATE audit_anchor SET seq = 0, hash = NULL, at = NULL').run();
    bare.close();
    expect(verifyCli(dir).code).toBe(0);
  }, 60_000);

  it('counts events the broker has not acknowledged yet as unconfirmed, and the trail stays ok', async () => {
    const broker = await startBroker();
    cleanups.push(() => broker.close());
    const central = await Consumer.connect(broker);
    cleanups.push(() => central.close());
    const t: TestLocker = await startLocker({ env: { LOCKER_MQTT_URL: broker.url, LOCKER_MQTT_PROTOCOL: broker.protocolSetting } });
    cleanups.push(() => t.stop());
    const auditor = await t.login('auditor');
    await central.waitFor('the first anchor', () => t.locker.ctx.mqttStatus().outbox === 0 && t.locker.ctx.audit.anchor().seq === t.locker.ctx.audit.latestSeq(), 30_000);
    const anchoredSeq = t.locker.ctx.audit.anchor().seq;

    await broker.stop();
    const staff = await t.login('staff');
    await loadDossier(t, staff, 'UN-1', '0912000009');
    const head = t.locker.ctx.audit.latestSeq();
    expect(head).toBeGreaterThan(anchoredSeq);
    const offline = await t.api('GET', '/api/v1/audit/verify', undefined, auditor);
    expect(offline.body).toMatchObject({ ok: true, count: head, anchored: { seq: anchoredSeq }, unconfirmed: head - anchoredSeq });

    await broker.start();
    await central.waitFor('the anchor to catch up', () => t.locker.ctx.audit.anchor().seq >= head, 30_000);
    const online = await t.api('GET', '/api/v1/audit/verify', undefined, auditor);
    expect(online.body.ok).toBe(true);
    expect(online.body.unconfirmed).toBe(online.body.count - online.body.anchored.seq);
    expect(online.body.anchored.seq).toBeGreaterThanOrEqual(head);
  }, 60_000);
});
