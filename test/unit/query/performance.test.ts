// Large queries: near-linear parse time, and deep nesting rejected as a QueryError instead of a stack overflow.
import { describe, expect, it } from 'vitest';
import {
  MAX_NESTING,
  QueryError,
  compileCertificateFilter,
  parseQuery,
  printQuery,
} from '#shared/query/index';

const TARGET_LENGTH = 200_000;

function repeatTo(length: number, unit: string, separator: string): string {
  const count = Math.ceil(length / (unit.length + separator.length));
  return Array.from({ length: count }, () => unit).join(separator);
}

function nested(depth: number, inner: string): string {
  return '('.repeat(depth) + inner + ')'.repeat(depth);
}

/** Best of a few runs, so one garbage-collection pause does not decide the result. */
function fastestParseMs(text: string): number {
  let best = Number.POSITIVE_INFINITY;
  for (let run = 0; run < 5; run++) {
    const start = performance.now();
    parseQuery(text);
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

const shapes: [string, (length: number) => string][] = [
  ['a long AND chain', (length) => repeatTo(length, 'CN -eq "x"', ' AND ')],
  [
    'a long OR chain of escaped values',
    (length) => repeatTo(length, String.raw`Owner -contains "a\"b\\c"`, ' or '),
  ],
  ['groups nested to the limit', (length) => repeatTo(length, nested(MAX_NESTING, 'CertId -gt 5'), ' AND ')],
  [
    'alternating AND/OR groups',
    (length) => repeatTo(length, '(a -eq 1 OR b -ne NULL) AND c -eq "x"', ' OR '),
  ],
];

describe('parseQuery on large input', () => {
  it.each(shapes)('parses %s of 200k characters in near-linear time', (_, build) => {
    const single = build(TARGET_LENGTH);
    const quadruple = build(4 * TARGET_LENGTH);
    expect(single.length).toBeGreaterThanOrEqual(TARGET_LENGTH);
    fastestParseMs(single); // warm-up, so the first measurement does not include JIT compilation
    const singleMs = fastestParseMs(single);
    const quadrupleMs = fastestParseMs(quadruple);
    // Linear would be 4×, quadratic 16×; 8× leaves room for GC on a loaded machine without letting O(n²) through.
    // The floor keeps sub-millisecond timings from deciding.
    expect(quadrupleMs).toBeLessThan(8 * Math.max(singleMs, 2));
    expect(singleMs).toBeLessThan(2000);
  });

  it('compiles and evaluates a 200k-character query', () => {
    const filter = compileCertificateFilter(repeatTo(TARGET_LENGTH, 'CertId -gt 5', ' AND '));
    const cert = {
      Id: 6,
      ContentBytes: 'x',
      Thumbprint: 'AA',
      SerialNumber: '01',
      ImportDate: '2025-01-01T00:00:00Z',
      NotBefore: '2025-01-01T00:00:00Z',
      NotAfter: '2026-01-01T00:00:00Z',
      CertState: 1,
      KeySizeInBits: 2048,
      KeyType: 1,
      SigningAlgorithm: 'SHA-256withRSA',
    };
    expect(filter(cert)).toBe(true);
    expect(filter({ ...cert, Id: 5 })).toBe(false);
  });
});

describe('nesting limit', () => {
  it(`accepts ${MAX_NESTING} levels of parentheses and round-trips them`, () => {
    const tree = parseQuery(nested(MAX_NESTING, 'CN -eq "x"'));
    expect(tree).toEqual({ type: 'clause', field: 'CN', operator: '-eq', value: 'x' });
    const deepGroups = nested(MAX_NESTING - 1, 'a -eq 1 AND (b -eq 2 OR c -eq 3)');
    expect(parseQuery(printQuery(parseQuery(deepGroups)))).toEqual(parseQuery(deepGroups));
  });

  it(`rejects level ${MAX_NESTING + 1} with a QueryError at its "("`, () => {
    expect(() => parseQuery(nested(MAX_NESTING + 1, 'CN -eq "x"'))).toThrow(
      `query_filter: parentheses nested deeper than ${MAX_NESTING} levels at column ${MAX_NESTING + 1}`,
    );
  });

  it('rejects 100k open parentheses with a QueryError, not a stack overflow', () => {
    const error = (() => {
      try {
        parseQuery('('.repeat(100_000));
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(QueryError);
  });

  it('keeps the message short when the bad part of a huge query is huge', () => {
    const huge = `CN -eq "${'x'.repeat(TARGET_LENGTH)}`;
    expect(() => parseQuery(huge)).toThrow(/^query_filter: unterminated string starting at column 8$/);
  });
});
