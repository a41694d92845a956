// OID registry keyed by DER content bytes: names from OpenSSL's table plus what the reader knows about algorithms and curves.
import { fail } from './errors';
import { OPENSSL_OBJECTS } from './openssl-objects';
import type { HashName, KeyFamily } from './types';

export interface SignatureAlgorithmSpec {
  /** OpenSSL's long name when it knows the OID (what `openssl x509 -text` prints), else the standard's name. */
  readonly name: string;
  /** Digest of the signature; for RSASSA-PSS the parameters override it. */
  readonly hash: HashName;
  readonly family: KeyFamily;
  readonly pss: boolean;
}

export interface KeyAlgorithmSpec {
  readonly family: KeyFamily;
  readonly parameterSet: string | null;
  /** Fixed size for algorithms whose size is implied by the OID; null when it must be read from the key. */
  readonly keySizeBits: number | null;
}

export interface CurveSpec {
  /** NIST name for NIST curves (P-256, K-233...), else OpenSSL's short name (secp256k1, brainpoolP256r1...). */
  readonly name: string;
  /** Bit length of the group order: what OpenSSL reports as the key size. */
  readonly orderBits: number;
}

export interface OidEntry {
  readonly oid: string;
  readonly shortName: string | null;
  readonly longName: string | null;
  readonly bytes: Uint8Array;
  signature: SignatureAlgorithmSpec | null;
  key: KeyAlgorithmSpec | null;
  curve: CurveSpec | null;
  digest: HashName | null;
  /** Next entry with the same hash. */
  next: OidEntry | null;
}

export function encodeOid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map((arc) => BigInt(arc));
  const [first, second] = arcs;
  if (first === undefined || second === undefined) throw new Error(`OID ${dotted} needs two arcs`);
  const out: number[] = [];
  const push = (value: bigint) => {
    const septets: number[] = [];
    let rest = value;
    do {
      septets.unshift(Number(rest & 0x7fn));
      rest >>= 7n;
    } while (rest > 0n);
    for (let i = 0; i < septets.length - 1; i++) septets[i] = (septets[i] as number) | 0x80;
    out.push(...septets);
  };
  push(first * 40n + second);
  for (const arc of arcs.slice(2)) push(arc);
  return Uint8Array.from(out);
}

/** FNV-1a over the content bytes: a cheap key that needs no string per lookup. */
function hashRange(bytes: Uint8Array, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ (bytes[i] as number), 0x01000193);
  return hash >>> 0;
}

const byHash = new Map<number, OidEntry>();
const byDotted = new Map<string, OidEntry>();

function entryFor(dotted: string, shortName: string | null, longName: string | null): OidEntry {
  const existing = byDotted.get(dotted);
  if (existing) return existing;
  const bytes = encodeOid(dotted);
  const entry: OidEntry = {
    oid: dotted,
    shortName,
    longName,
    bytes,
    signature: null,
    key: null,
    curve: null,
    digest: null,
    next: null,
  };
  const hash = hashRange(bytes, 0, bytes.length);
  entry.next = byHash.get(hash) ?? null;
  byHash.set(hash, entry);
  byDotted.set(dotted, entry);
  return entry;
}

for (const line of OPENSSL_OBJECTS.split('\n')) {
  if (line === '') continue;
  const space = line.indexOf(' ');
  const tab = line.indexOf('\t', space);
  const shortName = tab < 0 ? line.slice(space + 1) : line.slice(space + 1, tab);
  entryFor(line.slice(0, space), shortName, tab < 0 ? shortName : line.slice(tab + 1));
}

/** The registry entry for the OID whose content bytes are [start, end), or undefined when unknown. */
export function lookupOid(bytes: Uint8Array, start: number, end: number): OidEntry | undefined {
  const length = end - start;
  for (
    let entry: OidEntry | null = byHash.get(hashRange(bytes, start, end)) ?? null;
    entry;
    entry = entry.next
  ) {
    const known = entry.bytes;
    if (known.length !== length) continue;
    let i = 0;
    while (i < length && known[i] === bytes[start + i]) i++;
    if (i === length) return entry;
  }
  return undefined;
}

