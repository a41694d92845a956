// Parser: every query from the Command references and the seed list parses to the tree it means.
import { describe, expect, it } from 'vitest';
import type { ClauseNode, QueryNode } from '#shared/query/index';
import { QueryError, parseQuery } from '#shared/query/index';

function c(field: string, operator: ClauseNode['operator'], value: string | null): ClauseNode {
  return { type: 'clause', field, operator, value };
}

describe('parseQuery', () => {
  describe('reference examples (shared/reference/command-query-fields.md and keyfactor-command-api.md §3)', () => {
    const examples: [string, QueryNode][] = [
      ['CertState -ne "2"', c('CertState', '-ne', '2')],
      ['ExpirationDate -ge "%TODAY%"', c('ExpirationDate', '-ge', '%TODAY%')],
      [
        'Thumbprint -eq "54E29764D0E2B780A05CDA073562FBF81616A93D"',
        c('Thumbprint', '-eq', '54E29764D0E2B780A05CDA073562FBF81616A93D'),
      ],
      ['thumbprint -eq "54e29764"', c('thumbprint', '-eq', '54e29764')],
      ['SerialNumber -eq "2733EA5F…DDD3"', c('SerialNumber', '-eq', '2733EA5F…DDD3')],
      ['IssuedCN -eq "www.example.com"', c('IssuedCN', '-eq', 'www.example.com')],
      ['IssuedDN -contains "demo"', c('IssuedDN', '-contains', 'demo')],
      ['IssuerDN -contains "Sectigo"', c('IssuerDN', '-contains', 'Sectigo')],
      ['CN -notcontains "keyother"', c('CN', '-notcontains', 'keyother')],
      ['CA -eq "keyfactor-KFTRAIN-CA"', c('CA', '-eq', 'keyfactor-KFTRAIN-CA')],
      ['CertState -eq "1"', c('CertState', '-eq', '1')],
      ['CertId -gt 2735', c('CertId', '-gt', '2735')],
      ['CertRequestId -eq 5', c('CertRequestId', '-eq', '5')],
      ['CertStoreFQDN -ne NULL', c('CertStoreFQDN', '-ne', null)],
      ['CertStorePath -eq "Production"', c('CertStorePath', '-eq', 'Production')],
      ['CertStoreType -eq "Akamai"', c('CertStoreType', '-eq', 'Akamai')],
      ['ExpirationDate -le "%TODAY+7%"', c('ExpirationDate', '-le', '%TODAY+7%')],
      ['ImportDate -ge "%TODAY-1%"', c('ImportDate', '-ge', '%TODAY-1%')],
      ['ImportDate -ge "%TODAY-2%"', c('ImportDate', '-ge', '%TODAY-2%')],
      ['IssuedDate -ge "%TODAY-30%"', c('IssuedDate', '-ge', '%TODAY-30%')],
      ['HasPrivateKey -eq True', c('HasPrivateKey', '-eq', 'True')],
      ['EKUName -eq "Server Authentication"', c('EKUName', '-eq', 'Server Authentication')],
      ['SAN -contains "example.com"', c('SAN', '-contains', 'example.com')],
      ['OwnerRoleName -eq "App Team"', c('OwnerRoleName', '-eq', 'App Team')],
      ['Retired -ne True', c('Retired', '-ne', 'True')],
      ['TemplateDefault -eq "true"', c('TemplateDefault', '-eq', 'true')],
      ['Status -eq "2"', c('Status', '-eq', '2')],
      ['status -eq 2', c('status', '-eq', '2')],
      ['ExpirationDate -lt "2025-01-31T00:00:00Z"', c('ExpirationDate', '-lt', '2025-01-31T00:00:00Z')],
      ['ExpirationDate -lt "2025-01-31"', c('ExpirationDate', '-lt', '2025-01-31')],
      [
        'CA -eq "keyfactor-KFTRAIN-CA" AND CertState -eq "6"',
        { type: 'and', children: [c('CA', '-eq', 'keyfactor-KFTRAIN-CA'), c('CertState', '-eq', '6')] },
      ],
      [
        'ExpirationDate -ge "%TODAY%" AND ExpirationDate -le "%TODAY+7%"',
        {
          type: 'and',
          children: [c('ExpirationDate', '-ge', '%TODAY%'), c('ExpirationDate', '-le', '%TODAY+7%')],
        },
      ],
      [
        'field1 -eq value1 AND field2 -gt value2',
        { type: 'and', children: [c('field1', '-eq', 'value1'), c('field2', '-gt', 'value2')] },
      ],
      [
        '(F -eq "a" OR F -eq "b")AND G -eq "c"',
        {
          type: 'and',
          children: [{ type: 'or', children: [c('F', '-eq', 'a'), c('F', '-eq', 'b')] }, c('G', '-eq', 'c')],
        },
      ],
      ["IssuedDate -gt '2025-01-01'", c('IssuedDate', '-gt', '2025-01-01')],
    ];

    it.each(examples)('parses %s', (text, expected) => {
      expect(parseQuery(text)).toEqual(expected);
    });
  });

  it('treats empty and whitespace-only queries as "match everything" (null)', () => {
    expect(parseQuery('')).toBeNull();
    expect(parseQuery('   \t\n ')).toBeNull();
  });

  it('accepts AND / OR and operators in any case', () => {
    expect(parseQuery('A -EQ "1" and B -Contains "2" Or C -ne "3"')).toEqual({
      type: 'or',
      children: [
        { type: 'and', children: [c('A', '-eq', '1'), c('B', '-contains', '2')] },
        c('C', '-ne', '3'),
      ],
    });
  });

  it('binds AND tighter than OR', () => {
    expect(parseQuery('a -eq 1 OR b -eq 2 AND c -eq 3 OR d -eq 4')).toEqual({
      type: 'or',
      children: [
        c('a', '-eq', '1'),
        { type: 'and', children: [c('b', '-eq', '2'), c('c', '-eq', '3')] },
        c('d', '-eq', '4'),
      ],
    });
  });

  it('keeps explicit grouping, and drops parentheses around a single clause', () => {
    expect(parseQuery('a -eq 1 AND (b -eq 2 AND c -eq 3)')).toEqual({
      type: 'and',
      children: [c('a', '-eq', '1'), { type: 'and', children: [c('b', '-eq', '2'), c('c', '-eq', '3')] }],
    });
    expect(parseQuery('((a -eq 1))')).toEqual(c('a', '-eq', '1'));
  });

  it('needs no spaces around parentheses or after quoted values', () => {
    expect(parseQuery('(a -eq "x")OR(b -eq \'y\')AND(c -eq 1)')).toEqual({
      type: 'or',
      children: [c('a', '-eq', 'x'), { type: 'and', children: [c('b', '-eq', 'y'), c('c', '-eq', '1')] }],
    });
    expect(parseQuery('a -eq"x"')).toEqual(c('a', '-eq', 'x'));
  });

  it('reads NULL only unquoted, in any case; quoted it is the text NULL', () => {
    expect(parseQuery('a -eq null')).toEqual(c('a', '-eq', null));
    expect(parseQuery('a -ne Null')).toEqual(c('a', '-ne', null));
    expect(parseQuery('a -eq "NULL"')).toEqual(c('a', '-eq', 'NULL'));
  });

  it('unescapes \\", \\\' and \\\\ inside quotes and keeps other backslashes', () => {
    expect(parseQuery(String.raw`a -eq "say \"hi\""`)).toEqual(c('a', '-eq', 'say "hi"'));
    expect(parseQuery(String.raw`a -eq 'it\'s'`)).toEqual(c('a', '-eq', "it's"));
    expect(parseQuery(String.raw`a -eq "C:\\temp"`)).toEqual(c('a', '-eq', 'C:\\temp'));
    expect(parseQuery(String.raw`a -eq "DOMAIN\user"`)).toEqual(c('a', '-eq', 'DOMAIN\\user'));
    expect(parseQuery(`a -eq "it's" AND b -eq 'say "x"'`)).toEqual({
      type: 'and',
      children: [c('a', '-eq', "it's"), c('b', '-eq', 'say "x"')],
    });
  });

  it('reads bare numbers (negative too), booleans, date tokens and words', () => {
    expect(parseQuery('a -gt -5')).toEqual(c('a', '-gt', '-5'));
    expect(parseQuery('HasPrivateKey -eq false')).toEqual(c('HasPrivateKey', '-eq', 'false'));
    expect(parseQuery('ExpirationDate -le %TODAY+7%')).toEqual(c('ExpirationDate', '-le', '%TODAY+7%'));
    expect(parseQuery('CertStorePath -eq Production')).toEqual(c('CertStorePath', '-eq', 'Production'));
  });

  it('accepts metadata field names with digits, "_" and "-", and unicode letters', () => {
    expect(parseQuery('App-Owner_2 -eq "x"')).toEqual(c('App-Owner_2', '-eq', 'x'));
    expect(parseQuery('Größe -eq "x"')).toEqual(c('Größe', '-eq', 'x'));
  });

  it('accepts aliases and keeps the spelling the user wrote', () => {
    expect(parseQuery('notafter -lt "2025-01-01" AND Id -gt 7 AND KeySize -ge 2048')).toEqual({
      type: 'and',
      children: [c('notafter', '-lt', '2025-01-01'), c('Id', '-gt', '7'), c('KeySize', '-ge', '2048')],
    });
  });

  it('accepts KeyType names in any case as well as numbers', () => {
    expect(parseQuery('KeyType -eq "rsa"')).toEqual(c('KeyType', '-eq', 'rsa'));
    expect(parseQuery('KeyType -eq 3')).toEqual(c('KeyType', '-eq', '3'));
  });

  it('accepts unknown names as metadata fields when no metadata list is given', () => {
    expect(parseQuery('IssuedDat -eq 1')).toEqual(c('IssuedDat', '-eq', '1'));
  });

  it('accepts listed metadata fields in any case when a metadata list is given', () => {
    expect(parseQuery('retired -ne True', { metadataFields: ['Retired'] })).toEqual(
      c('retired', '-ne', 'True'),
    );
    expect(() => parseQuery('Retird -ne True', { metadataFields: ['Retired'] })).toThrow(QueryError);
  });

  it('parses fields the certificate object cannot answer (Command knows them)', () => {
    expect(parseQuery('SSLDNSName -eq "www.example.com"', { metadataFields: [] })).toEqual(
      c('SSLDNSName', '-eq', 'www.example.com'),
    );
  });
});
