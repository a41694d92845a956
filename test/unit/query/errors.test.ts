// Parse errors: a message the user can act on, the right column, and nothing but the query's own text.
import { describe, expect, it } from 'vitest';
import { InputError } from '#shared/errors';
import { QueryError, parseQuery } from '#shared/query/index';
import type { ParseOptions } from '#shared/query/index';

function parseError(text: string, options?: ParseOptions): QueryError {
  try {
    parseQuery(text, options);
  } catch (error) {
    if (error instanceof QueryError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be rejected`);
}

interface Case {
  query: string;
  message: string;
  column: number;
  found: string;
  options?: ParseOptions;
}

const cases: Case[] = [
  {
    query: 'IssuedDate "2025-01-01"',
    message: 'query_filter: expected an operator after "IssuedDate" at column 12',
    column: 12,
    found: '"2025-01-01"',
  },
  {
    query: 'IssuedDate',
    message: 'query_filter: expected an operator after "IssuedDate" at column 11',
    column: 11,
    found: '',
  },
  {
    query: 'CertState -eq',
    message: 'query_filter: expected a value after "-eq" at column 14',
    column: 14,
    found: '',
  },
  {
    query: 'CertState -eq AND CN -eq "x"',
    message: 'query_filter: expected a value after "-eq" at column 15',
    column: 15,
    found: 'AND',
  },
  {
    query: 'CN -eq "x" AND IssuedCN -eq "abc',
    message: 'query_filter: unterminated string starting at column 29',
    column: 29,
    found: '"abc',
  },
  {
    query: String.raw`CN -eq "abc\"`,
    message: 'query_filter: unterminated string starting at column 8',
    column: 8,
    found: String.raw`"abc\"`,
  },
  {
    query: '(CN -eq "x" OR CN -eq "y"',
    message: 'query_filter: missing ")" for the "(" at column 1',
    column: 1,
    found: '',
  },
  {
    query: 'CN -eq "x")',
    message: 'query_filter: unexpected ")" at column 11; there is no "(" for it to close',
    column: 11,
    found: ')',
  },
  {
    query: 'CN -eq "x" AND )',
    message: 'query_filter: unexpected ")" at column 16; expected a field name',
    column: 16,
    found: ')',
  },
  {
    query: 'CN -eq "x" garbage',
    message: 'query_filter: expected AND or OR before "garbage" at column 12',
    column: 12,
    found: 'garbage',
  },
  {
    query: '(CN -eq "x" garbage)',
    message: 'query_filter: expected AND, OR or ")" before "garbage" at column 13',
    column: 13,
    found: 'garbage',
  },
  {
    query: 'CN -like "web*"',
    message:
      'query_filter: unknown operator "-like" at column 4; use one of -eq, -ne, -contains, -notcontains, -startswith, -endswith',
    column: 4,
    found: '-like',
  },
  {
    query: 'CertId -gt NULL',
    message: 'query_filter: -gt cannot compare with NULL at column 12; use -eq NULL or -ne NULL',
    column: 12,
    found: 'NULL',
  },
  {
    query: 'CN -eq "x" AND ()',
    message: 'query_filter: empty parentheses at column 16',
    column: 16,
    found: '()',
  },
  {
    query: 'IssuedDat -gt "2025-01-01"',
    message: 'query_filter: unknown field "IssuedDat" at column 1; did you mean "IssuedDate"?',
    column: 1,
    found: 'IssuedDat',
    options: { metadataFields: [] },
  },
  {
    query: 'CN -eq "x" AND Retird -ne True',
    message: 'query_filter: unknown field "Retird" at column 16; did you mean "Retired"?',
    column: 16,
    found: 'Retird',
    options: { metadataFields: ['Retired', 'Owner'] },
  },
  {
    query: 'Zzzzzzzz -eq 1',
    message: 'query_filter: unknown field "Zzzzzzzz" at column 1',
    column: 1,
    found: 'Zzzzzzzz',
    options: { metadataFields: ['Retired'] },
  },
  {
    query: 'ExpirationDate -contains "2025"',
    message:
      'query_filter: -contains is not valid for date field "ExpirationDate" at column 16; use one of -eq, -ne, -lt, -le, -gt, -ge',
    column: 16,
    found: '-contains',
  },
  {
    query: 'HasPrivateKey -gt True',
    message:
      'query_filter: -gt is not valid for boolean field "HasPrivateKey" at column 15; use one of -eq, -ne',
    column: 15,
    found: '-gt',
  },
  {
    query: 'CN -gt "m"',
    message:
      'query_filter: -gt is not valid for text field "CN" at column 4; use one of -eq, -ne, -contains, -notcontains, -startswith, -endswith',
    column: 4,
    found: '-gt',
  },
  {
    query: 'IssuedDate -gt "2025-02-30"',
    message:
      'query_filter: invalid date "2025-02-30" for "IssuedDate" at column 16; use YYYY-MM-DD, an ISO 8601 timestamp, %TODAY%, %TODAY+N% or %TODAY-N%',
    column: 16,
    found: '"2025-02-30"',
  },
  {
    query: 'ExpirationDate -le "%TODAY+x%"',
    message:
      'query_filter: invalid date "%TODAY+x%" for "ExpirationDate" at column 20; use YYYY-MM-DD, an ISO 8601 timestamp, %TODAY%, %TODAY+N% or %TODAY-N%',
    column: 20,
    found: '"%TODAY+x%"',
  },
  {
    query: 'CertState -eq "Revoked"',
    message: 'query_filter: invalid value "Revoked" for "CertState" at column 15; use a number',
    column: 15,
    found: '"Revoked"',
  },
  {
    query: 'CertId -gt 12.5',
    message: 'query_filter: invalid integer "12.5" for "CertId" at column 12',
    column: 12,
    found: '12.5',
  },
  {
    query: 'HasPrivateKey -eq yes',
    message: 'query_filter: invalid boolean "yes" for "HasPrivateKey" at column 19; use True or False',
    column: 19,
    found: 'yes',
  },
  {
    query: '"CN" -eq "x"',
    message: 'query_filter: expected a field name at column 1; field names are not quoted',
    column: 1,
    found: '"CN"',
  },
  {
    query: 'CN -eq "x" AND',
    message: 'query_filter: expected a field name after "AND" at column 15',
    column: 15,
    found: '',
  },
  {
    query: 'CN -eq "x" or or CN -eq "y"',
    message: 'query_filter: expected a field name after "or" at column 15',
    column: 15,
    found: 'or',
  },
  {
    query: 'AND CN -eq "x"',
    message: 'query_filter: expected a field name at column 1',
    column: 1,
    found: 'AND',
  },
  {
    query: '-eq "x"',
    message: 'query_filter: expected a field name before "-eq" at column 1',
    column: 1,
    found: '-eq',
  },
  {
    query: 'Cert$State -eq 1',
    message:
      'query_filter: invalid field name "Cert$State" at column 1; field names use letters, digits, "_" and "-"',
    column: 1,
    found: 'Cert$State',
  },
];

describe('QueryError from parseQuery', () => {
  it.each(cases)('rejects $query', ({ query, message, column, found, options }) => {
    const error = parseError(query, options);
    expect(error.message).toBe(message);
    expect(error.column).toBe(column);
    expect(error.found).toBe(found);
    expect(error.expected).not.toBe('');
  });

  it('is an InputError named QueryError, with no cause to leak', () => {
    const error = parseError('CN -like "x"');
    expect(error).toBeInstanceOf(InputError);
    expect(error.name).toBe('QueryError');
    expect(error.cause).toBeUndefined();
  });

  it('reports the leftmost problem first', () => {
    expect(parseError('CN -like "unterminated').message).toMatch(/unknown operator "-like" at column 4/);
  });

  it('shortens what it quotes back, and escapes newlines so a log line stays one line', () => {
    const longValue = 'x'.repeat(5000);
    const error = parseError(`CertId -gt "${longValue}"`);
    expect(error.message.length).toBeLessThan(200);
    expect(error.found.length).toBeLessThanOrEqual(41);
    expect(parseError('CN -eq "x"\nevil\nline').message).not.toContain('\n');
  });

  it('does not reveal the metadata list except as the one closest suggestion', () => {
    const error = parseError('Nothing -eq 1', { metadataFields: ['SecretProject', 'Owner'] });
    expect(error.message).not.toContain('SecretProject');
    expect(error.message).not.toContain('Owner');
  });

  it('counts columns across newlines from the start of the text', () => {
    expect(parseError('CN -eq "x"\nAND IssuedDate').column).toBe(26);
  });
});
