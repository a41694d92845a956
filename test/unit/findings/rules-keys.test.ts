// Key-strength rules (KFS-KEY-001..005) against real DER with the exact key each condition is about.
import { describe, expect, it } from 'vitest';
import {
  craftCertificate,
  dhSpki,
  dsaSpki,
  explicitCurveSpki,
  opaqueSpki,
  PQC_OIDS,
  rsaSpki,
} from '#test/support/findings/craft';
import { analyseCrafted, ruleResult } from '#test/support/findings/harness';

describe('KFS-KEY-001 short RSA key', () => {
  it('is critical below 1024 bits and names the size and strength', () => {
    const finding = analyseCrafted(craftCertificate({ key: { kind: 'spki', der: rsaSpki(512, 65537) } }));
    const result = ruleResult(finding, 'KFS-KEY-001');
    expect(result?.severity).toBe('critical');
    expect(result?.message).toContain('RSA 512-bit key (57-bit security): factorable with modest resources');
  });

  it('is high for a real 1024-bit key', () => {
    const finding = analyseCrafted(craftCertificate({ key: { kind: 'rsa', bits: 1024 }, issuer: 'self' }));
    const result = ruleResult(finding, 'KFS-KEY-001');
    expect(result?.severity).toBe('high');
    expect(result?.message).toContain('RSA 1024-bit key (80-bit security)');
    expect(finding.crypto.x509.public_key?.key_size_bits).toBe(1024);
  });

  it('is high just under the line (2047 bits) and silent at 2048', () => {
    const short = analyseCrafted(craftCertificate({ key: { kind: 'spki', der: rsaSpki(2047, 65537) } }));
    expect(ruleResult(short, 'KFS-KEY-001')?.severity).toBe('high');
    const enough = analyseCrafted(craftCertificate({ key: { kind: 'rsa', bits: 2048 } }));
    expect(ruleResult(enough, 'KFS-KEY-001')).toBeUndefined();
  });
});

describe('KFS-KEY-002 weak or non-approved elliptic curve', () => {
  it.each([
    ['prime256v1', 'P-256'],
    ['secp384r1', 'P-384'],
    ['secp521r1', 'P-521'],
  ])('stays silent for %s (%s)', (curve) => {
    const finding = analyseCrafted(craftCertificate({ key: { kind: 'ec', curve } }));
    expect(ruleResult(finding, 'KFS-KEY-002')).toBeUndefined();
  });

  it('is high for P-192 (80-bit security)', () => {
    const finding = analyseCrafted(craftCertificate({ key: { kind: 'ec', curve: 'prime192v1' } }));
    const result = ruleResult(finding, 'KFS-KEY-002');
    expect(result?.severity).toBe('high');
    expect(result?.message).toContain('EC P-192 key (192-bit order, 80-bit security)');
  });

  it('is medium for P-224 (112-bit security)', () => {
    const finding = analyseCrafted(craftCertificate({ key: { kind: 'ec', curve: 'secp224r1' } }));
    const result = ruleResult(finding, 'KFS-KEY-002');
    expect(result?.severity).toBe('medium');
    expect(result?.message).toContain('P-224');
  });

  it('is low for brainpoolP256r1, medium for secp256k1', () => {
    const brainpool = analyseCrafted(craftCertificate({ key: { kind: 'ec', curve: 'brainpoolP256r1' } }));
    expect(ruleResult(brainpool, 'KFS-KEY-002')?.severity).toBe('low');
    expect(ruleResult(brainpool, 'KFS-KEY-002')?.message).toContain('brainpoolP256r1');
    const koblitz = analyseCrafted(craftCertificate({ key: { kind: 'ec', curve: 'secp256k1' } }));
    expect(ruleResult(koblitz, 'KFS-KEY-002')?.severity).toBe('medium');
    expect(ruleResult(koblitz, 'KFS-KEY-002')?.message).toContain('secp256k1');
  });

  it('is high for explicitly specified curve parameters', () => {
    const finding = analyseCrafted(craftCertificate({ key: { kind: 'spki', der: explicitCurveSpki(256) } }));
    expect(finding.crypto.x509.public_key?.curve).toBe('explicit');
    const result = ruleResult(finding, 'KFS-KEY-002');
    expect(result?.severity).toBe('high');
    expect(result?.message).toContain('CVE-2020-0601');
  });

  it('does not apply to Ed25519 or Ed448', () => {
    for (const kind of ['ed25519', 'ed448'] as const) {
      const finding = analyseCrafted(craftCertificate({ key: { kind }, issuer: 'self' }));
      expect(ruleResult(finding, 'KFS-KEY-002')).toBeUndefined();
    }
  });
});

