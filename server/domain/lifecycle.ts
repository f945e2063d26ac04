// The lifecycle of a dossier and of the compartment that holds it, in one table.
//
// A dossier's status moves only along DOSSIER_TRANSITIONS; every service that changes a status
// asks `transition()` first, and the start-up reconcile uses the same rules (`afterRestart`).
// A compartment's booking (`dossier_id`) follows from the dossier and from what its door did
// since its last unlock (`opened_since_unlock`): `releaseOnClose` and `releaseAtOnce` say when
// the booking ends. Nothing else frees a compartment, so nothing else can strand one.
//
// Liveness: from every state some staff action leads on. STAFF_FINISH names, per state of a booked
// compartment, the action that finishes it; test/domain/lifecycle.test.ts walks the whole table.
import { DomainError } from './errors.ts';

export const DOSSIER_STATUSES = ['loading', 'ready', 'picked_up', 'expired', 'withdrawn', 'cancelled'] as const;
export type DossierStatus = (typeof DOSSIER_STATUSES)[number];

/** Statuses whose paper is (as far as the locker knows) still inside the compartment. */
export const INSIDE: ReadonlySet<DossierStatus> = new Set(['loading', 'ready', 'expired', 'cancelled']);
/** Statuses whose paper is meant to leave: the booking ends once the door has opened and shut. */
export const DEPARTING: ReadonlySet<DossierStatus> = new Set(['picked_up', 'withdrawn']);
/** Statuses a dossier code is still "live" in (one live dossier per code). */
export const LIVE: ReadonlySet<DossierStatus> = new Set(['loading', 'ready', 'expired']);

export type LifecycleEvent =
  /** The clerk confirms the paper is inside and the door shut (or the door's closing does it): the code goes out. */
  | 'confirm'
  /** A citizen's code matched: committed before the pulse. */
  | 'pickup'
  /** The pickup's door never opened (pulse failed, jam, lapse, power cut): the paper is still inside. */
  | 'revert'
  /** The deadline passed without a pickup. */
  | 'expire'
  /** Staff give an expired dossier a new deadline and a new code. */
  | 'revive'
  /** Staff move the deadline of a ready dossier. */
  | 'extend'
  /** Staff correct the phone number: a new code goes to the new number. */
  | 'correct_phone'
  /** A new code for the same dossier (citizen resend within limits, or staff). */
  | 'reissue'
  /** Staff take the paper back out. */
  | 'withdraw'
  /** The central office (or the system, when the loading door would not open) stops the dossier. */
  | 'cancel'
  /** Staff looked inside: the compartment is empty, whatever was booked leaves the locker. */
  | 'release';

interface Transition {
  from: readonly DossierStatus[];
  /** null: the status stays what it was. */
  to: DossierStatus | null;
}

export const DOSSIER_TRANSITIONS: Record<LifecycleEvent, Transition> = {
  confirm: { from: ['loading'], to: 'ready' },
  pickup: { from: ['ready'], to: 'picked_up' },
  revert: { from: ['picked_up'], to: 'ready' },
  expire: { from: ['ready'], to: 'expired' },
  revive: { from: ['expired'], to: 'ready' },
  extend: { from: ['ready'], to: null },
  correct_phone: { from: ['loading', 'ready', 'expired'], to: null },
  reissue: { from: ['ready'], to: null },
  withdraw: { from: ['loading', 'ready', 'expired', 'cancelled'], to: 'withdrawn' },
  cancel: { from: ['loading', 'ready', 'expired'], to: 'cancelled' },
  release: { from: ['loading', 'ready', 'expired', 'cancelled'], to: 'withdrawn' },
};

export function canTransition(status: DossierStatus, event: LifecycleEvent): boolean {
  return DOSSIER_TRANSITIONS[event].from.includes(status);
}

/** The status after `event`, or a 409 `invalid_state` naming both. */
export function transition(status: DossierStatus, event: LifecycleEvent, code = 'the dossier'): DossierStatus {
  const t = DOSSIER_TRANSITIONS[event];
  if (!t.from.includes(status)) {
    throw new DomainError(409, 'invalid_state', `Dossier ${code} is ${status}; "${event}" needs it ${t.from.join(' or ')}.`);
  }
  return t.to ?? status;
}

