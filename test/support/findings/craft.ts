// Test-only factory for real, signed DER certificates with exactly the flaw a rule test needs (kept here because the
// findings test folder holds only *.test.ts files). Never imported by the engine.
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { CommandCertificate } from '#shared/keyfactor/model';
import {
  NULL,
  bitString,
  boolean,
  explicit,
  implicitPrimitive,
  namedBitString,
  octetString,
  oid,
  sequence,
  smallInteger,
  tlv,
  time,
  Tag,
} from '#shared/simulator/generator/der';
import { encodeName } from '#shared/simulator/generator/names';
import type { DistinguishedName } from '#shared/simulator/generator/names';

export type KeySpec =
  | { kind: 'rsa'; bits: number; exponent?: number }
  | { kind: 'ec'; curve: string }
  | { kind: 'ed25519' }
  | { kind: 'ed448' }
  /** A SubjectPublicKeyInfo made by hand (no private key): the certificate must be signed by a CA. */
  | { kind: 'spki'; der: Buffer };

export type SignatureHash = 'MD2' | 'MD5' | 'SHA-1' | 'SHA-256' | 'SHA-384';

export interface CraftOptions {
  key?: KeySpec;
  /** 'self': signed by its own key with issuer = subject. Default 'ec-ca'. */
  issuer?: 'self' | 'ec-ca' | 'rsa-ca';
  hash?: SignatureHash;
  version?: 1 | 2 | 3;
  /** Serial INTEGER content octets exactly as encoded (so negative and 21-octet serials can be made). */
  serial?: Buffer;
  subject?: DistinguishedName;
  notBefore?: Date;
  notAfter?: Date;
  extensions?: Buffer[];
  /** Replaces the signature AlgorithmIdentifier inside TBSCertificate only (to make the two disagree). */
  tbsSignatureAlgorithm?: Buffer;
}

const keyCache = new Map<
  string,
  { privateKey: KeyObject; spki: Buffer; kind: 'rsa' | 'ec' | 'ed25519' | 'ed448' }
>();

function keyPair(spec: Exclude<KeySpec, { kind: 'spki' }>) {
  const cacheKey = JSON.stringify(spec);
  const cached = keyCache.get(cacheKey);
  if (cached) return cached;
  let privateKey: KeyObject;
  let publicKey: KeyObject;
  if (spec.kind === 'rsa') {
    ({ privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: spec.bits,
      publicExponent: spec.exponent ?? 65537,
    }));
  } else if (spec.kind === 'ec') {
    ({ privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: spec.curve }));
  } else if (spec.kind === 'ed25519') {
    ({ privateKey, publicKey } = generateKeyPairSync('ed25519'));
  } else {
    ({ privateKey, publicKey } = generateKeyPairSync('ed448'));
  }
  const entry = { privateKey, spki: publicKey.export({ type: 'spki', format: 'der' }), kind: spec.kind };
  keyCache.set(cacheKey, entry);
  return entry;
}

const SIGNATURE_OIDS: Record<'rsa' | 'ec', Partial<Record<SignatureHash, string>>> = {
  rsa: {
    MD2: '1.2.840.113549.1.1.2',
    MD5: '1.2.840.113549.1.1.4',
    'SHA-1': '1.2.840.113549.1.1.5',
    'SHA-256': '1.2.840.113549.1.1.11',
    'SHA-384': '1.2.840.113549.1.1.12',
  },
  ec: {
    'SHA-1': '1.2.840.10045.4.1',
    'SHA-256': '1.2.840.10045.4.3.2',
    'SHA-384': '1.2.840.10045.4.3.3',
  },
};

const NODE_HASH: Record<SignatureHash, string> = {
  MD2: 'md5',
  MD5: 'md5',
  'SHA-1': 'sha1',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
};

function signatureAlgorithm(kind: 'rsa' | 'ec' | 'ed25519' | 'ed448', hash: SignatureHash): Buffer {
  if (kind === 'ed25519') return sequence(oid('1.3.101.112'));
  if (kind === 'ed448') return sequence(oid('1.3.101.113'));
  const algorithm = SIGNATURE_OIDS[kind][hash];
  if (algorithm === undefined) throw new Error(`no ${kind} signature with ${hash} in the test factory`);
  return kind === 'rsa' ? sequence(oid(algorithm), NULL) : sequence(oid(algorithm));
}

export const EC_CA_NAME: DistinguishedName = [
  { type: 'O', value: 'Findings Test' },
  { type: 'CN', value: 'Findings Test EC CA' },
];
const RSA_CA_NAME: DistinguishedName = [
  { type: 'O', value: 'Findings Test' },
  { type: 'CN', value: 'Findings Test RSA CA' },
];

