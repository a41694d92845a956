// Evaluator: compiles a query once into closures that test CommandCertificates, for the simulator and local checks.
import type { CommandCertificate } from '#shared/keyfactor/model';
import type { ClauseNode, Operator, QueryNode } from './ast';
import type { BuiltInField, FieldAccessor, FieldValue, ResolvedField } from './fields';
import { parseEnumLiteral, readMetadata, resolveField } from './fields';
import {
  parseBooleanLiteral,
  parseCertificateInstant,
  parseDateLiteral,
  parseIntegerLiteral,
  parseNumberLiteral,
  parseTodayToken,
  resolveDateLiteral,
  utcDay,
} from './literals';
import type { ParseOptions } from './parser';
import { parseForEvaluation } from './parser';
import { printQuery } from './printer';

export type CertificatePredicate = (cert: CommandCertificate) => boolean;

export interface CompileOptions extends ParseOptions {
  /** The clock for %TODAY% tokens, read once at compile time. Defaults to the current time. */
  now?: Date;
}

type Scalar = string | number | boolean;
/** Tests one non-null value of a field against the literal, for a positive operator. */
type ValueTest = (value: Scalar) => boolean;
/** Sign of value − literal; NaN when the value cannot be compared (wrong type, unparsable date). */
type Ordering = (value: Scalar) => number;
type PositiveOperator = Exclude<Operator, '-ne' | '-notcontains'>;

/**
 * Compiles a query (text, AST or null for "everything") into a predicate. Text is parsed and checked once; an AST
 * is printed and parsed again so it gets the same checks, with error columns referring to printQuery(node).
 * Throws QueryError for anything the parser rejects and for fields the certificate object cannot answer.
 */
export function compileCertificateFilter(
  query: string | QueryNode | null,
  options: CompileOptions = {},
): CertificatePredicate {
  const text = typeof query === 'string' ? query : printQuery(query);
  const node = parseForEvaluation(text, options);
  if (node === null) return () => true;
  return compileNode(node, { now: options.now ?? new Date(), metadataFields: options.metadataFields });
}

interface CompileContext {
  readonly now: Date;
  readonly metadataFields: readonly string[] | undefined;
}

function compileNode(node: QueryNode, context: CompileContext): CertificatePredicate {
  if (node.type === 'clause') return compileClause(node, context);
  const children = node.children.map((child) => compileNode(child, context));
  return node.type === 'and' ? allOf(children) : anyOf(children);
}

function allOf(predicates: readonly CertificatePredicate[]): CertificatePredicate {
  return (cert) => {
    for (const predicate of predicates) if (!predicate(cert)) return false;
    return true;
  };
}

function anyOf(predicates: readonly CertificatePredicate[]): CertificatePredicate {
  return (cert) => {
    for (const predicate of predicates) if (predicate(cert)) return true;
    return false;
  };
}

function compileClause(node: ClauseNode, context: CompileContext): CertificatePredicate {
  const field = resolveField(node.field, context.metadataFields);
  if (field === undefined) throw new Error(`unreachable: the parser accepted unknown field ${node.field}`);
  const read = accessorFor(field);
  if (node.value === null) {
    const isNull = nullTest(read);
    return node.operator === '-eq' ? isNull : (cert) => !isNull(cert);
  }
  // -ne and -notcontains are the negation of -eq and -contains over all of a field's values (see the docs).
  const negated = node.operator === '-ne' || node.operator === '-notcontains';
  const positive = positiveOf(node.operator);
  const matches = anyValueMatches(read, valueTest(field, positive, node.value, context.now));
  return negated ? (cert) => !matches(cert) : matches;
}

function positiveOf(operator: Operator): PositiveOperator {
  if (operator === '-ne') return '-eq';
  if (operator === '-notcontains') return '-contains';
  return operator;
}

function accessorFor(field: ResolvedField): FieldAccessor {
  if (field.kind === 'metadata') {
    const { name } = field;
    return (cert) => readMetadata(cert, name);
  }
  const { read } = field.definition;
  if (read === undefined)
    throw new Error(`unreachable: the parser accepted unreadable field ${field.definition.name}`);
  return read;
}

/** NULL means absent: null, undefined, or a multi-valued field with no non-null value. */
function nullTest(read: FieldAccessor): CertificatePredicate {
  return (cert) => {
    const value = read(cert);
    if (Array.isArray(value)) return value.every((item) => item === null || item === undefined);
    return value === null || value === undefined;
  };
}

