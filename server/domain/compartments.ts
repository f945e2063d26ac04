import type { Store } from '../db/store.ts';
import type { LockerMap } from '../../locker-map/schema.ts';
import { SIZES, type Size } from '../../locker-map/schema.ts';
import type { DoorState } from '../../firmware-bridge/door-bus.ts';

export type CompartmentStatus = 'free' | 'loading' | 'occupied' | 'disabled' | 'fault';

export interface CompartmentView {
  number: number;
  size: Size;
  status: CompartmentStatus;
  door: 'open' | 'closed';
}

export interface CompartmentRow {
  number: number;
  size: Size;
  disabled: number;
  fault: string | null;
  door: DoorState;
  dossier_id: number | null;
  unlocked_until: number;
  unlocked_by: string | null;
  opened_since_unlock: number;
  dossier_status: string | null;
  dossier_code: string | null;
}

const SELECT = `SELECT c.*, d.status AS dossier_status, d.code AS dossier_code
  FROM compartments c LEFT JOIN dossiers d ON d.id = c.dossier_id`;

export function statusOf(row: CompartmentRow): CompartmentStatus {
  if (row.disabled) return 'disabled';
  if (row.fault) return 'fault';
  if (row.dossier_id === null) return 'free';
  return row.dossier_status === 'loading' ? 'loading' : 'occupied';
}

export function viewOf(row: CompartmentRow): CompartmentView {
  // An unreadable sensor is reported as closed only if it never said otherwise; the fault
  // status is what tells staff the sensor is unknown.
  return { number: row.number, size: row.size, status: statusOf(row), door: row.door === 'open' ? 'open' : 'closed' };
}

export class Compartments {
  private readonly selectAll;
  private readonly selectOne;
  private readonly freeBySize;
  private readonly changeMark;
  /** The grid as last read, and the database's change counters at that moment. */
  private cached: { mark: string; views: CompartmentView[] } | null = null;

  constructor(private readonly store: Store) {
    const db = store.db;
    this.selectAll = db.prepare<[], CompartmentRow>(`${SELECT} ORDER BY c.number`);
    // Rows changed on this connection, and commits by any other (the CLI): if neither moved, no
    // table did, so the grid read last time still stands. Staff consoles poll it all day.
    this.changeMark = db
      .prepare<[], string>(`SELECT total_changes() || '/' || (SELECT data_version FROM pragma_data_version)`)
      .pluck();
    this.selectOne = db.prepare<[number], CompartmentRow>(`${SELECT} WHERE c.number = ?`);
    // Smallest size that fits first, then the lowest number: large doors stay free for large files.
    this.freeBySize = db.prepare<[string], { number: number }>(
      `SELECT number FROM compartments
       WHERE dossier_id IS NULL AND disabled = 0 AND fault IS NULL AND size = ?
       ORDER BY number LIMIT 1`,
    );
  }

  /** Brings the table in line with the locker map. Refuses to drop a compartment that holds a dossier. */
  syncWithMap(map: LockerMap): void {
    const db = this.store.db;
    this.store.tx(() => {
      const existing = new Map(this.selectAll.all().map((r) => [r.number, r]));
      const wanted = new Set(map.compartments.map((c) => c.number));
      for (const [n, row] of existing) {
        if (wanted.has(n)) continue;
        if (row.dossier_id !== null) {
          throw new Error(`locker map: compartment ${n} was removed from the map but still holds dossier ${row.dossier_code}`);
        }
        db.prepare('DELETE FROM compartments WHERE number = ?').run(n);
      }
      const upsert = db.prepare(
        `INSERT INTO compartments (number, size) VALUES (?, ?) ON CONFLICT(number) DO UPDATE SET size = excluded.size`,
      );
      for (const c of map.compartments) upsert.run(c.number, c.size);
    });
  }

  /** Frozen when it comes from the cache: callers share it. */
  list(): CompartmentView[] {
    // Inside a transaction the counters cannot tell a rolled-back change from a kept one.
    if (this.store.db.inTransaction) return this.selectAll.all().map(viewOf);
    const mark = this.changeMark.get()!;
    if (this.cached?.mark !== mark) {
      this.cached = { mark, views: Object.freeze(this.selectAll.all().map((r) => Object.freeze(viewOf(r)))) as CompartmentView[] };
    }
    return this.cached.views;
  }

  rows(): CompartmentRow[] {
    return this.selectAll.all();
  }

  row(number: number): CompartmentRow | undefined {
    return this.selectOne.get(number);
  }

  /** The smallest free compartment of `size` or larger. */
  allocate(size: Size): number | null {
    for (const s of SIZES.slice(SIZES.indexOf(size))) {
      const hit = this.freeBySize.get(s);
      if (hit) return hit.number;
    }
    return null;
  }

  counts(): Record<CompartmentStatus, number> {
    const out: Record<CompartmentStatus, number> = { free: 0, loading: 0, occupied: 0, disabled: 0, fault: 0 };
    for (const r of this.selectAll.all()) out[statusOf(r)]++;
    return out;
  }
}
