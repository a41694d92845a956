// `kfsensor license` as a user runs it: a real process issuing licenses with the test vendor keys, `show` verifying
// them (and refusing tampered, expired, wrong-instance and untrusted ones), bad options, and verify-usage-log.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { keyIdOf, verifyLicense } from '#shared/license/license';
import { LICENSE_FEATURES } from '#shared/license/model';
import type { SignedLicense } from '#shared/license/model';
import { buildUsageLog, generateInstanceKeyPair } from '#shared/license/usage-log';
import type { InstanceKeyPair } from '#shared/license/usage-log';
import {
  issueTestLicense,
  LICENSE_FIXTURES,
  TEST_INSTANCE_ID,
  TEST_VENDOR_PRIVATE_KEY,
  TEST_VENDOR_PUBLIC_KEY,
  TEST_VENDOR_RSA_PUBLIC_KEY,
} from '#test/support/license';

const bin = path.resolve(import.meta.dirname, '../../../bin/kfsensor.js');
const ED_KEY = path.join(LICENSE_FIXTURES, 'test-vendor-ed25519.key');
const ED_PUB = path.join(LICENSE_FIXTURES, 'test-vendor-ed25519.pub');
const RSA_KEY = path.join(LICENSE_FIXTURES, 'test-vendor-rsa.key');
const RSA_PUB = path.join(LICENSE_FIXTURES, 'test-vendor-rsa.pub');
const OTHER_PUB = path.join(LICENSE_FIXTURES, 'other-ed25519.pub');
const DAY_MS = 86_400_000;

interface Run {
  code: number | null;
  out: string;
  err: string;
}

/** `kfsensor <args>` as a child process. */
function kfsensor(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

/** `kfsensor license <args>`. */
const run = (args: string[]): Promise<Run> => kfsensor(['license', ...args]);

const ISSUE = ['issue', '--private-key', ED_KEY, '--licensee', 'Example Corp', '--instance-id', 'inst-cli-1'];
// The middle line of a PEM key: must never appear in any output.
const KEY_BODY = TEST_VENDOR_PRIVATE_KEY.split('\n')[1]!;

let work: string;
let issued: string;
let issuedRun: Run;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'kflicense-'));
  issued = path.join(work, 'license.json');
  issuedRun = await run([
    ...ISSUE,
    '--days',
    '90',
    '--features',
    'api-scans,kerberos,cbom-export',
    '--allowance',
    '2500',
    '--license-id',
    'LIC-CLI-1',
    '--out',
    issued,
  ]);
});

