// Property tests: printing then parsing gives the AST back, and no input makes the parser fail with anything but QueryError.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CommandCertificate } from '#shared/keyfactor/model';
import type { ClauseNode, QueryNode } from '#shared/query/index';
import {
  BUILT_IN_FIELDS,
  OPERATORS,
  QueryError,
  compileCertificateFilter,
  parseQuery,
  printQuery,
} from '#shared/query/index';

const RESERVED = new Set(
  [...BUILT_IN_FIELDS.flatMap((field) => [field.name, ...field.aliases]), 'and', 'or'].map((name) =>
    name.toLowerCase(),
  ),
);

const metadataName = fc
  .oneof(
    fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,12}$/),
    fc.constantFrom('Größe', 'Émission', '名前', '9lives', 'x-', 'NULL', 'True'),
  )
  .filter((name) => !RESERVED.has(name.toLowerCase()));

const trickyUnit = fc.constantFrom('"', "'", '\\', 'a', ' ', '(', ')', '%', '\n', 'é', '😀', 'AND', '-eq');
const anyValue = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: trickyUnit }));

const metadataClause: fc.Arbitrary<ClauseNode> = fc.record({
  type: fc.constant('clause' as const),
  field: metadataName,
  operator: fc.constantFrom(...OPERATORS),
  value: anyValue,
});

const nullClause: fc.Arbitrary<ClauseNode> = fc.record({
  type: fc.constant('clause' as const),
  field: metadataName,
  operator: fc.constantFrom('-eq' as const, '-ne' as const),
  value: fc.constant(null),
});

const builtInClause: fc.Arbitrary<ClauseNode> = fc.constantFrom(
  ...[
    'CertState -ne "2"',
    'ExpirationDate -le "%TODAY+7%"',
    'IssuedDate -gt "2025-01-01"',
    'CertId -gt "-3"',
    'KeyType -eq "ecc"',
    'HasPrivateKey -eq "False"',
    'CertStoreFQDN -ne NULL',
    'SAN -contains "ex\\"ample"',
    'SSLDNSName -eq "x"',
  ].map((text) => parseQuery(text) as ClauseNode),
);

const clauseArb = fc.oneof(metadataClause, nullClause, builtInClause);

const nodeArb: fc.Memo<QueryNode> = fc.memo((depth) =>
  depth <= 1 ? clauseArb : fc.oneof(clauseArb, groupArb(depth)),
);

function groupArb(depth: number): fc.Arbitrary<QueryNode> {
  return fc
    .tuple(
      fc.constantFrom('and' as const, 'or' as const),
      fc.array(nodeArb(depth - 1), { minLength: 2, maxLength: 4 }),
    )
    .map(([type, children]): QueryNode => (type === 'and' ? { type, children } : { type, children }));
}

const TOKENS = [
  '(',
  ')',
  'AND',
  'or',
  'CN',
  'IssuedDate',
  'CertState',
  'HasPrivateKey',
  'Retired',
  'App-Owner',
  '-eq',
  '-NE',
  '-contains',
  '-gt',
  '-like',
  'NULL',
  'True',
  '1',
  '-5',
  '"x"',
  "'y'",
  '"%TODAY+7%"',
  '%TODAY-1%',
  '"2025-01-01"',
  '"',
  "'",
  '\\',
  '\\"',
  '$',
  'é',
];
const tokenSoup = fc
  .array(fc.tuple(fc.constantFrom(...TOKENS), fc.constantFrom('', ' ', ' ', '\t', '\n')), { maxLength: 30 })
  .map((parts) => parts.map(([token, space]) => token + space).join(''));

const sampleCertificate: CommandCertificate = {
  Id: 1,
  ContentBytes: 'MIIB',
  Thumbprint: 'AA',
  SerialNumber: '01',
  ImportDate: '2025-06-01T00:00:00Z',
  NotBefore: '2025-01-01T00:00:00Z',
  NotAfter: '2026-01-01T00:00:00Z',
  CertState: 1,
  KeySizeInBits: 2048,
  KeyType: 1,
  SigningAlgorithm: 'SHA-256withRSA',
  IssuedCN: 'x',
  Metadata: { Retired: 'True' },
};

/** The parser's contract on any input: a tree (or null) that prints and parses back to itself, or a QueryError. */
function checkParses(text: string, metadataFields?: string[]): void {
  let tree: QueryNode | null;
  try {
    tree = parseQuery(text, { metadataFields });
  } catch (error) {
    expect(error).toBeInstanceOf(QueryError);
    const { column } = error as QueryError;
    expect(column).toBeGreaterThanOrEqual(1);
    expect(column).toBeLessThanOrEqual(text.length + 1);
    return;
  }
  expect(parseQuery(printQuery(tree), { metadataFields })).toEqual(tree);
  try {
    expect(typeof compileCertificateFilter(tree, { metadataFields })(sampleCertificate)).toBe('boolean');
  } catch (error) {
    // Only a field the certificate cannot answer may be parsed but not compiled.
    expect(error).toBeInstanceOf(QueryError);
    expect((error as QueryError).message).toMatch(/cannot be evaluated/);
  }
}

describe('query properties', () => {
  it('parseQuery(printQuery(ast)) equals the ast', () => {
    fc.assert(
      fc.property(nodeArb(5), (tree) => {
        expect(parseQuery(printQuery(tree))).toEqual(tree);
      }),
      { numRuns: 500 },
    );
  });

  it('printQuery is a fixed point after one round', () => {
    fc.assert(
      fc.property(nodeArb(4), (tree) => {
        const text = printQuery(tree);
        expect(printQuery(parseQuery(text))).toBe(text);
      }),
    );
  });

  it('on arbitrary strings returns a tree or throws QueryError', () => {
    fc.assert(
      fc.property(fc.string(), (text) => checkParses(text)),
      { numRuns: 500 },
    );
  });

  it('on arbitrary full-unicode strings returns a tree or throws QueryError', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => checkParses(text)),
      { numRuns: 500 },
    );
  });

  it('on strings built from the token alphabet returns a tree or throws QueryError', () => {
    fc.assert(
      fc.property(tokenSoup, fc.boolean(), (text, withList) =>
        checkParses(text, withList ? ['Retired', 'App-Owner'] : undefined),
      ),
      { numRuns: 2000 },
    );
  });

  it('gives the same answer for text and for its parsed tree', () => {
    fc.assert(
      fc.property(tokenSoup, (text) => {
        let tree: QueryNode | null;
        try {
          tree = parseQuery(text);
          compileCertificateFilter(text);
        } catch {
          return;
        }
        const now = new Date('2025-06-15T00:00:00Z');
        expect(compileCertificateFilter(tree, { now })(sampleCertificate)).toBe(
          compileCertificateFilter(text, { now })(sampleCertificate),
        );
      }),
      { numRuns: 1000 },
    );
  });
});
