// The signed license: canonical bytes, signing (vendor side), strict parsing, verification and comparison (issue 7).
// Every value of the license is signed, so anything the parser does not know is refused rather than ignored.
import { constants, createHash, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { InputError } from '#shared/errors';
import { canonicalJson } from '#shared/scan/keys';
import { LICENSE_FEATURES } from './model.ts';
import type {
  ActionedAllowance,
  LicenseDocument,
  LicenseFeature,
  LicenseSignatureAlgorithm,
  LicenseVerification,
  SignedLicense,
} from './model.ts';

/** The license file is text (a few hundred bytes); anything larger is refused before parsing. */
export const MAX_LICENSE_TEXT_BYTES = 64 * 1024;
/** How far in the future issuedAt may be before the license counts as not yet valid (clocks differ). */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;
const DAY_MS = 86_400_000;
/** RSA-PSS with SHA-256 and a salt as long as the digest (32 bytes), the usual choice and the one we verify. */
const PSS_SALT_LENGTH = 32;
const MIN_RSA_BITS = 2048;

/** The license file cannot be read as a license; the message names what is wrong. */
export class LicenseFormatError extends InputError {}

// ---------------------------------------------------------------------------------------------------- schema

const IDENTIFIER = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
// ISO 8601 instant with an explicit offset: a date without a zone would mean different instants on different hosts.
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
// Control and bidi-override characters in names would let a license rewrite the terminal or log line showing it.
const HAS_CONTROL = /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

/** "is required" when absent, else "must be <expected>": the path in front names the field. */
const expected =
  (what: string) =>
  (issue: { input?: unknown }): string =>
    issue.input === undefined ? 'is required' : `must be ${what}`;

const text = (max: number) =>
  z
    .string({ error: expected('text') })
    .min(1, { error: 'must not be empty' })
    .max(max, { error: `must be at most ${max} characters` })
    .refine((value) => !HAS_CONTROL.test(value), { error: 'must not contain control characters' })
    .refine((value) => value.trim() === value, { error: 'must not start or end with spaces' });

const INSTANT_HELP = 'an ISO 8601 instant with a time zone, such as 2027-01-31T00:00:00Z';
const instant = () =>
  z
    .string({ error: expected(INSTANT_HELP) })
    .refine((value) => INSTANT.test(value) && Number.isFinite(Date.parse(value)), {
      error: `must be ${INSTANT_HELP}`,
    });

const shortValue = (value: unknown): string => JSON.stringify(String(value).slice(0, 64));

const featureSchema = z.enum(LICENSE_FEATURES, {
  error: (issue) =>
    `${shortValue(issue.input)} is not a known feature (known: ${LICENSE_FEATURES.join(', ')})`,
});

const allowanceSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({
      type: z.literal('Limited'),
      allowance: z
        .number({ error: expected('a number') })
        .int({ error: 'must be a whole number' })
        .min(0, { error: 'must not be negative' })
        .max(Number.MAX_SAFE_INTEGER, { error: 'is too large' }),
    }),
    z.strictObject({ type: z.literal('Site-License') }),
  ],
  { error: 'must be { "type": "Limited", "allowance": N } or { "type": "Site-License" }' },
);

const documentSchema = z
  .strictObject(
    {
      format: z.literal('kfsensor-license/1', {
        error: (issue) =>
          issue.input === undefined
            ? 'is required ("kfsensor-license/1")'
            : `${shortValue(issue.input)} is not supported (this sensor reads "kfsensor-license/1"); ` +
              'upgrade the sensor or ask the vendor for a license in that format',
      }),
      licenseId: z
        .string({ error: expected('text') })
        .regex(IDENTIFIER, { error: 'must be 1–64 of A–Z a–z 0–9 . _ - starting with a letter or digit' }),
      licensee: text(256),
      instanceId: text(128).refine((value) => !/\s/.test(value), { error: 'must not contain spaces' }),
      issuedAt: instant(),
      expiresAt: instant(),
      features: z
        .array(featureSchema, { error: expected('a list of feature names') })
        .max(LICENSE_FEATURES.length, { error: 'lists too many names' })
        .refine((features) => new Set(features).size === features.length, {
          error: 'lists a feature more than once',
        }),
      actionedCertificates: allowanceSchema,
    },
    { error: expected('an object') },
  )
  .refine((doc) => Date.parse(doc.expiresAt) > Date.parse(doc.issuedAt), {
    error: 'must be after issuedAt',
    path: ['expiresAt'],
  });

