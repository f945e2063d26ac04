// The lifecycle table on its own: every state of a booked compartment can be finished by staff
// (liveness), and no rule frees a compartment whose paper may still be inside (safety).
import { describe, expect, it } from 'vitest';
import {
  DOSSIER_STATUSES,
  DOSSIER_TRANSITIONS,
  INSIDE,
  afterRestart,
  canTransition,
  confirmOnClose,
  confirmRefusal,
  pickupUndone,
  releaseAtOnce,
  releaseOnClose,
  staffFinish,
  transition,
  type DossierStatus,
  type LifecycleEvent,
} from '../../server/domain/lifecycle.ts';

interface State {
  status: DossierStatus;
  booked: boolean;
  door: 'open' | 'closed';
  opened: boolean;
  fault: boolean;
}

const key = (s: State) => `${s.status}/${s.booked}/${s.door}/${s.opened}/${s.fault}`;

/** What staff (and the person at the door) can do next, by the same rules the services use. */
function moves(s: State): { name: string; next: State }[] {
  const out: { name: string; next: State }[] = [];
  if (s.door === 'open') {
    const freed = s.booked && releaseOnClose(s.status, { openedSinceUnlock: s.opened });
    out.push({ name: 'close', next: { ...s, door: 'closed', booked: s.booked && !freed } });
    // With auto-confirm on, the closing of a door that opened for loading confirms the dossier.
    if (s.booked && confirmOnClose(s.status, { openedSinceUnlock: s.opened }, true)) {
      out.push({ name: 'close (auto-confirm)', next: { ...s, door: 'closed', status: transition(s.status, 'confirm') } });
    }
  }
  if (s.fault) out.push({ name: 'enable', next: { ...s, fault: false } });
  if (s.booked && canTransition(s.status, 'withdraw')) {
    const to = transition(s.status, 'withdraw');
    const freed = releaseAtOnce(s.status, to, { door: s.door, openedSinceUnlock: s.opened });
    out.push({ name: 'withdraw', next: { ...s, status: to, booked: !freed, opened: s.door === 'open' } });
  }
  // A repair unlock, then the door opened inside its window.
  out.push({ name: 'unlock', next: { ...s, opened: s.door === 'open' } });
  if (s.door === 'closed') out.push({ name: 'open', next: { ...s, door: 'open', opened: true } });
  if (s.door === 'closed') {
    const to = canTransition(s.status, 'release') ? transition(s.status, 'release') : s.status;
    out.push({ name: 'release', next: { ...s, status: to, booked: false, fault: false } });
  }
  if (pickupUndone(s.status, { door: s.door, openedSinceUnlock: s.opened })) out.push({ name: 'lapse', next: { ...s, status: 'ready' } });
  return out;
}

function allStates(): State[] {
  const out: State[] = [];
  for (const status of DOSSIER_STATUSES)
    for (const booked of [true, false])
      for (const door of ['open', 'closed'] as const)
        for (const opened of [true, false]) for (const fault of [true, false]) out.push({ status, booked, door, opened, fault });
  return out;
}

const finished = (s: State) => !s.booked && !s.fault && s.door === 'closed';

describe('the compartment lifecycle', () => {
  it('lets staff bring every state back to a free compartment (liveness)', () => {
    const stuck: string[] = [];
    for (const start of allStates()) {
      const seen = new Set([key(start)]);
      const queue = [start];
      let ok = false;
      while (queue.length > 0 && !ok) {
        const s = queue.shift()!;
        if (finished(s)) ok = true;
        for (const m of moves(s)) if (!seen.has(key(m.next))) (seen.add(key(m.next)), queue.push(m.next));
      }
      if (!ok) stuck.push(key(start));
    }
    expect(stuck).toEqual([]);
  });

  it('names for every booked status a staff action that leads on', () => {
    for (const status of DOSSIER_STATUSES) expect(staffFinish(status).length).toBeGreaterThan(0);
  });

  it('never frees a compartment on a door close while its paper is still counted as inside (safety)', () => {
    for (const status of INSIDE) for (const opened of [true, false]) expect(releaseOnClose(status, { openedSinceUnlock: opened })).toBe(false);
  });

  it('frees a withdrawn compartment at once only when the loading door never opened', () => {
    expect(releaseAtOnce('loading', 'withdrawn', { door: 'closed', openedSinceUnlock: false })).toBe(true);
    expect(releaseAtOnce('loading', 'withdrawn', { door: 'closed', openedSinceUnlock: true })).toBe(false);
    expect(releaseAtOnce('ready', 'withdrawn', { door: 'closed', openedSinceUnlock: false })).toBe(false);
    expect(releaseAtOnce('loading', 'withdrawn', { door: 'open', openedSinceUnlock: true })).toBe(false);
  });

  it('refuses to confirm a load whose door is open or never opened', () => {
    expect(confirmRefusal({ door: 'open', openedSinceUnlock: true })).toBe('door_open');
    expect(confirmRefusal({ door: 'closed', openedSinceUnlock: false })).toBe('door_not_opened');
    expect(confirmRefusal({ door: 'closed', openedSinceUnlock: true })).toBeNull();
  });

  it('undoes at start-up a pickup whose door never opened, and only that', () => {
    expect(afterRestart('picked_up', { door: 'closed', openedSinceUnlock: false })).toBe('revert_pickup');
    expect(afterRestart('picked_up', { door: 'closed', openedSinceUnlock: true })).toBe('release');
    expect(afterRestart('withdrawn', { door: 'closed', openedSinceUnlock: false })).toBe('none');
    expect(afterRestart('ready', { door: 'closed', openedSinceUnlock: false })).toBe('none');
  });

  it('answers 409 invalid_state for an event the status does not allow', () => {
    for (const [event, t] of Object.entries(DOSSIER_TRANSITIONS) as [LifecycleEvent, { from: readonly DossierStatus[] }][]) {
      for (const status of DOSSIER_STATUSES.filter((s) => !t.from.includes(s))) {
        expect(() => transition(status, event, 'X-1')).toThrow(expect.objectContaining({ status: 409, code: 'invalid_state' }));
      }
    }
  });
});
