// Test licenses signed with the TEST vendor key (test/fixtures/license), which the product never trusts by default:
// tests pass TEST_VENDOR_PUBLIC_KEY as trustedKeys explicitly.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LICENSE_FEATURES } from '#shared/license/model';
import type { LicenseDocument } from '#shared/license/model';
import { signLicense } from '#shared/license/license';

export const LICENSE_FIXTURES = path.resolve(import.meta.dirname, '../fixtures/license');

const fixture = (name: string): string => readFileSync(path.join(LICENSE_FIXTURES, name), 'utf8');

/** Ed25519 test vendor key pair (PEM). */
export const TEST_VENDOR_PUBLIC_KEY = fixture('test-vendor-ed25519.pub');
export const TEST_VENDOR_PRIVATE_KEY = fixture('test-vendor-ed25519.key');
/** RSA 3072 test vendor key pair, for the RSA-PSS-SHA256 path. */
export const TEST_VENDOR_RSA_PUBLIC_KEY = fixture('test-vendor-rsa.pub');
export const TEST_VENDOR_RSA_PRIVATE_KEY = fixture('test-vendor-rsa.key');
/** A key pair nobody trusts, for wrong-key tests. */
export const OTHER_PUBLIC_KEY = fixture('other-ed25519.pub');
export const OTHER_PRIVATE_KEY = fixture('other-ed25519.key');
/** RSA 1024: too weak to sign licenses. */
export const WEAK_RSA_PRIVATE_KEY = fixture('weak-rsa-1024.key');

export const TEST_INSTANCE_ID = 'test-instance-0001';

/** A valid license document for TEST_INSTANCE_ID: all features, 1000 actioned certificates, 2026-01-01 to 2027-01-01. */
export function testLicense(overrides: Partial<LicenseDocument> = {}): LicenseDocument {
  return {
    format: 'kfsensor-license/1',
    licenseId: 'LIC-TEST-0001',
    licensee: 'Example Corp',
    instanceId: TEST_INSTANCE_ID,
    issuedAt: '2026-01-01T00:00:00Z',
    expiresAt: '2027-01-01T00:00:00Z',
    features: [...LICENSE_FEATURES],
    actionedCertificates: { type: 'Limited', allowance: 1000 },
    ...overrides,
  };
}

/** The license file text of testLicense(overrides), signed with the test vendor key (or `privateKeyPem`). */
export function issueTestLicense(
  overrides: Partial<LicenseDocument> = {},
  privateKeyPem: string = TEST_VENDOR_PRIVATE_KEY,
): string {
  return `${JSON.stringify(signLicense(testLicense(overrides), privateKeyPem), null, 2)}\n`;
}
