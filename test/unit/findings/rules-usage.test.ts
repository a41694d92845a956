// Usage rules: self-signed leaves (KFS-CRT-001), TLS servers without SAN (KFS-CRT-002), wildcards (KFS-CRT-003).
import { describe, expect, it } from 'vitest';
import {
  EC_CA_NAME,
  EKU,
  basicConstraints,
  caExtensions,
  craftCertificate,
  extendedKeyUsage,
  keyUsage,
  subjectAltName,
  tlsServerExtensions,
} from '#test/support/findings/craft';
import { analyseCrafted, ruleResult } from '#test/support/findings/harness';

describe('KFS-CRT-001 self-signed end-entity certificate', () => {
  it('fires for a self-signed leaf and names its subject', () => {
    const der = craftCertificate({ issuer: 'self', extensions: tlsServerExtensions('www.example.com') });
    const finding = analyseCrafted(der);
    expect(finding.crypto.x509.self_issued).toBe(true);
    expect(finding.crypto.x509.self_signed).toBe(true);
    const result = ruleResult(finding, 'KFS-CRT-001');
    expect(result?.severity).toBe('medium');
    expect(result?.message).toContain('CN=www.example.com,O=Example Corp');
  });

  it('does not fire for a self-signed root CA', () => {
    const finding = analyseCrafted(craftCertificate({ issuer: 'self', extensions: caExtensions() }));
    expect(finding.crypto.x509.self_signed).toBe(true);
    expect(ruleResult(finding, 'KFS-CRT-001')).toBeUndefined();
  });

  it('does not fire for a v1 root that Command lists as a CA (CertState 6)', () => {
    const der = craftCertificate({ issuer: 'self', version: 1, key: { kind: 'rsa', bits: 2048 } });
    expect(ruleResult(analyseCrafted(der, { CertState: 6 }), 'KFS-CRT-001')).toBeUndefined();
    expect(ruleResult(analyseCrafted(der, { CertState: 1 }), 'KFS-CRT-001')).toBeDefined();
  });

  it('does not fire for a self-issued certificate signed by another key (the subject names the issuer)', () => {
    const der = craftCertificate({
      key: { kind: 'ec', curve: 'secp384r1' },
      subject: EC_CA_NAME,
      extensions: tlsServerExtensions('rollover.example.com'),
    });
    const finding = analyseCrafted(der);
    expect(finding.crypto.x509.self_issued).toBe(true);
    expect(finding.crypto.x509.self_signed).toBe(false);
    expect(ruleResult(finding, 'KFS-CRT-001')).toBeUndefined();
  });

  it('does not fire for a CA-issued leaf', () => {
    const finding = analyseCrafted(craftCertificate({ extensions: tlsServerExtensions('www.example.com') }));
    expect(finding.crypto.x509.self_issued).toBe(false);
    expect(ruleResult(finding, 'KFS-CRT-001')).toBeUndefined();
  });
});

describe('KFS-CRT-002 TLS server certificate without SAN', () => {
  it('fires when a serverAuth certificate has no subjectAltName, quoting the CN', () => {
    const der = craftCertificate({
      extensions: [
        basicConstraints(false),
        keyUsage(['digitalSignature']),
        extendedKeyUsage([EKU.serverAuth]),
      ],
    });
    const result = ruleResult(analyseCrafted(der), 'KFS-CRT-002');
    expect(result?.severity).toBe('medium');
    expect(result?.message).toContain('no subjectAltName extension (CN "www.example.com")');
  });

  it('fires when the SAN has only an email address', () => {
    const der = craftCertificate({
      extensions: [extendedKeyUsage([EKU.serverAuth]), subjectAltName([{ email: 'ops@example.com' }])],
    });
    expect(ruleResult(analyseCrafted(der), 'KFS-CRT-002')?.message).toContain('no DNS or IP entry');
  });

  it('does not fire with a DNS or an IP SAN, or for client certificates', () => {
    expect(
      ruleResult(
        analyseCrafted(craftCertificate({ extensions: tlsServerExtensions('a.example.com') })),
        'KFS-CRT-002',
      ),
    ).toBeUndefined();
    const ip = craftCertificate({
      extensions: [extendedKeyUsage([EKU.serverAuth]), subjectAltName([{ ip: '192.0.2.7' }])],
    });
    const ipFinding = analyseCrafted(ip);
    expect(ipFinding.crypto.x509.subject_alt_names?.ip).toEqual(['192.0.2.7']);
    expect(ruleResult(ipFinding, 'KFS-CRT-002')).toBeUndefined();
    const client = craftCertificate({ extensions: [extendedKeyUsage([EKU.clientAuth])] });
    expect(ruleResult(analyseCrafted(client), 'KFS-CRT-002')).toBeUndefined();
  });
});

describe('KFS-CRT-003 wildcard name', () => {
  it('fires for a wildcard DNS SAN and lists it', () => {
    const der = craftCertificate({ extensions: tlsServerExtensions('*.shop.example.com') });
    const result = ruleResult(analyseCrafted(der), 'KFS-CRT-003');
    expect(result?.severity).toBe('low');
    expect(result?.message).toContain('*.shop.example.com');
  });

  it('fires for a wildcard only in the CN, marking it as the CN', () => {
    const der = craftCertificate({
      subject: [{ type: 'CN', value: '*.legacy.example.com' }],
      extensions: [subjectAltName([{ dns: 'legacy.example.com' }])],
    });
    expect(ruleResult(analyseCrafted(der), 'KFS-CRT-003')?.message).toContain('*.legacy.example.com (CN)');
  });

  it('keeps the message bounded for many wildcards', () => {
    const names = Array.from({ length: 8 }, (_, index) => ({ dns: `*.d${index}.example.com` }));
    const der = craftCertificate({ extensions: [subjectAltName(names)] });
    expect(ruleResult(analyseCrafted(der), 'KFS-CRT-003')?.message).toContain('and 5 more');
  });

  it('does not fire for exact names', () => {
    expect(
      ruleResult(
        analyseCrafted(craftCertificate({ extensions: tlsServerExtensions('www.example.com') })),
        'KFS-CRT-003',
      ),
    ).toBeUndefined();
  });
});
