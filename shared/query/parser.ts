// Recursive-descent parser: query := or; or := and (OR and)*; and := primary (AND primary)*; primary := ( or ) | clause.
import type { ClauseNode, Operator, QueryNode } from './ast';
import { isOperator } from './ast';
import { QueryError, quote } from './errors';
import type { FieldType, ResolvedField } from './fields';
import {
  OPERATORS_BY_TYPE,
  fieldTypeOf,
  isValidFieldName,
  parseEnumLiteral,
  resolveField,
  suggestFieldName,
} from './fields';
import type { Token } from './lexer';
import { Lexer } from './lexer';
import { parseBooleanLiteral, parseDateLiteral, parseIntegerLiteral, parseNumberLiteral } from './literals';

export interface ParseOptions {
  /**
   * Metadata field names Command knows. Absent: any name that is not built in is taken as a metadata field.
   * Present: such names are errors, with the closest built-in or metadata name suggested.
   */
  metadataFields?: readonly string[];
}

/** Deepest parenthesis nesting accepted; deeper queries are rejected instead of risking the call stack. */
export const MAX_NESTING = 200;

/** Parses and checks a query. Empty or whitespace-only text means "every certificate" and gives null. */
export function parseQuery(text: string, options: ParseOptions = {}): QueryNode | null {
  return new Parser(text, options, false).parse();
}

/** Like parseQuery, and also rejects fields Command knows but a CommandCertificate cannot answer. */
export function parseForEvaluation(text: string, options: ParseOptions = {}): QueryNode | null {
  return new Parser(text, options, true).parse();
}

const TYPE_WORDS: Readonly<Record<FieldType | 'metadata', string>> = {
  string: 'text',
  int: 'integer',
  'enum-int': 'integer',
  date: 'date',
  bool: 'boolean',
  metadata: 'metadata',
};

const EXPECTED_VALUE: Readonly<Record<FieldType, string>> = {
  string: 'a text value',
  int: 'an integer',
  'enum-int': 'an integer or a name',
  date: 'a date',
  bool: 'True or False',
};

const DATE_FORMS = 'use YYYY-MM-DD, an ISO 8601 timestamp, %TODAY%, %TODAY+N% or %TODAY-N%';

class Parser {
  private readonly lexer: Lexer;
  // Tokens are read only when looked at, so an error early in the query is reported before a later one.
  private lookahead: Token | undefined;
  private depth = 0;

  constructor(
    text: string,
    private readonly options: ParseOptions,
    private readonly forEvaluation: boolean,
  ) {
    this.lexer = new Lexer(text);
  }

  parse(): QueryNode | null {
    if (this.peek().kind === 'end') return null;
    const node = this.parseOr(undefined);
    const next = this.peek();
    if (next.kind === 'end') return node;
    if (next.kind === 'rparen') {
      throw new QueryError(
        'unexpected ")"',
        { column: next.column, found: ')', expected: 'AND, OR or the end of the query' },
        'there is no "(" for it to close',
      );
    }
    throw new QueryError(`expected AND or OR before ${quote(next.raw)}`, {
      column: next.column,
      found: next.raw,
      expected: 'AND, OR or the end of the query',
    });
  }

  private peek(): Token {
    this.lookahead ??= this.lexer.next();
    return this.lookahead;
  }

  private advance(): Token {
    const token = this.peek();
    this.lookahead = undefined;
    return token;
  }

  private peekKeyword(keyword: 'and' | 'or'): boolean {
    const token = this.peek();
    return token.kind === 'word' && token.text.toLowerCase() === keyword;
  }

  /** `previous` is the token before the first field name (AND, OR, "(" or none), for error messages. */
  private parseOr(previous: Token | undefined): QueryNode {
    const children = [this.parseAnd(previous)];
    while (this.peekKeyword('or')) children.push(this.parseAnd(this.advance()));
    return children.length === 1 && children[0] !== undefined ? children[0] : { type: 'or', children };
  }

  private parseAnd(previous: Token | undefined): QueryNode {
    const children = [this.parsePrimary(previous)];
    while (this.peekKeyword('and')) children.push(this.parsePrimary(this.advance()));
    return children.length === 1 && children[0] !== undefined ? children[0] : { type: 'and', children };
  }

  private parsePrimary(previous: Token | undefined): QueryNode {
    return this.peek().kind === 'lparen' ? this.parseGroup() : this.parseClause(previous);
  }

  private parseGroup(): QueryNode {
    const open = this.advance();
    if (this.depth >= MAX_NESTING) {
      throw new QueryError(`parentheses nested deeper than ${MAX_NESTING} levels`, {
        column: open.column,
        found: '(',
        expected: `at most ${MAX_NESTING} levels of parentheses`,
      });
    }
    if (this.peek().kind === 'rparen') {
      throw new QueryError('empty parentheses', { column: open.column, found: '()', expected: 'a clause' });
    }
    this.depth++;
    const node = this.parseOr(open);
    const close = this.peek();
    if (close.kind === 'end') {
      throw new QueryError('missing ")" for the "("', { column: open.column, found: '', expected: '")"' });
    }
    if (close.kind !== 'rparen') {
      throw new QueryError(`expected AND, OR or ")" before ${quote(close.raw)}`, {
        column: close.column,
        found: close.raw,
        expected: 'AND, OR or ")"',
      });
    }
    this.advance();
    this.depth--;
    return node;
  }