/** What the booking's compartment knows about its door since the last unlock. */
export interface DoorFacts {
  door: 'open' | 'closed' | 'unknown';
  /** The door has opened since the compartment was last unlocked. */
  openedSinceUnlock: boolean;
}

/** The door has just shut: does the booking end? The paper left only if the door opened for it. */
export function releaseOnClose(status: DossierStatus, facts: Pick<DoorFacts, 'openedSinceUnlock'>): boolean {
  return DEPARTING.has(status) && facts.openedSinceUnlock;
}

/**
 * Right after a transition: does the booking end without waiting for the door? A dossier withdrawn
 * while loading whose door never opened was never put in, and a withdrawn or collected dossier whose
 * door opened and is already shut again has left.
 */
export function releaseAtOnce(from: DossierStatus, to: DossierStatus, facts: DoorFacts): boolean {
  if (!DEPARTING.has(to) || facts.door !== 'closed') return false;
  if (facts.openedSinceUnlock) return false; // it opened and is shut: the close already decided, or the next close will
  return from === 'loading' && to === 'withdrawn';
}

/** Confirming needs a door that opened since its unlock (else nothing can be inside) and is shut now. */
export function confirmRefusal(facts: DoorFacts): 'door_open' | 'door_not_opened' | null {
  if (facts.door === 'open') return 'door_open';
  if (!facts.openedSinceUnlock) return 'door_not_opened';
  return null;
}

/**
 * The door of a dossier being loaded has just shut: with auto-confirm on, that confirms it, as the
 * clerk's "loaded" would. It opened since its unlock, so the paper could go in, and it is shut now;
 * these are exactly the facts `confirmRefusal` asks of a clerk's confirm. At start-up the same rule
 * judges a door recorded open before the stop and found shut (DoorSupervisor.reconcile).
 */
export function confirmOnClose(status: DossierStatus, facts: Pick<DoorFacts, 'openedSinceUnlock'>, autoConfirm: boolean): boolean {
  return autoConfirm && canTransition(status, 'confirm') && facts.openedSinceUnlock;
}

/**
 * A clerk's confirm of a dossier the door's closing already confirmed is answered as if it had just
 * happened (a client that shut the door and then called "loaded" sees 200 and the same body), and
 * changes nothing: no second code, no second SMS.
 */
export function confirmRepeated(status: DossierStatus, confirmedBy: string | null): boolean {
  return status === 'ready' && confirmedBy === CONFIRMED_BY_DOOR;
}

/** `dossiers.confirmed_by` of a dossier confirmed by its door's closing (else the clerk's actor). */
export const CONFIRMED_BY_DOOR = 'door_closed';

/**
 * A pickup whose door has not opened once its unlock is over (window lapsed, pulse failed, jam, or a
 * restart, which ends every window) is undone: the paper is still inside.
 */
export function pickupUndone(status: DossierStatus, facts: DoorFacts): boolean {
  return status === 'picked_up' && !facts.openedSinceUnlock && facts.door !== 'open';
}

/** The start-up reconcile: what the database and the doors show at boot decide, by the same rules. */
export type RestartAction = 'revert_pickup' | 'release' | 'none';

export function afterRestart(status: DossierStatus | null, facts: DoorFacts): RestartAction {
  if (status === null) return 'none';
  if (pickupUndone(status, facts)) return 'revert_pickup';
  if (facts.door === 'closed' && releaseOnClose(status, facts)) return 'release';
  return 'none';
}

export type StaffAction = 'unlock' | 'release' | 'enable' | 'withdraw';

/**
 * Liveness: for a booked compartment, what staff do to finish it. A dossier still inside can be
 * withdrawn (and then needs its door opened and shut); a departing one whose door never opened is
 * finished by a repair unlock; whatever the door says, a check inside and `release` ends the booking.
 * A compartment in fault or disabled is put back by `enable`.
 */
export function staffFinish(status: DossierStatus): StaffAction[] {
  if (INSIDE.has(status)) return ['withdraw', 'unlock', 'release'];
  return ['unlock', 'release'];
}