/** The registry entry for a dotted OID the reader depends on; throws at module load if the table lacks it. */
export function knownOid(dotted: string): OidEntry {
  const entry = byDotted.get(dotted);
  if (!entry) throw new Error(`OID ${dotted} is missing from the registry`);
  return entry;
}

/** Dotted form of an OID the registry does not know, validating the encoding as OpenSSL does. */
export function decodeOid(bytes: Uint8Array, start: number, end: number): string {
  if (end <= start) fail('invalid-oid', start, 'an OBJECT IDENTIFIER needs at least one content byte');
  if (((bytes[end - 1] as number) & 0x80) !== 0)
    fail('invalid-oid', end - 1, 'OBJECT IDENTIFIER ends inside a subidentifier');
  let text = '';
  let value = 0;
  let big: bigint | null = null;
  let first = true;
  for (let i = start; i < end; i++) {
    const byte = bytes[i] as number;
    if (byte === 0x80 && (i === start || ((bytes[i - 1] as number) & 0x80) === 0)) {
      fail('invalid-oid', i, 'OBJECT IDENTIFIER subidentifier has a non-minimal leading 0x80');
    }
    // Arcs past 2^53 are legal (UUID arcs under 2.25); switch to BigInt only for them.
    if (big !== null) big = (big << 7n) | BigInt(byte & 0x7f);
    else if (value > 0x3ffffffffff) big = (BigInt(value) << 7n) | BigInt(byte & 0x7f);
    else value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) !== 0) continue;
    if (first) {
      first = false;
      if (big !== null) text = `2.${(big - 80n).toString()}`;
      else text = value < 40 ? `0.${value}` : value < 80 ? `1.${value - 40}` : `2.${value - 80}`;
    } else {
      text += `.${big !== null ? big.toString() : String(value)}`;
    }
    value = 0;
    big = null;
  }
  return text;
}

/** Dotted form of the OID at [start, end), from the registry when known (no decoding, no allocation). */
export function dottedOid(bytes: Uint8Array, start: number, end: number): string {
  return lookupOid(bytes, start, end)?.oid ?? decodeOid(bytes, start, end);
}

function defineSignature(
  dotted: string,
  hash: HashName,
  family: KeyFamily,
  fallbackName: string,
  pss = false,
): void {
  const entry = entryFor(dotted, null, null);
  entry.signature = { name: entry.longName ?? fallbackName, hash, family, pss };
}

function defineKey(
  dotted: string,
  family: KeyFamily,
  parameterSet: string | null = null,
  keySizeBits: number | null = null,
): void {
  entryFor(dotted, null, null).key = { family, parameterSet, keySizeBits };
}

function defineDigest(dotted: string, hash: HashName): void {
  entryFor(dotted, null, null).digest = hash;
}

// Digests (RSASSA-PSS parameters name them).
defineDigest('1.2.840.113549.2.2', 'MD2');
defineDigest('1.2.840.113549.2.4', 'MD4');
defineDigest('1.2.840.113549.2.5', 'MD5');
defineDigest('1.3.14.3.2.26', 'SHA-1');
defineDigest('2.16.840.1.101.3.4.2.4', 'SHA-224');
defineDigest('2.16.840.1.101.3.4.2.1', 'SHA-256');
defineDigest('2.16.840.1.101.3.4.2.2', 'SHA-384');
defineDigest('2.16.840.1.101.3.4.2.3', 'SHA-512');
defineDigest('2.16.840.1.101.3.4.2.5', 'SHA-512/224');
defineDigest('2.16.840.1.101.3.4.2.6', 'SHA-512/256');
defineDigest('2.16.840.1.101.3.4.2.7', 'SHA3-224');
defineDigest('2.16.840.1.101.3.4.2.8', 'SHA3-256');
defineDigest('2.16.840.1.101.3.4.2.9', 'SHA3-384');
defineDigest('2.16.840.1.101.3.4.2.10', 'SHA3-512');
defineDigest('2.16.840.1.101.3.4.2.11', 'SHAKE128');
defineDigest('2.16.840.1.101.3.4.2.12', 'SHAKE256');
defineDigest('1.3.36.3.2.1', 'RIPEMD-160');
defineDigest('1.2.156.10197.1.401', 'SM3');

