// Validity rules (KFS-VAL-001..004) with dates placed on either side of each boundary, relative to a fixed clock.
import { describe, expect, it } from 'vitest';
import { TEST_NOW, craftCertificate, tlsServerExtensions, caExtensions } from '#test/support/findings/craft';
import { TEST_CONTEXT, analyseCrafted, ruleResult } from '#test/support/findings/harness';

const DAY = 86_400_000;
const at = (days: number) => new Date(TEST_NOW.getTime() + days * DAY);

describe('KFS-VAL-001 expired', () => {
  it('fires one second after notAfter, with the date and age', () => {
    const der = craftCertificate({ notBefore: at(-100), notAfter: new Date(TEST_NOW.getTime() - 1000) });
    const result = ruleResult(analyseCrafted(der), 'KFS-VAL-001');
    expect(result?.severity).toBe('medium');
    expect(result?.message).toContain('Expired on 2025-12-31T23:59:59Z (less than a day ago)');
  });

  it('is high when Command still finds it in a store', () => {
    const der = craftCertificate({ notBefore: at(-400), notAfter: at(-10) });
    const finding = analyseCrafted(der, {
      Locations: [
        {
          StoreMachine: 'web01',
          StorePath: 'My',
          StoreType: 2,
          Alias: 'web',
          ChainLevel: 0,
          CertStoreId: 'x',
        },
      ],
    });
    const result = ruleResult(finding, 'KFS-VAL-001');
    expect(result?.severity).toBe('high');
    expect(result?.message).toContain('10 days ago');
    expect(result?.message).toContain('1 certificate store or SSL endpoint');
  });

  it('does not fire at exactly notAfter (still valid) and fires neither expiring rule for an expired one', () => {
    const valid = analyseCrafted(craftCertificate({ notBefore: at(-100), notAfter: TEST_NOW }));
    expect(ruleResult(valid, 'KFS-VAL-001')).toBeUndefined();
    const gone = analyseCrafted(craftCertificate({ notBefore: at(-100), notAfter: at(-1) }));
    expect(ruleResult(gone, 'KFS-VAL-002')).toBeUndefined();
  });
});

describe('KFS-VAL-002 expiring soon', () => {
  it.each([
    [3, 'high', 'in 3 days'],
    [10, 'medium', 'in 10 days'],
    [29, 'low', 'in 29 days'],
  ])('fires %i days ahead as %s', (days, severity, phrase) => {
    const der = craftCertificate({ notBefore: at(-100), notAfter: at(days) });
    const result = ruleResult(analyseCrafted(der), 'KFS-VAL-002');
    expect(result?.severity).toBe(severity);
    expect(result?.message).toContain(phrase);
    expect(result?.message).toContain('30-day window');
  });

  it('does not fire 31 days ahead with the default window, but does with a 60-day window', () => {
    const der = craftCertificate({ notBefore: at(-100), notAfter: at(31) });
    expect(ruleResult(analyseCrafted(der), 'KFS-VAL-002')).toBeUndefined();
    const wide = analyseCrafted(der, {}, { ...TEST_CONTEXT, expiringWithinDays: 60 });
    expect(ruleResult(wide, 'KFS-VAL-002')?.message).toContain('60-day window');
  });
});

describe('KFS-VAL-003 not yet valid', () => {
  it('fires when notBefore is in the future', () => {
    const der = craftCertificate({ notBefore: at(5), notAfter: at(90) });
    const finding = analyseCrafted(der);
    const result = ruleResult(finding, 'KFS-VAL-003');
    expect(result?.severity).toBe('low');
    expect(result?.message).toContain('in 5 days');
    expect(ruleResult(finding, 'KFS-VAL-001')).toBeUndefined();
  });

  it('does not fire once notBefore has passed', () => {
    expect(
      ruleResult(analyseCrafted(craftCertificate({ notBefore: TEST_NOW })), 'KFS-VAL-003'),
    ).toBeUndefined();
  });
});

describe('KFS-VAL-004 TLS server validity over the CA/B Forum maximum', () => {
  const issuedAfterCutoff = new Date('2024-03-01T00:00:00Z');
  const plusDays = (from: Date, days: number, seconds = 0) =>
    new Date(from.getTime() + days * DAY + seconds * 1000);

  it('fires for a 399-day TLS server certificate issued after 2020-09-01', () => {
    const der = craftCertificate({
      notBefore: issuedAfterCutoff,
      notAfter: plusDays(issuedAfterCutoff, 399),
      extensions: tlsServerExtensions('long.example.com'),
    });
    const result = ruleResult(analyseCrafted(der), 'KFS-VAL-004');
    expect(result?.severity).toBe('medium');
    expect(result?.message).toContain('at most 398 days');
  });

  it('counts both ends: 398 days minus one second is the longest that passes', () => {
    const longest = craftCertificate({
      notBefore: issuedAfterCutoff,
      notAfter: plusDays(issuedAfterCutoff, 398, -1),
      extensions: tlsServerExtensions('edge.example.com'),
    });
    expect(ruleResult(analyseCrafted(longest), 'KFS-VAL-004')).toBeUndefined();
    const oneMore = craftCertificate({
      notBefore: issuedAfterCutoff,
      notAfter: plusDays(issuedAfterCutoff, 398),
      extensions: tlsServerExtensions('edge.example.com'),
    });
    expect(ruleResult(analyseCrafted(oneMore), 'KFS-VAL-004')).toBeDefined();
  });

  it('does not fire for certificates issued before 2020-09-01', () => {
    const before = new Date('2020-08-31T00:00:00Z');
    const der = craftCertificate({
      notBefore: before,
      notAfter: plusDays(before, 825),
      extensions: tlsServerExtensions('old.example.com'),
    });
    expect(ruleResult(analyseCrafted(der), 'KFS-VAL-004')).toBeUndefined();
  });

  it('applies the 200-day limit of Ballot SC-081 from 2026-03-15', () => {
    const issued = new Date('2026-04-01T00:00:00Z');
    const der = craftCertificate({
      notBefore: issued,
      notAfter: plusDays(issued, 300),
      extensions: tlsServerExtensions('new.example.com'),
    });
    const finding = analyseCrafted(der, {}, { ...TEST_CONTEXT, now: new Date('2026-05-01T00:00:00Z') });
    expect(ruleResult(finding, 'KFS-VAL-004')?.message).toContain('at most 200 days');
  });

  it('does not fire for client certificates or CAs of the same length', () => {
    const notAfter = plusDays(issuedAfterCutoff, 800);
    const client = craftCertificate({ notBefore: issuedAfterCutoff, notAfter, extensions: [] });
    expect(ruleResult(analyseCrafted(client), 'KFS-VAL-004')).toBeUndefined();
    const ca = craftCertificate({
      notBefore: issuedAfterCutoff,
      notAfter,
      extensions: [...caExtensions(), ...tlsServerExtensions('ca.example.com').slice(2, 3)],
    });
    expect(ruleResult(analyseCrafted(ca), 'KFS-VAL-004')).toBeUndefined();
  });
});
