// Sensor keys, scan ids, task ids and the finding content hash.
import { describe, expect, it } from 'vitest';
import { analyseCertificate } from '#shared/findings/index';
import { generateInventory } from '#shared/simulator/generator/index';
import { QueryError } from '#shared/query/index';
import {
  canonicalJson,
  findingContentHash,
  newScanId,
  normaliseCommandUrl,
  sensorKey,
  taskIdFor,
} from '#shared/scan/keys';

describe('sensorKey', () => {
  it('ignores scheme/host case, default ports and a trailing slash', () => {
    const k = sensorKey('https://Command.Example.com/KeyfactorAPI', null);
    expect(sensorKey('HTTPS://command.example.com:443/KeyfactorAPI/', null)).toBe(k);
    expect(normaliseCommandUrl('https://user:pw@Command.Example.com:443/KeyfactorAPI//?x=1#f')).toBe(
      'https://command.example.com/KeyfactorAPI',
    );
    expect(k).toMatch(/^command\.example\.com\/[0-9a-f]{32}$/);
  });

  it('the filter is canonical: whitespace, keyword case and aliases do not make a new sensor', () => {
    const a = sensorKey('https://h/api', 'CN -contains "x" AND NotAfter -le "%TODAY%"');
    expect(sensorKey('https://h/api', '  CN   -contains "x"   and ExpirationDate -le "%TODAY%" ')).toBe(a);
    expect(sensorKey('https://h/api', 'CN -contains "y" AND NotAfter -le "%TODAY%"')).not.toBe(a);
    expect(sensorKey('https://h/api', null)).toBe(sensorKey('https://h/api', ' '));
    expect(sensorKey('https://h/api', null)).not.toBe(a);
    expect(sensorKey('https://h/other', null)).not.toBe(sensorKey('https://h/api', null));
  });

  it('rejects an invalid filter or URL', () => {
    expect(() => sensorKey('https://h/api', 'CN -bogus "x"')).toThrow(QueryError);
    expect(() => sensorKey('not a url', null)).toThrow();
  });
});

describe('ids', () => {
  it('scan ids are 26 Crockford characters, sort by time and do not repeat', () => {
    const early = newScanId(new Date('2026-01-01T00:00:00Z'));
    const late = newScanId(new Date('2026-01-01T00:00:00.001Z'));
    expect(early).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(early < late).toBe(true);
    const many = new Set(Array.from({ length: 1000 }, () => newScanId(new Date(0))));
    expect(many.size).toBe(1000);
    expect(() => newScanId(new Date(Number.NaN))).toThrow(RangeError);
  });

  it('task ids name the range', () => {
    expect(taskIdFor(1, 1000)).toBe('r1-1000');
  });
});

describe('findingContentHash', () => {
  const [cert] = generateInventory({ seed: 3, count: 1, now: new Date('2026-01-01T00:00:00Z') });
  const context = (now: string, name = 'sensor') => ({
    now: new Date(now),
    sensor: { name, version: '1', ranBy: 'me' },
    source: { url: 'https://h/api' },
  });

  it('does not change with the run time or first_found, but does with content', () => {
    const a = analyseCertificate(cert!, context('2026-01-02T00:00:00Z'));
    const b = { ...analyseCertificate(cert!, context('2026-01-02T05:00:00Z')), first_found: 'x' };
    expect(findingContentHash(b)).toBe(findingContentHash(a));
    const renamed = analyseCertificate(cert!, context('2026-01-02T00:00:00Z', 'other'));
    expect(findingContentHash(renamed)).not.toBe(findingContentHash(a));
    const revoked = analyseCertificate(
      { ...cert!, CertState: 2, RevocationEffDate: '2026-01-01T00:00:00Z' },
      context('2026-01-02T00:00:00Z'),
    );
    expect(findingContentHash(revoked)).not.toBe(findingContentHash(a));
  });

  it('ignores rule message wording but not rule ids or severities', () => {
    const a = analyseCertificate(cert!, context('2026-01-02T00:00:00Z'));
    const rule = {
      id: 'KFS-VAL-002',
      severity: 'low' as const,
      title: 't',
      message: 'in 3 days',
      remediation: 'r',
    };
    const withRule = { ...a, analysis: { ...a.analysis, rules: [rule] } };
    const reworded = { ...a, analysis: { ...a.analysis, rules: [{ ...rule, message: 'in 2 days' }] } };
    const escalated = { ...a, analysis: { ...a.analysis, rules: [{ ...rule, severity: 'high' as const }] } };
    expect(findingContentHash(reworded)).toBe(findingContentHash(withRule));
    expect(findingContentHash(escalated)).not.toBe(findingContentHash(withRule));
  });

  it('canonicalJson matches the straightforward definition (sorted entries, undefined dropped) on awkward input', () => {
    const reference = (value: unknown): string => {
      if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
      if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
      const entries = Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${reference(v)}`).join(',')}}`;
    };
    const awkward = {
      z: [3, undefined, 'x\n"y"', { b: true, a: false, é: 1, '\u2028': 2, Z: 3 }],
      a: { nested: { y: null, x: [[], {}] }, '10': 'ten', '9': 'nine', '': 'empty' },
      m: 1.5e300,
      u: undefined,
      d: new Date(0),
      f: () => 1,
    };
    expect(canonicalJson(awkward)).toBe(reference(awkward));
    // The same key in another order gives the same text (the quoted-key cache is keyed by key alone).
    expect(canonicalJson({ b: { d: 1, c: 2 }, a: 1 })).toBe(canonicalJson({ a: 1, b: { c: 2, d: 1 } }));
  });

  it('canonicalJson sorts keys and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: [{ d: undefined, c: null }] })).toBe('{"a":[{"c":null}],"b":1}');
  });
});