// RSA PKCS #1 v1.5 and PSS.
defineSignature('1.2.840.113549.1.1.2', 'MD2', 'RSA', 'md2WithRSAEncryption');
defineSignature('1.2.840.113549.1.1.3', 'MD4', 'RSA', 'md4WithRSAEncryption');
defineSignature('1.2.840.113549.1.1.4', 'MD5', 'RSA', 'md5WithRSAEncryption');
defineSignature('1.2.840.113549.1.1.5', 'SHA-1', 'RSA', 'sha1WithRSAEncryption');
defineSignature('1.2.840.113549.1.1.11', 'SHA-256', 'RSA', 'sha256WithRSAEncryption');
defineSignature('1.2.840.113549.1.1.12', 'SHA-384', 'RSA', 'sha384WithRSAEncryption');
defineSignature('1.2.840.113549.1.1.13', 'SHA-512', 'RSA', 'sha512WithRSAEncryption');
defineSignature('1.2.840.113549.1.1.14', 'SHA-224', 'RSA', 'sha224WithRSAEncryption');
defineSignature('1.2.840.113549.1.1.15', 'SHA-512/224', 'RSA', 'sha512-224WithRSAEncryption');
defineSignature('1.2.840.113549.1.1.16', 'SHA-512/256', 'RSA', 'sha512-256WithRSAEncryption');
// RFC 4055: without parameters (never valid in a certificate) PSS means SHA-1.
defineSignature('1.2.840.113549.1.1.10', 'SHA-1', 'RSA', 'rsassaPss', true);
defineSignature('1.3.14.3.2.29', 'SHA-1', 'RSA', 'sha1WithRSA');
defineSignature('1.3.14.3.2.3', 'MD5', 'RSA', 'md5WithRSA');
defineSignature('1.3.36.3.3.1.2', 'RIPEMD-160', 'RSA', 'ripemd160WithRSA');
defineSignature('2.16.840.1.101.3.4.3.13', 'SHA3-224', 'RSA', 'RSA-SHA3-224');
defineSignature('2.16.840.1.101.3.4.3.14', 'SHA3-256', 'RSA', 'RSA-SHA3-256');
defineSignature('2.16.840.1.101.3.4.3.15', 'SHA3-384', 'RSA', 'RSA-SHA3-384');
defineSignature('2.16.840.1.101.3.4.3.16', 'SHA3-512', 'RSA', 'RSA-SHA3-512');
defineSignature('1.3.6.1.5.5.7.6.30', 'SHAKE128', 'RSA', 'id-RSASSA-PSS-SHAKE128');
defineSignature('1.3.6.1.5.5.7.6.31', 'SHAKE256', 'RSA', 'id-RSASSA-PSS-SHAKE256');
// DSA.
defineSignature('1.2.840.10040.4.3', 'SHA-1', 'DSA', 'dsaWithSHA1');
defineSignature('1.3.14.3.2.27', 'SHA-1', 'DSA', 'dsaWithSHA1-old');
defineSignature('1.3.14.3.2.13', 'unknown', 'DSA', 'dsaWithSHA');
defineSignature('2.16.840.1.101.3.4.3.1', 'SHA-224', 'DSA', 'dsa_with_SHA224');
defineSignature('2.16.840.1.101.3.4.3.2', 'SHA-256', 'DSA', 'dsa_with_SHA256');
defineSignature('2.16.840.1.101.3.4.3.3', 'SHA-384', 'DSA', 'dsa_with_SHA384');
defineSignature('2.16.840.1.101.3.4.3.4', 'SHA-512', 'DSA', 'dsa_with_SHA512');
defineSignature('2.16.840.1.101.3.4.3.5', 'SHA3-224', 'DSA', 'dsa_with_SHA3-224');
defineSignature('2.16.840.1.101.3.4.3.6', 'SHA3-256', 'DSA', 'dsa_with_SHA3-256');
defineSignature('2.16.840.1.101.3.4.3.7', 'SHA3-384', 'DSA', 'dsa_with_SHA3-384');
defineSignature('2.16.840.1.101.3.4.3.8', 'SHA3-512', 'DSA', 'dsa_with_SHA3-512');
// ECDSA and friends.
defineSignature('1.2.840.10045.4.1', 'SHA-1', 'EC', 'ecdsa-with-SHA1');
defineSignature('1.2.840.10045.4.3.1', 'SHA-224', 'EC', 'ecdsa-with-SHA224');
defineSignature('1.2.840.10045.4.3.2', 'SHA-256', 'EC', 'ecdsa-with-SHA256');
defineSignature('1.2.840.10045.4.3.3', 'SHA-384', 'EC', 'ecdsa-with-SHA384');
defineSignature('1.2.840.10045.4.3.4', 'SHA-512', 'EC', 'ecdsa-with-SHA512');
defineSignature('1.2.840.10045.4.2', 'unknown', 'EC', 'ecdsa-with-Recommended');
defineSignature('1.2.840.10045.4.3', 'unknown', 'EC', 'ecdsa-with-Specified');
defineSignature('2.16.840.1.101.3.4.3.9', 'SHA3-224', 'EC', 'ecdsa_with_SHA3-224');
defineSignature('2.16.840.1.101.3.4.3.10', 'SHA3-256', 'EC', 'ecdsa_with_SHA3-256');
defineSignature('2.16.840.1.101.3.4.3.11', 'SHA3-384', 'EC', 'ecdsa_with_SHA3-384');
defineSignature('2.16.840.1.101.3.4.3.12', 'SHA3-512', 'EC', 'ecdsa_with_SHA3-512');
defineSignature('1.3.6.1.5.5.7.6.32', 'SHAKE128', 'EC', 'id-ecdsa-with-shake128');
defineSignature('1.3.6.1.5.5.7.6.33', 'SHAKE256', 'EC', 'id-ecdsa-with-shake256');
defineSignature('1.2.156.10197.1.501', 'SM3', 'EC', 'SM2-with-SM3');
// EdDSA hashes internally.
defineSignature('1.3.101.112', 'none', 'Ed25519', 'ED25519');
defineSignature('1.3.101.113', 'none', 'Ed448', 'ED448');

