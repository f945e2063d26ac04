import type { Size } from '../../locker-map/schema.ts';
import { LIFETIME_FAILURES } from './dossier-rules.ts';
import { maskPhone } from './phone.ts';

export interface DossierRow {
  id: number;
  code: string;
  phone: string;
  size: Size;
  compartment: number;
  status: 'loading' | 'ready' | 'picked_up' | 'expired' | 'withdrawn' | 'cancelled';
  created_by: string;
  created_at: number;
  updated_at: number;
  ready_at: number | null;
  expires_at: number | null;
  closed_at: number | null;
  otp_nonce: string;
  code_counter: number;
  code_hash: string | null;
  code_fail_limit: number;
  failures: number;
  resends: number;
  last_code_at: number | null;
  sms_status: 'queued' | 'sent' | 'delivered' | 'failed' | null;
  /** When the door of a collected or withdrawn dossier opened for it (null: not yet, or never). */
  door_opened_at: number | null;
  loading_alarmed_at: number | null;
  /** Who confirmed it loaded: a clerk's actor, or 'door_closed' (auto-confirm); null before. */
  confirmed_by: string | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function dossierView(d: DossierRow) {
  return {
    code: d.code,
    compartment: d.compartment,
    status: d.status,
    size: d.size,
    phone: maskPhone(d.phone),
    createdBy: d.created_by,
    createdAt: iso(d.created_at)!,
    readyAt: iso(d.ready_at),
    /** 'door' when the door's closing confirmed it, 'staff' when a clerk did, null while loading. */
    confirmedBy: d.confirmed_by === null ? null : d.confirmed_by === 'door_closed' ? ('door' as const) : ('staff' as const),
    expiresAt: iso(d.expires_at),
    closedAt: iso(d.closed_at),
    sms: d.sms_status,
    failedAttempts: d.failures,
    codeLocked: d.status === 'ready' && (d.code_hash === null || d.failures >= d.code_fail_limit),
    /** The citizen can no longer ask for a new code; only staff can issue one (resend). */
    lifetimeCapReached: d.failures >= LIFETIME_FAILURES,
    resends: d.resends,
  };
}

export type DossierView = ReturnType<typeof dossierView>;
