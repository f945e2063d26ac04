// A model of the locker, written from the contract and README rules, for the model-based test:
// what each action should answer, which audit events it should write, and what every
// compartment and dossier should look like afterwards.
import {
  CITIZEN_RESENDS,
  CODE_TRIES,
  LIFETIME_FAILURES,
  RESEND_MIN_INTERVAL_MS,
  kioskDelayMs,
} from '../../../server/domain/dossier-rules.ts';
import { SIZES, type Size } from '../../../locker-map/schema.ts';

export type Status = 'loading' | 'ready' | 'picked_up' | 'expired' | 'withdrawn' | 'cancelled';
const LIVE: Status[] = ['loading', 'ready', 'expired'];
const WITHDRAWABLE: Status[] = ['loading', 'ready', 'expired'];
const DEPARTED: Status[] = ['picked_up', 'withdrawn'];
const INSIDE: Status[] = ['loading', 'ready', 'expired', 'cancelled'];
/** LOCKER_LOADING_ALARM_MIN's default. */
export const LOADING_ALARM_MS = 15 * 60_000;

export interface MDossier {
  id: number;
  code: string;
  phone: string;
  compartment: number;
  status: Status;
  counter: number;
  failures: number;
  failLimit: number;
  resends: number;
  lastCodeAt: number | null;
  expiresAt: number | null;
  hasCode: boolean;
  createdAt: number;
  staleAlarmed: boolean;
  /** Confirmed by its door's closing after the loading unlock (LOCKER_AUTO_CONFIRM), not by a clerk. */
  confirmedByDoor: boolean;
}

export interface MCompartment {
  number: number;
  size: Size;
  dossierId: number | null;
  door: 'open' | 'closed';
  unlockedUntil: number;
  openedSinceUnlock: boolean;
  fault: string | null;
}

export interface Expect {
  status: number;
  body?: unknown;
  events: string[];
  /** Compartments whose lock must have been pulsed. */
  unlocks: number[];
  /** Dossiers that got a new code (and so an SMS). */
  newCodes: MDossier[];
  /** Notices without a code that go out in this step (a code that locked, a dossier that expired). */
  notices?: number;
}

export class LockerModel {
  readonly dossiers: MDossier[] = [];
  readonly compartments = new Map<number, MCompartment>();
  kiosk = { consecutive: 0, blockedUntil: 0 };
  /** The next lock pulse fails (a relay board that stopped answering). */
  failNext = false;
  private nextId = 1;

  constructor(
    compartments: { number: number; size: Size }[],
    public now: number,
    private readonly pickupWindowMs: number,
    private readonly unlockWindowMs: number,
    /** LOCKER_AUTO_CONFIRM: a loading door opened after its unlock and shut again confirms the dossier. */
    private readonly autoConfirm = true,
  ) {
    for (const c of compartments) {
      this.compartments.set(c.number, { number: c.number, size: c.size, dossierId: null, door: 'closed', unlockedUntil: 0, openedSinceUnlock: false, fault: null });
    }
  }

  live(code: string): MDossier | undefined {
    return this.dossiers.find((d) => d.code === code && LIVE.includes(d.status));
  }

  latest(code: string): MDossier | undefined {
    return [...this.dossiers].reverse().find((d) => d.code === code);
  }

  byId(id: number | null): MDossier | undefined {
    return id === null ? undefined : this.dossiers.find((d) => d.id === id);
  }

  view(): { number: number; size: Size; status: string; door: string }[] {
    return [...this.compartments.values()]
      .sort((a, b) => a.number - b.number)
      .map((c) => {
        const d = this.byId(c.dossierId);
        const status = c.fault ? 'fault' : !d ? 'free' : d.status === 'loading' ? 'loading' : 'occupied';
        return { number: c.number, size: c.size, status, door: c.door };
      });
  }

  /** An authorised unlock and its pulse; false when the pulse failed (the compartment goes to fault). */
  private unlock(n: number, e: Expect): boolean {
    const c = this.compartments.get(n)!;
    c.unlockedUntil = this.now + this.unlockWindowMs;
    // A door already open has, for this unlock, opened.
    c.openedSinceUnlock = c.door === 'open';
    e.events.push('door.unlocked');
    if (this.failNext) {
      this.failNext = false;
      c.fault = 'unlock_failed';
      c.unlockedUntil = 0;
      e.events.push('door.unlock_failed');
      return false;
    }
    e.unlocks.push(n);
    return true;
  }

