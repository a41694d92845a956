// The signed license with real keys and real signatures: valid, tampered, expired, not yet valid, wrong instance,
// wrong key, malformed, re-serialised.
import { createPublicKey, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  canonicalLicenseBytes,
  keyIdOf,
  LicenseFormatError,
  parseLicenseText,
  signLicense,
  verifyLicense,
} from '#shared/license/license';
import type { LicenseVerification, SignedLicense } from '#shared/license/model';
import { VENDOR_PUBLIC_KEYS } from '#shared/license/vendor-keys';
import {
  issueTestLicense,
  OTHER_PRIVATE_KEY,
  OTHER_PUBLIC_KEY,
  TEST_INSTANCE_ID,
  TEST_VENDOR_PRIVATE_KEY,
  TEST_VENDOR_PUBLIC_KEY,
  TEST_VENDOR_RSA_PRIVATE_KEY,
  TEST_VENDOR_RSA_PUBLIC_KEY,
  testLicense,
  WEAK_RSA_PRIVATE_KEY,
} from '#test/support/license';

const NOW = new Date('2026-06-01T12:00:00Z');
const TRUSTED = [TEST_VENDOR_PUBLIC_KEY, TEST_VENDOR_RSA_PUBLIC_KEY];
const options = { trustedKeys: TRUSTED, instanceId: TEST_INSTANCE_ID, now: NOW };

function refused(result: LicenseVerification): Extract<LicenseVerification, { valid: false }> {
  if (result.valid) throw new Error(`expected a refusal, got a valid license ${result.license.licenseId}`);
  return result;
}

/** A signed file with the license changed after signing (the signature left as it was). */
function withLicense(text: string, change: (license: Record<string, unknown>) => void): string {
  const file = JSON.parse(text) as { license: Record<string, unknown> };
  change(file.license);
  return JSON.stringify(file);
}

describe('keyIdOf', () => {
  it('is the first 16 hex of SHA-256 over the SPKI DER, the same for PEM formatting differences', () => {
    const id = keyIdOf(TEST_VENDOR_PUBLIC_KEY);
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(keyIdOf(TEST_VENDOR_PUBLIC_KEY.replace(/\n/g, '\r\n'))).toBe(id);
    expect(keyIdOf(OTHER_PUBLIC_KEY)).not.toBe(id);
  });

  it('refuses something that is not a public key', () => {
    expect(() => keyIdOf('not a key')).toThrow(/not a PEM public key/);
    // Node would derive the public half of a private key; a private key where a public one belongs is a mistake.
    expect(() => keyIdOf(TEST_VENDOR_PRIVATE_KEY)).toThrow(/not a PEM public key/);
  });
});

describe('signLicense', () => {
  it('signs Ed25519 over canonicalLicenseBytes, verifiable with the public key alone', () => {
    const signed = signLicense(testLicense(), TEST_VENDOR_PRIVATE_KEY);
    expect(signed.signature.algorithm).toBe('Ed25519');
    expect(signed.signature.keyId).toBe(keyIdOf(TEST_VENDOR_PUBLIC_KEY));
    const bytes = canonicalLicenseBytes(testLicense());
    // Independent check: sorted keys, no whitespace.
    expect(
      bytes.toString('utf8').startsWith('{"actionedCertificates":{"allowance":1000,"type":"Limited"},'),
    ).toBe(true);
    expect(
      verify(
        null,
        bytes,
        createPublicKey(TEST_VENDOR_PUBLIC_KEY),
        Buffer.from(signed.signature.value, 'base64'),
      ),
    ).toBe(true);
  });

  it('signs RSA-PSS-SHA256 with a 32-byte salt for an RSA key', () => {
    const signed = signLicense(testLicense(), TEST_VENDOR_RSA_PRIVATE_KEY);
    expect(signed.signature.algorithm).toBe('RSA-PSS-SHA256');
    expect(signed.signature.keyId).toBe(keyIdOf(TEST_VENDOR_RSA_PUBLIC_KEY));
    const signature = Buffer.from(signed.signature.value, 'base64');
    expect(signature).toHaveLength(384);
    const key = createPublicKey(TEST_VENDOR_RSA_PUBLIC_KEY);
    const bytes = canonicalLicenseBytes(testLicense());
    const pss = (saltLength: number) => ({ key, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength });
    expect(verify('sha256', bytes, pss(32), signature)).toBe(true);
    // Salt length is fixed, so a verifier expecting another length refuses it.
    expect(verify('sha256', bytes, pss(20), signature)).toBe(false);
    // PSS is randomised: two signatures differ, both verify.
    expect(signLicense(testLicense(), TEST_VENDOR_RSA_PRIVATE_KEY).signature.value).not.toBe(
      signed.signature.value,
    );
  });

  it('refuses weak RSA, public keys, garbage, and never echoes key material', () => {
    expect(() => signLicense(testLicense(), WEAK_RSA_PRIVATE_KEY)).toThrow(/rsa 1024-bit.*2048 bits or more/);
    expect(() => signLicense(testLicense(), TEST_VENDOR_PUBLIC_KEY)).toThrow(/not a PEM private key/);
    try {
      signLicense(testLicense(), 'garbage');
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain('garbage');
    }
    const body = TEST_VENDOR_PRIVATE_KEY.split('\n')[1]!;
    try {
      signLicense(testLicense({ expiresAt: '2025-01-01T00:00:00Z' }), TEST_VENDOR_PRIVATE_KEY);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(LicenseFormatError);
      expect((err as Error).message).toMatch(/expiresAt must be after issuedAt/);
      expect((err as Error).message).not.toContain(body);
    }
  });

  it('refuses to sign a document the product would refuse', () => {
    const bad = { ...testLicense(), features: ['api-scans', 'teleport'] } as never;
    expect(() => signLicense(bad, TEST_VENDOR_PRIVATE_KEY)).toThrow(
      /features\[1\] "teleport" is not a known feature/,
    );
  });
});

