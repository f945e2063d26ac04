// 6. Central ingest: events per second through the central service's Ingestor (schema check, hash
// and chain-link checks, duplicate lookups, dossier tracking, gap review, one transaction per
// message as it is acknowledged to the broker) into SQLite and, when a server answers, PostgreSQL;
// against bare inserts of the same rows into the same schema, one transaction per row, with the
// raw driver (better-sqlite3, pg) in the same durability mode.
import Database from 'better-sqlite3';
import { randomBytes, randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { migrateCentral } from '../../server/central/db/migrations.ts';
import { openPostgres } from '../../server/central/db/postgres.ts';
import type { CentralDb } from '../../server/central/db/sql.ts';
import { openSqlite } from '../../server/central/db/sqlite.ts';
import { Ingestor } from '../../server/central/ingest.ts';
import { GENESIS_HASH, hashEvent, type AuditEvent } from '../../server/domain/audit-event.ts';
import { canonicalJson } from '../../server/domain/jcs.ts';
import { PG_URL, pgUnavailable } from '../central/helpers.ts';
import { tempDir } from '../helpers/locker.ts';
import { round, type BenchResult } from './stats.ts';

const LOCKER = 'bench-1';
const INSERT = `INSERT INTO events (id, locker, seq, at, at_ms, type, actor, compartment, dossier, prev_hash, hash, body, hash_ok, link_ok, received_at)`;

/** A valid chain of pickup-shaped events, as a locker publishes them. */
function chain(n: number): AuditEvent[] {
  const out: AuditEvent[] = [];
  let prevHash = GENESIS_HASH;
  const t0 = Date.parse('2026-12-01T08:00:00Z');
  const types = ['dossier.loading', 'door.unlocked', 'door.opened', 'door.closed', 'dossier.ready', 'pickup.succeeded'] as const;
  for (let seq = 1; seq <= n; seq++) {
    const k = Math.floor((seq - 1) / types.length);
    const e = {
      id: randomUUID(),
      seq,
      at: new Date(t0 + seq * 1000).toISOString(),
      type: types[(seq - 1) % types.length],
      actor: 'citizen' as const,
      compartment: 1 + (k % 24),
      dossier: `H29.12-${String(k).padStart(6, '0')}`,
      data: { reason: 'bench' },
      prevHash,
    };
    const hash = hashEvent(e);
    out.push({ ...e, hash });
    prevHash = hash;
  }
  return out;
}

async function ingestRate(db: CentralDb, events: AuditEvent[]): Promise<number> {
  const ingest = new Ingestor(db, { now: () => Date.now() }, pino({ level: 'silent' }), { gapGraceMs: 60_000 });
  const payloads = events.map((e) => Buffer.from(JSON.stringify({ ...e, locker: LOCKER })));
  const t0 = performance.now();
  for (const p of payloads) {
    const r = await ingest.event(LOCKER, p);
    if (r !== 'stored') throw new Error(`central ingest: ${r}`);
  }
  return (events.length / (performance.now() - t0)) * 1000;
}

function rowOf(e: AuditEvent): (string | number | null)[] {
  return [e.id, LOCKER, e.seq, e.at, Date.parse(e.at), e.type, e.actor, e.compartment ?? null, e.dossier ?? null, e.prevHash, e.hash, canonicalJson(e), 1, 1, Date.now()];
}

async function sqliteFigures(events: AuditEvent[]) {
  const ours = tempDir('bench-central-');
  const bare = tempDir('bench-central-bare-');
  try {
    const db = openSqlite(ours);
    await migrateCentral(db);
    const oursRate = await ingestRate(db, events);
    await db.close();

    // The same schema, migrated by the service, then written to with better-sqlite3 alone.
    const schema = openSqlite(bare);
    await migrateCentral(schema);
    await schema.close();
    const raw = new Database(join(bare, 'central.db'));
    raw.pragma('journal_mode = WAL');
    raw.pragma('synchronous = FULL');
    raw.prepare('INSERT INTO lockers (id, first_seen, last_seen) VALUES (?, 0, 0)').run(LOCKER);
    const insert = raw.prepare(`${INSERT} VALUES (${Array(15).fill('?').join(', ')})`);
    const rows = events.map(rowOf);
    const tx = raw.transaction((r: (string | number | null)[]) => insert.run(r));
    const t0 = performance.now();
    for (const r of rows) tx.immediate(r);
    const bareRate = (rows.length / (performance.now() - t0)) * 1000;
    raw.close();
    return { oursRate, bareRate };
  } finally {
    rmSync(ours, { recursive: true, force: true });
    rmSync(bare, { recursive: true, force: true });
  }
}

async function postgresFigures(events: AuditEvent[]) {
  const tag = `${process.pid}_${randomBytes(3).toString('hex')}`;
  const oursSchema = `central_bench_${tag}`;
  const bareSchema = `central_bench_bare_${tag}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    const db = await openPostgres({ url: PG_URL, schema: oursSchema });
    await migrateCentral(db);
    const oursRate = await ingestRate(db, events);
    await db.close();

    const schema = await openPostgres({ url: PG_URL, schema: bareSchema });
    await migrateCentral(schema);
    await schema.close();
    const raw = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${bareSchema}` });
    await raw.connect();
    await raw.query('INSERT INTO lockers (id, first_seen, last_seen) VALUES ($1, 0, 0)', [LOCKER]);
    const text = `${INSERT} VALUES (${Array.from({ length: 15 }, (_, i) => `$${i + 1}`).join(', ')})`;
    const rows = events.map(rowOf);
    const t0 = performance.now();
    for (const r of rows) await raw.query(text, r); // autocommit: one transaction per row
    const bareRate = (rows.length / (performance.now() - t0)) * 1000;
    await raw.end();
    return { oursRate, bareRate };
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS "${oursSchema}" CASCADE`).catch(() => undefined);
    await admin.query(`DROP SCHEMA IF EXISTS "${bareSchema}" CASCADE`).catch(() => undefined);
    await admin.end();
  }
}

export async function centralIngest(n = 3000): Promise<BenchResult> {
  const events = chain(n);
  const sqlite = await sqliteFigures(events);
  const figures: Record<string, number | string> = {
    events: n,
    'SQLite ingest events/s': round(sqlite.oursRate, 0),
    'SQLite bare inserts/s': round(sqlite.bareRate, 0),
    'SQLite ratio': round(sqlite.oursRate / sqlite.bareRate, 2),
  };
  const pgDown = await pgUnavailable();
  if (pgDown) figures.PostgreSQL = `not measured: ${pgDown}`;
  else {
    const p = await postgresFigures(events);
    figures['PostgreSQL ingest events/s'] = round(p.oursRate, 0);
    figures['PostgreSQL bare inserts/s'] = round(p.bareRate, 0);
    figures['PostgreSQL ratio'] = round(p.oursRate / p.bareRate, 2);
  }
  return {
    name: 'central ingest',
    figures,
    target: 'none set by the issue: reported beside bare inserts',
    met: true,
    limit: 'one durable commit per message (it is acknowledged only after); ours adds ~6 lookups and updates per event',
  };
}
