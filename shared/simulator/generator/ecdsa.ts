// Deterministic ECDSA (RFC 6979) at native speed: node:crypto's ECDSA uses a random nonce, which would break
// byte-for-byte reproducible datasets, and pure-JS signing (@noble/curves) is 20x slower on P-256. So the nonce
// comes from RFC 6979's HMAC-DRBG (native HMAC), k·G from native ECDH, and only the scalar arithmetic is BigInt.
import { createECDH, createHmac } from 'node:crypto';
import type { ECDH } from 'node:crypto';
import { bigInteger, sequence } from './der';

export type EcCurveName = 'P-256' | 'P-384' | 'P-521';
export type HashName = 'sha1' | 'sha256' | 'sha384' | 'sha512';

export interface EcCurve {
  name: EcCurveName;
  oid: string;
  opensslName: string;
  /** Group order n. */
  order: bigint;
  /** Bit length of n (qlen in RFC 6979). */
  bits: number;
  /** Length in bytes of a scalar or coordinate (rolen). */
  byteLength: number;
  /** The hash RFC 6979's HMAC-DRBG uses; matches the curve (as @noble/curves does) so signatures agree with it. */
  drbgHash: HashName;
}

export const EC_CURVES: Record<EcCurveName, EcCurve> = {
  'P-256': {
    name: 'P-256',
    oid: '1.2.840.10045.3.1.7',
    opensslName: 'prime256v1',
    order: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
    bits: 256,
    byteLength: 32,
    drbgHash: 'sha256',
  },
  'P-384': {
    name: 'P-384',
    oid: '1.3.132.0.34',
    opensslName: 'secp384r1',
    order:
      0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
    bits: 384,
    byteLength: 48,
    drbgHash: 'sha384',
  },
  'P-521': {
    name: 'P-521',
    oid: '1.3.132.0.35',
    opensslName: 'secp521r1',
    order:
      0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
    bits: 521,
    byteLength: 66,
    drbgHash: 'sha512',
  },
};

const ecdhByCurve = new Map<EcCurveName, ECDH>();

function ecdhFor(curve: EcCurve): ECDH {
  let ecdh = ecdhByCurve.get(curve.name);
  if (!ecdh) {
    ecdh = createECDH(curve.opensslName);
    ecdhByCurve.set(curve.name, ecdh);
  }
  return ecdh;
}

export function bytesToBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
}

export function bigIntToBytes(value: bigint, length: number): Buffer {
  return Buffer.from(value.toString(16).padStart(length * 2, '0'), 'hex');
}

/** The uncompressed public point 04‖X‖Y for private scalar d. */
export function ecPublicPoint(curve: EcCurve, privateScalar: bigint): Buffer {
  const ecdh = ecdhFor(curve);
  ecdh.setPrivateKey(bigIntToBytes(privateScalar, curve.byteLength));
  return ecdh.getPublicKey();
}

function modInverse(value: bigint, modulus: bigint): bigint {
  let [oldR, r] = [((value % modulus) + modulus) % modulus, modulus];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const quotient = oldR / r;
    [oldR, r] = [r, oldR - quotient * r];
    [oldS, s] = [s, oldS - quotient * s];
  }
  return ((oldS % modulus) + modulus) % modulus;
}

/** RFC 6979 §2.3.2: the leftmost qlen bits of the input as an integer. */
function bitsToInt(bytes: Uint8Array, curve: EcCurve): bigint {
  const value = bytesToBigInt(bytes);
  const excess = bytes.length * 8 - curve.bits;
  return excess > 0 ? value >> BigInt(excess) : value;
}

function hmac(hash: HashName, key: Buffer, ...parts: Buffer[]): Buffer {
  const mac = createHmac(hash, key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

/** RFC 6979 §3.2 nonces, in the order the DRBG yields them (a caller only needs the next one when r or s is 0). */
function* rfc6979Nonces(curve: EcCurve, privateScalar: bigint, digest: Uint8Array): Generator<bigint> {
  const hash = curve.drbgHash;
  const privateOctets = bigIntToBytes(privateScalar, curve.byteLength);
  const digestOctets = bigIntToBytes(bitsToInt(digest, curve) % curve.order, curve.byteLength);
  const hashLength = hmac(hash, Buffer.alloc(1)).length;
  let v: Buffer = Buffer.alloc(hashLength, 0x01);
  let k: Buffer = Buffer.alloc(hashLength, 0x00);
  k = hmac(hash, k, v, Buffer.from([0x00]), privateOctets, digestOctets);
  v = hmac(hash, k, v);
  k = hmac(hash, k, v, Buffer.from([0x01]), privateOctets, digestOctets);
  v = hmac(hash, k, v);
  for (;;) {
    const blocks: Buffer[] = [];
    let generated = 0;
    while (generated < curve.byteLength) {
      v = hmac(hash, k, v);
      blocks.push(v);
      generated += v.length;
    }
    const candidate = bitsToInt(Buffer.concat(blocks).subarray(0, curve.byteLength), curve);
    if (candidate >= 1n && candidate < curve.order) yield candidate;
    k = hmac(hash, k, v, Buffer.from([0x00]));
    v = hmac(hash, k, v);
  }
}

/**
 * Signs a message digest; returns the DER Ecdsa-Sig-Value that X.509 puts in signatureValue.
 * s is not normalised to the low half (X.509 does not ask for it), matching @noble/curves' P-256/384/521 defaults.
 */
export function signEcdsaDigest(curve: EcCurve, privateScalar: bigint, digest: Uint8Array): Buffer {
  const n = curve.order;
  const e = bitsToInt(digest, curve) % n;
  const ecdh = ecdhFor(curve);
  for (const nonce of rfc6979Nonces(curve, privateScalar, digest)) {
    ecdh.setPrivateKey(bigIntToBytes(nonce, curve.byteLength));
    const point = ecdh.getPublicKey();
    const r = bytesToBigInt(point.subarray(1, 1 + curve.byteLength)) % n;
    if (r === 0n) continue;
    const s = (modInverse(nonce, n) * (e + r * privateScalar)) % n;
    if (s === 0n) continue;
    return sequence(bigInteger(r), bigInteger(s));
  }
  throw new Error('unreachable: the RFC 6979 nonce stream is infinite');
}