  private doorFault(e: Expect): Expect {
    return { ...e, status: 503, body: { error: 'door_fault' } };
  }

  /** A pickup whose door never opened is undone: the dossier is ready again with the same code. */
  private revertIfUndone(c: MCompartment, e: Expect): void {
    const d = this.byId(c.dossierId);
    if (!d || d.status !== 'picked_up' || c.openedSinceUnlock || c.door === 'open') return;
    d.status = 'ready';
    d.hasCode = true;
    e.events.push('pickup.reverted');
  }

  private sorted(): MCompartment[] {
    return [...this.compartments.values()].sort((a, b) => a.number - b.number);
  }

  private issue(d: MDossier, failLimit: number, e: Expect): void {
    d.counter++;
    d.hasCode = true;
    d.failLimit = failLimit;
    d.lastCodeAt = this.now;
    e.newCodes.push(d);
  }

  register(code: string, phone: string, size: Size): Expect {
    const e: Expect = { status: 0, events: [], unlocks: [], newCodes: [] };
    // A collected dossier whose door has not opened yet still holds its code (its pickup may be undone).
    const pending = this.dossiers.some((d) => d.code === code && d.status === 'picked_up' && this.compartments.get(d.compartment)!.dossierId === d.id);
    if (this.live(code) || pending) return { ...e, status: 409, body: { error: 'dossier_exists' } };
    let number: number | null = null;
    for (const s of SIZES.slice(SIZES.indexOf(size))) {
      const free = [...this.compartments.values()].filter((c) => c.size === s && c.dossierId === null && !c.fault).sort((a, b) => a.number - b.number)[0];
      if (free) {
        number = free.number;
        break;
      }
    }
    if (number === null) return { ...e, status: 409, body: { error: 'locker_full' } };
    const d: MDossier = {
      id: this.nextId++,
      code,
      phone,
      compartment: number,
      status: 'loading',
      counter: 0,
      failures: 0,
      failLimit: 0,
      resends: 0,
      lastCodeAt: null,
      expiresAt: null,
      hasCode: false,
      createdAt: this.now,
      staleAlarmed: false,
      confirmedByDoor: false,
    };
    this.dossiers.push(d);
    this.compartments.get(number)!.dossierId = d.id;
    e.events.push('dossier.loading');
    if (!this.unlock(number, e)) {
      // The clerk cannot load a door that did not open: the booking is given back.
      d.status = 'cancelled';
      this.compartments.get(number)!.dossierId = null;
      e.events.push('dossier.cancelled');
      return this.doorFault(e);
    }
    return { ...e, status: 201, body: { code, compartment: number, status: 'loading' } };
  }

  confirm(code: string): Expect {
    const e: Expect = { status: 0, events: [], unlocks: [], newCodes: [] };
    const d = this.live(code);
    if (!d) return { ...e, status: 404, body: { error: 'not_found' } };
    // Its door's closing confirmed it already: the clerk's confirm gets the same answer, nothing more.
    if (d.status === 'ready' && d.confirmedByDoor) return { ...e, status: 200, body: { code, compartment: d.compartment, status: 'ready' } };
    if (d.status !== 'loading') return { ...e, status: 409, body: { error: 'invalid_state' } };
    const c = this.compartments.get(d.compartment)!;
    if (c.door === 'open') return { ...e, status: 409, body: { error: 'door_open' } };
    if (!c.openedSinceUnlock) return { ...e, status: 409, body: { error: 'door_not_opened' } };
    this.issue(d, CODE_TRIES, e);
    d.status = 'ready';
    d.expiresAt = this.now + this.pickupWindowMs;
    e.events.push('dossier.ready', 'sms.sent');
    return { ...e, status: 200, body: { code, compartment: d.compartment, status: 'ready' } };
  }

