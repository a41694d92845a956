// `kfsensor inspect` as a user runs it: a real process over PEM bundles, DER files, directories and junk, with exports.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyseCertificate, createFindingValidator } from '#shared/findings/index';
import type { Finding } from '#shared/findings/index';
import { validateCbomJson } from '#shared/export/index';
import { generateInventory, simulatedCaCertificates } from '#shared/simulator/generator/index';

const bin = path.resolve(import.meta.dirname, '../../../bin/kfsensor.js');
const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
const DAY_MS = 86_400_000;

interface Run {
  code: number | null;
  out: string;
  err: string;
}

function run(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'inspect', ...args], {
      env: { ...process.env, NO_COLOR: '1' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

function pem(der: Uint8Array): string {
  const base64 = Buffer.from(der).toString('base64');
  return `-----BEGIN CERTIFICATE-----\n${base64.replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`;
}

function derOf(contentBytes: string | null | undefined): Buffer {
  return Buffer.from(contentBytes ?? '', 'base64');
}

const FAKE_KEY_BODY = 'S0VZTUFURVJJQUxTSE9VTERORVZFUkFQUEVBUg==';

let work: string;
let bundle: string;
let leafDer: string;
let directory: string;
let caBundleCount: number;

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'kfinspect-'));
  const cas = simulatedCaCertificates();
  bundle = path.join(work, 'bundle.pem');
  // Text around the blocks and a key block, as real bundles have: the key must be skipped and never echoed.
  writeFileSync(
    bundle,
    `Example Corp CA bundle\n${cas.map((ca) => `# ${ca.label}\n${pem(ca.der)}`).join('\n')}` +
      `-----BEGIN PRIVATE KEY-----\n${FAKE_KEY_BODY}\n-----END PRIVATE KEY-----\n`,
  );
  const inventory = generateInventory({ seed: 21, count: 20, now: new Date('2026-01-01T00:00:00Z') });
  const leaf = inventory.at(-1);
  if (leaf === undefined) throw new Error('no leaf');
  leafDer = path.join(work, 'leaf.der');
  writeFileSync(leafDer, derOf(leaf.ContentBytes));

  directory = path.join(work, 'store');
  mkdirSync(path.join(directory, 'nested', 'deeper'), { recursive: true });
  writeFileSync(path.join(directory, 'a.crt'), pem(derOf(inventory[10]?.ContentBytes)));
  writeFileSync(path.join(directory, 'nested', 'deeper', 'b.cer'), derOf(inventory[11]?.ContentBytes));
  writeFileSync(
    path.join(directory, 'nested', 'notes.txt'),
    'these are not the certificates you are looking for\n',
  );
  writeFileSync(
    path.join(directory, 'nested', 'truncated.der'),
    derOf(inventory[12]?.ContentBytes).subarray(0, 200),
  );
  // One block with a corrupted body next to a good one: the good one is still analysed.
  writeFileSync(
    path.join(directory, 'mixed.pem'),
    `${pem(derOf(inventory[13]?.ContentBytes))}-----BEGIN CERTIFICATE-----\nMIIB*broken*\n-----END CERTIFICATE-----\n`,
  );
  caBundleCount = readFileSync(CA_BUNDLE, 'latin1').split('-----BEGIN CERTIFICATE-----').length - 1;
});

