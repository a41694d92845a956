// Lexer: turns query text into tokens one at a time, so the parser reports the leftmost error first.
import { QueryError } from './errors';

export type TokenKind = 'lparen' | 'rparen' | 'string' | 'word' | 'end';

export interface Token {
  readonly kind: TokenKind;
  /** For strings the unescaped content; otherwise the text as written ('' at the end). */
  readonly text: string;
  /** The text as written, quotes included, for error messages. */
  readonly raw: string;
  /** 1-based. */
  readonly column: number;
}

const SPACE = 32;
const TAB = 9;
const CARRIAGE_RETURN = 13;
const LEFT_PAREN = 40;
const RIGHT_PAREN = 41;
const DOUBLE_QUOTE = 34;
const SINGLE_QUOTE = 39;
const BACKSLASH = 92;
const LAST_ASCII = 127;
const UNICODE_SPACE = /\s/;

function isWhitespace(text: string, index: number): boolean {
  const code = text.charCodeAt(index);
  if (code === SPACE || (code >= TAB && code <= CARRIAGE_RETURN)) return true;
  return code > LAST_ASCII && UNICODE_SPACE.test(text.charAt(index));
}

/** Words run until whitespace, a parenthesis or a quote, which is why `)AND` and `"a"AND` split correctly. */
function endsWord(text: string, index: number): boolean {
  const code = text.charCodeAt(index);
  return (
    code === LEFT_PAREN ||
    code === RIGHT_PAREN ||
    code === DOUBLE_QUOTE ||
    code === SINGLE_QUOTE ||
    isWhitespace(text, index)
  );
}

export class Lexer {
  private position = 0;

  constructor(private readonly source: string) {}

  next(): Token {
    this.skipWhitespace();
    const start = this.position;
    if (start >= this.source.length) return { kind: 'end', text: '', raw: '', column: start + 1 };
    const code = this.source.charCodeAt(start);
    if (code === LEFT_PAREN || code === RIGHT_PAREN) {
      this.position++;
      return {
        kind: code === LEFT_PAREN ? 'lparen' : 'rparen',
        text: '',
        raw: this.source[start] ?? '',
        column: start + 1,
      };
    }
    if (code === DOUBLE_QUOTE || code === SINGLE_QUOTE) return this.quoted(code);
    return this.word();
  }

  private skipWhitespace(): void {
    while (this.position < this.source.length && isWhitespace(this.source, this.position)) this.position++;
  }

  private word(): Token {
    const start = this.position;
    while (this.position < this.source.length && !endsWord(this.source, this.position)) this.position++;
    const text = this.source.slice(start, this.position);
    return { kind: 'word', text, raw: text, column: start + 1 };
  }

  /**
   * Backslash escapes only the quote characters and itself, as the Terraform provider writes them; any other
   * backslash is kept, so a hand-written `"DOMAIN\user"` means what it says.
   */
  private quoted(quoteCode: number): Token {
    const start = this.position;
    const pieces: string[] = [];
    let pieceStart = start + 1;
    let index = pieceStart;
    while (index < this.source.length) {
      const code = this.source.charCodeAt(index);
      if (code === quoteCode) {
        pieces.push(this.source.slice(pieceStart, index));
        this.position = index + 1;
        const raw = this.source.slice(start, this.position);
        return { kind: 'string', text: pieces.join(''), raw, column: start + 1 };
      }
      if (code === BACKSLASH && isEscapable(this.source.charCodeAt(index + 1))) {
        pieces.push(this.source.slice(pieceStart, index));
        pieceStart = index + 1;
        index += 2;
        continue;
      }
      index++;
    }
    throw new QueryError('unterminated string starting', {
      column: start + 1,
      found: this.source.slice(start),
      expected: 'a closing quote',
    });
  }
}

function isEscapable(code: number): boolean {
  return code === DOUBLE_QUOTE || code === SINGLE_QUOTE || code === BACKSLASH;
}