  /** `codeOf` tells whether the given code is this dossier's current one. */
  pickup(phone: string, matches: (d: MDossier) => boolean): Expect {
    const e: Expect = { status: 0, events: [], unlocks: [], newCodes: [] };
    if (this.kiosk.blockedUntil > this.now) return { ...e, status: 429, body: { error: 'throttled' } };
    const candidates = this.dossiers.filter((d) => d.phone === phone && d.status === 'ready' && d.expiresAt! > this.now).sort((a, b) => a.id - b.id);
    const match = candidates.find((d) => d.hasCode && d.failures < d.failLimit && matches(d));
    if (match) {
      this.kiosk = { consecutive: 0, blockedUntil: 0 };
      match.status = 'picked_up';
      match.hasCode = false;
      e.events.push('pickup.succeeded');
      if (!this.unlock(match.compartment, e)) {
        this.revertIfUndone(this.compartments.get(match.compartment)!, e);
        return this.doorFault(e);
      }
      return { ...e, status: 200, body: { compartment: match.compartment } };
    }
    const consecutive = this.kiosk.consecutive + 1;
    const delay = kioskDelayMs(consecutive);
    this.kiosk = { consecutive, blockedUntil: delay > 0 ? this.now + delay : 0 };
    if (candidates.length === 0) e.events.push('pickup.failed');
    let locked = 0;
    for (const d of candidates) {
      d.failures++;
      if (d.failures === d.failLimit) locked++;
      e.events.push('pickup.failed');
    }
    if (delay > 0) e.events.push('pickup.throttled');
    // The citizen is told by SMS when this failure locked their code (the kiosk will not say).
    for (let i = 0; i < locked; i++) e.events.push('sms.sent');
    e.notices = locked;
    return { ...e, status: 401, body: { error: 'invalid_code' } };
  }

  resend(phone: string): Expect {
    const e: Expect = { status: 202, events: [], unlocks: [], newCodes: [] };
    for (const d of this.dossiers.filter((x) => x.phone === phone && x.status === 'ready').sort((a, b) => a.id - b.id)) {
      if (d.expiresAt === null || d.expiresAt <= this.now) continue;
      if (d.resends >= CITIZEN_RESENDS) continue;
      if (d.lastCodeAt !== null && this.now - d.lastCodeAt < RESEND_MIN_INTERVAL_MS) continue;
      if (d.failures >= LIFETIME_FAILURES) continue;
      this.issue(d, Math.min(d.failures + CODE_TRIES, LIFETIME_FAILURES), e);
      d.resends++;
      e.events.push('dossier.code_reissued');
    }
    for (let i = 0; i < e.newCodes.length; i++) e.events.push('sms.sent');
    return e;
  }

  staffResend(code: string): Expect {
    const e: Expect = { status: 0, events: [], unlocks: [], newCodes: [] };
    const d = this.live(code);
    if (!d) return { ...e, status: 404, body: { error: 'not_found' } };
    if (d.status !== 'ready') return { ...e, status: 409, body: { error: 'invalid_state' } };
    this.issue(d, d.failures + CODE_TRIES, e);
    e.events.push('dossier.code_reissued', 'sms.sent');
    return { ...e, status: 200 };
  }

  withdraw(code: string): Expect {
    const e: Expect = { status: 0, events: [], unlocks: [], newCodes: [] };
    const d = this.live(code);
    if (!d) return { ...e, status: this.latest(code) ? 409 : 404, body: { error: this.latest(code) ? 'invalid_state' : 'not_found' } };
    if (!WITHDRAWABLE.includes(d.status)) return { ...e, status: 409, body: { error: 'invalid_state' } };
    const from = d.status;
    d.status = 'withdrawn';
    d.hasCode = false;
    e.events.push('dossier.withdrawn');
    const c = this.compartments.get(d.compartment)!;
    // Withdrawn while loading with a door that never opened: nothing was put in.
    if (from === 'loading' && c.dossierId === d.id && c.door === 'closed' && !c.openedSinceUnlock) {
      c.dossierId = null;
      e.events.push('compartment.released');
    }
    if (!this.unlock(d.compartment, e)) return this.doorFault(e);
    return { ...e, status: 200, body: { code, compartment: d.compartment, status: 'withdrawn' } };
  }

  /** Staff unlock a door once more (a repair). */
  repairUnlock(n: number): Expect {
    const e: Expect = { status: 0, events: [], unlocks: [], newCodes: [] };
    if (!this.unlock(n, e)) return this.doorFault(e);
    return { ...e, status: 200 };
  }

  /** Staff checked the compartment: it is empty. Whatever was booked there leaves the locker. */
  release(n: number): Expect {
    const e: Expect = { status: 0, events: [], unlocks: [], newCodes: [] };
    const c = this.compartments.get(n)!;
    if (c.door === 'open') return { ...e, status: 409, body: { error: 'door_open' } };
    const d = this.byId(c.dossierId);
    if (d && INSIDE.includes(d.status)) {
      d.status = 'withdrawn';
      d.hasCode = false;
      e.events.push('dossier.withdrawn');
    }
    c.dossierId = null;
    c.unlockedUntil = 0;
    c.fault = null;
    e.events.push('compartment.released');
    return { ...e, status: 200, body: { number: n, status: 'free' } };
  }