// FIPS 204 ML-DSA (pure and pre-hash), FIPS 205 SLH-DSA, FIPS 203 ML-KEM: NIST CSOR arcs 2.16.840.1.101.3.4.{3,4}.
const NIST_SIG = '2.16.840.1.101.3.4.3';
const ML_DSA: ReadonlyArray<[number, string, number]> = [
  [17, 'ML-DSA-44', 1312],
  [18, 'ML-DSA-65', 1952],
  [19, 'ML-DSA-87', 2592],
];
for (const [arc, name, publicKeyBytes] of ML_DSA) {
  defineSignature(`${NIST_SIG}.${arc}`, 'none', 'ML-DSA', name);
  defineKey(`${NIST_SIG}.${arc}`, 'ML-DSA', name, publicKeyBytes * 8);
  const preHashed = `HashML-DSA-${name.slice(7)}-with-SHA512`;
  defineSignature(`${NIST_SIG}.${arc + 15}`, 'SHA-512', 'ML-DSA', preHashed);
  defineKey(`${NIST_SIG}.${arc + 15}`, 'ML-DSA', preHashed, publicKeyBytes * 8);
}
const SLH_DSA_SETS = ['SHA2-128s', 'SHA2-128f', 'SHA2-192s', 'SHA2-192f', 'SHA2-256s', 'SHA2-256f'] as const;
const SLH_DSA_PREHASH: readonly HashName[] = [
  'SHA-256',
  'SHA-256',
  'SHA-512',
  'SHA-512',
  'SHA-512',
  'SHA-512',
];
const SLH_DSA_SHAKE_PREHASH: readonly HashName[] = [
  'SHAKE128',
  'SHAKE128',
  'SHAKE256',
  'SHAKE256',
  'SHAKE256',
  'SHAKE256',
];
SLH_DSA_SETS.forEach((set, index) => {
  const securityBits = Number(set.slice(5, 8));
  for (const [variant, arcBase, preHash] of [
    ['SHA2', 20, SLH_DSA_PREHASH],
    ['SHAKE', 26, SLH_DSA_SHAKE_PREHASH],
  ] as const) {
    const pure = `SLH-DSA-${variant}-${set.slice(5)}`;
    // An SLH-DSA public key is PK.seed || PK.root, n bytes each, n being the security level in bytes.
    const publicKeyBits = 2 * securityBits;
    defineSignature(`${NIST_SIG}.${arcBase + index}`, 'none', 'SLH-DSA', pure);
    defineKey(`${NIST_SIG}.${arcBase + index}`, 'SLH-DSA', pure, publicKeyBits);
    const hash = preHash[index] ?? 'unknown';
    const preHashed = `HashSLH-DSA-${variant}-${set.slice(5)}-with-${hash.replace('-', '')}`;
    const preHashArc = (variant === 'SHA2' ? 35 : 41) + index;
    defineSignature(`${NIST_SIG}.${preHashArc}`, hash, 'SLH-DSA', preHashed);
    defineKey(`${NIST_SIG}.${preHashArc}`, 'SLH-DSA', preHashed, publicKeyBits);
  }
});
const ML_KEM: ReadonlyArray<[number, string, number]> = [
  [1, 'ML-KEM-512', 800],
  [2, 'ML-KEM-768', 1184],
  [3, 'ML-KEM-1024', 1568],
];
for (const [arc, name, publicKeyBytes] of ML_KEM)
  defineKey(`2.16.840.1.101.3.4.4.${arc}`, 'ML-KEM', name, publicKeyBytes * 8);

