// Command's certificate query language (QueryString / pq.queryString): parse, check, print, compose, evaluate.
export type { AndNode, ClauseNode, GroupNode, Operator, OrNode, QueryNode } from './ast';
export { OPERATORS } from './ast';
export type { ClauseValue } from './build';
export { and, clause, or, withCommandFieldNames } from './build';
export type { QueryErrorDetails } from './errors';
export { QueryError } from './errors';
export type { CertificatePredicate, CompileOptions } from './evaluator';
export { compileCertificateFilter } from './evaluator';
export type {
  BuiltInField,
  FieldAccessor,
  FieldEvidence,
  FieldType,
  FieldValue,
  ResolvedField,
} from './fields';
export { BUILT_IN_FIELDS, OPERATORS_BY_TYPE, resolveField } from './fields';
export type { ParseOptions } from './parser';
export { MAX_NESTING, parseQuery } from './parser';
export { printQuery, quoteValue } from './printer';
