// Picks NotBefore / NotAfter for a leaf so that its validity category holds at `now` and, as in a real Command,
// a certificate is not imported before it was issued (post-dated "not yet valid" certificates excepted).
import type { ValidityKind } from './mix';
import type { Prng } from './prng';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
/** The CA/Browser Forum maximum for TLS server certificates; "long" means longer than this. */
export const MAX_NORMAL_LIFETIME_DAYS = 398;
export const MAX_SHORT_LIFETIME_DAYS = 90;
export const EXPIRING_SOON_DAYS = 30;

const NORMAL_LIFETIMES = [365, 365, 365, 397, 398, 180, 395, 200, 120, 366, 91];
const LONG_LIFETIMES = [730, 730, 825, 1095, 1826, 3652, 5479];
const SHORT_LIFETIMES = [7, 14, 30, 47, 60, 90, 90];
/** Command-enrolled certificates are imported right after issuance; CAs backdate NotBefore by ~10 minutes. */
const ENROLLMENT_BACKDATE_MS = 10 * 60_000;

export interface ValidityRequest {
  kind: ValidityKind;
  importDate: number;
  now: number;
  /** Issuer validity: a CA does not issue outside its own validity. */
  earliest: number;
  latest: number;
  /** Enrolled through Command: NotBefore is pinned to the import time. */
  requested: boolean;
}

export interface ValidityResult {
  notBefore: Date;
  notAfter: Date;
  /** The category actually produced; differs from the request only when the request was infeasible. */
  kind: ValidityKind;
  requested: boolean;
}

function wholeSeconds(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000);
}

function between(prng: Prng, low: number, high: number): number {
  return high <= low ? low : low + prng.float() * (high - low);
}

function result(
  notBefore: number,
  lifetimeMs: number,
  kind: ValidityKind,
  requested: boolean,
  request: ValidityRequest,
  prng: Prng,
): ValidityResult {
  // Some CAs (EJBCA among them) end validity one second before the anniversary.
  const trim = prng.chance(0.3) ? 1000 : 0;
  const notAfter = Math.min(notBefore + lifetimeMs - trim, request.latest);
  return { notBefore: wholeSeconds(notBefore), notAfter: wholeSeconds(notAfter), kind, requested };
}

/** Lifetimes that keep a certificate imported `age` ago and issued no later than its import valid at now. */
function validLifetimes(lifetimesDays: readonly number[], ageMs: number): number[] {
  return lifetimesDays.filter((days) => days * DAY_MS > ageMs + 2 * HOUR_MS);
}

function enrolled(prng: Prng, request: ValidityRequest): ValidityResult | null {
  const age = request.now - request.importDate;
  const notBefore = request.importDate - ENROLLMENT_BACKDATE_MS - prng.int(0, 5000);
  const choices =
    request.kind === 'normal'
      ? validLifetimes(NORMAL_LIFETIMES, age)
      : request.kind === 'long'
        ? validLifetimes(LONG_LIFETIMES, age)
        : request.kind === 'short'
          ? validLifetimes(SHORT_LIFETIMES, age)
          : [];
  if (choices.length === 0 || notBefore < request.earliest) return null;
  return result(notBefore, prng.pick(choices) * DAY_MS, request.kind, true, request, prng);
}

function imported(prng: Prng, request: ValidityRequest): ValidityResult {
  const { now, importDate, earliest } = request;
  const age = now - importDate;
  switch (request.kind) {
    case 'normal':
    case 'long': {
      const lifetimes = request.kind === 'normal' ? NORMAL_LIFETIMES : LONG_LIFETIMES;
      const choices = validLifetimes(lifetimes, age);
      if (choices.length === 0)
        return imported(prng, { ...request, kind: request.kind === 'normal' ? 'long' : 'expired' });
      const lifetime = prng.pick(choices) * DAY_MS;
      const notBefore = between(prng, Math.max(now - lifetime + 2 * HOUR_MS, earliest), importDate);
      return result(notBefore, lifetime, request.kind, false, request, prng);
    }
    case 'short': {
      const choices = validLifetimes(SHORT_LIFETIMES, age);
      if (choices.length === 0) return expired(prng, request, SHORT_LIFETIMES);
      const lifetime = prng.pick(choices) * DAY_MS;
      const notBefore = between(prng, Math.max(now - lifetime + 2 * HOUR_MS, earliest), importDate);
      return result(notBefore, lifetime, 'short', false, request, prng);
    }
    case 'expiringSoon': {
      const notAfter = now + between(prng, 2 * HOUR_MS, EXPIRING_SOON_DAYS * DAY_MS - HOUR_MS);
      // Long enough to have been issued before the import, never shorter than a typical TLS year.
      const lifetime = Math.max(prng.pick(NORMAL_LIFETIMES) * DAY_MS, notAfter - importDate + DAY_MS);
      const notBefore = Math.max(notAfter - lifetime, earliest);
      return {
        notBefore: wholeSeconds(notBefore),
        notAfter: wholeSeconds(notAfter),
        kind: 'expiringSoon',
        requested: false,
      };
    }
    case 'notYetValid': {
      const notBefore = now + between(prng, 2 * HOUR_MS, 60 * DAY_MS);
      return result(notBefore, prng.pick(NORMAL_LIFETIMES) * DAY_MS, 'notYetValid', false, request, prng);
    }
    case 'expired': {
      const roll = prng.float();
      const lifetimes = roll < 0.7 ? NORMAL_LIFETIMES : roll < 0.85 ? LONG_LIFETIMES : SHORT_LIFETIMES;
      return expired(prng, request, lifetimes);
    }
  }
}

function expired(prng: Prng, request: ValidityRequest, lifetimesDays: readonly number[]): ValidityResult {
  const { now, importDate, earliest } = request;
  const lifetime = prng.pick(lifetimesDays) * DAY_MS;
  // Recently expired certificates are the common case; the tail reaches back three years.
  const lookBack = 3 * 365 * DAY_MS * prng.float() ** 2;
  const latestNotAfter = Math.min(now - HOUR_MS, importDate + lifetime);
  const notAfter = Math.max(latestNotAfter - lookBack, earliest + lifetime);
  const notBefore = notAfter - lifetime;
  return {
    notBefore: wholeSeconds(notBefore),
    notAfter: wholeSeconds(Math.min(notAfter, now - HOUR_MS)),
    kind: 'expired',
    requested: false,
  };
}

export function chooseValidity(prng: Prng, request: ValidityRequest): ValidityResult {
  if (request.requested) {
    const enrolledValidity = enrolled(prng, request);
    if (enrolledValidity) return enrolledValidity;
  }
  return imported(prng, request);
}