describe('kfsensor license issue', () => {
  it('writes a signed license (mode 0644) that the product verifies with the test public key', () => {
    expect(issuedRun.err).toContain('issued license LIC-CLI-1');
    expect(issuedRun.code).toBe(0);
    expect(issuedRun.out).toBe('');
    expect(statSync(issued).mode & 0o777).toBe(0o644);
    // No temporary file left next to it.
    expect(readdirSync(work).filter((name) => name.includes('.tmp'))).toEqual([]);
    const text = readFileSync(issued, 'utf8');
    const file = JSON.parse(text) as SignedLicense;
    expect(file.license).toMatchObject({
      format: 'kfsensor-license/1',
      licenseId: 'LIC-CLI-1',
      licensee: 'Example Corp',
      instanceId: 'inst-cli-1',
      features: ['api-scans', 'kerberos', 'cbom-export'],
      actionedCertificates: { type: 'Limited', allowance: 2500 },
    });
    const span = Date.parse(file.license.expiresAt) - Date.parse(file.license.issuedAt);
    expect(span).toBe(90 * DAY_MS);
    expect(Math.abs(Date.parse(file.license.issuedAt) - Date.now())).toBeLessThan(120_000);
    expect(file.signature).toMatchObject({ algorithm: 'Ed25519', keyId: keyIdOf(TEST_VENDOR_PUBLIC_KEY) });
    const verification = verifyLicense(text, {
      trustedKeys: [TEST_VENDOR_PUBLIC_KEY],
      instanceId: 'inst-cli-1',
      now: new Date(),
    });
    expect(verification.valid).toBe(true);
    expect(issuedRun.err).not.toContain(KEY_BODY);
  });

  it('signs RSA-PSS with an RSA key, to stdout, with all features by default and Site-License', async () => {
    const result = await run([
      'issue',
      '--private-key',
      RSA_KEY,
      '--licensee',
      'Example Corp',
      '--instance-id',
      TEST_INSTANCE_ID,
      '--expires',
      '2099-01-31',
      '--allowance',
      'site-license',
    ]);
    expect(result.err).toContain('RSA-PSS-SHA256');
    expect(result.code).toBe(0);
    const file = JSON.parse(result.out) as SignedLicense;
    expect(file.signature.algorithm).toBe('RSA-PSS-SHA256');
    expect(file.license.expiresAt).toBe('2099-01-31T00:00:00.000Z');
    expect(file.license.features).toEqual([...LICENSE_FEATURES]);
    expect(file.license.actionedCertificates).toEqual({ type: 'Site-License' });
    expect(file.license.licenseId).toMatch(/^LIC-\d{8}-[0-9A-F]{8}$/);
    const verification = verifyLicense(result.out, {
      trustedKeys: [TEST_VENDOR_RSA_PUBLIC_KEY],
      instanceId: TEST_INSTANCE_ID,
      now: new Date(),
    });
    expect(verification.valid).toBe(true);
  });

  it('says in its help that it is the vendor-side tool and needs the vendor private key', async () => {
    const result = await run(['issue', '--help']);
    expect(result.code).toBe(0);
    expect(result.out).toContain('VENDOR-SIDE TOOL');
    expect(result.out).toMatch(/vendor private key/);
  });

  const bad: Array<[string, string[], RegExp]> = [
    ['no expiry', ['--allowance', '5'], /exactly one of --expires DATE or --days N/],
    ['both expiries', ['--allowance', '5', '--days', '3', '--expires', '2099-01-01'], /exactly one of/],
    ['zero days', ['--allowance', '5', '--days', '0'], /--days must be a whole number of days from 1/],
    [
      'a date that does not exist',
      ['--allowance', '5', '--expires', '2027-02-30'],
      /--expires must be a date/,
    ],
    ['an instant without a zone', ['--allowance', '5', '--expires', '2027-02-01T00:00:00'], /time zone/],
    ['expiry before issue', ['--allowance', '5', '--expires', '2020-01-01'], /must be after the issue time/],
    [
      'unknown feature',
      ['--allowance', '5', '--days', '3', '--features', 'api-scans,warp'],
      /unknown feature "warp"/,
    ],
    ['negative allowance', ['--allowance', '-5', '--days', '3'], /--allowance must be a whole number/],
    ['allowance as words', ['--allowance', 'lots', '--days', '3'], /--allowance must be a whole number/],
    ['missing allowance', ['--days', '3'], /required option '--allowance/],
    [
      'bad license id',
      ['--allowance', '5', '--days', '3', '--license-id', 'has space'],
      /--license-id must be/,
    ],
  ];

  it.each(bad)('refuses %s with exit 2 and a clear error', async (_name, extra, pattern) => {
    const out = path.join(work, `bad-${_name.replace(/\W+/g, '-')}.json`);
    const result = await run([...ISSUE, ...extra, '--out', out]);
    expect(result.err).toMatch(pattern);
    expect(result.code).toBe(2);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses unusable private keys with exit 2, never printing key material', async () => {
    const cases: Array<[string, RegExp]> = [
      [path.join(work, 'missing.key'), /cannot read --private-key .*missing\.key: ENOENT/],
      [ED_PUB, /not a PEM private key/],
      [path.join(LICENSE_FIXTURES, 'weak-rsa-1024.key'), /rsa 1024-bit.*2048 bits or more/],
    ];
    for (const [key, pattern] of cases) {
      const result = await run([
        'issue',
        '--private-key',
        key,
        '--licensee',
        'X',
        '--instance-id',
        'i',
        '--days',
        '3',
        '--allowance',
        '1',
      ]);
      expect(result.err).toMatch(pattern);
      expect(result.code).toBe(2);
      expect(result.out + result.err).not.toContain(KEY_BODY);
    }
    // Missing licensee / instance id.
    const missing = await run(['issue', '--private-key', ED_KEY, '--days', '3', '--allowance', '1']);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/required option '--licensee/);
  });

  it('reports an --out it cannot write with exit 2 and leaves nothing behind', async () => {
    const result = await run([
      ...ISSUE,
      '--days',
      '3',
      '--allowance',
      '1',
      '--out',
      path.join(work, 'no-such-dir', 'x.json'),
    ]);
    expect(result.err).toMatch(/cannot write --out .*x\.json: ENOENT/);
    expect(result.code).toBe(2);
  });
});

describe('kfsensor license show', () => {
  it('verifies the issued license with --public-key and shows features and days to expiry (exit 0)', async () => {
    const result = await run(['show', issued, '--public-key', ED_PUB, '--instance-id', 'inst-cli-1']);
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    expect(result.out).toContain('status:        valid');
    expect(result.out).toContain('license id:    LIC-CLI-1');
    expect(result.out).toContain('licensee:      Example Corp');
    expect(result.out).toMatch(/api-scans\s+enabled/);
    expect(result.out).toMatch(/scheduled-scans\s+not enabled/);
    expect(result.out).toContain('actioned certificates: 2500');
    expect(result.out).toContain(`key id ${keyIdOf(TEST_VENDOR_PUBLIC_KEY)}`);
    // Issued for 90 days a moment ago: 89 whole days left.
    expect(result.out).toContain('days to expiry: 89');
    expect(result.out).not.toContain('not checked');
  });

  it('without --instance-id checks everything but the instance, and says so', async () => {
    const result = await run(['show', issued, '--public-key', ED_PUB]);
    expect(result.code).toBe(0);
    expect(result.out).toContain('(not checked: pass --instance-id to check it)');
  });

  it('refuses the test-signed license without --public-key: the product does not trust the test key', async () => {
    const result = await run(['show', issued, '--instance-id', 'inst-cli-1']);
    expect(result.code).toBe(2);
    expect(result.out).toContain('status:        invalid (unknown-key)');
    expect(result.err).toMatch(/license refused \(unknown-key\).*does not trust.*--public-key/);
    const other = await run(['show', issued, '--public-key', OTHER_PUB]);
    expect(other.code).toBe(2);
    expect(other.err).toContain('unknown-key');
  });

  it('refuses a wrong instance, naming both and what to ask for', async () => {
    const result = await run(['show', issued, '--public-key', ED_PUB, '--instance-id', 'prod-7']);
    expect(result.code).toBe(2);
    expect(result.err).toContain(
      'license refused (wrong-instance): license LIC-CLI-1 is for instance inst-cli-1, but this sensor is instance prod-7. Ask the vendor for a license for instance prod-7.',
    );
    // The authentic license is still shown.
    expect(result.out).toContain('license id:    LIC-CLI-1');
  });

  it('refuses a file with one byte changed as tampered', async () => {
    const text = readFileSync(issued, 'utf8');
    const tampered = path.join(work, 'tampered.json');
    writeFileSync(tampered, text.replace('"allowance": 2500', '"allowance": 2600'));
    const result = await run(['show', tampered, '--public-key', ED_PUB, '--instance-id', 'inst-cli-1']);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/license refused \(bad-signature\): .*altered after the vendor signed it/);
    // Not authentic, so none of its content is shown as the license.
    expect(result.out).not.toContain('2600');
  });

  it('refuses an expired license with the date', async () => {
    const expired = path.join(work, 'expired.json');
    const made = await run([
      ...ISSUE,
      '--issued-at',
      '2020-01-01',
      '--expires',
      '2020-06-01T00:00:00Z',
      '--allowance',
      '1',
      '--license-id',
      'LIC-OLD',
      '--out',
      expired,
    ]);
    expect(made.code).toBe(0);
    expect(made.err).toContain('warning: license LIC-OLD is already expired');
    const result = await run(['show', expired, '--public-key', ED_PUB, '--instance-id', 'inst-cli-1']);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(
      /license refused \(expired\): license LIC-OLD for Example Corp expired on 2020-06-01/,
    );
    expect(result.out).toMatch(/expires: +2020-06-01T00:00:00.000Z \(\d+ days ago\)/);
  });

  it('refuses malformed files, a missing file and a bad --public-key with exit 2', async () => {
    const junk = path.join(work, 'junk.json');
    writeFileSync(junk, 'definitely not a license');
    const notJson = await run(['show', junk, '--public-key', ED_PUB]);
    expect(notJson.code).toBe(2);
    expect(notJson.err).toMatch(/license refused \(malformed\): the license is not JSON/);

    const huge = path.join(work, 'huge.json');
    writeFileSync(huge, ' '.repeat(200 * 1024) + issueTestLicense());
    const big = await run(['show', huge, '--public-key', ED_PUB]);
    expect(big.code).toBe(2);
    expect(big.err).toMatch(/larger than 64 KiB/);

    const missing = await run(['show', path.join(work, 'nope.json')]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/cannot read license file .*nope\.json: ENOENT/);

    const badKey = await run(['show', issued, '--public-key', ED_KEY]);
    expect(badKey.code).toBe(2);
    expect(badKey.err).toMatch(/--public-key .* is not a PEM public key/);
    expect(badKey.err).not.toContain(KEY_BODY);
  });

  it('verifies an RSA-PSS license with the RSA public key', async () => {
    const file = path.join(work, 'rsa.json');
    writeFileSync(file, issueTestLicense({}, readFileSync(RSA_KEY, 'utf8')));
    const result = await run([
      'show',
      file,
      '--public-key',
      ED_PUB,
      '--public-key',
      RSA_PUB,
      '--instance-id',
      TEST_INSTANCE_ID,
    ]);
    // testLicense expires 2027-01-01; the test is dated by the clock, so accept valid or (after then) expired.
    if (Date.now() < Date.parse('2027-01-01T00:00:00Z')) {
      expect(result.code).toBe(0);
      expect(result.out).toContain(`key id ${keyIdOf(TEST_VENDOR_RSA_PUBLIC_KEY)}`);
    } else {
      expect(result.err).toContain('(expired)');
    }
  });
});