describe('kfsensor inspect', () => {
  it('prints schema-valid findings for a PEM bundle, a DER file and a directory, skipping what holds none', async () => {
    const result = await run(['--json', bundle, leafDer, directory]);
    expect(result.err).not.toMatch(/unexpected error/);
    expect(result.code).toBe(0);
    const findings = JSON.parse(result.out) as Finding[];
    const validate = createFindingValidator();
    for (const finding of findings) expect(validate(finding).errors).toEqual([]);

    const byFile = (suffix: string) => findings.filter((f) => f.observation.file?.path.endsWith(suffix));
    expect(byFile('bundle.pem')).toHaveLength(simulatedCaCertificates().length);
    expect(byFile('leaf.der')).toHaveLength(1);
    expect(byFile('a.crt')).toHaveLength(1);
    expect(byFile(path.join('deeper', 'b.cer'))).toHaveLength(1);
    expect(byFile('mixed.pem')).toHaveLength(1);
    expect(byFile('notes.txt')).toHaveLength(0);
    expect(findings).toHaveLength(simulatedCaCertificates().length + 5);

    const truncated = byFile('truncated.der');
    expect(truncated).toHaveLength(1);
    expect(truncated[0]?.analysis.status).toBe('parse-error');
    expect(truncated[0]?.analysis.rules.map((r) => r.id)).toContain('KFS-PARSE-001');

    for (const finding of findings) {
      expect(finding.observation.source.type).toBe('file');
      expect(finding.observation.source.certificate_id).toBeNull();
      expect(finding.observation.source.url).toMatch(/^file:\/\//);
      expect(finding.crypto.x509.keyfactor).toBeNull();
    }
    expect(result.err).toMatch(/notes\.txt: no certificate found/);
    expect(result.err).toMatch(/mixed\.pem: PEM block at line \d+ cannot be decoded \(invalid-base64/);
    expect(result.out).not.toContain(FAKE_KEY_BODY);
  });

  it('prints a table and a summary for the system CA bundle', async () => {
    const result = await run([CA_BUNDLE]);
    expect(result.code).toBe(0);
    const lines = result.out.split('\n');
    expect(lines[0]).toMatch(/^FILE\s+CN\s+KEY\s+SIGNATURE\s+NOT AFTER\s+SEVERITY\s+RULES$/);
    expect(lines.filter((line) => line.startsWith(CA_BUNDLE))).toHaveLength(caBundleCount);
    expect(result.out).toContain(`Certificates: ${caBundleCount} (${caBundleCount} analysed, 0 unreadable)`);
    expect(result.out).toMatch(
      /Highest severity: critical \d+, high \d+, medium \d+, low \d+, info \d+, none \d+/,
    );
    expect(result.out).toMatch(/Key algorithms: RSA-\d+ \d+/);
    expect(result.out).toMatch(/Quantum-vulnerable keys: \d+ of \d+ analysed \(\d+\.\d%\)/);
    expect(result.out).toContain('Files: 1 read, 0 without certificates');
  });

  it('writes a valid CBOM and a CSV with one row per finding', async () => {
    const cbom = path.join(work, 'out.cdx.json');
    const csv = path.join(work, 'out.csv');
    const result = await run(['--json', '--cbom', cbom, '--csv', csv, CA_BUNDLE, directory]);
    expect(result.code).toBe(0);
    const findings = JSON.parse(result.out) as Finding[];
    expect(findings).toHaveLength(caBundleCount + 4);

    const cbomText = readFileSync(cbom, 'utf8');
    expect((await validateCbomJson(cbomText)).errors).toEqual([]);
    const document = JSON.parse(cbomText) as { components: { 'bom-ref': string }[] };
    const certificateRefs = document.components
      .map((c) => c['bom-ref'])
      .filter((ref) => ref.startsWith('cert:'));
    expect(new Set(certificateRefs)).toEqual(new Set(findings.map((f) => `cert:${f.id}`)));

    const records = readFileSync(csv, 'utf8').split('\r\n');
    expect(records.at(-1)).toBe('');
    expect(records).toHaveLength(findings.length + 2);
    expect(records[0]?.startsWith('finding_id,command_certificate_id,common_name,')).toBe(true);
    expect(result.err).toContain(`wrote a CycloneDX 1.6 CBOM of ${findings.length} findings to ${cbom}`);
  });

  it('judges expiry against --expiring-days', async () => {
    const now = Date.now();
    const context = {
      now: new Date(now),
      sensor: { name: 't', version: '0', ranBy: 't' },
      source: { url: null },
    };
    const soon = generateInventory({ seed: 4, count: 400, now: new Date(now) }).find((certificate) => {
      const daysLeft =
        (Date.parse(analyseCertificate(certificate, context).crypto.x509.not_after ?? '') - now) / DAY_MS;
      return daysLeft > 3 && daysLeft < 25;
    });
    if (soon === undefined) throw new Error('the generator made no certificate expiring in 3-25 days');
    const file = path.join(work, 'soon.der');
    writeFileSync(file, derOf(soon.ContentBytes));
    const rulesOf = async (args: string[]) => {
      const result = await run(['--json', ...args, file]);
      expect(result.code).toBe(0);
      return (JSON.parse(result.out) as Finding[])[0]?.analysis.rules.map((r) => r.id) ?? [];
    };
    expect(await rulesOf([])).toContain('KFS-VAL-002');
    expect(await rulesOf(['--expiring-days', '2'])).not.toContain('KFS-VAL-002');
    expect(await rulesOf(['--expiring-days', '40'])).toContain('KFS-VAL-002');
  });

  it('exits 2 with a clear message for a missing path, and prints no findings', async () => {
    const missing = path.join(work, 'does-not-exist.pem');
    const result = await run(['--json', bundle, missing]);
    expect(result.code).toBe(2);
    expect(result.err).toContain(`kfsensor: ${missing}: no such file or directory`);
    expect(result.out).toBe('');
  });

  it('exits 2 for a bad --expiring-days or an export into a missing directory', async () => {
    const negative = await run(['--expiring-days', '-1', bundle]);
    expect(negative.code).toBe(2);
    const notANumber = await run(['--expiring-days', 'soon', bundle]);
    expect(notANumber.code).toBe(2);
    expect(notANumber.err).toMatch(/whole number of days/);
    const nowhere = await run(['--cbom', path.join(work, 'no', 'such', 'dir', 'x.json'), bundle]);
    expect(nowhere.code).toBe(2);
    expect(nowhere.err).toMatch(/--cbom .*does not exist/);
    expect(nowhere.out).toBe('');
  });

  it('exits 0 with an empty result when no file holds a certificate', async () => {
    const empty = path.join(work, 'empty');
    mkdirSync(empty);
    writeFileSync(path.join(empty, 'readme.md'), '# nothing here\n');
    const table = await run([empty]);
    expect(table.code).toBe(0);
    expect(table.out).toContain('No certificates found.');
    const json = await run(['--json', empty]);
    expect(JSON.parse(json.out)).toEqual([]);
  });
});
