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
}

export interface MCompartment {
  number: number;
  size: Size;
  dossierId: number | null;
  door: 'open' | 'closed';
  unlockedUntil: number;
  openedSinceUnlock: boolean;
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
  private nextId = 1;

  constructor(
    compartments: { number: number; size: Size }[],
    public now: number,
    private readonly pickupWindowMs: number,
    private readonly unlockWindowMs: number,
  ) {
    for (const c of compartments) {
      this.compartments.set(c.number, { number: c.number, size: c.size, dossierId: null, door: 'closed', unlockedUntil: 0, openedSinceUnlock: false });
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
        const status = !d ? 'free' : d.status === 'loading' ? 'loading' : 'occupied';
        return { number: c.number, size: c.size, status, door: c.door };
      });
  }

  private unlock(n: number, e: Expect): void {
    const c = this.compartments.get(n)!;
    c.unlockedUntil = this.now + this.unlockWindowMs;
    c.openedSinceUnlock = false;
    e.events.push('door.unlocked');
    e.unlocks.push(n);
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
    if (this.live(code)) return { ...e, status: 409, body: { error: 'dossier_exists' } };
    let number: number | null = null;
    for (const s of SIZES.slice(SIZES.indexOf(size))) {
      const free = [...this.compartments.values()].filter((c) => c.size === s && c.dossierId === null).sort((a, b) => a.number - b.number)[0];
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
    };
    this.dossiers.push(d);
    this.compartments.get(number)!.dossierId = d.id;
    e.events.push('dossier.loading');
    this.unlock(number, e);
    return { ...e, status: 201, body: { code, compartment: number, status: 'loading' } };
  }

  confirm(code: string): Expect {
    const e: Expect = { status: 0, events: [], unlocks: [], newCodes: [] };
    const d = this.live(code);
    if (!d) return { ...e, status: 404, body: { error: 'not_found' } };
    if (d.status !== 'loading') return { ...e, status: 409, body: { error: 'invalid_state' } };
    if (this.compartments.get(d.compartment)!.door === 'open') return { ...e, status: 409, body: { error: 'door_open' } };
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
      this.unlock(match.compartment, e);
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
    d.status = 'withdrawn';
    d.hasCode = false;
    e.events.push('dossier.withdrawn');
    this.unlock(d.compartment, e);
    return { ...e, status: 200, body: { code, compartment: d.compartment, status: 'withdrawn' } };
  }

  advance(ms: number): Expect {
    this.now += ms;
    return this.expire();
  }

  expire(): Expect {
    const e: Expect = { status: 0, events: [], unlocks: [], newCodes: [] };
    for (const d of this.dossiers.filter((x) => x.status === 'ready' && x.expiresAt! <= this.now).sort((a, b) => a.id - b.id)) {
      d.status = 'expired';
      d.hasCode = false;
      e.events.push('dossier.expired');
    }
    // Each expired dossier's citizen is told by SMS, once the expiry has committed.
    const expired = e.events.length;
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
    this.close(c);
    e.events.push('door.closed');
    return e;
  }

  private close(c: MCompartment): void {
    c.door = 'closed';
    c.unlockedUntil = 0;
    const d = this.byId(c.dossierId);
    if (d && DEPARTED.includes(d.status) && c.openedSinceUnlock) c.dossierId = null;
  }

  /** A restart: the simulated doors come back shut, and start-up records each one that was open. */
  restart(): Expect {
    const e: Expect = { status: 0, events: [], unlocks: [], newCodes: [] };
    for (const c of [...this.compartments.values()].sort((a, b) => a.number - b.number)) {
      if (c.door !== 'open') continue;
      this.close(c);
      e.events.push('door.closed');
    }
    return e;
  }
}