describe('kfsensor license verify-usage-log', () => {
  let key: InstanceKeyPair;
  let log: string;

  beforeAll(() => {
    key = generateInstanceKeyPair();
    const xml = buildUsageLog(
      {
        instance: { instanceId: 'inst-cli-1', deployment: 'test', sensorVersion: '0.1.0' },
        generatedAt: '2026-06-01T02:00:00.000Z',
        license: (JSON.parse(readFileSync(issued, 'utf8')) as SignedLicense).license,
        licenseStatus: 'valid',
        runs: [],
      },
      key,
    );
    log = path.join(work, 'usage-log.xml');
    writeFileSync(log, xml);
  });

  it('accepts a signed usage log, and with the instance key pinned', async () => {
    const result = await run(['verify-usage-log', log]);
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    expect(result.out).toContain('status:          valid');
    expect(result.out).toContain('instance:        inst-cli-1');
    expect(result.out).toContain('license:         LIC-CLI-1');
    expect(result.out).toContain('not pinned');
    const pub = path.join(work, 'instance.pub');
    writeFileSync(pub, key.publicKeyPem);
    const pinned = await run(['verify-usage-log', log, '--public-key', pub]);
    expect(pinned.code).toBe(0);
    expect(pinned.out).not.toContain('not pinned');
  });

  it('refuses an edited log, and a log signed by another key than the pinned one (exit 2)', async () => {
    const edited = path.join(work, 'usage-log-edited.xml');
    const xml = readFileSync(log, 'utf8');
    expect(xml).toContain('inst-cli-1');
    writeFileSync(edited, xml.replace('inst-cli-1', 'inst-cli-2'));
    const result = await run(['verify-usage-log', edited]);
    expect(result.code).toBe(2);
    expect(result.out).toContain('status:          invalid');
    expect(result.err).toMatch(/usage log refused: /);

    const other = path.join(work, 'other-instance.pub');
    writeFileSync(other, generateInstanceKeyPair().publicKeyPem);
    const wrongKey = await run(['verify-usage-log', log, '--public-key', other]);
    expect(wrongKey.code).toBe(2);

    const missing = await run(['verify-usage-log', path.join(work, 'none.xml')]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/cannot read usage log/);
  });
});

