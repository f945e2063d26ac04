// The one database interface the central service uses, over SQLite (better-sqlite3) or
// PostgreSQL (pg). Queries are written once, with named parameters (`:name`), in the SQL both
// engines share; each adapter turns them into its own placeholders.
export type Params = Record<string, string | number | null>;

export interface Sql {
  all<T>(sql: string, params?: Params): Promise<T[]>;
  get<T>(sql: string, params?: Params): Promise<T | undefined>;
  /** Resolves with the number of rows changed. */
  run(sql: string, params?: Params): Promise<number>;
}

export type Dialect = 'sqlite' | 'postgres';

export interface CentralDb extends Sql {
  readonly dialect: Dialect;
  /** One transaction. On PostgreSQL `lockLocker` takes a row lock, so ingest is serialised per locker across instances. */
  tx<T>(fn: (q: TxSql) => Promise<T>): Promise<T>;
  /** A short description for logs and /healthz (no password). */
  readonly describe: string;
  close(): Promise<void>;
}

export interface TxSql extends Sql {
  lockLocker(id: string): Promise<void>;
}

const NAMED = /(?<![:\w]):([A-Za-z_][A-Za-z0-9_]*)/g;

/** `:name` -> `$1, $2, ...` with the matching value list (a name used twice binds twice). */
export function toPositional(sql: string, params: Params = {}): { text: string; values: (string | number | null)[] } {
  const values: (string | number | null)[] = [];
  const index = new Map<string, number>();
  const text = sql.replace(NAMED, (_m, name: string) => {
    if (!Object.hasOwn(params, name)) throw new Error(`SQL parameter :${name} has no value`);
    let i = index.get(name);
    if (i === undefined) {
      values.push(params[name]);
      i = values.length;
      index.set(name, i);
    }
    return `$${i}`;
  });
  return { text, values };
}

/** `:name` -> `@name` for better-sqlite3, binding only the names the statement uses. */
export function toSqliteNamed(sql: string, params: Params = {}): { text: string; bind: Params } {
  const bind: Params = {};
  const text = sql.replace(NAMED, (_m, name: string) => {
    if (!Object.hasOwn(params, name)) throw new Error(`SQL parameter :${name} has no value`);
    bind[name] = params[name];
    return `@${name}`;
  });
  return { text, bind };
}