const fileSchema = z.strictObject({
  license: documentSchema,
  signature: z.strictObject(
    {
      algorithm: z.enum(['Ed25519', 'RSA-PSS-SHA256'], {
        error: (issue) =>
          issue.input === undefined
            ? 'is required'
            : `${shortValue(issue.input)} is not supported (Ed25519 or RSA-PSS-SHA256)`,
      }),
      keyId: z
        .string({ error: expected('text') })
        .regex(/^[0-9a-f]{16}$/, { error: 'must be 16 lower-case hex digits' }),
      value: z
        .string({ error: expected('base64 text') })
        .max(2048, { error: 'is too long for a signature' })
        .regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, {
          error: 'must be base64',
        })
        .min(4, { error: 'must not be empty' }),
    },
    { error: expected('an object') },
  ),
});

function describeIssues(error: z.ZodError): string {
  const parts = error.issues.slice(0, 3).map((issue) => {
    const where = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
    const path = where.replace(/^\./, '');
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.map((k) => shortValue(k)).join(', ');
      return (
        `${path === '' ? 'the file' : path} has unknown field${issue.keys.length > 1 ? 's' : ''} ${keys} ` +
        '(every field of a license is signed, so unknown ones are refused)'
      );
    }
    return path === '' ? issue.message : `${path} ${issue.message}`;
  });
  const more = error.issues.length > 3 ? ` (and ${error.issues.length - 3} more problems)` : '';
  return parts.join('; ') + more;
}

/** Parses the license file strictly; throws LicenseFormatError naming what is wrong. Does not check the signature. */
export function parseLicenseText(text: string): SignedLicense {
  if (typeof text !== 'string') throw new LicenseFormatError('the license must be text (a JSON file)');
  if (Buffer.byteLength(text, 'utf8') > MAX_LICENSE_TEXT_BYTES) {
    throw new LicenseFormatError(
      `the license is larger than ${MAX_LICENSE_TEXT_BYTES / 1024} KiB; a license file is a small JSON document — check you chose the right file`,
    );
  }
  // Editors on Windows may add a byte-order mark; it is not part of the JSON.
  const body = text.replace(/^\uFEFF/, '');
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (err) {
    throw new LicenseFormatError(
      `the license is not JSON (${err instanceof Error ? err.message.slice(0, 200) : 'parse error'}); a license file is JSON { "license": ..., "signature": ... }`,
    );
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new LicenseFormatError('the license must be a JSON object { "license": ..., "signature": ... }');
  }
  const result = fileSchema.safeParse(json);
  if (!result.success)
    throw new LicenseFormatError(`the license is malformed: ${describeIssues(result.error)}`);
  return result.data;
}

// ---------------------------------------------------------------------------------------------------- keys and signatures

/** The bytes the vendor signs: canonicalJson of the document (sorted keys, no whitespace), UTF-8. */
export function canonicalLicenseBytes(doc: LicenseDocument): Buffer {
  return Buffer.from(canonicalJson(doc), 'utf8');
}

function keyIdOfKey(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').slice(0, 16);
}

/** SHA-256 of the public key's SPKI DER, hex, first 16 characters. Throws InputError when it is not a public key. */
export function keyIdOf(publicKeyPem: string): string {
  const key = publicKeyFrom(publicKeyPem);
  if (key === null) throw new InputError('not a PEM public key (expected -----BEGIN PUBLIC KEY----- SPKI)');
  return keyIdOfKey(key);
}

/** The public key in `pem`, or null. A private key is refused: Node would derive its public half, hiding the mistake. */
function publicKeyFrom(pem: string): KeyObject | null {
  if (typeof pem !== 'string' || /PRIVATE KEY-----/.test(pem)) return null;
  try {
    return createPublicKey(pem);
  } catch {
    return null;
  }
}

function algorithmOf(key: KeyObject): LicenseSignatureAlgorithm | null {
  if (key.asymmetricKeyType === 'ed25519') return 'Ed25519';
  if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= MIN_RSA_BITS) {
    return 'RSA-PSS-SHA256';
  }
  return null;
}

function rsaPss(key: KeyObject) {
  return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: PSS_SALT_LENGTH };
}

/**
 * Signs a license (the vendor side: `kfsensor license issue`). Ed25519 keys sign Ed25519, RSA keys of 2048 bits or
 * more sign RSA-PSS-SHA256. The document is validated first so the vendor cannot issue a license the product refuses.
 */
