// The query AST: what parseQuery returns, printQuery prints and compileCertificateFilter evaluates.

export const OPERATORS = [
  '-eq',
  '-ne',
  '-contains',
  '-notcontains',
  '-startswith',
  '-endswith',
  '-lt',
  '-le',
  '-gt',
  '-ge',
] as const;

export type Operator = (typeof OPERATORS)[number];

/**
 * One `Field -op value` test. `field` keeps the spelling the user wrote (Command matches names case-insensitively);
 * `value` is the literal's text with quotes and escapes removed, or null for the bare keyword NULL. Quoted and bare
 * literals are not told apart because Command accepts `CertState -eq "1"` and `CertState -eq 1` alike.
 */
export interface ClauseNode {
  readonly type: 'clause';
  readonly field: string;
  readonly operator: Operator;
  readonly value: string | null;
}

/**
 * AND / OR of two or more children. The parser keeps explicit grouping: `a AND (b AND c)` is an AND whose second
 * child is an AND, so printing and parsing again gives back the same tree. Two interfaces rather than one with
 * `type: 'and' | 'or'`, so that checking `node.type` narrows.
 */
export interface AndNode {
  readonly type: 'and';
  readonly children: readonly QueryNode[];
}

export interface OrNode {
  readonly type: 'or';
  readonly children: readonly QueryNode[];
}

export type GroupNode = AndNode | OrNode;

export type QueryNode = ClauseNode | GroupNode;

export function isOperator(text: string): text is Operator {
  return (OPERATORS as readonly string[]).includes(text);
}
