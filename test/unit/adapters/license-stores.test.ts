// The licensing store contract against the in-memory adapters, plus the memory publisher and the static instance key.
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  MemoryAlertPublisher,
  StaticInstanceKey,
  createMemoryLicenseStores,
} from '#shared/adapters/memory/license-stores';
import { InstanceKeyError, generateInstanceKeyPair, keyFingerprint } from '#shared/license/usage-log';
import { describeLicenseStoreContract, testAlert } from '#test/support/license-store-contract';

describeLicenseStoreContract('memory', () => createMemoryLicenseStores());

describe('MemoryAlertPublisher', () => {
  it('records copies of what it published, in order', async () => {
    const publisher = new MemoryAlertPublisher();
    const a = testAlert('a', '2026-03-01T00:00:00.000Z');
    await publisher.publishAlert(a);
    await publisher.publishAlert(testAlert('b', '2026-03-02T00:00:00.000Z'));
    a.message = 'mutated after publishing';
    expect(publisher.published.map((p) => p.alertId)).toEqual(['a', 'b']);
    expect(publisher.published[0]?.message).not.toBe('mutated after publishing');
  });
});

describe('generateInstanceKeyPair and StaticInstanceKey', () => {
  const pair = generateInstanceKeyPair();

  it('generates an RSA 3072 PKCS#8/SPKI pair whose halves match', async () => {
    expect(pair.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(pair.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    const pub = createPublicKey(pair.publicKeyPem);
    expect(pub.asymmetricKeyType).toBe('rsa');
    expect(pub.asymmetricKeyDetails?.modulusLength).toBe(3072);
    expect(keyFingerprint(pair.privateKeyPem)).toBe(keyFingerprint(pair.publicKeyPem));
    expect(keyFingerprint(pair.publicKeyPem)).toMatch(/^[0-9a-f]{64}$/);
    expect(await new StaticInstanceKey(pair).getKeyPair()).toEqual(pair);
  });

  it('refuses pairs that are not one RSA key, without quoting the key', () => {
    const other = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    const ed = generateKeyPairSync('ed25519', {
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    const weak = generateKeyPairSync('rsa', {
      modulusLength: 1024,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    const cases: Array<[unknown, RegExp]> = [
      [{ privateKeyPem: pair.privateKeyPem, publicKeyPem: other.publicKey }, /not the public half/],
      [{ privateKeyPem: ed.privateKey, publicKeyPem: ed.publicKey }, /must be RSA/],
      [{ privateKeyPem: weak.privateKey, publicKeyPem: weak.publicKey }, /1024 bits/],
      [{ privateKeyPem: pair.privateKeyPem }, /publicKeyPem is missing/],
      [{ privateKeyPem: 'placeholder', publicKeyPem: pair.publicKeyPem }, /privateKeyPem is missing or not/],
      [
        {
          privateKeyPem: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n',
          publicKeyPem: pair.publicKeyPem,
        },
        /privateKeyPem does not parse/,
      ],
      ['a string', /not a JSON object/],
      [null, /not a JSON object/],
    ];
    for (const [value, expected] of cases) {
      let error: unknown;
      try {
        new StaticInstanceKey(value as never);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InstanceKeyError);
      const message = (error as Error).message;
      expect(message).toMatch(expected);
      expect(message).toContain('StaticInstanceKey');
      expect(message).not.toContain('BEGIN');
    }
  });
});