function anyValueMatches(read: FieldAccessor, test: ValueTest): CertificatePredicate {
  return (cert) => {
    const value = read(cert);
    if (!Array.isArray(value)) return isPresent(value) && test(value);
    for (const item of value) if (isPresent(item) && test(item)) return true;
    return false;
  };
}

function isPresent(value: FieldValue): value is Scalar {
  return value !== null && value !== undefined;
}

function valueTest(field: ResolvedField, operator: PositiveOperator, literal: string, now: Date): ValueTest {
  if (field.kind === 'metadata') return metadataTest(operator, literal, now);
  const { definition } = field;
  switch (definition.type) {
    case 'string':
      return textTest(operator, literal);
    case 'int':
      return numberTest(operator, checked(parseIntegerLiteral(literal), definition));
    case 'enum-int':
      return numberTest(operator, checked(parseEnumLiteral(definition, literal), definition));
    case 'bool': {
      const expected = checked(parseBooleanLiteral(literal), definition);
      return (value) => value === expected;
    }
    case 'date':
      return dateTest(operator, resolveDateLiteral(checked(parseDateLiteral(literal), definition), now));
  }
}

function checked<T>(parsed: T | null, definition: BuiltInField): T {
  if (parsed === null)
    throw new Error(`unreachable: the parser accepted a bad literal for ${definition.name}`);
  return parsed;
}

/** Case-insensitive, as with SQL Server's default collation; the literal is lower-cased once, here. */
function textTest(operator: PositiveOperator, literal: string): ValueTest {
  const lower = literal.toLowerCase();
  const onText = (test: (value: string) => boolean): ValueTest => {
    return (value) => typeof value === 'string' && test(value.toLowerCase());
  };
  switch (operator) {
    case '-eq':
      return onText((value) => value === lower);
    case '-contains':
      return onText((value) => value.includes(lower));
    case '-startswith':
      return onText((value) => value.startsWith(lower));
    case '-endswith':
      return onText((value) => value.endsWith(lower));
    default:
      return orderedTest(operator, (value) =>
        typeof value === 'string' ? compareText(value.toLowerCase(), lower) : NaN,
      );
  }
}

function compareText(value: string, literal: string): number {
  if (value === literal) return 0;
  return value < literal ? -1 : 1;
}

function numberTest(operator: PositiveOperator, literal: number): ValueTest {
  return orderedTest(operator, (value) => (typeof value === 'number' ? value - literal : NaN));
}

/** -eq compares UTC calendar days; the ordering operators compare instants. */
function dateTest(operator: PositiveOperator, instant: number): ValueTest {
  if (operator === '-eq') {
    const day = utcDay(instant);
    return (value) => typeof value === 'string' && utcDay(parseCertificateInstant(value)) === day;
  }
  return orderedTest(operator, (value) =>
    typeof value === 'string' ? parseCertificateInstant(value) - instant : NaN,
  );
}

/**
 * Metadata values are strings whose DataType the query does not reveal: %TODAY% tokens compare as dates, two
 * numbers compare as numbers, anything else as case-insensitive text.
 */
function metadataTest(operator: PositiveOperator, literal: string, now: Date): ValueTest {
  const token = parseTodayToken(literal);
  if (token !== null) return dateTest(operator, resolveDateLiteral(token, now));
  const number = parseNumberLiteral(literal);
  const asText = textTest(operator, literal);
  if (number === null || !isComparison(operator)) return asText;
  const asNumber = numberTest(operator, number);
  return (value) => {
    const parsed = typeof value === 'string' ? parseNumberLiteral(value) : null;
    return parsed === null ? asText(value) : asNumber(parsed);
  };
}

function isComparison(operator: PositiveOperator): boolean {
  return (
    operator === '-eq' || operator === '-lt' || operator === '-le' || operator === '-gt' || operator === '-ge'
  );
}

function orderedTest(operator: PositiveOperator, order: Ordering): ValueTest {
  switch (operator) {
    case '-lt':
      return (value) => order(value) < 0;
    case '-le':
      return (value) => order(value) <= 0;
    case '-gt':
      return (value) => order(value) > 0;
    case '-ge':
      return (value) => order(value) >= 0;
    default:
      // -eq, and the text operators the parser only lets through for text and metadata fields.
      return (value) => order(value) === 0;
  }
}
