// Certificates made by the openssl CLI (not by our own DER writer): the rules must read what real tools produce.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalysisContext } from '#shared/findings/index';
import { commandCertificate } from '#test/support/findings/craft';
import { TEST_CONTEXT, analyseChecked, ruleIds, ruleResult } from '#test/support/findings/harness';

let directory = '';
// openssl stamps notBefore with the real clock, so these findings are judged against it too.
const context: AnalysisContext = { ...TEST_CONTEXT, now: new Date() };

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: directory, stdio: 'pipe' });
}

function selfSigned(name: string, newKey: string[], extra: string[] = []): Buffer {
  openssl(
    'req',
    '-x509',
    ...newKey,
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-subj',
    `/CN=${name}.example.com`,
    '-outform',
    'DER',
    '-out',
    `${name}.der`,
    ...extra,
  );
  return readFileSync(join(directory, `${name}.der`));
}

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'kfs-findings-openssl-'));
});

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

describe('certificates from openssl', () => {
  it('DSA 1024 self-signed: short DSA key, quantum-vulnerable at 80 bits', () => {
    openssl(
      'genpkey',
      '-genparam',
      '-algorithm',
      'DSA',
      '-pkeyopt',
      'dsa_paramgen_bits:1024',
      '-out',
      'dsa-params.pem',
    );
    const finding = analyseChecked(
      commandCertificate(selfSigned('dsa', ['-newkey', 'dsa:dsa-params.pem'], ['-days', '30', '-sha256'])),
      context,
    );
    expect(finding.crypto.x509.public_key).toMatchObject({ algorithm: 'DSA', key_size_bits: 1024 });
    expect(ruleResult(finding, 'KFS-KEY-003')?.severity).toBe('high');
    expect(finding.analysis.pqc).toEqual({
      readiness: 'vulnerable',
      nist_quantum_security_level: 0,
      classical_security_level: 80,
    });
  });

  it('explicit P-256 parameters: high', () => {
    openssl('ecparam', '-name', 'prime256v1', '-param_enc', 'explicit', '-out', 'explicit.pem');
    const finding = analyseChecked(
      commandCertificate(selfSigned('explicit', ['-newkey', 'ec:explicit.pem'], ['-days', '30'])),
      context,
    );
    expect(finding.crypto.x509.public_key?.curve).toBe('explicit');
    expect(ruleResult(finding, 'KFS-KEY-002')?.severity).toBe('high');
  });

  it('brainpoolP384r1: low, and Ed448: no curve finding, 224-bit classical strength', () => {
    const brainpool = analyseChecked(
      commandCertificate(
        selfSigned(
          'brainpool',
          ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:brainpoolP384r1'],
          ['-days', '30'],
        ),
      ),
      context,
    );
    expect(ruleResult(brainpool, 'KFS-KEY-002')?.severity).toBe('low');
    const ed448 = analyseChecked(
      commandCertificate(selfSigned('ed448', ['-newkey', 'ed448'], ['-days', '30'])),
      context,
    );
    expect(ruleIds(ed448)).not.toContain('KFS-KEY-002');
    expect(ed448.analysis.pqc?.classical_security_level).toBe(224);
  });

  it('RSA 1024 self-signed TLS server for 825 days: short key, self-signed leaf, too long', () => {
    const der = selfSigned(
      'legacy',
      ['-newkey', 'rsa:1024'],
      [
        '-days',
        '825',
        '-sha256',
        '-addext',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        '-addext',
        'extendedKeyUsage=serverAuth',
        '-addext',
        'subjectAltName=DNS:legacy.example.com',
      ],
    );
    const finding = analyseChecked(commandCertificate(der), context);
    // openssl marks it CA:TRUE, but its key usage cannot sign certificates: it is a leaf.
    expect(finding.crypto.x509.basic_constraints?.ca).toBe(true);
    expect(ruleResult(finding, 'KFS-KEY-001')?.severity).toBe('high');
    expect(ruleResult(finding, 'KFS-CRT-001')?.severity).toBe('medium');
    expect(ruleResult(finding, 'KFS-VAL-004')?.message).toContain('825');
  });

  it('a v1 leaf signed with SHA-1 by an openssl root: weak hash on the leaf, not on the root', () => {
    const root = selfSigned('root', ['-newkey', 'rsa:2048'], ['-days', '3650', '-sha1']);
    openssl(
      'req',
      '-new',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'v1.key',
      '-subj',
      '/CN=v1.example.com',
      '-out',
      'v1.csr',
    );
    openssl(
      'x509',
      '-req',
      '-in',
      'v1.csr',
      '-CA',
      'root.der',
      '-CAform',
      'DER',
      '-CAkey',
      'root.key',
      '-days',
      '30',
      '-sha1',
      '-outform',
      'DER',
      '-out',
      'v1.der',
    );
    const leaf = analyseChecked(commandCertificate(readFileSync(join(directory, 'v1.der'))), context);
    expect(leaf.crypto.x509.version).toBe(1);
    expect(ruleResult(leaf, 'KFS-SIG-001')?.severity).toBe('high');
    expect(ruleIds(leaf)).not.toContain('KFS-STR-002');
    const rootFinding = analyseChecked(commandCertificate(root), context);
    expect(rootFinding.crypto.x509.self_signed).toBe(true);
    expect(ruleIds(rootFinding)).not.toContain('KFS-SIG-001');
    expect(ruleIds(rootFinding)).not.toContain('KFS-CRT-001');
    expect(ruleIds(rootFinding)).not.toContain('KFS-STR-003');
  });
});
