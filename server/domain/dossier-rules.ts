// Limits that protect pickup codes. See README "Pickup codes".
export const CODE_TRIES = 5; // wrong tries that lock one code
export const LIFETIME_FAILURES = 15; // after this many, only staff can issue another code
export const CITIZEN_RESENDS = 3;
export const RESEND_MIN_INTERVAL_MS = 60_000;

export const KIOSK_FREE_FAILURES = 5; // consecutive failures before the kiosk slows down
export const KIOSK_BASE_DELAY_MS = 30_000;
export const KIOSK_MAX_DELAY_MS = 15 * 60_000;

export const DOSSIER_CODE_PATTERN = '^[A-Za-z0-9._-]{1,64}$';

/** Delay imposed after the n-th consecutive failure (0 while the free failures last). */
export function kioskDelayMs(consecutive: number): number {
  if (consecutive < KIOSK_FREE_FAILURES) return 0;
  const doublings = Math.min(consecutive - KIOSK_FREE_FAILURES, 20);
  return Math.min(KIOSK_BASE_DELAY_MS * 2 ** doublings, KIOSK_MAX_DELAY_MS);
}
