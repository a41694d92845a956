// What the generated inventory is made of: relative weights per category and plain fractions, with defaults
// shaped like a mid-size enterprise estate (mostly RSA-2048 / SHA-256 TLS, a fifth expired, a tail of oddities).
import { InputError } from '#shared/errors';
import { LEAF_KEY_KINDS } from './algorithms';
import type { LeafKeyKind, SignatureKind } from './algorithms';

/** Signatures a CA in the simulated hierarchy can put on a leaf (each maps to one issuing CA). */
export const ISSUED_SIGNATURE_KINDS = [
  'SHA-1withRSA',
  'SHA-256withRSA',
  'SHA-384withRSA',
  'SHA-256withECDSA',
  'SHA-384withECDSA',
  'Ed25519',
] as const satisfies readonly SignatureKind[];
export type IssuedSignatureKind = (typeof ISSUED_SIGNATURE_KINDS)[number];

/**
 * Validity relative to `now`:
 * - normal: valid now, lifetime 91–398 days;
 * - expiringSoon: valid now, NotAfter within 30 days;
 * - expired: NotAfter before now;
 * - notYetValid: NotBefore after now;
 * - long: valid now, lifetime over 398 days (the CA/B Forum TLS limit);
 * - short: valid now, lifetime at most 90 days.
 */
export const VALIDITY_KINDS = ['normal', 'expiringSoon', 'expired', 'notYetValid', 'long', 'short'] as const;
export type ValidityKind = (typeof VALIDITY_KINDS)[number];

/** What a leaf is for; decides subject shape, SANs, EKUs and key usage. */
export const PROFILE_KINDS = [
  'tlsServer',
  'tlsServerNoSan',
  'tlsClient',
  'serviceMesh',
  'email',
  'user',
  'codeSigning',
  'infrastructure',
] as const;
export type ProfileKind = (typeof PROFILE_KINDS)[number];

export interface GeneratorMix {
  /** Relative weights of leaf key types. */
  leafKeys: Record<LeafKeyKind, number>;
  /** Relative weights of the signature on CA-issued leaves (self-signed leaves sign with their own key). */
  signatures: Record<IssuedSignatureKind, number>;
  validity: Record<ValidityKind, number>;
  profiles: Record<ProfileKind, number>;
  /** Fractions in [0, 1]. */
  selfSigned: number;
  /** Of CA-issued leaves that are already valid. */
  revoked: number;
  /** Of CA-issued leaves whose validity allows it: enrolled through Command (template, requester, request id). */
  requested: number;
  hasPrivateKey: number;
  /** Leaves that carry metadata fields at all (the rest have `{}`). */
  metadata: number;
  /** Leaves found in at least one certificate store. */
  storeLocations: number;
  /** TLS server leaves also found by SSL discovery. */
  sslLocations: number;
  /** Leaves with an owner role (OwnerRoleId / OwnerRoleName). */
  ownerRole: number;
}

/**
 * What callers pass: any subset of GeneratorMix, and weight tables may list only the keys they want
 * (so every Partial<GeneratorMix> is accepted, and `{ leafKeys: { Ed25519: 1 } }` type-checks too).
 */
export type MixOverrides = {
  [K in keyof GeneratorMix]?: GeneratorMix[K] extends number ? number : Partial<GeneratorMix[K]>;
};

export const DEFAULT_MIX: Readonly<GeneratorMix> = Object.freeze({
  leafKeys: {
    'RSA-1024': 2,
    'RSA-2048': 58,
    'RSA-3072': 6,
    'RSA-4096': 9,
    'P-256': 15,
    'P-384': 6,
    'P-521': 1,
    Ed25519: 3,
  },
  signatures: {
    'SHA-1withRSA': 3,
    'SHA-256withRSA': 63,
    'SHA-384withRSA': 4,
    'SHA-256withECDSA': 23,
    'SHA-384withECDSA': 3,
    Ed25519: 4,
  },
  validity: { normal: 55, expiringSoon: 8, expired: 20, notYetValid: 2, long: 10, short: 5 },
  profiles: {
    tlsServer: 50,
    tlsServerNoSan: 4,
    tlsClient: 11,
    serviceMesh: 6,
    email: 10,
    user: 10,
    codeSigning: 4,
    infrastructure: 5,
  },
  selfSigned: 0.06,
  revoked: 0.05,
  requested: 0.45,
  hasPrivateKey: 0.3,
  metadata: 0.7,
  storeLocations: 0.4,
  sslLocations: 0.3,
  ownerRole: 0.4,
});

export class GeneratorOptionsError extends InputError {}

function show(value: unknown): string {
  return JSON.stringify(value) ?? typeof value;
}

function checkWeights<K extends string>(
  label: string,
  weights: Record<string, unknown>,
  allowed: readonly K[],
): Record<K, number> {
  const result = {} as Record<K, number>;
  for (const key of Object.keys(weights)) {
    if (!(allowed as readonly string[]).includes(key)) {
      throw new GeneratorOptionsError(`mix.${label}: unknown key "${key}" (allowed: ${allowed.join(', ')})`);
    }
  }
  let total = 0;
  for (const key of allowed) {
    const weight = weights[key] ?? 0;
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) {
      throw new GeneratorOptionsError(
        `mix.${label}.${key} must be a finite number >= 0, got ${show(weight)}`,
      );
    }
    result[key] = weight;
    total += weight;
  }
  if (total <= 0) throw new GeneratorOptionsError(`mix.${label} needs at least one positive weight`);
  return result;
}

function checkFraction(label: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new GeneratorOptionsError(`mix.${label} must be a fraction between 0 and 1, got ${show(value)}`);
  }
  return value;
}

/**
 * Merges a partial mix over the defaults. A weight table given by the caller replaces the default table entirely
 * (keys it leaves out weigh 0), so `{ leafKeys: { Ed25519: 1 } }` means "only Ed25519 keys".
 */
export function resolveMix(partial: MixOverrides = {}): GeneratorMix {
  return {
    leafKeys: checkWeights('leafKeys', partial.leafKeys ?? DEFAULT_MIX.leafKeys, LEAF_KEY_KINDS),
    signatures: checkWeights(
      'signatures',
      partial.signatures ?? DEFAULT_MIX.signatures,
      ISSUED_SIGNATURE_KINDS,
    ),
    validity: checkWeights('validity', partial.validity ?? DEFAULT_MIX.validity, VALIDITY_KINDS),
    profiles: checkWeights('profiles', partial.profiles ?? DEFAULT_MIX.profiles, PROFILE_KINDS),
    selfSigned: checkFraction('selfSigned', partial.selfSigned ?? DEFAULT_MIX.selfSigned),
    revoked: checkFraction('revoked', partial.revoked ?? DEFAULT_MIX.revoked),
    requested: checkFraction('requested', partial.requested ?? DEFAULT_MIX.requested),
    hasPrivateKey: checkFraction('hasPrivateKey', partial.hasPrivateKey ?? DEFAULT_MIX.hasPrivateKey),
    metadata: checkFraction('metadata', partial.metadata ?? DEFAULT_MIX.metadata),
    storeLocations: checkFraction('storeLocations', partial.storeLocations ?? DEFAULT_MIX.storeLocations),
    sslLocations: checkFraction('sslLocations', partial.sslLocations ?? DEFAULT_MIX.sslLocations),
    ownerRole: checkFraction('ownerRole', partial.ownerRole ?? DEFAULT_MIX.ownerRole),
  };
}
