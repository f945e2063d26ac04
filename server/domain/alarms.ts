// Alarms (the audit events named in ALARM_TYPES) and their acknowledgement. An acknowledgement is
// kept on the locker, not in one browser: it is audited (`alarm.acknowledged`, who, when, a note)
// and indexed in `alarm_acks`, so every console, and the central office through the event stream,
// sees the alarm as handled.
import type { Store } from '../db/store.ts';
import type { AuditEvent } from './audit-event.ts';
import { ALARM_ACK_TYPE, ALARM_TYPES } from '../web/lib/alarm-types.js';
import type { AuditLog } from './audit-log.ts';
import { DomainError } from './errors.ts';
import type { Clock } from './ports.ts';

export interface AlarmAck {
  by: string;
  at: string;
  note: string | null;
  /** The seq of the `alarm.acknowledged` event. */
  seq: number;
}

/** An alarm is its audit event (without the chain fields) and, once handled, its acknowledgement. */
export type AlarmView = Omit<AuditEvent, 'id' | 'prevHash' | 'hash'> & { ack: AlarmAck | null };

interface AlarmRow {
  seq: number;
  at: string;
  type: string;
  actor: string;
  compartment: number | null;
  dossier: string | null;
  data: string | null;
  ack_seq: number | null;
  acked_by: string | null;
  acked_at: number | null;
  note: string | null;
}

const TYPES_SQL = ALARM_TYPES.map((t) => `'${t.replace(/'/g, "''")}'`).join(', ');
const SELECT = `SELECT e.seq, e.at, e.type, e.actor, e.compartment, e.dossier, e.data, a.ack_seq, a.acked_by, a.acked_at, a.note
  FROM audit_events e LEFT JOIN alarm_acks a ON a.alarm_seq = e.seq`;

export const ALARM_NOTE_MAX = 200;

export class Alarms {
  private readonly one;
  private readonly insertAck;

  constructor(
    private readonly store: Store,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {
    this.one = store.db.prepare<[number], AlarmRow>(`${SELECT} WHERE e.seq = ?`);
    this.insertAck = store.db.prepare('INSERT INTO alarm_acks (alarm_seq, ack_seq, acked_by, acked_at, note) VALUES (?, ?, ?, ?, ?)');
  }

  static isAlarm(type: string): boolean {
    return ALARM_TYPES.includes(type);
  }

  /** Alarms newest first; `open` only those nobody has acknowledged yet. */
  list(opts: { open?: boolean; limit?: number } = {}): AlarmView[] {
    const limit = Math.min(Math.max(opts.limit ?? 200, 1), 1000);
    const rows = this.store.db
      .prepare<[number], AlarmRow>(`${SELECT} WHERE e.type IN (${TYPES_SQL}) ${opts.open ? 'AND a.alarm_seq IS NULL' : ''} ORDER BY e.seq DESC LIMIT ?`)
      .all(limit);
    return rows.map(view);
  }

  /** The seqs among `seqs` that have been acknowledged. */
  acknowledged(seqs: number[]): Set<number> {
    if (seqs.length === 0) return new Set();
    const rows = this.store.db
      .prepare<number[], { alarm_seq: number }>(`SELECT alarm_seq FROM alarm_acks WHERE alarm_seq IN (${seqs.map(() => '?').join(', ')})`)
      .all(...seqs);
    return new Set(rows.map((r) => r.alarm_seq));
  }

  acknowledge(actor: string, seq: number, note: string | null): AlarmView {
    return this.store.tx(() => {
      const row = this.one.get(seq);
      if (!row || !Alarms.isAlarm(row.type)) throw new DomainError(404, 'not_found', `No alarm with seq ${seq}.`);
      if (row.ack_seq !== null) {
        throw new DomainError(409, 'already_acknowledged', `Alarm ${seq} was acknowledged by ${row.acked_by} at ${new Date(row.acked_at!).toISOString()}.`);
      }
      const now = this.clock.now();
      const ack = this.audit.append({
        type: ALARM_ACK_TYPE,
        actor,
        ...(row.compartment !== null ? { compartment: row.compartment } : {}),
        ...(row.dossier !== null ? { dossier: row.dossier } : {}),
        data: { alarmSeq: seq, alarmType: row.type, note },
      });
      this.insertAck.run(seq, ack.seq, actor, now, note);
      return view(this.one.get(seq)!);
    });
  }
}

function view(r: AlarmRow): AlarmView {
  return {
    seq: r.seq,
    at: r.at,
    type: r.type,
    actor: r.actor,
    ...(r.compartment !== null ? { compartment: r.compartment } : {}),
    ...(r.dossier !== null ? { dossier: r.dossier } : {}),
    ...(r.data !== null ? { data: JSON.parse(r.data) } : {}),
    ack: r.ack_seq === null ? null : { by: r.acked_by!, at: new Date(r.acked_at!).toISOString(), note: r.note, seq: r.ack_seq },
  };
}