// draft-ietf-lamps-pq-composite-sigs: IANA id-alg arcs 1.3.6.1.5.5.7.6.37-54; the pre-hash is part of the name.
const COMPOSITES: ReadonlyArray<[number, string, HashName]> = [
  [37, 'MLDSA44-RSA2048-PSS-SHA256', 'SHA-256'],
  [38, 'MLDSA44-RSA2048-PKCS15-SHA256', 'SHA-256'],
  [39, 'MLDSA44-Ed25519-SHA512', 'SHA-512'],
  [40, 'MLDSA44-ECDSA-P256-SHA256', 'SHA-256'],
  [41, 'MLDSA65-RSA3072-PSS-SHA512', 'SHA-512'],
  [42, 'MLDSA65-RSA3072-PKCS15-SHA512', 'SHA-512'],
  [43, 'MLDSA65-RSA4096-PSS-SHA512', 'SHA-512'],
  [44, 'MLDSA65-RSA4096-PKCS15-SHA512', 'SHA-512'],
  [45, 'MLDSA65-ECDSA-P256-SHA512', 'SHA-512'],
  [46, 'MLDSA65-ECDSA-P384-SHA512', 'SHA-512'],
  [47, 'MLDSA65-ECDSA-brainpoolP256r1-SHA512', 'SHA-512'],
  [48, 'MLDSA65-Ed25519-SHA512', 'SHA-512'],
  [49, 'MLDSA87-ECDSA-P384-SHA512', 'SHA-512'],
  [50, 'MLDSA87-ECDSA-brainpoolP384r1-SHA512', 'SHA-512'],
  [51, 'MLDSA87-Ed448-SHAKE256', 'SHAKE256'],
  [52, 'MLDSA87-RSA3072-PSS-SHA512', 'SHA-512'],
  [53, 'MLDSA87-RSA4096-PSS-SHA512', 'SHA-512'],
  [54, 'MLDSA87-ECDSA-P521-SHA512', 'SHA-512'],
];
for (const [arc, name, preHash] of COMPOSITES) {
  defineSignature(`1.3.6.1.5.5.7.6.${arc}`, preHash, 'composite', name);
  defineKey(`1.3.6.1.5.5.7.6.${arc}`, 'composite', name);
}

// Public key algorithms.
defineKey('1.2.840.113549.1.1.1', 'RSA');
defineKey('1.2.840.113549.1.1.10', 'RSA');
defineKey('1.2.840.113549.1.1.7', 'RSA');
defineKey('2.5.8.1.1', 'RSA');
defineKey('1.2.840.10045.2.1', 'EC');
defineKey('1.3.132.1.12', 'EC');
defineKey('1.3.132.1.13', 'EC');
defineKey('1.2.156.10197.1.301', 'EC');
defineKey('1.3.101.112', 'Ed25519', null, 256);
defineKey('1.3.101.113', 'Ed448', null, 456);
defineKey('1.3.101.110', 'X25519', null, 256);
defineKey('1.3.101.111', 'X448', null, 448);
defineKey('1.2.840.10040.4.1', 'DSA');
defineKey('1.3.14.3.2.12', 'DSA');
defineKey('1.2.840.10046.2.1', 'DH');
defineKey('1.2.840.113549.1.3.1', 'DH');

