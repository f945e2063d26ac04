// Pickup codes: 6-digit HOTP values from a per-dossier secret that is derived, never stored.
// The database holds only a keyed hash bound to the dossier and the phone number; the SMS
// worker re-derives the code when it sends, so the code exists in plain form only in flight.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { generateSync, NobleCryptoPlugin } from 'otplib';
import type { Secrets } from './secrets.ts';

const crypto = new NobleCryptoPlugin();
export const CODE_PATTERN = /^\d{6}$/;

export class PickupCodes {
  constructor(private readonly secrets: Secrets) {}

  generate(otpNonce: string, counter: number): string {
    const secret = createHmac('sha256', this.secrets.otpKey).update(`dossier-otp:${otpNonce}`).digest();
    return generateSync({ secret: new Uint8Array(secret), strategy: 'hotp', counter, digits: 6, crypto });
  }

  hash(dossierId: number, phone: string, code: string): string {
    return createHmac('sha256', this.secrets.codeHashKey).update(`${dossierId}\n${phone}\n${code}`).digest('hex');
  }

  matches(storedHash: string, dossierId: number, phone: string, code: string): boolean {
    const expected = Buffer.from(storedHash, 'hex');
    const actual = Buffer.from(this.hash(dossierId, phone, code), 'hex');
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  }
}
