// Builders for composing queries in code, e.g. and(userFilter, clause('CertId', '-gt', 1234)), without splicing text.
import type { ClauseNode, GroupNode, Operator, QueryNode } from './ast';
import { isOperator } from './ast';
import { QueryError, quote } from './errors';
import type { ParseOptions } from './parser';
import { isValidFieldName, resolveField } from './fields';

export type ClauseValue = string | number | boolean | Date | null;

/**
 * One clause. Numbers are written in decimal, booleans as True/False, dates as ISO timestamps, null as NULL.
 * The field name and operator are checked here; whether the value suits the field is checked when the query is
 * compiled (or parsed after printing), where the column can be reported.
 */
export function clause(field: string, operator: Operator, value: ClauseValue): ClauseNode {
  if (!isValidFieldName(field)) {
    throw new QueryError(`invalid field name ${quote(field)}`, {
      column: 1,
      found: field,
      expected: 'a field name',
    });
  }
  if (!isOperator(operator)) {
    const found = String(operator);
    throw new QueryError(`unknown operator ${quote(found)}`, {
      column: field.length + 2,
      found,
      expected: 'an operator',
    });
  }
  return { type: 'clause', field, operator, value: valueText(value) };
}

function valueText(value: ClauseValue): string | null {
  if (value === null || typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`clause value must be a finite number, got ${value}`);
    return String(value);
  }
  if (Number.isNaN(value.getTime())) throw new RangeError('clause value is an invalid Date');
  return value.toISOString();
}

/**
 * AND of the nodes. null means "every certificate", so it drops out; nested ANDs are flattened. Returns null only
 * when every node is null.
 */
export function and(first: QueryNode, ...rest: (QueryNode | null)[]): QueryNode;
export function and(...nodes: (QueryNode | null)[]): QueryNode | null;
export function and(...nodes: (QueryNode | null)[]): QueryNode | null {
  return combine(
    'and',
    nodes.filter((node) => node !== null),
  );
}

/** OR of the nodes. A null node ("every certificate") makes the whole OR null; nested ORs are flattened. */
export function or(first: QueryNode, ...rest: QueryNode[]): QueryNode;
export function or(first: QueryNode | null, ...rest: (QueryNode | null)[]): QueryNode | null;
export function or(...nodes: (QueryNode | null)[]): QueryNode | null {
  if (nodes.length === 0) throw new RangeError('or() needs at least one node: an empty OR matches nothing');
  if (nodes.some((node) => node === null)) return null;
  return combine(
    'or',
    nodes.filter((node) => node !== null),
  );
}

function combine(type: GroupNode['type'], nodes: QueryNode[]): QueryNode | null {
  const children = nodes.flatMap((node) => (node.type === type ? node.children : [node]));
  if (children.length <= 1) return children[0] ?? null;
  return { type, children };
}

/**
 * The same query with every field name replaced by Command's own spelling (aliases such as NotAfter become
 * ExpirationDate; metadata names take the spelling from options.metadataFields). Use it before sending a query
 * to a real Command server, which may not know the aliases.
 */
export function withCommandFieldNames(node: QueryNode, options: ParseOptions = {}): QueryNode {
  if (node.type !== 'clause') {
    return { type: node.type, children: node.children.map((child) => withCommandFieldNames(child, options)) };
  }
  const field = resolveField(node.field, options.metadataFields);
  if (field === undefined) return node;
  return { ...node, field: field.kind === 'built-in' ? field.definition.name : field.name };
}
