// Bad input becomes a finding with analysis.status 'parse-error' and a reason — never an exception, never a hang —
// and the certificate keeps its identity and Command's attributes.
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { commandCertificate, craftCertificate, opaqueSpki } from '#test/support/findings/craft';
import {
  TEST_CONTEXT,
  analyseChecked,
  analyseCrafted,
  analyseDerChecked,
  ruleIds,
  ruleResult,
} from '#test/support/findings/harness';
import type { Finding } from '#shared/findings/index';

const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');
const der = craftCertificate();

function expectParseError(finding: Finding, reason: string): void {
  expect(finding.analysis.status).toBe('parse-error');
  expect(finding.analysis.parse_error?.reason).toBe(reason);
  expect(finding.analysis.pqc).toBeNull();
  expect(finding.crypto.x509.public_key).toBeUndefined();
  const unreadable = ruleResult(finding, 'KFS-PARSE-001');
  expect(unreadable?.severity).toBe('medium');
  expect(unreadable?.message).toContain(reason);
  expect(finding.analysis.highest_severity).toBe('medium');
}

describe('ContentBytes that are not a certificate', () => {
  it('invalid base64: identified by the SHA-256 of the text, with Command attributes kept', () => {
    const content = 'MIIB!not*base64';
    const finding = analyseChecked(
      commandCertificate(content, { Id: 4242, TemplateName: 'WebServer', IssuedCN: 'broken.example.com' }),
    );
    expectParseError(finding, 'invalid-base64');
    expect(finding.id).toBe(sha256(content));
    expect(finding.crypto.x509.keyfactor?.certificate_id).toBe(4242);
    expect(finding.crypto.x509.keyfactor?.template_name).toBe('WebServer');
    expect(finding.object.name).toBe('broken.example.com');
    expect(finding.analysis.parse_error?.offset).toBe(4);
    expect(ruleResult(finding, 'KFS-PARSE-001')?.message).toContain('Command certificate 4242');
  });

  it('empty content', () => {
    const finding = analyseChecked(commandCertificate(''));
    expectParseError(finding, 'empty-input');
    expect(finding.id).toBe(sha256(''));
  });

  it.each([
    ['truncated DER', der.subarray(0, der.length - 10), 'truncated'],
    ['trailing garbage', Buffer.concat([der, Buffer.from([0, 0])]), 'trailing-data'],
    [
      'a SET where the SEQUENCE belongs',
      Buffer.concat([Buffer.from([0x31]), der.subarray(1)]),
      'unexpected-tag',
    ],
    ['a 2 GiB length', Buffer.from([0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x30, 0x00]), 'truncated'],
    ['a nine-octet length', Buffer.from([0x30, 0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9]), 'invalid-length'],
  ])('%s: identified by the SHA-256 of the decoded bytes', (_name, bytes, reason) => {
    const finding = analyseChecked(commandCertificate(Buffer.from(bytes)));
    expectParseError(finding, reason);
    expect(finding.id).toBe(sha256(bytes));
  });

  it('a 10 MB blob is refused quickly, as base64 and as DER', () => {
    const blob = randomBytes(10 * 1024 * 1024);
    const started = performance.now();
    const fromCommand = analyseChecked(commandCertificate(blob));
    const fromFile = analyseDerChecked(blob);
    expect(performance.now() - started).toBeLessThan(2000);
    expectParseError(fromCommand, 'too-large');
    expectParseError(fromFile, 'too-large');
    expect(fromFile.id).toBe(sha256(blob));
  });

  it('odd dates: month 13 and 29 February of a common year are invalid-time', () => {
    const at = der.indexOf('250601000000Z');
    for (const bad of ['251301000000Z', '250229000000Z']) {
      const patched = Buffer.from(der);
      patched.write(bad, at, 'latin1');
      expectParseError(analyseChecked(commandCertificate(patched)), 'invalid-time');
    }
  });

  it('PEM text with two certificates is invalid-pem; with one it is analysed', () => {
    const pem = (bytes: Buffer) =>
      `-----BEGIN CERTIFICATE-----\n${bytes.toString('base64')}\n-----END CERTIFICATE-----\n`;
    const one = analyseChecked(commandCertificate(pem(der)));
    expect(one.analysis.status).toBe('analysed');
    expect(one.id).toBe(sha256(der));
    expectParseError(analyseChecked(commandCertificate(pem(der) + pem(der))), 'invalid-pem');
  });
});

describe('unusual but well-formed certificates are analysed, not rejected', () => {
  it('dates at the ends of the encodable range', () => {
    const far = analyseCrafted(craftCertificate({ notAfter: new Date('9999-12-31T23:59:59Z') }));
    expect(far.crypto.x509.not_after).toBe('9999-12-31T23:59:59Z');
    expect(ruleResult(far, 'KFS-PQC-001')?.severity).toBe('high');
    const ancient = analyseCrafted(
      craftCertificate({
        notBefore: new Date('1950-01-01T00:00:00Z'),
        notAfter: new Date('1950-01-02T00:00:00Z'),
      }),
    );
    expect(ruleResult(ancient, 'KFS-VAL-001')?.message).toContain('1950-01-02T00:00:00Z');
  });

  it('an unknown signature algorithm', () => {
    const bytes = Buffer.from(der);
    // Re-label both signature AlgorithmIdentifiers (ecdsa-with-SHA256, 1.2.840.10045.4.3.2) as ...4.3.9.
    const oid = Buffer.from([0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]);
    for (let at = bytes.indexOf(oid); at >= 0; at = bytes.indexOf(oid, at + 1))
      bytes[at + oid.length - 1] = 0x09;
    const finding = analyseChecked(commandCertificate(bytes));
    expect(finding.analysis.status).toBe('analysed');
    expect(finding.crypto.x509.signature?.hash).toBe('unknown');
    expect(finding.crypto.x509.signature?.algorithm_oid).toBe('1.2.840.10045.4.3.9');
  });

  it('an unknown key algorithm', () => {
    const finding = analyseCrafted(
      craftCertificate({ key: { kind: 'spki', der: opaqueSpki('1.3.6.1.4.1.1.2.3', 64) } }),
    );
    expect(finding.analysis.status).toBe('analysed');
    expect(ruleIds(finding)).toContain('KFS-KEY-005');
  });
});

describe('never a hang', () => {
  it('analyses 2,000 random inputs in well under a second each', () => {
    let slowest = 0;
    for (let index = 0; index < 2000; index++) {
      const bytes = randomBytes(1 + (index % 700));
      if (index % 2 === 0) bytes[0] = 0x30;
      const started = performance.now();
      const finding = analyseChecked(commandCertificate(bytes), TEST_CONTEXT);
      slowest = Math.max(slowest, performance.now() - started);
      expect(finding.analysis.status).toBe('parse-error');
    }
    expect(slowest).toBeLessThan(250);
  });
});