export function signLicense(doc: LicenseDocument, privateKeyPem: string): SignedLicense {
  const checked = documentSchema.safeParse(doc);
  if (!checked.success) throw new LicenseFormatError(`cannot sign: ${describeIssues(checked.error)}`);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(privateKeyPem);
  } catch {
    // Never echo the key material.
    throw new InputError('the signing key is not a PEM private key (Ed25519, or RSA of 2048 bits or more)');
  }
  const algorithm = algorithmOf(privateKey);
  if (algorithm === null) {
    const kind = privateKey.asymmetricKeyType ?? 'unknown';
    const bits = privateKey.asymmetricKeyDetails?.modulusLength;
    throw new InputError(
      `the signing key is ${kind}${bits ? ` ${bits}-bit` : ''}; licenses are signed with Ed25519 or RSA of 2048 bits or more`,
    );
  }
  const bytes = canonicalLicenseBytes(checked.data);
  const value =
    algorithm === 'Ed25519' ? sign(null, bytes, privateKey) : sign('sha256', bytes, rsaPss(privateKey));
  return {
    license: checked.data,
    signature: { algorithm, keyId: keyIdOfKey(createPublicKey(privateKey)), value: value.toString('base64') },
  };
}

// Trusted keys come from code or configuration and rarely change: parse each PEM once.
const trustedKeyCache = new Map<string, { keyId: string; key: KeyObject } | null>();

function trustedKey(pem: string): { keyId: string; key: KeyObject } | null {
  let entry = trustedKeyCache.get(pem);
  if (entry === undefined) {
    const key = publicKeyFrom(pem);
    // A broken trusted key cannot verify anything; the license is then refused as signed by an unknown key.
    entry = key === null ? null : { keyId: keyIdOfKey(key), key };
    if (trustedKeyCache.size < 256) trustedKeyCache.set(pem, entry);
  }
  return entry;
}

function signatureMatches(signed: SignedLicense, key: KeyObject): boolean {
  const algorithm = algorithmOf(key);
  if (algorithm !== signed.signature.algorithm) return false;
  const bytes = canonicalLicenseBytes(signed.license);
  const signature = Buffer.from(signed.signature.value, 'base64');
  try {
    return algorithm === 'Ed25519'
      ? verify(null, bytes, key, signature)
      : verify('sha256', bytes, rsaPss(key), signature);
  } catch {
    return false;
  }
}

const dateOf = (iso: string): string => new Date(Date.parse(iso)).toISOString();

/**
 * Verifies a license file: structure, then the vendor's signature (so a tampered file is reported as tampered),
 * then instance, validity period and expiry. Never throws for bad input; the message says what to do.
 */
export function verifyLicense(
  text: string,
  options: { trustedKeys: readonly string[]; instanceId: string; now: Date },
): LicenseVerification {
  let signed: SignedLicense;
  try {
    signed = parseLicenseText(text);
  } catch (err) {
    const message = err instanceof LicenseFormatError ? err.message : 'the license cannot be read';
    return {
      valid: false,
      reason: 'malformed',
      message: `${message}. Ask the vendor for a new license file.`,
      license: null,
    };
  }
  const { license, signature } = signed;
  const key = options.trustedKeys.map(trustedKey).find((entry) => entry?.keyId === signature.keyId);
  if (!key) {
    return {
      valid: false,
      reason: 'unknown-key',
      message:
        `license ${license.licenseId} is signed by key ${signature.keyId}, which this sensor does not trust; ` +
        'it was not issued by the vendor for this product. Ask the vendor for a license signed with their key.',
      license: null,
    };
  }
  if (!signatureMatches(signed, key.key)) {
    return {
      valid: false,
      reason: 'bad-signature',
      message:
        `license ${license.licenseId}: the signature does not match the content, so the file was altered after ` +
        'the vendor signed it (or damaged in transit). Install the file exactly as the vendor sent it.',
      license: null,
    };
  }
  if (license.instanceId !== options.instanceId) {
    return {
      valid: false,
      reason: 'wrong-instance',
      message:
        `license ${license.licenseId} is for instance ${license.instanceId}, but this sensor is instance ` +
        `${options.instanceId}. Ask the vendor for a license for instance ${options.instanceId}.`,
      license,
    };
  }
  const now = options.now.getTime();
  const issuedAt = Date.parse(license.issuedAt);
  const expiresAt = Date.parse(license.expiresAt);
  if (issuedAt > now + CLOCK_SKEW_MS) {
    return {
      valid: false,
      reason: 'not-yet-valid',
      message:
        `license ${license.licenseId} is valid from ${dateOf(license.issuedAt)}, which is in the future ` +
        `(now ${options.now.toISOString()}). Install it from then, or check this system's clock.`,
      license,
    };
  }
  if (expiresAt <= now) {
    return {
      valid: false,
      reason: 'expired',
      message:
        `license ${license.licenseId} for ${license.licensee} expired on ${dateOf(license.expiresAt)}. ` +
        `Ask the vendor for a renewed license for instance ${license.instanceId}.`,
      license,
    };
  }
  return {
    valid: true,
    license,
    signedBy: key.keyId,
    daysToExpiry: Math.floor((expiresAt - now) / DAY_MS),
  };
}

