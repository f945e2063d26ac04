// PostgreSQL adapter (pg). int8 values (counts, epoch milliseconds) come back as numbers: they
// stay far below 2^53. A configured schema is created if missing and set as the search_path of
// every connection at start-up, so one server can hold several central offices (or one per test run).
import pg from 'pg';
import { toPositional, type CentralDb, type Params, type TxSql } from './sql.ts';

const INT8 = 20;

export interface PgOptions {
  url: string;
  schema: string | null;
  max?: number;
}

const getTypeParser = ((oid: number, format?: 'text' | 'binary') =>
  oid === INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser;

export async function openPostgres(o: PgOptions): Promise<CentralDb> {
  const base = { connectionString: o.url, connectionTimeoutMillis: 10_000, types: { getTypeParser } };
  if (o.schema) {
    const c = new pg.Client(base);
    await c.connect();
    try {
      await c.query(`CREATE SCHEMA IF NOT EXISTS "${o.schema}"`);
    } catch (err) {
      // Two instances creating it at once: the loser sees a unique violation; the schema exists.
      if (!['23505', '42P06'].includes((err as { code?: string }).code ?? '')) throw err;
    } finally {
      await c.end();
    }
  }
  const pool = new pg.Pool({ ...base, max: o.max ?? 10, ...(o.schema ? { options: `-c search_path=${o.schema}` } : {}) });
  pool.on('error', () => {
    // An idle connection dropped by the server: the pool replaces it; queries report their own errors.
  });
  const make = (exec: (text: string, values: unknown[]) => Promise<pg.QueryResult>) => ({
    async all<T>(sql: string, params?: Params) {
      const { text, values } = toPositional(sql, params);
      return (await exec(text, values)).rows as T[];
    },
    async get<T>(sql: string, params?: Params) {
      const { text, values } = toPositional(sql, params);
      return (await exec(text, values)).rows[0] as T | undefined;
    },
    async run(sql: string, params?: Params) {
      const { text, values } = toPositional(sql, params);
      return (await exec(text, values)).rowCount ?? 0;
    },
  });
  const u = new URL(o.url);
  return {
    dialect: 'postgres',
    describe: `postgres ${u.hostname || 'socket'}${u.port ? `:${u.port}` : ''}${u.pathname}${o.schema ? ` schema ${o.schema}` : ''}`,
    ...make((text, values) => pool.query(text, values)),
    async tx<T>(fn: (t: TxSql) => Promise<T>) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const t: TxSql = {
          ...make((text, values) => client.query(text, values)),
          async lockLocker(id) {
            await client.query('SELECT 1 FROM lockers WHERE id = $1 FOR UPDATE', [id]);
          },
        };
        const r = await fn(t);
        await client.query('COMMIT');
        return r;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    async close() {
      await pool.end();
    },
  };
}
