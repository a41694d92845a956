// KFS-REV-001: revocation as Command reports it, with the reason name and deployment raising the severity.
import { describe, expect, it } from 'vitest';
import { revocationReason } from '#shared/findings/rules/index';
import { commandCertificate, craftCertificate } from '#test/support/findings/craft';
import { analyseChecked, analyseCrafted, ruleResult } from '#test/support/findings/harness';

const STORE = {
  StoreMachine: 'web01',
  StorePath: 'My',
  StoreType: 2,
  Alias: 'web',
  ChainLevel: 0,
  CertStoreId: 's1',
};
const ENDPOINT = {
  StorePath: 'web01:443',
  AgentPool: 'Default',
  IPAddress: '192.0.2.1',
  Port: 443,
  NetworkName: 'DMZ',
};

describe('KFS-REV-001 revoked', () => {
  it('is low for a revoked certificate nobody holds, naming date and reason', () => {
    const finding = analyseCrafted(craftCertificate(), {
      CertState: 2,
      RevocationEffDate: '2025-11-02T10:00:00Z',
      RevocationReason: 4,
    });
    const result = ruleResult(finding, 'KFS-REV-001');
    expect(result?.severity).toBe('low');
    expect(result?.message).toBe('Revoked on 2025-11-02T10:00:00Z (reason: superseded).');
    expect(finding.crypto.x509.keyfactor?.revocation_reason).toEqual({ code: 4, name: 'superseded' });
    expect(finding.crypto.x509.keyfactor?.cert_state).toEqual({ code: 2, name: 'Revoked' });
  });

  it('is high when still deployed and critical after a key compromise', () => {
    const deployed = analyseCrafted(craftCertificate(), {
      CertState: 2,
      RevocationEffDate: '2025-11-02T10:00:00Z',
      RevocationReason: 5,
      SSLLocations: [ENDPOINT],
    });
    expect(ruleResult(deployed, 'KFS-REV-001')?.severity).toBe('high');
    const compromised = analyseCrafted(craftCertificate(), {
      CertState: 2,
      RevocationEffDate: '2025-11-02T10:00:00Z',
      RevocationReason: 1,
      Locations: [STORE],
      SSLLocations: [ENDPOINT],
    });
    const result = ruleResult(compromised, 'KFS-REV-001');
    expect(result?.severity).toBe('critical');
    expect(result?.message).toContain('keyCompromise');
    expect(result?.message).toContain('2 certificate stores or SSL endpoints');
  });

  it('is medium for a key compromise that is no longer deployed', () => {
    const finding = analyseCrafted(craftCertificate(), { CertState: 2, RevocationReason: 1 });
    expect(ruleResult(finding, 'KFS-REV-001')?.severity).toBe('medium');
    expect(ruleResult(finding, 'KFS-REV-001')?.message).toContain('Revoked (reason: keyCompromise)');
  });

  it('fires from a revocation date alone (a revoked CA certificate keeps CertState 6)', () => {
    const finding = analyseCrafted(craftCertificate(), {
      CertState: 6,
      RevocationEffDate: '2025-10-01T00:00:00Z',
      RevocationReason: 2,
    });
    expect(ruleResult(finding, 'KFS-REV-001')?.message).toContain('cACompromise');
  });

  it('marks certificate hold as possibly reinstated, and ignores a lifted hold', () => {
    const held = analyseCrafted(craftCertificate(), {
      CertState: 2,
      RevocationEffDate: '2025-12-01T00:00:00Z',
      RevocationReason: 6,
    });
    expect(ruleResult(held, 'KFS-REV-001')?.message).toContain('on hold');
    const lifted = analyseCrafted(craftCertificate(), {
      CertState: 1,
      RevocationEffDate: '2025-12-01T00:00:00Z',
      RevocationReason: -1,
    });
    expect(ruleResult(lifted, 'KFS-REV-001')).toBeUndefined();
  });

  it('does not fire for an active certificate', () => {
    expect(ruleResult(analyseCrafted(craftCertificate(), { CertState: 1 }), 'KFS-REV-001')).toBeUndefined();
  });

  it('still fires when the content does not parse: revocation needs only Command', () => {
    const finding = analyseChecked(
      commandCertificate('MIIB', {
        CertState: 2,
        RevocationEffDate: '2025-11-02T10:00:00Z',
        RevocationReason: 0,
      }),
    );
    expect(finding.analysis.status).toBe('parse-error');
    expect(ruleResult(finding, 'KFS-REV-001')?.message).toContain('unspecified');
  });

  it('names every reason code Command documents and keeps unknown ones as numbers', () => {
    expect(revocationReason(7)?.name).toBe('removeFromCRL');
    expect(revocationReason(999)?.name).toBe('unknown');
    expect(revocationReason(42)).toEqual({ code: 42, name: 'reason 42' });
    expect(revocationReason(null)).toBeNull();
  });
});