// ---------------------------------------------------------------------------------------------------- comparison

export interface LicenseValueChange<T> {
  installed: T | null;
  candidate: T;
  changed: boolean;
}

export interface LicenseDateChange {
  installed: string | null;
  candidate: string;
  /** candidate − installed in days (fractional when the times of day differ); null without an installed license. */
  changeDays: number | null;
}

export interface LicenseAllowanceChange {
  installed: ActionedAllowance | null;
  candidate: ActionedAllowance;
  /** How the allowance moves: a number change, to or from Site-License, or none installed. */
  change:
    'none-installed' | 'unchanged' | 'increased' | 'decreased' | 'to-site-license' | 'from-site-license';
  /** candidate − installed when both are numbers, else null. */
  difference: number | null;
}

/** The side-by-side comparison shown before installing a new license (JSON-friendly). */
export interface LicenseComparison {
  licenseId: LicenseValueChange<string>;
  licensee: LicenseValueChange<string>;
  instanceId: LicenseValueChange<string>;
  issuedAt: LicenseDateChange;
  expiresAt: LicenseDateChange;
  features: { gained: LicenseFeature[]; lost: LicenseFeature[]; kept: LicenseFeature[] };
  actionedCertificates: LicenseAllowanceChange;
}

function valueChange(installed: string | null, candidate: string): LicenseValueChange<string> {
  return { installed, candidate, changed: installed !== candidate };
}

function dateChange(installed: string | null, candidate: string): LicenseDateChange {
  const days = installed === null ? null : (Date.parse(candidate) - Date.parse(installed)) / DAY_MS;
  return { installed, candidate, changeDays: days === null ? null : Math.round(days * 100) / 100 };
}

function allowanceChange(
  installed: ActionedAllowance | null,
  candidate: ActionedAllowance,
): LicenseAllowanceChange {
  if (installed === null) return { installed, candidate, change: 'none-installed', difference: null };
  if (installed.type === 'Site-License') {
    return {
      installed,
      candidate,
      change: candidate.type === 'Site-License' ? 'unchanged' : 'from-site-license',
      difference: null,
    };
  }
  if (candidate.type === 'Site-License')
    return { installed, candidate, change: 'to-site-license', difference: null };
  const difference = candidate.allowance - installed.allowance;
  const change = difference > 0 ? 'increased' : difference < 0 ? 'decreased' : 'unchanged';
  return { installed, candidate, change, difference };
}

/** What installing `candidate` changes compared with `installed` (null: nothing installed). Features in model order. */
export function compareLicenses(
  installed: LicenseDocument | null,
  candidate: LicenseDocument,
): LicenseComparison {
  const before = new Set<LicenseFeature>(installed?.features ?? []);
  const after = new Set<LicenseFeature>(candidate.features);
  return {
    licenseId: valueChange(installed?.licenseId ?? null, candidate.licenseId),
    licensee: valueChange(installed?.licensee ?? null, candidate.licensee),
    instanceId: valueChange(installed?.instanceId ?? null, candidate.instanceId),
    issuedAt: dateChange(installed?.issuedAt ?? null, candidate.issuedAt),
    expiresAt: dateChange(installed?.expiresAt ?? null, candidate.expiresAt),
    features: {
      gained: LICENSE_FEATURES.filter((f) => after.has(f) && !before.has(f)),
      lost: LICENSE_FEATURES.filter((f) => before.has(f) && !after.has(f)),
      kept: LICENSE_FEATURES.filter((f) => before.has(f) && after.has(f)),
    },
    actionedCertificates: allowanceChange(
      installed?.actionedCertificates ?? null,
      candidate.actionedCertificates,
    ),
  };
}
