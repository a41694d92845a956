// Key pools for generated certificates. Keys are reused across certificates (as real estates reuse keys on renewal)
// because generating keys per certificate would dominate run time. RSA keys cannot be derived from a seed in Node,
// so they come from committed PEM files (public simulator test keys, see keys/README.md); EC and Ed25519 private
// keys are derived from fixed labels, so every run and every seed sees the same pools.
import { createHash, createHmac, createPrivateKey, createPublicKey, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { KeyType } from '#shared/keyfactor/model';
import { PUBLIC_KEY_ALGORITHM_OIDS, curveOf, keyFamilyOf } from './algorithms';
import type { KeyFamily, LeafKeyKind, SignatureAlgorithm } from './algorithms';
import { bitString, oid, readTlv, sequence } from './der';
import { EC_CURVES, bytesToBigInt, ecPublicPoint, signEcdsaDigest } from './ecdsa';
import type { EcCurve } from './ecdsa';

export interface KeyMaterial {
  kind: LeafKeyKind;
  family: KeyFamily;
  /** Command's CertificateKeyId: the same key gets the same id in every certificate that uses it. */
  keyId: number;
  /** Command's KeyType number. */
  commandKeyType: number;
  /** Command's KeySizeInBits: RSA modulus bits, EC field bits, 255 for Ed25519 (what Command 25.4.1 reports). */
  sizeInBits: number;
  curve: EcCurve | null;
  /** DER SubjectPublicKeyInfo. */
  subjectPublicKeyInfo: Buffer;
  /** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. */
  subjectKeyIdentifier: Buffer;
  /** Signs the DER TBSCertificate; returns the signatureValue bytes. Deterministic for every algorithm used here. */
  sign(tbsCertificate: Buffer, algorithm: SignatureAlgorithm): Buffer;
}

const KEY_DIRECTORY = new URL('./keys/', import.meta.url);

/** PEM files hold several PKCS#8 blocks after a one-line label; the label is ignored. */
function readPemBlocks(fileName: string): string[] {
  const text = readFileSync(new URL(fileName, KEY_DIRECTORY), 'utf8');
  return text.match(/-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----/g) ?? [];
}

function subjectKeyIdentifierOf(spki: Buffer): Buffer {
  const outer = readTlv(spki, 0);
  const algorithm = readTlv(spki, outer.contentStart);
  const publicKeyBits = readTlv(spki, algorithm.contentEnd);
  // Skip the BIT STRING's unused-bits octet: the identifier hashes the key bits only.
  return createHash('sha1')
    .update(spki.subarray(publicKeyBits.contentStart + 1, publicKeyBits.contentEnd))
    .digest();
}

function assertFamily(key: KeyMaterial, algorithm: SignatureAlgorithm): void {
  if (algorithm.family !== key.family) {
    throw new Error(`cannot sign ${algorithm.kind} with a ${key.kind} key`);
  }
}

function rsaKey(privateKey: KeyObject, keyId: number): KeyMaterial {
  const modulusBits = privateKey.asymmetricKeyDetails?.modulusLength;
  if (modulusBits === undefined) throw new Error('not an RSA key');
  const kind = `RSA-${modulusBits}` as LeafKeyKind;
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const key: KeyMaterial = {
    kind,
    family: 'RSA',
    keyId,
    commandKeyType: KeyType.RSA,
    sizeInBits: modulusBits,
    curve: null,
    subjectPublicKeyInfo: spki,
    subjectKeyIdentifier: subjectKeyIdentifierOf(spki),
    sign(tbs, algorithm) {
      assertFamily(key, algorithm);
      // PKCS#1 v1.5 signatures are deterministic, so node's native signer keeps datasets reproducible.
      return sign(algorithm.hash, tbs, privateKey);
    },
  };
  return key;
}

function ecKey(curve: EcCurve, privateScalar: bigint, keyId: number): KeyMaterial {
  const spki = sequence(
    sequence(oid(PUBLIC_KEY_ALGORITHM_OIDS.EC), oid(curve.oid)),
    bitString(ecPublicPoint(curve, privateScalar)),
  );
  const key: KeyMaterial = {
    kind: curve.name,
    family: 'EC',
    keyId,
    commandKeyType: KeyType.ECC,
    sizeInBits: curve.bits,
    curve,
    subjectPublicKeyInfo: spki,
    subjectKeyIdentifier: subjectKeyIdentifierOf(spki),
    sign(tbs, algorithm) {
      assertFamily(key, algorithm);
      if (!algorithm.hash) throw new Error(`${algorithm.kind} has no digest`);
      return signEcdsaDigest(curve, privateScalar, createHash(algorithm.hash).update(tbs).digest());
    },
  };
  return key;
}

// RFC 8410 PKCS#8 wrapper around a raw 32-byte Ed25519 seed.
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

function ed25519Key(seed: Buffer, keyId: number): KeyMaterial {
  const privateKey = createPrivateKey({
    key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const key: KeyMaterial = {
    kind: 'Ed25519',
    family: 'Ed25519',
    keyId,
    commandKeyType: KeyType.Ed25519,
    sizeInBits: 255,
    curve: null,
    subjectPublicKeyInfo: spki,
    subjectKeyIdentifier: subjectKeyIdentifierOf(spki),
    sign(tbs, algorithm) {
      assertFamily(key, algorithm);
      return sign(null, tbs, privateKey);
    },
  };
  return key;
}

/** A private scalar in [1, n-1] derived from a label, so the "random" EC keys are the same on every machine. */
function derivedScalar(curve: EcCurve, label: string): bigint {
  const wide = createHmac('sha512', 'kfsim ec key').update(label).digest();
  const extra = createHmac('sha512', 'kfsim ec key, second block').update(label).digest();
  return (bytesToBigInt(Buffer.concat([wide, extra])) % (curve.order - 1n)) + 1n;
}

function derivedEd25519Seed(label: string): Buffer {
  return createHmac('sha256', 'kfsim ed25519 key').update(label).digest();
}

/** Pool sizes for the derived kinds; the RSA pools are as large as their PEM files. */
const DERIVED_POOL_SIZE = 16;

/** Ids are grouped by kind so a CertificateKeyId tells a reader which pool it came from. */
const KEY_ID_BASE: Record<LeafKeyKind, number> = {
  'RSA-1024': 1000,
  'RSA-2048': 2000,
  'RSA-3072': 3000,
  'RSA-4096': 4000,
  'P-256': 5000,
  'P-384': 6000,
  'P-521': 7000,
  Ed25519: 8000,
};

function buildLeafPool(kind: LeafKeyKind): KeyMaterial[] {
  const family = keyFamilyOf(kind);
  const base = KEY_ID_BASE[kind];
  if (family === 'RSA') {
    const pool = readPemBlocks(`${kind.toLowerCase()}.pem`).map((pem, index) =>
      rsaKey(createPrivateKey(pem), base + index + 1),
    );
    for (const key of pool) {
      if (key.kind !== kind) throw new Error(`keys/${kind.toLowerCase()}.pem holds a ${key.kind} key`);
    }
    if (pool.length === 0) throw new Error(`keys/${kind.toLowerCase()}.pem holds no keys`);
    return pool;
  }
  const pool: KeyMaterial[] = [];
  for (let index = 0; index < DERIVED_POOL_SIZE; index++) {
    const curveName = curveOf(kind);
    pool.push(
      curveName
        ? ecKey(
            EC_CURVES[curveName],
            derivedScalar(EC_CURVES[curveName], `leaf/${kind}/${index}`),
            base + index + 1,
          )
        : ed25519Key(derivedEd25519Seed(`leaf/Ed25519/${index}`), base + index + 1),
    );
  }
  return pool;
}

const leafPools = new Map<LeafKeyKind, KeyMaterial[]>();

/** The (lazily loaded) pool of leaf keys of one kind. */
export function leafKeyPool(kind: LeafKeyKind): readonly KeyMaterial[] {
  let pool = leafPools.get(kind);
  if (!pool) {
    pool = buildLeafPool(kind);
    leafPools.set(kind, pool);
  }
  return pool;
}

export type CaKeySource =
  { type: 'rsa-file'; fileName: string } | { type: 'ec'; curve: EcCurve['name'] } | { type: 'ed25519' };

/** A CA's key: RSA from its own PEM file, EC/Ed25519 derived from the CA's label. */
export function caKey(label: string, source: CaKeySource, keyId: number): KeyMaterial {
  switch (source.type) {
    case 'rsa-file': {
      const [pem] = readPemBlocks(source.fileName);
      if (!pem) throw new Error(`keys/${source.fileName} holds no key`);
      return rsaKey(createPrivateKey(pem), keyId);
    }
    case 'ec':
      return ecKey(EC_CURVES[source.curve], derivedScalar(EC_CURVES[source.curve], `ca/${label}`), keyId);
    case 'ed25519':
      return ed25519Key(derivedEd25519Seed(`ca/${label}`), keyId);
  }
}