  enable(n: number): Expect {
    const e: Expect = { status: 200, events: [], unlocks: [], newCodes: [] };
    const c = this.compartments.get(n)!;
    if (c.fault) {
      c.fault = null;
      e.events.push('compartment.enabled');
    }
    return e;
  }

  advance(ms: number): Expect {
    this.now += ms;
    return this.expire();
  }

  /** The periodic sweep: lapsed pickups undone, then deadlines, then dossiers left in loading. */
  expire(): Expect {
    const e: Expect = { status: 0, events: [], unlocks: [], newCodes: [] };
    for (const c of this.sorted()) if (c.unlockedUntil < this.now) this.revertIfUndone(c, e);
    for (const d of this.dossiers.filter((x) => x.status === 'ready' && x.expiresAt! <= this.now).sort((a, b) => a.id - b.id)) {
      d.status = 'expired';
      d.hasCode = false;
      e.events.push('dossier.expired');
    }
    for (const d of this.dossiers.filter((x) => x.status === 'loading' && !x.staleAlarmed && x.createdAt <= this.now - LOADING_ALARM_MS).sort((a, b) => a.id - b.id)) {
      d.staleAlarmed = true;
      e.events.push('dossier.loading_stale');
    }
    // Each expired dossier's citizen is told by SMS, once the expiry has committed.
    const expired = e.events.filter((x) => x === 'dossier.expired').length;
    for (let i = 0; i < expired; i++) e.events.push('sms.sent');
    e.notices = expired;
    return e;
  }

  door(n: number, open: boolean): Expect {
    const e: Expect = { status: 200, body: { number: n, door: open ? 'open' : 'closed' }, events: [], unlocks: [], newCodes: [] };
    const c = this.compartments.get(n)!;
    if (open) {
      if (c.door === 'open') return e;
      const authorised = c.unlockedUntil >= this.now;
      c.door = 'open';
      if (authorised) c.openedSinceUnlock = true;
      e.events.push(authorised ? 'door.opened' : 'door.forced_open');
      return e;
    }
    if (c.door === 'closed') return e;
    this.close(c, e);
    return e;
  }

  /** A door shuts: a departed dossier's compartment is free; a loaded one confirms itself (auto-confirm). */
  private close(c: MCompartment, e: Expect): void {
    c.door = 'closed';
    c.unlockedUntil = 0;
    const d = this.byId(c.dossierId);
    if (d && DEPARTED.includes(d.status) && c.openedSinceUnlock) c.dossierId = null;
    e.events.push('door.closed');
    if (this.autoConfirm && d && d.status === 'loading' && c.openedSinceUnlock) {
      this.issue(d, CODE_TRIES, e);
      d.status = 'ready';
      d.expiresAt = this.now + this.pickupWindowMs;
      d.confirmedByDoor = true;
      e.events.push('dossier.ready', 'sms.sent');
    }
  }

  /**
   * A restart: the simulated doors come back shut, and start-up records each one that was open; then
   * no unlock window survives, and a pickup whose door never opened is undone.
   */
  restart(): Expect {
    const e: Expect = { status: 0, events: [], unlocks: [], newCodes: [] };
    for (const c of this.sorted()) {
      if (c.door !== 'open') continue;
      this.close(c, e);
    }
    for (const c of this.sorted()) {
      if (c.unlockedUntil >= this.now) e.events.push('door.unlock_ended');
      c.unlockedUntil = 0;
    }
    for (const c of this.sorted()) this.revertIfUndone(c, e);
    // Codes issued by start-up's reconcile go out once the SMS queue starts, after all of it.
    const sent = e.events.filter((x) => x === 'sms.sent');
    e.events = [...e.events.filter((x) => x !== 'sms.sent'), ...sent];
    return e;
  }

  /** What staff do to finish a compartment, in order; empty when it is free. */
  finishSteps(n: number): ('close' | 'enable' | 'withdraw' | 'unlock' | 'open')[] {
    const c = this.compartments.get(n)!;
    const d = this.byId(c.dossierId);
    const steps: ('close' | 'enable' | 'withdraw' | 'unlock' | 'open')[] = [];
    if (c.door === 'open') steps.push('close');
    if (c.fault) steps.push('enable');
    if (!d && !c.fault) return steps;
    if (d && WITHDRAWABLE.includes(d.status)) steps.push('withdraw', 'open', 'close');
    else if (d) steps.push('unlock', 'open', 'close');
    return steps;
  }
}
