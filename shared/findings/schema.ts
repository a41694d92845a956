// The finding document's JSON Schema (draft 2020-12) and an ajv validator for it: for tests, exporters and consumers.
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import findingSchema from './finding.schema.json' with { type: 'json' };
import type { Finding } from './types';

export { findingSchema };

export interface FindingValidation {
  valid: boolean;
  /** "/analysis/rules/0/severity must be equal to one of the allowed values"; empty when valid. */
  errors: string[];
}

export type FindingValidator = (document: unknown) => FindingValidation;

function describe(error: ErrorObject): string {
  const where = error.instancePath === '' ? '(root)' : error.instancePath;
  const extra =
    error.keyword === 'additionalProperties'
      ? ` (${String((error.params as { additionalProperty?: unknown }).additionalProperty)})`
      : '';
  return `${where} ${error.message ?? error.keyword}${extra}`;
}

/** Compiles the schema once (tens of milliseconds); call the returned function per document. */
export function createFindingValidator(): FindingValidator {
  // strictTypes and strictRequired off: the if/then branches constrain and require properties of objects that the
  // main schema already types and defines.
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictRequired: false });
  addFormats(ajv);
  const validate = ajv.compile<Finding>(findingSchema);
  return (document: unknown) => {
    if (validate(document)) return { valid: true, errors: [] };
    return { valid: false, errors: (validate.errors ?? []).map(describe) };
  };
}