describe('verifyLicense: valid', () => {
  it('accepts an Ed25519 license and reports days to expiry (floor)', () => {
    const result = verifyLicense(issueTestLicense(), options);
    expect(result).toEqual({
      valid: true,
      license: testLicense(),
      signedBy: keyIdOf(TEST_VENDOR_PUBLIC_KEY),
      // 2027-01-01T00:00Z − 2026-06-01T12:00Z = 213.5 days.
      daysToExpiry: 213,
    });
  });

  it('accepts an RSA-PSS license', () => {
    const result = verifyLicense(issueTestLicense({}, TEST_VENDOR_RSA_PRIVATE_KEY), options);
    expect(result.valid).toBe(true);
    expect(result.valid && result.signedBy).toBe(keyIdOf(TEST_VENDOR_RSA_PUBLIC_KEY));
  });

  it('signs and verifies non-ASCII names as UTF-8; one changed character is a bad signature', () => {
    const text = issueTestLicense({ licensee: 'Exámple Çorp 株式会社 🚀' });
    const result = verifyLicense(text, options);
    expect(result.valid && result.license.licensee).toBe('Exámple Çorp 株式会社 🚀');
    // Escaped in the file instead of literal: the same string, so still valid.
    expect(verifyLicense(text.replace('株', '\\u682a'), options).valid).toBe(true);
    expect(refused(verifyLicense(text.replace('株', '枺'), options)).reason).toBe('bad-signature');
  });

  it('accepts Site-License and an empty feature list', () => {
    const text = issueTestLicense({ features: [], actionedCertificates: { type: 'Site-License' } });
    const result = verifyLicense(text, options);
    expect(result.valid && result.license.actionedCertificates).toEqual({ type: 'Site-License' });
  });

  it('still verifies after re-serialising: keys reordered, whitespace, a byte-order mark', () => {
    const signed = JSON.parse(issueTestLicense()) as SignedLicense;
    const reversed = (value: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(value).reverse()) as Record<string, unknown>;
    const license = reversed(signed.license as unknown as Record<string, unknown>);
    license.actionedCertificates = reversed(signed.license.actionedCertificates);
    const reordered = {
      signature: reversed(signed.signature),
      license,
    };
    for (const text of [
      JSON.stringify(reordered),
      JSON.stringify(reordered, null, '\t'),
      `\uFEFF  \n${JSON.stringify(signed, null, 8)}\r\n\r\n`,
    ]) {
      expect(verifyLicense(text, options).valid).toBe(true);
    }
  });

  it('tolerates 5 minutes of clock skew on issuedAt, not more', () => {
    const fourMinutes = issueTestLicense({ issuedAt: '2026-06-01T12:04:59Z' });
    expect(verifyLicense(fourMinutes, options).valid).toBe(true);
    const exactlyFive = issueTestLicense({ issuedAt: '2026-06-01T12:05:00Z' });
    expect(verifyLicense(exactlyFive, options).valid).toBe(true);
    const sixMinutes = issueTestLicense({ issuedAt: '2026-06-01T12:05:01Z' });
    expect(refused(verifyLicense(sixMinutes, options)).reason).toBe('not-yet-valid');
  });

  it('does not trust the test key unless it is passed: the product keys are the vendor keys', () => {
    expect(VENDOR_PUBLIC_KEYS.length).toBeGreaterThan(0);
    expect(VENDOR_PUBLIC_KEYS.map((k) => keyIdOf(k))).not.toContain(keyIdOf(TEST_VENDOR_PUBLIC_KEY));
    const result = refused(
      verifyLicense(issueTestLicense(), { ...options, trustedKeys: VENDOR_PUBLIC_KEYS }),
    );
    expect(result.reason).toBe('unknown-key');
  });
});

