// RFC 5280 structure rules (KFS-STR-001..005): serials, v1/v2 extensions, CA marking, signature fields, date order.
import { describe, expect, it } from 'vitest';
import { oid, sequence, NULL } from '#shared/simulator/generator/der';
import {
  basicConstraints,
  caExtensions,
  craftCertificate,
  keyUsage,
  tlsServerExtensions,
} from '#test/support/findings/craft';
import { analyseCrafted, ruleResult } from '#test/support/findings/harness';

describe('KFS-STR-001 serial number out of range', () => {
  it('is medium for a negative serial, which still parses', () => {
    const finding = analyseCrafted(craftCertificate({ serial: Buffer.from([0xff, 0x12, 0x34]) }));
    expect(finding.analysis.status).toBe('analysed');
    expect(finding.crypto.x509.serial_number_negative).toBe(true);
    const result = ruleResult(finding, 'KFS-STR-001');
    expect(result?.severity).toBe('medium');
    expect(result?.message).toContain('Negative serial number (0xff1234)');
  });

  it('is low for serial 0', () => {
    const result = ruleResult(analyseCrafted(craftCertificate({ serial: Buffer.from([0]) })), 'KFS-STR-001');
    expect(result?.message).toContain('Serial number 0');
  });

  it('is low for 21 octets and silent for 20', () => {
    const long = Buffer.concat([Buffer.from([0x01]), Buffer.alloc(20, 0x22)]);
    const result = ruleResult(analyseCrafted(craftCertificate({ serial: long })), 'KFS-STR-001');
    expect(result?.severity).toBe('low');
    expect(result?.message).toContain('21 octets');
    const twenty = Buffer.concat([Buffer.from([0x00, 0x80]), Buffer.alloc(18, 0x22)]);
    expect(ruleResult(analyseCrafted(craftCertificate({ serial: twenty })), 'KFS-STR-001')).toBeUndefined();
  });
});

describe('KFS-STR-002 extensions before v3', () => {
  it.each([1, 2] as const)('fires for a v%i certificate carrying extensions', (version) => {
    const der = craftCertificate({ version, extensions: tlsServerExtensions('old.example.com') });
    const finding = analyseCrafted(der);
    expect(finding.crypto.x509.version).toBe(version);
    expect(ruleResult(finding, 'KFS-STR-002')?.message).toContain(
      `v${version} certificate carrying 4 extensions`,
    );
  });

  it('does not fire for a bare v1 certificate or a v3 one', () => {
    expect(ruleResult(analyseCrafted(craftCertificate({ version: 1 })), 'KFS-STR-002')).toBeUndefined();
    const v3 = craftCertificate({ extensions: tlsServerExtensions('www.example.com') });
    expect(ruleResult(analyseCrafted(v3), 'KFS-STR-002')).toBeUndefined();
  });
});

describe('KFS-STR-003 CA certificate without a critical basicConstraints cA', () => {
  it('fires when basicConstraints cA is not critical', () => {
    const der = craftCertificate({ extensions: [basicConstraints(true, false), keyUsage(['keyCertSign'])] });
    const result = ruleResult(analyseCrafted(der), 'KFS-STR-003');
    expect(result?.severity).toBe('medium');
    expect(result?.message).toContain(
      '(basicConstraints cA) has a basicConstraints extension not marked critical',
    );
  });

  it('fires when keyCertSign is set without basicConstraints', () => {
    const der = craftCertificate({ extensions: [keyUsage(['keyCertSign', 'cRLSign'])] });
    expect(ruleResult(analyseCrafted(der), 'KFS-STR-003')?.message).toContain(
      '(keyCertSign key usage) has no basicConstraints extension',
    );
  });

  it('fires for a v1 root Command lists as a CA', () => {
    const der = craftCertificate({ issuer: 'self', version: 1 });
    const result = ruleResult(analyseCrafted(der, { CertState: 6 }), 'KFS-STR-003');
    expect(result?.message).toContain('(Command lists it as a CA) has no basicConstraints extension');
  });

  it('does not fire for a proper CA or a leaf', () => {
    expect(
      ruleResult(analyseCrafted(craftCertificate({ extensions: caExtensions() })), 'KFS-STR-003'),
    ).toBeUndefined();
    const leaf = craftCertificate({ extensions: tlsServerExtensions('www.example.com') });
    expect(ruleResult(analyseCrafted(leaf), 'KFS-STR-003')).toBeUndefined();
  });
});

describe('KFS-STR-004 signature algorithm fields disagree', () => {
  it('fires when TBSCertificate.signature differs from signatureAlgorithm', () => {
    const der = craftCertificate({
      issuer: 'rsa-ca',
      tbsSignatureAlgorithm: sequence(oid('1.2.840.113549.1.1.5'), NULL),
    });
    const finding = analyseCrafted(der);
    expect(finding.crypto.x509.signature?.matches_tbs_signature).toBe(false);
    expect(ruleResult(finding, 'KFS-STR-004')?.message).toContain('sha256WithRSAEncryption');
  });

  it('does not fire when they match', () => {
    expect(ruleResult(analyseCrafted(craftCertificate({ issuer: 'rsa-ca' })), 'KFS-STR-004')).toBeUndefined();
  });
});

describe('KFS-STR-005 validity ends before it starts', () => {
  it('fires for notAfter before notBefore, and the certificate counts as expired', () => {
    const der = craftCertificate({
      notBefore: new Date('2025-06-01T00:00:00Z'),
      notAfter: new Date('2025-05-01T00:00:00Z'),
    });
    const finding = analyseCrafted(der);
    expect(ruleResult(finding, 'KFS-STR-005')?.message).toContain('never valid');
    expect(ruleResult(finding, 'KFS-VAL-001')).toBeDefined();
  });

  it('does not fire for ordered dates', () => {
    expect(ruleResult(analyseCrafted(craftCertificate()), 'KFS-STR-005')).toBeUndefined();
  });
});