export const DEFAULT_SUBJECT: DistinguishedName = [
  { type: 'O', value: 'Example Corp' },
  { type: 'CN', value: 'www.example.com' },
];

/** 2025-06-01 to 2026-06-01: valid on TEST_NOW, under 398 days. */
export const TEST_NOW = new Date('2026-01-01T00:00:00Z');
const DEFAULT_NOT_BEFORE = new Date('2025-06-01T00:00:00Z');
const DEFAULT_NOT_AFTER = new Date('2026-06-01T00:00:00Z');

export function craftCertificate(options: CraftOptions = {}): Buffer {
  const keySpec = options.key ?? { kind: 'ec', curve: 'prime256v1' };
  const subjectKey = keySpec.kind === 'spki' ? null : keyPair(keySpec);
  const spki = keySpec.kind === 'spki' ? keySpec.der : (subjectKey?.spki ?? Buffer.alloc(0));
  const issuerMode = options.issuer ?? 'ec-ca';
  const subjectName = encodeName(options.subject ?? DEFAULT_SUBJECT);
  let signer: { privateKey: KeyObject; kind: 'rsa' | 'ec' | 'ed25519' | 'ed448' };
  let issuerName: Buffer;
  if (issuerMode === 'self') {
    if (subjectKey === null) throw new Error('a hand-made SPKI cannot sign its own certificate');
    signer = subjectKey;
    issuerName = subjectName;
  } else if (issuerMode === 'rsa-ca') {
    signer = keyPair({ kind: 'rsa', bits: 2048 });
    issuerName = encodeName(RSA_CA_NAME);
  } else {
    signer = keyPair({ kind: 'ec', curve: 'prime256v1' });
    issuerName = encodeName(EC_CA_NAME);
  }
  const hash = options.hash ?? 'SHA-256';
  const algorithm = signatureAlgorithm(signer.kind, hash);
  const version = options.version ?? 3;
  const extensions = options.extensions ?? [];
  const tbs = sequence(
    ...(version === 1 ? [] : [explicit(0, smallInteger(version - 1))]),
    tlv(Tag.Integer, options.serial ?? Buffer.concat([Buffer.from([0x1f]), randomBytes(15)])),
    options.tbsSignatureAlgorithm ?? algorithm,
    issuerName,
    sequence(time(options.notBefore ?? DEFAULT_NOT_BEFORE), time(options.notAfter ?? DEFAULT_NOT_AFTER)),
    subjectName,
    spki,
    ...(extensions.length > 0 ? [explicit(3, sequence(...extensions))] : []),
  );
  // MD2 is gone from OpenSSL 3's default provider: the signature is MD5's, which nothing here verifies anyway.
  const signature =
    signer.kind === 'ed25519' || signer.kind === 'ed448'
      ? sign(null, tbs, signer.privateKey)
      : sign(NODE_HASH[hash], tbs, signer.privateKey);
  return sequence(tbs, algorithm, bitString(signature));
}

// Extensions.

function extension(extensionOid: string, critical: boolean, value: Buffer): Buffer {
  return sequence(oid(extensionOid), ...(critical ? [boolean(true)] : []), octetString(value));
}

export function basicConstraints(ca: boolean, critical = true, pathLen?: number): Buffer {
  const fields = [...(ca ? [boolean(true)] : []), ...(pathLen === undefined ? [] : [smallInteger(pathLen)])];
  return extension('2.5.29.19', critical, sequence(...fields));
}

const KEY_USAGE_BITS = {
  digitalSignature: 0,
  nonRepudiation: 1,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
} as const;

export function keyUsage(usages: ReadonlyArray<keyof typeof KEY_USAGE_BITS>, critical = true): Buffer {
  return extension('2.5.29.15', critical, namedBitString(usages.map((usage) => KEY_USAGE_BITS[usage])));
}

export const EKU = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
} as const;

export function extendedKeyUsage(oids: readonly string[]): Buffer {
  return extension('2.5.29.37', false, sequence(...oids.map((value) => oid(value))));
}

export type AltName = { dns: string } | { ip: string } | { email: string } | { uri: string };

export function subjectAltName(names: readonly AltName[]): Buffer {
  const encoded = names.map((name) => {
    if ('dns' in name) return implicitPrimitive(2, Buffer.from(name.dns, 'latin1'));
    if ('email' in name) return implicitPrimitive(1, Buffer.from(name.email, 'latin1'));
    if ('uri' in name) return implicitPrimitive(6, Buffer.from(name.uri, 'latin1'));
    return implicitPrimitive(7, Buffer.from(name.ip.split('.').map(Number)));
  });
  return extension('2.5.29.17', false, sequence(...encoded));
}