describe('verifyLicense: tampered', () => {
  const original = issueTestLicense();

  it('refuses any one-byte change inside a value of the license, never accepting it', () => {
    const file = JSON.parse(original) as SignedLicense;
    const start = original.indexOf('"license"');
    const end = original.indexOf('"signature"');
    let tried = 0;
    // Flip one byte at a time inside each string value of the license (keeps JSON well-formed).
    for (const value of [
      file.license.licenseId,
      file.license.licensee,
      file.license.instanceId,
      file.license.expiresAt,
    ]) {
      const at = original.indexOf(`"${value}"`, start);
      expect(at).toBeGreaterThan(start);
      expect(at).toBeLessThan(end);
      for (let i = 1; i <= value.length; i += 1) {
        const bytes = Buffer.from(original, 'utf8');
        bytes[at + i] = bytes[at + i]! ^ 0x01;
        const result = refused(verifyLicense(bytes.toString('utf8'), options));
        expect(['bad-signature', 'malformed']).toContain(result.reason);
        tried += 1;
      }
    }
    expect(tried).toBeGreaterThan(50);
  });

  it('reports an edited value that is still well-formed as bad-signature, without returning the forged content', () => {
    const edits: Array<(license: Record<string, unknown>) => void> = [
      (l) => (l.expiresAt = '2099-01-01T00:00:00Z'),
      (l) => (l.licensee = 'Example Corq'),
      (l) => (l.actionedCertificates = { type: 'Site-License' }),
      (l) => (l.actionedCertificates = { type: 'Limited', allowance: 1001 }),
      (l) => (l.features = ['api-scans']),
      (l) => (l.instanceId = 'another-instance'),
    ];
    for (const edit of edits) {
      const result = refused(verifyLicense(withLicense(original, edit), options));
      expect(result.reason).toBe('bad-signature');
      expect(result.message).toMatch(/altered after the vendor signed it/);
      expect(result.license).toBeNull();
    }
  });

  it('reports a one-byte change inside the signature as bad-signature', () => {
    const file = JSON.parse(original) as SignedLicense;
    for (const index of [0, 10, 40, file.signature.value.length - 4]) {
      const signature = Buffer.from(file.signature.value, 'base64');
      signature[Math.min(index, signature.length - 1)]! ^= 0x80;
      const text = JSON.stringify({
        ...file,
        signature: { ...file.signature, value: signature.toString('base64') },
      });
      expect(refused(verifyLicense(text, options)).reason).toBe('bad-signature');
    }
    // A truncated signature is a bad signature too, not an exception.
    const short = { ...file, signature: { ...file.signature, value: file.signature.value.slice(0, 40) } };
    expect(refused(verifyLicense(JSON.stringify(short), options)).reason).toBe('bad-signature');
  });

  it('refuses an Ed25519 signature labelled RSA-PSS (algorithm must match the key)', () => {
    const file = JSON.parse(original) as SignedLicense;
    const text = JSON.stringify({ ...file, signature: { ...file.signature, algorithm: 'RSA-PSS-SHA256' } });
    expect(refused(verifyLicense(text, options)).reason).toBe('bad-signature');
  });

  it('reports tampering before the semantic checks (an edited expired license is bad-signature, not expired)', () => {
    const expired = issueTestLicense({ expiresAt: '2026-02-01T00:00:00Z' });
    const edited = withLicense(expired, (l) => (l.licensee = 'Someone Else'));
    expect(refused(verifyLicense(edited, options)).reason).toBe('bad-signature');
    const wrongInstance = withLicense(original, (l) => (l.licensee = 'Someone Else'));
    expect(refused(verifyLicense(wrongInstance, { ...options, instanceId: 'elsewhere' })).reason).toBe(
      'bad-signature',
    );
  });
});

