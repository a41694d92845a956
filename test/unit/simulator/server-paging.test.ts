import { describe, expect, it } from 'vitest';
import {
  canonicalParamName,
  InvalidParameterError,
  normaliseListParams,
  pageOf,
  pageWindow,
} from '#shared/simulator/paging';

const parse = (query: string) => normaliseListParams(new URLSearchParams(query));

describe('normaliseListParams', () => {
  it('applies Command defaults when nothing is sent', () => {
    expect(parse('')).toEqual({
      queryString: '',
      pageReturned: 1,
      returnLimit: 50,
      sortField: null,
      sortAscending: true,
      includeRevoked: false,
      includeExpired: false,
      includeLocations: false,
      includeMetadata: false,
      includeHasPrivateKey: false,
      collectionId: 0,
    });
  });

  it.each([
    ['pq.pageReturned=3&pq.returnLimit=7', 'pq.'],
    ['pagedQuery.pageReturned=3&pagedQuery.returnLimit=7', 'pagedQuery.'],
    ['query.pageReturned=3&query.returnLimit=7', 'query.'],
    ['certificateStoreQuery.pageReturned=3&certificateStoreQuery.returnLimit=7', 'certificateStoreQuery.'],
    ['sq.pageReturned=3&sq.returnLimit=7', 'sq.'],
    ['PageReturned=3&ReturnLimit=7', 'no prefix'],
    ['PQ.PAGERETURNED=3&returnlimit=7', 'any case'],
  ])('reads paging from %s (%s)', (query) => {
    const params = parse(query);
    expect(params.pageReturned).toBe(3);
    expect(params.returnLimit).toBe(7);
  });

  it('reads every field under its v11 name', () => {
    const params = parse(
      'QueryString=CertId%20-gt%205&SortField=NotAfter&SortAscending=1&IncludeRevoked=true&IncludeExpired=TRUE' +
        '&includeLocations=true&includeMetadata=true&includeHasPrivateKey=true&collectionId=4',
    );
    expect(params).toMatchObject({
      queryString: 'CertId -gt 5',
      sortField: 'NotAfter',
      sortAscending: false,
      includeRevoked: true,
      includeExpired: true,
      includeLocations: true,
      includeMetadata: true,
      includeHasPrivateKey: true,
      collectionId: 4,
    });
  });

  it('accepts the SortAscending enum by name', () => {
    expect(parse('SortAscending=Descending').sortAscending).toBe(false);
    expect(parse('pq.sortAscending=0').sortAscending).toBe(true);
  });

  it('ignores unknown parameters such as verbose', () => {
    expect(parse('verbose=2&foo=bar')).toEqual(parse(''));
  });

  it('keeps the first spelling when a parameter is sent twice', () => {
    expect(parse('pq.returnLimit=1000&ReturnLimit=50').returnLimit).toBe(1000);
  });

  it('treats empty values as absent', () => {
    expect(parse('PageReturned=&ReturnLimit=').pageReturned).toBe(1);
  });

  it.each([
    'PageReturned=0',
    'PageReturned=abc',
    'ReturnLimit=0',
    'ReturnLimit=1.5',
    'IncludeRevoked=yes',
    'SortAscending=2',
    'collectionId=-1',
    'PageReturned=99999999999',
  ])('rejects %s as Command model binding would', (query) => {
    expect(() => parse(query)).toThrow(InvalidParameterError);
  });

  it('names the parameter in the error message', () => {
    expect(() => parse('pq.includeExpired=maybe')).toThrow(/pq\.includeExpired/);
  });
});

describe('canonicalParamName', () => {
  it('does not strip a prefix that is only part of a name', () => {
    expect(canonicalParamName('queryString')).toBe('queryString');
    expect(canonicalParamName('query.queryString')).toBe('queryString');
    expect(canonicalParamName('pqpageReturned')).toBeNull();
  });
});

describe('pageWindow', () => {
  it('slices 1-based pages', () => {
    expect(pageWindow(2500, 1, 1000)).toEqual({ start: 0, end: 1000 });
    expect(pageWindow(2500, 3, 1000)).toEqual({ start: 2000, end: 2500 });
  });

  it('gives an empty window past the end', () => {
    expect(pageWindow(2500, 4, 1000)).toEqual({ start: 2500, end: 2500 });
    expect(pageWindow(0, 1, 50)).toEqual({ start: 0, end: 0 });
  });

  it('covers every item exactly once across pages', () => {
    const items = Array.from({ length: 103 }, (_, i) => i);
    const seen: number[] = [];
    for (let page = 1; page <= 12; page++)
      seen.push(...pageOf(items, { pageReturned: page, returnLimit: 10 }));
    expect(seen).toEqual(items);
  });
});
