// Test-only harness: analyse through the public API and fail loudly on any finding the JSON Schema rejects, so
// every finding a test produces is schema-checked.
import type { CommandCertificate } from '#shared/keyfactor/model';
import { analyseCertificate, analyseDer } from '#shared/findings/analyse';
import type { AnalysisContext } from '#shared/findings/context';
import type { RuleResult } from '#shared/findings/types';
import type { Finding } from '#shared/findings/types';
import { createFindingValidator } from '#shared/findings/schema';
import type { FindingValidator } from '#shared/findings/schema';
import { TEST_NOW, commandCertificate } from './craft';

export const TEST_CONTEXT: AnalysisContext = {
  now: TEST_NOW,
  sensor: { name: 'Findings unit tests', version: '0.1.0', ranBy: 'vitest' },
  source: { url: 'https://command.example.com/KeyfactorAPI' },
  labels: [{ name: 'environment', value: 'test' }],
};

let validator: FindingValidator | undefined;

/** Throws with ajv's messages when the finding is not valid against finding.schema.json. */
export function assertSchemaValid(finding: unknown): void {
  validator ??= createFindingValidator();
  const result = validator(finding);
  if (!result.valid) {
    throw new Error(`finding violates finding.schema.json:\n  ${result.errors.join('\n  ')}`);
  }
}

export function analyseChecked(input: CommandCertificate, context: AnalysisContext = TEST_CONTEXT): Finding {
  const finding = analyseCertificate(input, context);
  assertSchemaValid(finding);
  return finding;
}

export function analyseDerChecked(der: Uint8Array, context: AnalysisContext = TEST_CONTEXT): Finding {
  const finding = analyseDer(der, context);
  assertSchemaValid(finding);
  return finding;
}

/** Analyses `der` as a Command certificate with `overrides`, checked against the schema. */
export function analyseCrafted(
  der: Buffer,
  overrides: Partial<CommandCertificate> = {},
  context: AnalysisContext = TEST_CONTEXT,
): Finding {
  return analyseChecked(commandCertificate(der, overrides), context);
}

export function ruleResult(finding: Finding, id: string): RuleResult | undefined {
  return finding.analysis.rules.find((rule) => rule.id === id);
}

export function ruleIds(finding: Finding): string[] {
  return finding.analysis.rules.map((rule) => rule.id);
}
