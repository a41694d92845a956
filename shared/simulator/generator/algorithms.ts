// Key kinds and signature algorithms the generator knows, with the OIDs X.509 needs and the names Command shows.
import { NULL, oid, sequence } from './der';
import type { EcCurveName, HashName } from './ecdsa';

export const LEAF_KEY_KINDS = [
  'RSA-1024',
  'RSA-2048',
  'RSA-3072',
  'RSA-4096',
  'P-256',
  'P-384',
  'P-521',
  'Ed25519',
] as const;
export type LeafKeyKind = (typeof LEAF_KEY_KINDS)[number];

export type KeyFamily = 'RSA' | 'EC' | 'Ed25519';

export function keyFamilyOf(kind: LeafKeyKind): KeyFamily {
  if (kind.startsWith('RSA-')) return 'RSA';
  return kind === 'Ed25519' ? 'Ed25519' : 'EC';
}

export function curveOf(kind: LeafKeyKind): EcCurveName | null {
  return kind === 'P-256' || kind === 'P-384' || kind === 'P-521' ? kind : null;
}

/**
 * Signature algorithms by the name Command shows in SigningAlgorithm. The only value seen from a real Command (25.4.1)
 * is "SHA-256withRSA"; the rest follow the same "<hash>with<algorithm>" pattern. See docs/simulator-dataset.md.
 */
export const SIGNATURE_KINDS = [
  'SHA-1withRSA',
  'SHA-256withRSA',
  'SHA-384withRSA',
  'SHA-256withECDSA',
  'SHA-384withECDSA',
  'SHA-512withECDSA',
  'Ed25519',
] as const;
export type SignatureKind = (typeof SIGNATURE_KINDS)[number];

export interface SignatureAlgorithm {
  kind: SignatureKind;
  oid: string;
  /** Digest fed to the signer; null for Ed25519, which hashes internally. */
  hash: HashName | null;
  family: KeyFamily;
  /** The DER AlgorithmIdentifier, used twice in every certificate. */
  algorithmIdentifier: Buffer;
}

function rsa(kind: SignatureKind, dotted: string, hash: HashName): SignatureAlgorithm {
  // RFC 4055: the RSA PKCS#1 v1.5 identifiers carry an explicit NULL parameter.
  return { kind, oid: dotted, hash, family: 'RSA', algorithmIdentifier: sequence(oid(dotted), NULL) };
}

function ecdsa(kind: SignatureKind, dotted: string, hash: HashName): SignatureAlgorithm {
  // RFC 5758: ECDSA identifiers have absent parameters.
  return { kind, oid: dotted, hash, family: 'EC', algorithmIdentifier: sequence(oid(dotted)) };
}

export const SIGNATURE_ALGORITHMS: Record<SignatureKind, SignatureAlgorithm> = {
  'SHA-1withRSA': rsa('SHA-1withRSA', '1.2.840.113549.1.1.5', 'sha1'),
  'SHA-256withRSA': rsa('SHA-256withRSA', '1.2.840.113549.1.1.11', 'sha256'),
  'SHA-384withRSA': rsa('SHA-384withRSA', '1.2.840.113549.1.1.12', 'sha384'),
  'SHA-256withECDSA': ecdsa('SHA-256withECDSA', '1.2.840.10045.4.3.2', 'sha256'),
  'SHA-384withECDSA': ecdsa('SHA-384withECDSA', '1.2.840.10045.4.3.3', 'sha384'),
  'SHA-512withECDSA': ecdsa('SHA-512withECDSA', '1.2.840.10045.4.3.4', 'sha512'),
  Ed25519: {
    kind: 'Ed25519',
    oid: '1.3.101.112',
    hash: null,
    family: 'Ed25519',
    algorithmIdentifier: sequence(oid('1.3.101.112')),
  },
};

/** What a self-signed leaf signs with: the hash that matches its own key, SHA-1 for the 1024-bit RSA relics. */
export function selfSignatureFor(kind: LeafKeyKind): SignatureKind {
  switch (kind) {
    case 'RSA-1024':
      return 'SHA-1withRSA';
    case 'RSA-2048':
    case 'RSA-3072':
    case 'RSA-4096':
      return 'SHA-256withRSA';
    case 'P-256':
      return 'SHA-256withECDSA';
    case 'P-384':
      return 'SHA-384withECDSA';
    case 'P-521':
      return 'SHA-512withECDSA';
    case 'Ed25519':
      return 'Ed25519';
  }
}

/** SubjectPublicKeyInfo algorithm OIDs, which Command 25.x reports as KeyAlgorithm. */
export const PUBLIC_KEY_ALGORITHM_OIDS: Record<KeyFamily, string> = {
  RSA: '1.2.840.113549.1.1.1',
  EC: '1.2.840.10045.2.1',
  Ed25519: '1.3.101.112',
};