describe('KFS-KEY-003 DSA or short Diffie-Hellman key', () => {
  it('is high for DSA 1024 and medium for DSA 2048', () => {
    const short = analyseCrafted(craftCertificate({ key: { kind: 'spki', der: dsaSpki(1024) } }));
    expect(ruleResult(short, 'KFS-KEY-003')?.severity).toBe('high');
    expect(ruleResult(short, 'KFS-KEY-003')?.message).toContain('DSA 1024-bit key');
    const long = analyseCrafted(craftCertificate({ key: { kind: 'spki', der: dsaSpki(2048) } }));
    expect(ruleResult(long, 'KFS-KEY-003')?.severity).toBe('medium');
    expect(ruleResult(long, 'KFS-KEY-003')?.message).toContain('FIPS 186-5');
  });

  it('is high for a 1024-bit DH key and silent for 2048', () => {
    const short = analyseCrafted(craftCertificate({ key: { kind: 'spki', der: dhSpki(1024) } }));
    expect(ruleResult(short, 'KFS-KEY-003')?.message).toContain('Diffie-Hellman 1024-bit key');
    const long = analyseCrafted(craftCertificate({ key: { kind: 'spki', der: dhSpki(2048) } }));
    expect(ruleResult(long, 'KFS-KEY-003')).toBeUndefined();
  });

  it('stays silent for RSA', () => {
    const finding = analyseCrafted(craftCertificate({ key: { kind: 'rsa', bits: 2048 } }));
    expect(ruleResult(finding, 'KFS-KEY-003')).toBeUndefined();
  });
});

describe('KFS-KEY-004 small or non-standard RSA exponent', () => {
  it('is medium for e = 3 on a real key', () => {
    const finding = analyseCrafted(craftCertificate({ key: { kind: 'rsa', bits: 2048, exponent: 3 } }));
    expect(finding.crypto.x509.public_key?.rsa_exponent).toBe(3);
    const result = ruleResult(finding, 'KFS-KEY-004');
    expect(result?.severity).toBe('medium');
    expect(result?.message).toContain('RSA public exponent 3');
  });

  it('is low for e = 17, critical for e = 1, high for an even exponent', () => {
    const cases: Array<[number, string]> = [
      [17, 'low'],
      [1, 'critical'],
      [65536, 'high'],
    ];
    for (const [exponent, severity] of cases) {
      const finding = analyseCrafted(
        craftCertificate({ key: { kind: 'spki', der: rsaSpki(2048, exponent) } }),
      );
      expect(ruleResult(finding, 'KFS-KEY-004')?.severity, `e = ${exponent}`).toBe(severity);
    }
  });

  it('stays silent for 65537', () => {
    const finding = analyseCrafted(craftCertificate({ key: { kind: 'rsa', bits: 2048 } }));
    expect(finding.crypto.x509.public_key?.rsa_exponent).toBe(65537);
    expect(ruleResult(finding, 'KFS-KEY-004')).toBeUndefined();
  });
});

describe('KFS-KEY-005 unrecognised public-key algorithm', () => {
  it('is info and names the OID for an unknown algorithm', () => {
    const finding = analyseCrafted(
      craftCertificate({ key: { kind: 'spki', der: opaqueSpki('1.3.6.1.4.1.55555.1.2', 40) } }),
    );
    expect(finding.analysis.status).toBe('analysed');
    expect(finding.analysis.pqc).toBeNull();
    const result = ruleResult(finding, 'KFS-KEY-005');
    expect(result?.severity).toBe('info');
    expect(result?.message).toContain('1.3.6.1.4.1.55555.1.2');
  });

  it('stays silent for ML-DSA, which the sensor knows', () => {
    const finding = analyseCrafted(
      craftCertificate({ key: { kind: 'spki', der: opaqueSpki(PQC_OIDS['ML-DSA-65'], 1952) } }),
    );
    expect(ruleResult(finding, 'KFS-KEY-005')).toBeUndefined();
  });
});
