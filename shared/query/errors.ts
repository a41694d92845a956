// QueryError: a query_filter the user can fix, pointing at the column where the problem is.
import { InputError } from '#shared/errors';

/** Longest piece of the query quoted back in a message, so a huge query cannot produce a huge message. */
const MAX_QUOTED_LENGTH = 40;

export interface QueryErrorDetails {
  /** 1-based position in the query text (UTF-16 code units, newlines counted like any other character). */
  column: number;
  /** The text found at `column` (shortened), or '' at the end of the query. */
  found: string;
  /** What the parser wanted there, in words, e.g. 'an operator'. */
  expected: string;
}

export class QueryError extends InputError {
  readonly column: number;
  readonly found: string;
  readonly expected: string;

  /** `problem` is the part of the message before the column; `hint` follows it after a semicolon. */
  constructor(problem: string, details: QueryErrorDetails, hint?: string) {
    super(`query_filter: ${problem} at column ${details.column}${hint === undefined ? '' : `; ${hint}`}`);
    this.column = details.column;
    this.found = shorten(details.found);
    this.expected = details.expected;
  }
}

export function shorten(text: string): string {
  return text.length <= MAX_QUOTED_LENGTH ? text : `${text.slice(0, MAX_QUOTED_LENGTH)}…`;
}

/**
 * Quotes a piece of the query for a message. JSON escaping keeps newlines and control characters out of log lines.
 */
export function quote(text: string): string {
  return JSON.stringify(shorten(text));
}
