// Public API of the exporters: findings as a CycloneDX 1.6 CBOM, CSV, JSON Lines, and a terminal table.
export {
  ALGORITHM_REF_PREFIX,
  CERTIFICATE_REF_PREFIX,
  CRYPTO_ENCODING_PROPERTY,
  CbomBuilder,
  FINDING_PROPERTY,
  KEY_REF_PREFIX,
  algorithmRef,
  buildCbom,
  findingsToCbomJson,
  normalizeCbom,
  serializeCbom,
  validateCbomJson,
} from './cbom';
export type { CbomOptions, CbomValidation } from './cbom';
export { keyAlgorithm, signatureAlgorithm } from './cbom-algorithms';
export type { CbomAlgorithm, CbomCryptoFunction, CbomPrimitive } from './cbom-algorithms';
export {
  CSV_COLUMNS,
  CSV_HEADER,
  csvHeaderLine,
  csvTextCell,
  findingToCsvLine,
  findingsToCsv,
  writeFindingsCsv,
} from './csv';
export { findingToJsonLine, findingsToJsonl, writeFindingsJsonl } from './jsonl';
export type { FindingSource } from './stream';
export {
  formatFindingsSummary,
  formatFindingsTable,
  keyLabel,
  summarizeFindings,
  terminalSafe,
} from './table';
export type { FindingsSummary } from './table';
