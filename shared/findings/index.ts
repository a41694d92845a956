// Public API of the findings engine: analyse certificates into finding documents, the rules, and the document schema.
export { analyseCertificate, analyseDer } from './analyse';
export { DEFAULT_EXPIRING_WITHIN_DAYS, labelsFromRequest, prepareContext } from './context';
export type { AnalysisContext } from './context';
export { assessPublicKey, ellipticCurveStrength, finiteFieldStrength } from './pqc';
export { isSelfSigned, isTlsServerLeaf, severityRank } from './rule';
export type { CertificateRule, InventoryRule, Rule, RuleOutcome, RuleSubject } from './rule';
export { DEFAULT_RULES } from './rules/index';
export { createFindingValidator, findingSchema } from './schema';
export type { FindingValidation, FindingValidator } from './schema';
export { FINDING_DOCUMENT_VERSION, SENSOR_TYPE, SEVERITIES } from './types';
export type * from './types';
