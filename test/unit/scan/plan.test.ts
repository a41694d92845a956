// Pure planning: mode sequence, cursor advance, query composition (round-trips through parseQuery), range split.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseQuery, printQuery, QueryError } from '#shared/query/index';
import type { SensorCursor } from '#shared/scan/model';
import {
  advancedCursor,
  chooseScanMode,
  composeScanQuery,
  isoSeconds,
  pageTasksFor,
  rangePageQuery,
  rangesOf,
  splitIdRange,
} from '#shared/scan/plan';

const cursor = (overrides: Partial<SensorCursor> = {}): SensorCursor => ({
  sensorKey: 'h/abc',
  url: 'https://h/KeyfactorAPI',
  queryFilter: null,
  maxCertId: 2000,
  lastScanStartedAt: '2026-01-10T12:00:00.000Z',
  scansSinceFull: 1,
  lastFullScanId: 's1',
  lastScanId: 's1',
  version: 1,
  ...overrides,
});

describe('chooseScanMode and advancedCursor', () => {
  /** Runs `count` completed scans through the mode choice and cursor advance; returns the modes. */
  function sequence(interval: number, count: number): string[] {
    let current: SensorCursor | null = null;
    const modes: string[] = [];
    for (let i = 1; i <= count; i += 1) {
      const mode = chooseScanMode(current, interval);
      modes.push(mode);
      current = advancedCursor(current, {
        scanId: `s${i}`,
        sensorKey: 'k',
        url: 'u',
        queryFilter: null,
        mode,
        planMaxCertId: i * 10,
        startedAt: new Date(Date.UTC(2026, 0, i)).toISOString(),
      });
    }
    return modes;
  }

  it('interval 5: scan 1 full, 2-5 incremental, 6 full, 7-10 incremental, 11 full', () => {
    const F = 'full';
    const I = 'incremental';
    expect(sequence(5, 11)).toEqual([F, I, I, I, I, F, I, I, I, I, F]);
  });

  it('interval 1: every scan full; interval 2: alternating', () => {
    expect(sequence(1, 4)).toEqual(['full', 'full', 'full', 'full']);
    expect(sequence(2, 5)).toEqual(['full', 'incremental', 'full', 'incremental', 'full']);
  });

  it('rejects a non-positive or fractional interval', () => {
    expect(() => chooseScanMode(null, 0)).toThrow(RangeError);
    expect(() => chooseScanMode(null, 2.5)).toThrow(RangeError);
  });

  it('advances maxCertId to the larger of old and planned, keeps the last full scan id on incremental', () => {
    const next = advancedCursor(cursor({ maxCertId: 500, scansSinceFull: 2 }), {
      scanId: 's9',
      sensorKey: 'h/abc',
      url: 'u',
      queryFilter: null,
      mode: 'incremental',
      planMaxCertId: 400,
      startedAt: '2026-02-01T00:00:00.000Z',
    });
    expect(next).toMatchObject({
      maxCertId: 500,
      scansSinceFull: 3,
      lastFullScanId: 's1',
      lastScanId: 's9',
      lastScanStartedAt: '2026-02-01T00:00:00.000Z',
      version: 1,
    });
    const empty = advancedCursor(null, {
      ...next,
      scanId: 's1',
      mode: 'full',
      planMaxCertId: null,
      queryFilter: null,
      startedAt: 'x',
    });
    expect(empty.maxCertId).toBe(0);
    expect(empty.version).toBe(0);
  });
});

