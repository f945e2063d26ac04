import type { CentralConfig } from '../config.ts';
import { migrateCentral } from './migrations.ts';
import { openPostgres } from './postgres.ts';
import type { CentralDb } from './sql.ts';
import { openSqlite } from './sqlite.ts';

/** PostgreSQL when CENTRAL_DATABASE_URL is set, else SQLite in CENTRAL_DATA_DIR; migrated. */
export async function openCentralDb(config: Pick<CentralConfig, 'databaseUrl' | 'databaseSchema' | 'dataDir'>): Promise<CentralDb> {
  const db = config.databaseUrl ? await openPostgres({ url: config.databaseUrl, schema: config.databaseSchema }) : openSqlite(config.dataDir);
  try {
    await migrateCentral(db);
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
  return db;
}
