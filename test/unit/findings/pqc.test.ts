// PQC readiness (analysis.pqc) and KFS-PQC-001: classes, CycloneDX levels, classical strength, severity tiers.
import { describe, expect, it } from 'vitest';
import { ellipticCurveStrength, finiteFieldStrength } from '#shared/findings/index';
import { PQC_OIDS, craftCertificate, dsaSpki, keyUsage, opaqueSpki } from '#test/support/findings/craft';
import { analyseCrafted, ruleResult } from '#test/support/findings/harness';

describe('analysis.pqc', () => {
  it.each([
    ['RSA 2048', { kind: 'rsa', bits: 2048 } as const, 112],
    ['RSA 3072', { kind: 'rsa', bits: 3072 } as const, 128],
    ['P-256', { kind: 'ec', curve: 'prime256v1' } as const, 128],
    ['P-384', { kind: 'ec', curve: 'secp384r1' } as const, 192],
    ['P-521', { kind: 'ec', curve: 'secp521r1' } as const, 256],
    ['Ed25519', { kind: 'ed25519' } as const, 128],
    ['Ed448', { kind: 'ed448' } as const, 224],
  ])('%s is vulnerable, category 0, %i classical bits', (_name, key, classical) => {
    const finding = analyseCrafted(craftCertificate({ key }));
    expect(finding.analysis.pqc).toEqual({
      readiness: 'vulnerable',
      nist_quantum_security_level: 0,
      classical_security_level: classical,
    });
  });

  it('DSA is vulnerable too', () => {
    const finding = analyseCrafted(craftCertificate({ key: { kind: 'spki', der: dsaSpki(2048) } }));
    expect(finding.analysis.pqc?.readiness).toBe('vulnerable');
    expect(finding.analysis.pqc?.classical_security_level).toBe(112);
  });

  it.each([
    ['ML-DSA-44', 1312, 2, 128],
    ['ML-DSA-65', 1952, 3, 192],
    ['ML-DSA-87', 2592, 5, 256],
    ['SLH-DSA-SHA2-128s', 32, 1, 128],
    ['SLH-DSA-SHA2-192f', 48, 3, 192],
    ['SLH-DSA-SHAKE-256s', 64, 5, 256],
    ['ML-KEM-768', 1184, 3, 192],
  ] as const)('%s is quantum-safe at category %i', (name, bytes, level, classical) => {
    const finding = analyseCrafted(
      craftCertificate({ key: { kind: 'spki', der: opaqueSpki(PQC_OIDS[name], bytes) } }),
    );
    expect(finding.crypto.x509.public_key?.parameter_set).toBe(name);
    expect(finding.analysis.pqc).toEqual({
      readiness: 'quantum-safe',
      nist_quantum_security_level: level,
      classical_security_level: classical,
    });
    expect(ruleResult(finding, 'KFS-PQC-001')).toBeUndefined();
  });

  it.each([
    ['MLDSA65-ECDSA-P256-SHA512', 3],
    ['MLDSA87-ECDSA-P384-SHA512', 5],
  ] as const)('composite %s is transitional at the ML-DSA half’s category %i', (name, level) => {
    const finding = analyseCrafted(
      craftCertificate({ key: { kind: 'spki', der: opaqueSpki(PQC_OIDS[name], 2100) } }),
    );
    expect(finding.analysis.pqc?.readiness).toBe('transitional');
    expect(finding.analysis.pqc?.nist_quantum_security_level).toBe(level);
    expect(ruleResult(finding, 'KFS-PQC-001')).toBeUndefined();
  });

  it('is null for an unknown algorithm', () => {
    const finding = analyseCrafted(
      craftCertificate({ key: { kind: 'spki', der: opaqueSpki('1.2.3.4.5', 16) } }),
    );
    expect(finding.analysis.pqc).toBeNull();
  });
});

describe('security strength tables (NIST SP 800-57 Part 1 Table 2)', () => {
  it('maps moduli to the table steps and below 1024 to the GNFS estimate', () => {
    expect([1024, 2048, 3072, 4096, 7680, 15360].map(finiteFieldStrength)).toEqual([
      80, 112, 128, 128, 192, 256,
    ]);
    expect(finiteFieldStrength(512)).toBe(57);
    expect(finiteFieldStrength(768)).toBeGreaterThan(57);
    expect(finiteFieldStrength(768)).toBeLessThan(80);
  });

  it('maps curve orders to the table steps', () => {
    expect([160, 192, 224, 256, 384, 521].map(ellipticCurveStrength)).toEqual([80, 80, 112, 128, 192, 256]);
  });
});

describe('KFS-PQC-001 quantum-vulnerable public key', () => {
  it('is low for a short-lived signing-only key, naming the algorithm', () => {
    const finding = analyseCrafted(
      craftCertificate({
        key: { kind: 'ec', curve: 'prime256v1' },
        extensions: [keyUsage(['digitalSignature'])],
      }),
    );
    const result = ruleResult(finding, 'KFS-PQC-001');
    expect(result?.severity).toBe('low');
    expect(result?.message).toContain("EC P-256 key: broken by Shor's algorithm");
  });

  it('is medium for an RSA key-transport key (harvest now, decrypt later)', () => {
    const der = craftCertificate({
      key: { kind: 'rsa', bits: 3072 },
      extensions: [keyUsage(['digitalSignature', 'keyEncipherment'])],
    });
    const result = ruleResult(analyseCrafted(der), 'KFS-PQC-001');
    expect(result?.severity).toBe('medium');
    expect(result?.message).toContain('harvest now, decrypt later');
  });

  it('is medium for a 112-bit key valid past 2030, low for a 128-bit one', () => {
    const notAfter = new Date('2032-01-01T00:00:00Z');
    const weak = analyseCrafted(craftCertificate({ key: { kind: 'rsa', bits: 2048 }, notAfter }));
    expect(ruleResult(weak, 'KFS-PQC-001')?.severity).toBe('medium');
    expect(ruleResult(weak, 'KFS-PQC-001')?.message).toContain('past 2030');
    const stronger = analyseCrafted(craftCertificate({ key: { kind: 'ec', curve: 'secp384r1' }, notAfter }));
    expect(ruleResult(stronger, 'KFS-PQC-001')?.severity).toBe('low');
  });

  it('is high for any classical key valid past 2035', () => {
    const der = craftCertificate({ key: { kind: 'ed25519' }, notAfter: new Date('2040-01-01T00:00:00Z') });
    const result = ruleResult(analyseCrafted(der), 'KFS-PQC-001');
    expect(result?.severity).toBe('high');
    expect(result?.message).toContain('2040-01-01T00:00:00Z');
  });
});