/** The usual TLS server extensions for `host`. */
export function tlsServerExtensions(host: string, extra: Buffer[] = []): Buffer[] {
  return [
    basicConstraints(false),
    keyUsage(['digitalSignature']),
    extendedKeyUsage([EKU.serverAuth]),
    subjectAltName([{ dns: host }]),
    ...extra,
  ];
}

export function caExtensions(): Buffer[] {
  return [basicConstraints(true), keyUsage(['keyCertSign', 'cRLSign'])];
}

// Hand-made SubjectPublicKeyInfos for keys node:crypto will not generate (or should not, for speed).

/** A positive INTEGER of exactly `bits` bits (top bit set), random below it. */
function integerOfBits(bits: number): Buffer {
  const bytes = randomBytes(Math.ceil(bits / 8));
  const topBit = (bits - 1) % 8;
  bytes[0] = ((bytes[0] ?? 0) & ((1 << topBit) - 1)) | (1 << topBit);
  return tlv(Tag.Integer, (bytes[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

function spki(algorithm: Buffer, key: Buffer): Buffer {
  return sequence(algorithm, bitString(key));
}

export function rsaSpki(bits: number, exponent: number): Buffer {
  return spki(
    sequence(oid('1.2.840.113549.1.1.1'), NULL),
    sequence(integerOfBits(bits), smallInteger(exponent)),
  );
}

export function dsaSpki(bits: number): Buffer {
  const parameters = sequence(integerOfBits(bits), integerOfBits(256), integerOfBits(bits - 1));
  return spki(sequence(oid('1.2.840.10040.4.1'), parameters), integerOfBits(bits - 1));
}

export function dhSpki(bits: number): Buffer {
  const parameters = sequence(integerOfBits(bits), smallInteger(2));
  return spki(sequence(oid('1.2.840.113549.1.3.1'), parameters), integerOfBits(bits - 1));
}

/** id-ecPublicKey with explicit (specified) curve parameters whose group order has `orderBits` bits. */
export function explicitCurveSpki(orderBits: number): Buffer {
  const parameters = sequence(
    smallInteger(1),
    sequence(oid('1.2.840.10045.1.1'), integerOfBits(orderBits)),
    sequence(octetString(randomBytes(32)), octetString(randomBytes(32))),
    octetString(Buffer.concat([Buffer.from([4]), randomBytes(64)])),
    integerOfBits(orderBits),
    smallInteger(1),
  );
  return spki(
    sequence(oid('1.2.840.10045.2.1'), parameters),
    Buffer.concat([Buffer.from([4]), randomBytes(64)]),
  );
}

/** An AlgorithmIdentifier without parameters and `keyBytes` random key bytes: ML-DSA, SLH-DSA, ML-KEM, composites. */
export function opaqueSpki(algorithmOid: string, keyBytes: number): Buffer {
  return spki(sequence(oid(algorithmOid)), randomBytes(keyBytes));
}

export const PQC_OIDS = {
  'ML-DSA-44': '2.16.840.1.101.3.4.3.17',
  'ML-DSA-65': '2.16.840.1.101.3.4.3.18',
  'ML-DSA-87': '2.16.840.1.101.3.4.3.19',
  'SLH-DSA-SHA2-128s': '2.16.840.1.101.3.4.3.20',
  'SLH-DSA-SHA2-192f': '2.16.840.1.101.3.4.3.23',
  'SLH-DSA-SHAKE-256s': '2.16.840.1.101.3.4.3.30',
  'ML-KEM-768': '2.16.840.1.101.3.4.4.2',
  'MLDSA65-ECDSA-P256-SHA512': '1.3.6.1.5.5.7.6.45',
  'MLDSA87-ECDSA-P384-SHA512': '1.3.6.1.5.5.7.6.49',
} as const;

// Command's view.

let nextId = 1;

/** A Command certificate object for `der`, with the attributes Command derives from it, and `overrides` on top. */
export function commandCertificate(
  der: Buffer | string,
  overrides: Partial<CommandCertificate> = {},
): CommandCertificate {
  const content = typeof der === 'string' ? der : der.toString('base64');
  const thumbprint =
    typeof der === 'string' ? '' : createHash('sha1').update(der).digest('hex').toUpperCase();
  return {
    Id: nextId++,
    ContentBytes: content,
    Thumbprint: thumbprint,
    SerialNumber: '',
    IssuedDN: null,
    IssuedCN: null,
    ImportDate: '2025-12-01T00:00:00Z',
    NotBefore: '',
    NotAfter: '',
    IssuerDN: null,
    CertState: 1,
    KeySizeInBits: 0,
    KeyType: 0,
    SigningAlgorithm: '',
    RevocationEffDate: null,
    RevocationReason: null,
    Locations: [],
    SSLLocations: [],
    Metadata: {},
    ...overrides,
  };
}
