// KFS-SIG-001: weak signature hashes fire on leaves and intermediates, never on self-signed roots.
import { describe, expect, it } from 'vitest';
import { caExtensions, craftCertificate, tlsServerExtensions } from '#test/support/findings/craft';
import { analyseCrafted, ruleResult } from '#test/support/findings/harness';

describe('KFS-SIG-001 weak signature hash', () => {
  it('is high for SHA-1 on a CA-issued leaf and names the algorithm', () => {
    const der = craftCertificate({
      issuer: 'rsa-ca',
      hash: 'SHA-1',
      extensions: tlsServerExtensions('a.example.com'),
    });
    const finding = analyseCrafted(der);
    expect(finding.crypto.x509.signature?.hash).toBe('SHA-1');
    const result = ruleResult(finding, 'KFS-SIG-001');
    expect(result?.severity).toBe('high');
    expect(result?.message).toContain('sha1WithRSAEncryption (SHA-1)');
  });

  it('is high for ECDSA with SHA-1 too', () => {
    const finding = analyseCrafted(craftCertificate({ issuer: 'ec-ca', hash: 'SHA-1' }));
    expect(ruleResult(finding, 'KFS-SIG-001')?.message).toContain('ecdsa-with-SHA1');
  });

  it('is critical for MD5 and MD2', () => {
    for (const hash of ['MD5', 'MD2'] as const) {
      const finding = analyseCrafted(craftCertificate({ issuer: 'rsa-ca', hash }));
      const result = ruleResult(finding, 'KFS-SIG-001');
      expect(result?.severity, hash).toBe('critical');
      expect(result?.message, hash).toContain(`(${hash})`);
    }
  });

  it('fires on a SHA-1 intermediate CA (signed by another key)', () => {
    const der = craftCertificate({ issuer: 'rsa-ca', hash: 'SHA-1', extensions: caExtensions() });
    const result = ruleResult(analyseCrafted(der), 'KFS-SIG-001');
    expect(result?.message).toContain('CA certificate signed with');
  });

  it('does not fire on a self-signed root, whose signature nobody relies on', () => {
    const der = craftCertificate({
      key: { kind: 'rsa', bits: 2048 },
      issuer: 'self',
      hash: 'SHA-1',
      extensions: caExtensions(),
    });
    const finding = analyseCrafted(der);
    expect(finding.crypto.x509.self_signed).toBe(true);
    expect(ruleResult(finding, 'KFS-SIG-001')).toBeUndefined();
  });

  it('still fires on a self-signed SHA-1 leaf (not a CA)', () => {
    const der = craftCertificate({ key: { kind: 'rsa', bits: 2048 }, issuer: 'self', hash: 'SHA-1' });
    expect(ruleResult(analyseCrafted(der), 'KFS-SIG-001')?.severity).toBe('high');
  });

  it('stays silent for SHA-256 and SHA-384', () => {
    for (const hash of ['SHA-256', 'SHA-384'] as const) {
      expect(
        ruleResult(analyseCrafted(craftCertificate({ issuer: 'rsa-ca', hash })), 'KFS-SIG-001'),
      ).toBeUndefined();
    }
  });
});