describe('verifyLicense: wrong key', () => {
  it('refuses a license signed by a key nobody trusts as unknown-key, naming the key id', () => {
    const text = issueTestLicense({}, OTHER_PRIVATE_KEY);
    const result = refused(verifyLicense(text, options));
    expect(result.reason).toBe('unknown-key');
    expect(result.message).toContain(keyIdOf(OTHER_PUBLIC_KEY));
    expect(result.message).toMatch(/does not trust/);
    expect(result.license).toBeNull();
  });

  it('refuses a license signed by another key with the keyId forged to the trusted one as bad-signature', () => {
    const file = JSON.parse(issueTestLicense({}, OTHER_PRIVATE_KEY)) as SignedLicense;
    file.signature.keyId = keyIdOf(TEST_VENDOR_PUBLIC_KEY);
    expect(refused(verifyLicense(JSON.stringify(file), options)).reason).toBe('bad-signature');
  });

  it('refuses everything with no trusted keys or a broken trusted key, without throwing', () => {
    expect(refused(verifyLicense(issueTestLicense(), { ...options, trustedKeys: [] })).reason).toBe(
      'unknown-key',
    );
    const broken = {
      ...options,
      trustedKeys: ['-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n'],
    };
    expect(refused(verifyLicense(issueTestLicense(), broken)).reason).toBe('unknown-key');
    // A broken key next to a good one does not stop the good one.
    expect(
      verifyLicense(issueTestLicense(), {
        ...broken,
        trustedKeys: [...broken.trustedKeys, TEST_VENDOR_PUBLIC_KEY],
      }).valid,
    ).toBe(true);
  });
});

describe('verifyLicense: instance and dates', () => {
  it('refuses a license for another instance and says what to ask for', () => {
    const result = refused(verifyLicense(issueTestLicense(), { ...options, instanceId: 'prod-eu-7' }));
    expect(result.reason).toBe('wrong-instance');
    expect(result.message).toContain(`for instance ${TEST_INSTANCE_ID}`);
    expect(result.message).toContain('Ask the vendor for a license for instance prod-eu-7');
    // The signature was good, so the authentic document is returned for display.
    expect(result.license).toEqual(testLicense());
  });

  it('refuses an expired license, exactly at expiry and one second after', () => {
    for (const now of [new Date('2027-01-01T00:00:00Z'), new Date('2027-01-01T00:00:01Z')]) {
      const result = refused(verifyLicense(issueTestLicense(), { ...options, now }));
      expect(result.reason).toBe('expired');
      expect(result.message).toContain('expired on 2027-01-01T00:00:00.000Z');
      expect(result.message).toContain('Example Corp');
      expect(result.license?.licenseId).toBe('LIC-TEST-0001');
    }
    const lastSecond = verifyLicense(issueTestLicense(), {
      ...options,
      now: new Date('2026-12-31T23:59:59Z'),
    });
    expect(lastSecond.valid && lastSecond.daysToExpiry).toBe(0);
  });

  it('refuses a license not yet valid', () => {
    const result = refused(verifyLicense(issueTestLicense({ issuedAt: '2026-07-01T00:00:00Z' }), options));
    expect(result.reason).toBe('not-yet-valid');
    expect(result.message).toContain('2026-07-01T00:00:00.000Z');
  });

  it('checks the instance before the dates', () => {
    const expired = issueTestLicense({ expiresAt: '2026-02-01T00:00:00Z' });
    expect(refused(verifyLicense(expired, { ...options, instanceId: 'x' })).reason).toBe('wrong-instance');
  });

  it('accepts offsets other than Z and computes days in absolute time', () => {
    const text = issueTestLicense({ expiresAt: '2026-06-11T14:00:00+02:00' });
    const result = verifyLicense(text, options);
    expect(result.valid && result.daysToExpiry).toBe(10);
  });
});

