// Limits that protect pickup codes. See README "Pickup codes".
export const CODE_TRIES = 5; // wrong tries that lock one code
export const LIFETIME_FAILURES = 15; // after this many, only staff can issue another code
export const CITIZEN_RESENDS = 3;
export const RESEND_MIN_INTERVAL_MS = 60_000;

export const KIOSK_FREE_FAILURES = 5; // consecutive failures before the kiosk slows down
export const KIOSK_BASE_DELAY_MS = 30_000;
/**
 * The kiosk-wide wait is not what keeps a door shut; the per-dossier budgets are. A code is one
 * of 1,000,000, bound to its phone number, and a dossier takes at most LIFETIME_FAILURES (15)
 * wrong tries in its whole life, resends included. So whatever the rate, an attacker who knows a
 * phone number opens that door with a chance of at most 15 in 1,000,000, and a full locker of C
 * dossiers offers at most 15·C guesses that could open anything (24 doors: 360, a 0.036% chance).
 * What the kiosk-wide wait adds is pace: at one guess a minute those 360 guesses take six hours,
 * and every 5 of them lock a citizen's code (an SMS to the citizen, an alarm on the console), so
 * the attack is seen long before the budgets are spent. A longer wait buys no more safety; it
 * only keeps the next citizen, who has nothing to do with the attacker, waiting at the screen.
 * Hence 30 s, then at most 60 s.
 */
export const KIOSK_MAX_DELAY_MS = 60_000;

export const DOSSIER_CODE_PATTERN = '^[A-Za-z0-9._-]{1,64}$';

/** Delay imposed after the n-th consecutive failure (0 while the free failures last). */
export function kioskDelayMs(consecutive: number): number {
  if (consecutive < KIOSK_FREE_FAILURES) return 0;
  const doublings = Math.min(consecutive - KIOSK_FREE_FAILURES, 20);
  return Math.min(KIOSK_BASE_DELAY_MS * 2 ** doublings, KIOSK_MAX_DELAY_MS);
}