describe('composeScanQuery', () => {
  it('full: the user filter with aliases turned into Command names', () => {
    const q = composeScanQuery({
      queryFilter: 'NotAfter -le "%TODAY+7%"',
      mode: 'full',
      cursor: null,
      revocationOverlapSeconds: 0,
    });
    expect(q.text).toBe('ExpirationDate -le "%TODAY+7%"');
    expect(
      composeScanQuery({ queryFilter: null, mode: 'full', cursor: null, revocationOverlapSeconds: 0 }).text,
    ).toBe('');
    expect(
      composeScanQuery({ queryFilter: '   ', mode: 'full', cursor: null, revocationOverlapSeconds: 0 }).text,
    ).toBe('');
  });

  it('incremental: (filter) AND (CertId -gt max OR RevocationDate -ge start - overlap), and it parses back', () => {
    const q = composeScanQuery({
      queryFilter: 'CN -contains "a" or CN -contains "b"',
      mode: 'incremental',
      cursor: cursor(),
      revocationOverlapSeconds: 3600,
    });
    expect(q.text).toBe(
      '(CN -contains "a" OR CN -contains "b") AND (CertId -gt "2000" OR RevocationDate -ge "2026-01-10T11:00:00Z")',
    );
    expect(printQuery(parseQuery(q.text))).toBe(q.text);
    expect(parseQuery(q.text)).toEqual(q.node);
  });

  it('incremental without a filter is the condition alone', () => {
    const q = composeScanQuery({
      queryFilter: null,
      mode: 'incremental',
      cursor: cursor({ maxCertId: 7 }),
      revocationOverlapSeconds: 0,
    });
    expect(q.text).toBe('CertId -gt "7" OR RevocationDate -ge "2026-01-10T12:00:00Z"');
  });

  it('a quote in a filter value cannot break out of the clause', () => {
    const q = composeScanQuery({
      queryFilter: 'CN -eq "x\\" OR CertId -gt \\"0"',
      mode: 'incremental',
      cursor: cursor(),
      revocationOverlapSeconds: 0,
    });
    const node = parseQuery(q.text);
    expect(node?.type).toBe('and');
    expect(node?.type === 'and' ? node.children[0] : null).toEqual({
      type: 'clause',
      field: 'CN',
      operator: '-eq',
      value: 'x" OR CertId -gt "0',
    });
  });

  it('an invalid filter is a QueryError with the column; incremental needs a cursor', () => {
    let error: unknown;
    try {
      composeScanQuery({
        queryFilter: 'CN -eq "a" AND',
        mode: 'full',
        cursor: null,
        revocationOverlapSeconds: 0,
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(QueryError);
    expect((error as QueryError).column).toBeGreaterThan(1);
    expect(() =>
      composeScanQuery({ queryFilter: null, mode: 'incremental', cursor: null, revocationOverlapSeconds: 0 }),
    ).toThrow(RangeError);
  });

  it('isoSeconds floors to whole seconds', () => {
    expect(isoSeconds(new Date('2026-01-01T00:00:01.999Z'))).toBe('2026-01-01T00:00:01Z');
  });
});

describe('rangePageQuery', () => {
  it('first page bounds the range inclusively; later pages continue after the last id', () => {
    expect(rangePageQuery('CN -eq "a" OR CN -eq "b"', { lo: 10, hi: 20 }, null)).toBe(
      '(CN -eq "a" OR CN -eq "b") AND CertId -ge "10" AND CertId -le "20"',
    );
    expect(rangePageQuery(null, { lo: 10, hi: 20 }, 15)).toBe('CertId -gt "15" AND CertId -le "20"');
    expect(rangePageQuery('', { lo: 1, hi: 1 }, null)).toBe('CertId -ge "1" AND CertId -le "1"');
  });
});

describe('splitIdRange', () => {
  it('ceil(total / pageSize) ranges of near-equal width covering [min, max]', () => {
    expect(splitIdRange(1, 10, 10, 3)).toEqual([
      { lo: 1, hi: 3 },
      { lo: 4, hi: 6 },
      { lo: 7, hi: 8 },
      { lo: 9, hi: 10 },
    ]);
    expect(splitIdRange(5, 5, 1, 1000)).toEqual([{ lo: 5, hi: 5 }]);
    // More certificates than ids (impossible in Command, but never more ranges than ids).
    expect(splitIdRange(1, 3, 100, 1)).toHaveLength(3);
    expect(splitIdRange(1, 100, 0, 10)).toEqual([{ lo: 1, hi: 100 }]);
  });

  it('rejects bad input', () => {
    expect(() => splitIdRange(10, 1, 5, 5)).toThrow(RangeError);
    expect(() => splitIdRange(1, 10, 5, 0)).toThrow(RangeError);
    expect(() => splitIdRange(1, 10, -1, 5)).toThrow(RangeError);
    expect(() => rangesOf(1.5, 10, 2)).toThrow(RangeError);
  });

  it('property: every id in [min, max] lies in exactly one range; ranges are ordered and contiguous', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.integer({ min: 0, max: 5_000 }),
        fc.integer({ min: 0, max: 20_000 }),
        fc.integer({ min: 1, max: 2_000 }),
        fc.integer({ min: 0, max: 5_000 }),
        (minId, extent, total, pageSize, probe) => {
          const maxId = minId + extent;
          const ranges = splitIdRange(minId, maxId, total, pageSize);
          expect(ranges.length).toBe(Math.min(extent + 1, Math.max(1, Math.ceil(total / pageSize))));
          expect(ranges[0]!.lo).toBe(minId);
          expect(ranges.at(-1)!.hi).toBe(maxId);
          for (let i = 1; i < ranges.length; i += 1) expect(ranges[i]!.lo).toBe(ranges[i - 1]!.hi + 1);
          const widths = ranges.map((r) => r.hi - r.lo + 1);
          expect(Math.max(...widths) - Math.min(...widths)).toBeLessThanOrEqual(1);
          const id = minId + (probe % (extent + 1));
          expect(ranges.filter((r) => r.lo <= id && id <= r.hi)).toHaveLength(1);
          // The plan can be rebuilt from (min, max, count).
          expect(rangesOf(minId, maxId, ranges.length)).toEqual(ranges);
        },
      ),
    );
  });

  it('page tasks carry deterministic ids', () => {
    expect(pageTasksFor('S', [{ lo: 1, hi: 9 }], 'high')).toEqual([
      { scanId: 'S', taskId: 'r1-9', lo: 1, hi: 9, priority: 'high' },
    ]);
  });
});