// Named curves with the group-order size OpenSSL reports (`openssl ec -text`), keyed by OpenSSL's short name.
const CURVE_ORDER_BITS: ReadonlyArray<[string, number, string?]> = [
  ['secp112r1', 112],
  ['secp112r2', 110],
  ['secp128r1', 128],
  ['secp128r2', 126],
  ['secp160k1', 161],
  ['secp160r1', 161],
  ['secp160r2', 161],
  ['secp192k1', 192],
  ['secp224k1', 225],
  ['secp224r1', 224, 'P-224'],
  ['secp256k1', 256],
  ['secp384r1', 384, 'P-384'],
  ['secp521r1', 521, 'P-521'],
  ['prime192v1', 192, 'P-192'],
  ['prime192v2', 192],
  ['prime192v3', 192],
  ['prime239v1', 239],
  ['prime239v2', 239],
  ['prime239v3', 239],
  ['prime256v1', 256, 'P-256'],
  ['sect113r1', 113],
  ['sect113r2', 113],
  ['sect131r1', 131],
  ['sect131r2', 131],
  ['sect163k1', 163, 'K-163'],
  ['sect163r1', 162],
  ['sect163r2', 163, 'B-163'],
  ['sect193r1', 193],
  ['sect193r2', 193],
  ['sect233k1', 232, 'K-233'],
  ['sect233r1', 233, 'B-233'],
  ['sect239k1', 238],
  ['sect283k1', 281, 'K-283'],
  ['sect283r1', 282, 'B-283'],
  ['sect409k1', 407, 'K-409'],
  ['sect409r1', 409, 'B-409'],
  ['sect571k1', 570, 'K-571'],
  ['sect571r1', 570, 'B-571'],
  ['c2pnb163v1', 163],
  ['c2pnb163v2', 162],
  ['c2pnb163v3', 162],
  ['c2pnb176v1', 161],
  ['c2tnb191v1', 191],
  ['c2tnb191v2', 190],
  ['c2tnb191v3', 189],
  ['c2pnb208w1', 193],
  ['c2tnb239v1', 238],
  ['c2tnb239v2', 237],
  ['c2tnb239v3', 236],
  ['c2pnb272w1', 257],
  ['c2pnb304w1', 289],
  ['c2tnb359v1', 353],
  ['c2pnb368w1', 353],
  ['c2tnb431r1', 418],
  ['wap-wsg-idm-ecid-wtls1', 112],
  ['wap-wsg-idm-ecid-wtls3', 163],
  ['wap-wsg-idm-ecid-wtls4', 113],
  ['wap-wsg-idm-ecid-wtls5', 163],
  ['wap-wsg-idm-ecid-wtls6', 112],
  ['wap-wsg-idm-ecid-wtls7', 161],
  ['wap-wsg-idm-ecid-wtls8', 113],
  ['wap-wsg-idm-ecid-wtls9', 161],
  ['wap-wsg-idm-ecid-wtls10', 232],
  ['wap-wsg-idm-ecid-wtls11', 233],
  ['wap-wsg-idm-ecid-wtls12', 224],
  ['brainpoolP160r1', 160],
  ['brainpoolP160t1', 160],
  ['brainpoolP192r1', 192],
  ['brainpoolP192t1', 192],
  ['brainpoolP224r1', 224],
  ['brainpoolP224t1', 224],
  ['brainpoolP256r1', 256],
  ['brainpoolP256t1', 256],
  ['brainpoolP320r1', 320],
  ['brainpoolP320t1', 320],
  ['brainpoolP384r1', 384],
  ['brainpoolP384t1', 384],
  ['brainpoolP512r1', 512],
  ['brainpoolP512t1', 512],
  ['SM2', 256],
];
const byShortName = new Map<string, OidEntry>();
for (const entry of byDotted.values()) if (entry.shortName !== null) byShortName.set(entry.shortName, entry);
for (const [shortName, orderBits, nistName] of CURVE_ORDER_BITS) {
  const entry = byShortName.get(shortName);
  if (!entry) throw new Error(`curve ${shortName} is missing from the OpenSSL object table`);
  entry.curve = { name: nistName ?? shortName, orderBits };
}