describe('verifyLicense: malformed', () => {
  const good = JSON.parse(issueTestLicense()) as SignedLicense;
  const cases: Array<[string, string, RegExp]> = [
    ['not JSON', 'this is not a license', /not JSON/],
    ['empty', '', /not JSON/],
    ['a JSON array', '[]', /JSON object/],
    ['JSON null', 'null', /JSON object/],
    ['no signature', JSON.stringify({ license: good.license }), /signature/],
    [
      'missing licensee',
      withLicense(JSON.stringify(good), (l) => delete l.licensee),
      /license.licensee is required/,
    ],
    ['missing expiresAt', withLicense(JSON.stringify(good), (l) => delete l.expiresAt), /expiresAt/],
    [
      'unknown feature',
      withLicense(JSON.stringify(good), (l) => (l.features = ['api-scans', 'time-travel'])),
      /license.features\[1\] "time-travel" is not a known feature/,
    ],
    [
      'duplicate feature',
      withLicense(JSON.stringify(good), (l) => (l.features = ['api-scans', 'api-scans'])),
      /more than once/,
    ],
    [
      'negative allowance',
      withLicense(JSON.stringify(good), (l) => (l.actionedCertificates = { type: 'Limited', allowance: -1 })),
      /actionedCertificates.allowance must not be negative/,
    ],
    [
      'fractional allowance',
      withLicense(
        JSON.stringify(good),
        (l) => (l.actionedCertificates = { type: 'Limited', allowance: 1.5 }),
      ),
      /whole number/,
    ],
    [
      'allowance as text',
      withLicense(
        JSON.stringify(good),
        (l) => (l.actionedCertificates = { type: 'Limited', allowance: '10' }),
      ),
      /allowance must be a number/,
    ],
    [
      'unknown allowance type',
      withLicense(JSON.stringify(good), (l) => (l.actionedCertificates = { type: 'Unlimited' })),
      /"Limited".*"Site-License"/,
    ],
    [
      'unknown field in the license',
      withLicense(JSON.stringify(good), (l) => (l.maxUsers = 5)),
      /unknown field "maxUsers".*signed/,
    ],
    ['unknown top-level field', JSON.stringify({ ...good, comment: 'hi' }), /unknown field "comment"/],
    [
      'unknown field in the signature',
      JSON.stringify({ ...good, signature: { ...good.signature, note: 1 } }),
      /signature has unknown field "note"/,
    ],
    [
      'future format',
      withLicense(JSON.stringify(good), (l) => (l.format = 'kfsensor-license/2')),
      /not supported/,
    ],
    [
      'date without zone',
      withLicense(JSON.stringify(good), (l) => (l.expiresAt = '2027-01-01T00:00:00')),
      /time zone/,
    ],
    [
      'date that is not a date',
      withLicense(JSON.stringify(good), (l) => (l.issuedAt = '2026-13-45T00:00:00Z')),
      /issuedAt/,
    ],
    [
      'expiry before issue',
      withLicense(JSON.stringify(good), (l) => (l.expiresAt = '2025-01-01T00:00:00Z')),
      /expiresAt must be after issuedAt/,
    ],
    [
      'control characters in the licensee',
      withLicense(JSON.stringify(good), (l) => (l.licensee = 'Evil\u001b[2JCorp')),
      /control characters/,
    ],
    ['bad keyId', JSON.stringify({ ...good, signature: { ...good.signature, keyId: 'XYZ' } }), /keyId/],
    [
      'unknown algorithm',
      JSON.stringify({ ...good, signature: { ...good.signature, algorithm: 'HS256' } }),
      /signature.algorithm "HS256" is not supported/,
    ],
    [
      'signature not base64',
      JSON.stringify({ ...good, signature: { ...good.signature, value: '!!!!' } }),
      /base64/,
    ],
  ];

  it.each(cases)('refuses %s as malformed with a message naming the problem', (_name, text, pattern) => {
    const result = refused(verifyLicense(text, options));
    expect(result.reason).toBe('malformed');
    expect(result.message).toMatch(pattern);
    expect(result.license).toBeNull();
    expect(() => parseLicenseText(text)).toThrow(LicenseFormatError);
  });

  it('refuses input over 64 KiB before parsing it', () => {
    const huge = issueTestLicense().replace('{', `{${' '.repeat(64 * 1024)}`);
    const result = refused(verifyLicense(huge, options));
    expect(result.reason).toBe('malformed');
    expect(result.message).toMatch(/larger than 64 KiB/);
    // Just under the limit, padding is fine.
    const padded = issueTestLicense();
    const fits = padded.replace('{', `{${' '.repeat(64 * 1024 - Buffer.byteLength(padded))}`);
    expect(verifyLicense(fits, options).valid).toBe(true);
  });

  it('never throws, whatever it is given', () => {
    for (const input of [
      undefined,
      null,
      42,
      {},
      '{"license":',
      '{"license":{},"signature":{}}',
    ] as unknown[]) {
      expect(() => verifyLicense(input as string, options)).not.toThrow();
      expect(verifyLicense(input as string, options).valid).toBe(false);
    }
  });
});
