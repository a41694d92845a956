// The signed usage log (issue 7): an XML document with the instance, its license and the actioned-certificate counts,
// signed with XML-DSig by the instance's own RSA key. This module also owns that key's shape (generate, validate).
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { SensorError } from '#shared/errors';

/** The instance's signing key pair: PKCS#8 private key and SPKI public key, PEM. */
export interface InstanceKeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
}

/** RSA because XML-DSig through xml-crypto signs with RSA-SHA256; 3072 bits (NIST 128-bit strength). */
const INSTANCE_KEY_BITS = 3072;
/** Shortest RSA modulus accepted from a stored key: anything weaker is a misconfiguration. */
const MIN_INSTANCE_KEY_BITS = 2048;

/** A stored instance key is not a usable key pair; the message names where it came from, never its content. */
export class InstanceKeyError extends SensorError {}

/** A fresh RSA 3072 key pair for the instance (deploy-time custom resource, local state dir, tests). */
export function generateInstanceKeyPair(): InstanceKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: INSTANCE_KEY_BITS,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

/** SHA-256 of the public key's SPKI DER, hex: how the usage log and its verifier name a key. */
export function keyFingerprint(key: string | KeyObject): string {
  // A private key (PEM or object) yields its public half; a public KeyObject is used as is.
  const object = typeof key !== 'string' && key.type === 'public' ? key : createPublicKey(key);
  return createHash('sha256')
    .update(object.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

/**
 * Checks that `value` is `{ privateKeyPem, publicKeyPem }` holding PEM of one RSA key pair (the public key derived
 * from the private one must equal the stored public key). `source` names where the value came from (a secret ARN, a
 * file) for the error; the error never quotes the value.
 */
export function parseInstanceKeyPair(value: unknown, source: string): InstanceKeyPair {
  const fail = (what: string): never => {
    throw new InstanceKeyError(
      `instance key in ${source} is not usable: ${what}; it must be JSON ` +
        '{ "privateKeyPem": PKCS#8 RSA private key PEM, "publicKeyPem": its SPKI public key PEM }',
    );
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('not a JSON object');
  const { privateKeyPem, publicKeyPem } = value as Record<string, unknown>;
  if (typeof privateKeyPem !== 'string' || !privateKeyPem.includes('-----BEGIN PRIVATE KEY-----'))
    return fail('privateKeyPem is missing or not a PKCS#8 PEM');
  if (typeof publicKeyPem !== 'string' || !publicKeyPem.includes('-----BEGIN PUBLIC KEY-----'))
    return fail('publicKeyPem is missing or not an SPKI PEM');
  let privateKey: KeyObject;
  let publicKey: KeyObject;
  try {
    privateKey = createPrivateKey(privateKeyPem);
  } catch {
    return fail('privateKeyPem does not parse');
  }
  try {
    publicKey = createPublicKey(publicKeyPem);
  } catch {
    return fail('publicKeyPem does not parse');
  }
  if (privateKey.asymmetricKeyType !== 'rsa' || publicKey.asymmetricKeyType !== 'rsa')
    return fail(
      `the keys must be RSA (found ${privateKey.asymmetricKeyType ?? '?'}/${publicKey.asymmetricKeyType ?? '?'})`,
    );
  const bits = privateKey.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_INSTANCE_KEY_BITS)
    return fail(`the RSA key has ${bits} bits; at least ${MIN_INSTANCE_KEY_BITS} are required`);
  if (keyFingerprint(createPublicKey(privateKey)) !== keyFingerprint(publicKey))
    return fail('publicKeyPem is not the public half of privateKeyPem');
  return { privateKeyPem, publicKeyPem };
}
