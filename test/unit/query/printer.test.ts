// Printer and builders: canonical text, minimal parentheses, and composition without string splicing.
import { describe, expect, it } from 'vitest';
import type { ClauseNode, QueryNode } from '#shared/query/index';
import {
  QueryError,
  and,
  clause,
  or,
  parseQuery,
  printQuery,
  withCommandFieldNames,
} from '#shared/query/index';

function c(field: string, value: string): ClauseNode {
  return { type: 'clause', field, operator: '-eq', value };
}

describe('printQuery', () => {
  it('prints canonical text: lower-case operators, double-quoted values, upper-case AND/OR', () => {
    const tree = parseQuery("thumbprint -EQ 'abc' and CertState -Ne 2 or Retired -ne true or X -eq null");
    expect(printQuery(tree)).toBe(
      'thumbprint -eq "abc" AND CertState -ne "2" OR Retired -ne "true" OR X -eq NULL',
    );
  });

  it('escapes backslashes and double quotes, and leaves single quotes alone', () => {
    expect(printQuery(c('a', 'say "hi" \\ it\'s'))).toBe(String.raw`a -eq "say \"hi\" \\ it's"`);
  });

  it('prints null as the empty query', () => {
    expect(printQuery(null)).toBe('');
  });

  const cases: [string, QueryNode, string][] = [
    [
      'no parentheses for AND inside OR',
      { type: 'or', children: [c('a', '1'), { type: 'and', children: [c('b', '2'), c('c', '3')] }] },
      'a -eq "1" OR b -eq "2" AND c -eq "3"',
    ],
    [
      'parentheses for OR inside AND',
      { type: 'and', children: [{ type: 'or', children: [c('a', '1'), c('b', '2')] }, c('c', '3')] },
      '(a -eq "1" OR b -eq "2") AND c -eq "3"',
    ],
    [
      'parentheses for AND inside AND, to keep the grouping',
      { type: 'and', children: [c('a', '1'), { type: 'and', children: [c('b', '2'), c('c', '3')] }] },
      'a -eq "1" AND (b -eq "2" AND c -eq "3")',
    ],
    [
      'parentheses for OR inside OR',
      { type: 'or', children: [{ type: 'or', children: [c('a', '1'), c('b', '2')] }, c('c', '3')] },
      '(a -eq "1" OR b -eq "2") OR c -eq "3"',
    ],
    [
      'a lone child as itself',
      { type: 'and', children: [{ type: 'or', children: [c('a', '1'), c('b', '2')] }] },
      'a -eq "1" OR b -eq "2"',
    ],
  ];

  it.each(cases)('puts %s', (_, tree, text) => {
    expect(printQuery(tree)).toBe(text);
  });

  it('refuses hand-built field names that would change the query', () => {
    const injected: ClauseNode = { type: 'clause', field: 'CN -eq "x" OR CN', operator: '-eq', value: 'y' };
    expect(() => printQuery({ type: 'and', children: [c('a', '1'), injected] })).toThrow(
      'query_filter: invalid field name "CN -eq \\"x\\" OR CN" at column 15',
    );
  });

  it('refuses an empty group, which has no text form', () => {
    expect(() => printQuery({ type: 'or', children: [] })).toThrow(QueryError);
  });
});

describe('clause', () => {
  it('writes numbers in decimal, booleans as True/False, dates as ISO timestamps and null as NULL', () => {
    expect(clause('CertId', '-gt', 1234)).toEqual({
      type: 'clause',
      field: 'CertId',
      operator: '-gt',
      value: '1234',
    });
    expect(clause('Retired', '-ne', true).value).toBe('True');
    expect(clause('HasPrivateKey', '-eq', false).value).toBe('False');
    expect(clause('ImportDate', '-ge', new Date('2025-01-31T00:00:00Z')).value).toBe(
      '2025-01-31T00:00:00.000Z',
    );
    expect(clause('CertStoreFQDN', '-ne', null).value).toBeNull();
  });

  it('rejects field names that are not identifiers, and unknown operators', () => {
    expect(() => clause('CN OR x', '-eq', 'a')).toThrow(QueryError);
    expect(() => clause('AND', '-eq', 'a')).toThrow(QueryError);
    expect(() => clause('CN', '-like' as '-eq', 'a')).toThrow(
      'query_filter: unknown operator "-like" at column 4',
    );
    expect(() => clause('CertId', '-gt', Number.NaN)).toThrow(RangeError);
    expect(() => clause('ImportDate', '-gt', new Date('nope'))).toThrow(RangeError);
  });
});

describe('and / or', () => {
  const user = parseQuery('CN -eq "a" OR CN -eq "b"');

  it('composes a user filter with a cursor clause without splicing text', () => {
    expect(printQuery(and(user, clause('CertId', '-gt', 1234)))).toBe(
      '(CN -eq "a" OR CN -eq "b") AND CertId -gt "1234"',
    );
  });

  it('treats a null user filter as "everything": AND drops it, OR becomes everything', () => {
    expect(and(null, clause('CertId', '-gt', 1))).toEqual(clause('CertId', '-gt', 1));
    expect(and(null, null)).toBeNull();
    expect(and()).toBeNull();
    expect(or(null, clause('CertId', '-gt', 1))).toBeNull();
  });

  it('flattens nested groups of the same kind and returns a single node unwrapped', () => {
    const x = clause('X', '-eq', 1);
    const y = clause('Y', '-eq', 2);
    const z = clause('Z', '-eq', 3);
    expect(and(and(x, y), z)).toEqual({ type: 'and', children: [x, y, z] });
    expect(or(x, or(y, z))).toEqual({ type: 'or', children: [x, y, z] });
    expect(and(x)).toBe(x);
    expect(or(x)).toBe(x);
  });

  it('composes text that parses back to the same tree', () => {
    const composed = and(
      user,
      clause('ImportDate', '-ge', '%TODAY-2%'),
      or(clause('A', '-eq', 1), clause('B', '-ne', null)),
    );
    expect(parseQuery(printQuery(composed))).toEqual(composed);
  });
});

describe('withCommandFieldNames', () => {
  it("rewrites aliases to Command's names and metadata names to the listed spelling", () => {
    const tree = parseQuery('notafter -lt "%TODAY%" AND (id -gt 5 OR retired -ne True) AND cn -eq "x"');
    expect(printQuery(withCommandFieldNames(tree ?? c('a', '1'), { metadataFields: ['Retired'] }))).toBe(
      'ExpirationDate -lt "%TODAY%" AND (CertId -gt "5" OR Retired -ne "True") AND CN -eq "x"',
    );
  });
});