  private parseClause(previous: Token | undefined): ClauseNode {
    const fieldToken = this.peek();
    this.checkFieldToken(fieldToken, previous);
    this.advance();
    const field = this.resolve(fieldToken);
    const operatorToken = this.peek();
    const operator = this.readOperator(operatorToken, fieldToken, field);
    this.advance();
    const value = this.readValue(this.peek(), operator, fieldToken, field);
    this.advance();
    return { type: 'clause', field: fieldToken.text, operator, value };
  }

  private checkFieldToken(token: Token, previous: Token | undefined): void {
    const details = { column: token.column, found: token.raw, expected: 'a field name' };
    if (token.kind === 'rparen') throw new QueryError('unexpected ")"', details, 'expected a field name');
    // AND/OR where a field should be means a clause is missing, e.g. `a -eq 1 AND OR b -eq 2`.
    if (token.kind !== 'word' || isKeyword(token.text)) {
      const after = previous === undefined ? '' : ` after ${quote(previous.raw)}`;
      const hint = token.kind === 'string' ? 'field names are not quoted' : undefined;
      throw new QueryError(`expected a field name${after}`, details, hint);
    }
    if (token.text.startsWith('-')) {
      throw new QueryError(`expected a field name before ${quote(token.text)}`, details);
    }
    if (!isValidFieldName(token.text)) {
      const problem = `invalid field name ${quote(token.text)}`;
      throw new QueryError(problem, details, 'field names use letters, digits, "_" and "-"');
    }
  }

  private resolve(token: Token): ResolvedField {
    const { metadataFields } = this.options;
    const field = resolveField(token.text, metadataFields);
    const details = { column: token.column, found: token.text, expected: 'a field name' };
    if (field === undefined) {
      const suggestion = suggestFieldName(token.text, metadataFields);
      const hint = suggestion === undefined ? undefined : `did you mean ${quote(suggestion)}?`;
      throw new QueryError(`unknown field ${quote(token.text)}`, details, hint);
    }
    if (this.forEvaluation && field.kind === 'built-in' && field.definition.read === undefined) {
      throw new QueryError(
        `field ${quote(token.text)} cannot be evaluated against certificate data`,
        details,
        'the certificate object does not carry it',
      );
    }
    return field;
  }

  private readOperator(token: Token, fieldToken: Token, field: ResolvedField): Operator {
    const details = { column: token.column, found: token.raw, expected: 'an operator' };
    if (token.kind !== 'word' || !token.text.startsWith('-')) {
      throw new QueryError(`expected an operator after ${quote(fieldToken.text)}`, details);
    }
    const type = fieldTypeOf(field);
    const allowed = OPERATORS_BY_TYPE[type];
    const hint = `use one of ${allowed.join(', ')}`;
    const operator = token.text.toLowerCase();
    if (!isOperator(operator)) throw new QueryError(`unknown operator ${quote(token.text)}`, details, hint);
    if (!allowed.includes(operator)) {
      const problem = `${operator} is not valid for ${TYPE_WORDS[type]} field ${quote(fieldToken.text)}`;
      throw new QueryError(problem, details, hint);
    }
    return operator;
  }

  private readValue(
    token: Token,
    operator: Operator,
    fieldToken: Token,
    field: ResolvedField,
  ): string | null {
    const details = { column: token.column, found: token.raw, expected: 'a value' };
    if (token.kind === 'string') {
      this.checkLiteral(token, fieldToken, field);
      return token.text;
    }
    if (token.kind !== 'word' || isKeyword(token.text) || looksLikeOperator(token.text)) {
      throw new QueryError(`expected a value after ${quote(operator)}`, details);
    }
    if (token.text.toLowerCase() === 'null') {
      if (operator !== '-eq' && operator !== '-ne') {
        throw new QueryError(`${operator} cannot compare with NULL`, details, 'use -eq NULL or -ne NULL');
      }
      return null;
    }
    this.checkLiteral(token, fieldToken, field);
    return token.text;
  }

  private checkLiteral(token: Token, fieldToken: Token, field: ResolvedField): void {
    if (field.kind === 'metadata') return;
    const { type, enumNames } = field.definition;
    const details = { column: token.column, found: token.raw, expected: EXPECTED_VALUE[type] };
    const subject = `for ${quote(fieldToken.text)}`;
    const text = token.text;
    if (type === 'int' && parseIntegerLiteral(text) === null) {
      throw new QueryError(`invalid integer ${quote(text)} ${subject}`, details);
    }
    if (type === 'enum-int' && parseEnumLiteral(field.definition, text) === null) {
      const names = Object.values(enumNames ?? {});
      const hint = names.length === 0 ? 'use a number' : `use a number or one of ${names.join(', ')}`;
      throw new QueryError(`invalid value ${quote(text)} ${subject}`, details, hint);
    }
    if (type === 'bool' && parseBooleanLiteral(text) === null) {
      throw new QueryError(`invalid boolean ${quote(text)} ${subject}`, details, 'use True or False');
    }
    if (type === 'date' && parseDateLiteral(text) === null) {
      throw new QueryError(`invalid date ${quote(text)} ${subject}`, details, DATE_FORMS);
    }
  }
}

function isKeyword(text: string): boolean {
  const lower = text.toLowerCase();
  return lower === 'and' || lower === 'or';
}

/** `-5` is a value; `-ne` after an operator is a missing value, not the string "-ne". */
function looksLikeOperator(text: string): boolean {
  return text.startsWith('-') && parseNumberLiteral(text) === null;
}
