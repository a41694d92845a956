// Printer: canonical query text from an AST, such that parseQuery(printQuery(node)) gives the same AST back.
import type { ClauseNode, GroupNode, QueryNode } from './ast';
import { isOperator } from './ast';
import { QueryError, quote } from './errors';
import { isValidFieldName } from './fields';

/**
 * Field names are printed as the AST stores them, operators in lower case, values double-quoted with `\` and `"`
 * escaped, AND/OR in upper case. Parentheses go where precedence or the tree's grouping needs them: around an OR
 * inside an AND, and around a group inside a group of the same kind. null (match everything) prints as ''.
 */
export function printQuery(node: QueryNode | null): string {
  if (node === null) return '';
  const printer = new Printer();
  printer.node(node, 'top');
  return printer.text();
}

/** Quotes a value the way Command's clients do; the lexer undoes exactly this. */
export function quoteValue(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

type Context = 'top' | GroupNode['type'];

class Printer {
  private readonly parts: string[] = [];
  private length = 0;

  text(): string {
    return this.parts.join('');
  }

  node(node: QueryNode, context: Context): void {
    if (node.type === 'clause') {
      this.clause(node);
      return;
    }
    const parenthesise = context === node.type || (context === 'and' && node.type === 'or');
    if (parenthesise) this.write('(');
    this.group(node);
    if (parenthesise) this.write(')');
  }

  private group(node: GroupNode): void {
    if (node.children.length === 0) {
      // An empty AND/OR has no text form; only a hand-built AST can contain one.
      throw new QueryError(`empty ${node.type.toUpperCase()} group`, {
        column: this.length + 1,
        found: '',
        expected: 'at least one clause',
      });
    }
    const separator = node.type === 'and' ? ' AND ' : ' OR ';
    node.children.forEach((child, index) => {
      if (index > 0) this.write(separator);
      // A lone child prints as itself; wrapping it would change the tree the text parses to.
      this.node(child, node.children.length === 1 ? 'top' : node.type);
    });
  }

  /** Checks hand-built clauses so that a field name or operator can never smuggle extra query text in. */
  private clause(node: ClauseNode): void {
    if (!isValidFieldName(node.field)) {
      throw new QueryError(`invalid field name ${quote(node.field)}`, {
        column: this.length + 1,
        found: node.field,
        expected: 'a field name',
      });
    }
    if (!isOperator(node.operator)) {
      throw new QueryError(`unknown operator ${quote(String(node.operator))}`, {
        column: this.length + node.field.length + 2,
        found: String(node.operator),
        expected: 'an operator',
      });
    }
    const value = node.value === null ? 'NULL' : quoteValue(node.value);
    this.write(`${node.field} ${node.operator} ${value}`);
  }

  private write(text: string): void {
    this.parts.push(text);
    this.length += text.length;
  }
}