describe('licensed remote scans', () => {
  it('prints a stable instance id per state directory', async () => {
    const stateDir = path.join(work, 'state-instance');
    const first = await run(['instance-id', '--state-dir', stateDir]);
    expect(first.code).toBe(0);
    expect(first.out.trim()).toMatch(/^remote:[0-9a-f-]{36}$/);
    const second = await run(['instance-id', '--state-dir', stateDir]);
    expect(second.out).toBe(first.out);
  }, 60_000);

  it('refuses to scan with a license the product does not trust, before contacting Command', async () => {
    const stateDir = path.join(work, 'state-scan');
    const instance = (await run(['instance-id', '--state-dir', stateDir])).out.trim();
    // Signed with the TEST vendor key: valid for tests that trust it, never for the shipped CLI.
    const licenseFile = path.join(work, 'remote-license.json');
    writeFileSync(licenseFile, issueTestLicense({ instanceId: instance }));
    const configFile = path.join(work, 'remote.yml');
    writeFileSync(
      configFile,
      [
        'scan_config:',
        '  plugins: [keyfactor]',
        '  config:',
        '    keyfactor:',
        '      name: keyfactor',
        '      plugin_config:',
        // Nothing listens here: a refused license must stop the run before any connection.
        '        url: https://127.0.0.1:9/KeyfactorAPI',
        '        username: svc',
        '        password: pw',
        '',
      ].join('\n'),
    );
    const result = await kfsensor(['-c', configFile, '--state-dir', stateDir, '--license', licenseFile]);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/remote-scan/);
    expect(result.err).toMatch(/no valid license/);
    expect(result.err).not.toMatch(/ECONNREFUSED|connect/i);
  }, 60_000);
});
