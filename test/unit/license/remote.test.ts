// Licensing of remote scans: the host's instance id in the state directory, the features a config needs, and the
// check `kfsensor -c FILE --license FILE` runs (real keys, real signatures; the test vendor key passed explicitly).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '#shared/config/index';
import { FeatureDisabledError } from '#shared/license/gates';
import {
  checkRemoteLicense,
  remoteInstanceId,
  RemoteInstanceError,
  requiredRemoteFeatures,
} from '#shared/license/remote';
import { VENDOR_PUBLIC_KEYS } from '#shared/license/vendor-keys';
import { issueTestLicense, OTHER_PRIVATE_KEY, TEST_VENDOR_PUBLIC_KEY } from '#test/support/license';

const BASIC = '        username: svc\n        password: pw\n';
const KERBEROS = '        kerberos:\n          upn: svc@EXAMPLE.COM\n          password: pw\n';

function config(auth: string, formats: string | null) {
  const plugins = formats === null ? '[keyfactor]' : '[keyfactor, local_export]';
  const localExport =
    formats === null
      ? ''
      : `    local_export:\n      name: local_export\n      plugin_config:\n        formats: ${formats}\n`;
  const text = `
scan_config:
  plugins: ${plugins}
  config:
    keyfactor:
      name: keyfactor
      plugin_config:
        url: https://command.example.com/KeyfactorAPI
${auth}${localExport}`;
  return loadConfig({ text, fileName: 'c.yml' }, { env: {} });
}

describe('remoteInstanceId', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'kfs-instance-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates remote:<uuid> once and returns the same id afterwards', () => {
    const stateDir = path.join(dir, 'state');
    const first = remoteInstanceId(stateDir);
    expect(first).toMatch(/^remote:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(remoteInstanceId(stateDir)).toBe(first);
    expect(readFileSync(path.join(stateDir, 'instance-id'), 'utf8').trim()).toBe(first);
    // Another state directory is another instance.
    expect(remoteInstanceId(path.join(dir, 'other'))).not.toBe(first);
  });

  it('refuses a damaged id file rather than replacing it (licenses name the old id)', () => {
    writeFileSync(path.join(dir, 'instance-id'), 'not an id\n');
    expect(() => remoteInstanceId(dir)).toThrow(RemoteInstanceError);
    expect(() => remoteInstanceId(dir)).toThrow(/instance-id does not hold an instance id/);
    expect(readFileSync(path.join(dir, 'instance-id'), 'utf8')).toBe('not an id\n');
  });
});

describe('requiredRemoteFeatures', () => {
  it('needs remote-scan always, kerberos for Kerberos auth, cbom-export when the CBOM is written', () => {
    expect(requiredRemoteFeatures(config(BASIC, null))).toEqual(['remote-scan']);
    expect(requiredRemoteFeatures(config(BASIC, '[jsonl, csv]'))).toEqual(['remote-scan']);
    expect(requiredRemoteFeatures(config(BASIC, '[cbom]'))).toEqual(['remote-scan', 'cbom-export']);
    expect(requiredRemoteFeatures(config(KERBEROS, '[jsonl, cbom]'))).toEqual([
      'remote-scan',
      'kerberos',
      'cbom-export',
    ]);
  });
});

describe('checkRemoteLicense', () => {
  const instanceId = 'remote:00000000-0000-4000-8000-000000000001';
  const now = new Date('2026-06-01T00:00:00Z');
  const options = { trustedKeys: [TEST_VENDOR_PUBLIC_KEY], instanceId, now };

  it('accepts a license for this host with every feature the config uses', () => {
    const text = issueTestLicense({ instanceId });
    const verification = checkRemoteLicense(config(KERBEROS, '[cbom]'), text, options);
    expect(verification).toMatchObject({ valid: true, license: { instanceId } });
  });

  it('names the first missing feature and the license', () => {
    const text = issueTestLicense({ instanceId, features: ['remote-scan', 'cbom-export'] });
    expect(() => checkRemoteLicense(config(BASIC, '[cbom]'), text, options)).not.toThrow();
    expect(() => checkRemoteLicense(config(KERBEROS, '[cbom]'), text, options)).toThrow(FeatureDisabledError);
    expect(() => checkRemoteLicense(config(KERBEROS, '[cbom]'), text, options)).toThrow(
      /kerberos.*LIC-TEST-0001/,
    );
    const noRemote = issueTestLicense({ instanceId, features: ['api-scans'] });
    expect(() => checkRemoteLicense(config(BASIC, null), noRemote, options)).toThrow(/remote-scan/);
  });

  it('refuses a license for another host, one signed by another key, an expired and a tampered one', () => {
    const cases: Array<[string, RegExp]> = [
      [issueTestLicense({ instanceId: 'remote:00000000-0000-4000-8000-000000000002' }), /instance/i],
      [issueTestLicense({ instanceId }, OTHER_PRIVATE_KEY), /key/i],
      [issueTestLicense({ instanceId, expiresAt: '2026-05-01T00:00:00Z' }), /expired/i],
      [issueTestLicense({ instanceId }).replace('"Example Corp"', '"Example Corq"'), /signature/i],
    ];
    for (const [text, reason] of cases) {
      let error: unknown;
      try {
        checkRemoteLicense(config(BASIC, null), text, options);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(FeatureDisabledError);
      expect((error as Error).message).toMatch(/remote-scan/);
      expect((error as Error).message).toMatch(reason);
    }
  });

  it('trusts only the vendor keys in production: a test-key license is refused', () => {
    const text = issueTestLicense({ instanceId });
    expect(() =>
      checkRemoteLicense(config(BASIC, null), text, { ...options, trustedKeys: VENDOR_PUBLIC_KEYS }),
    ).toThrow(FeatureDisabledError);
  });
});
