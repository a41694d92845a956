// What a caller tells the engine about the run (clock, sensor, source, labels, rules), checked once per context object.
import { InputError } from '#shared/errors';
import type { CertificateRule, InventoryRule, Rule } from './rule';
import { DEFAULT_RULES } from './rules/index';
import type { Label, SensorInfo } from './types';
import { SENSOR_TYPE } from './types';

export const DEFAULT_EXPIRING_WITHIN_DAYS = 30;

export interface AnalysisContext {
  /** The instant the analysis is about: expiry is judged against it and it becomes @timestamp. */
  now: Date;
  /** Certificates expiring within this many days fire KFS-VAL-002. Default 30. */
  expiringWithinDays?: number;
  sensor: { name: string; version: string; ranBy: string };
  /** Command's API URL (for analyseDer: the file's URL, or null). */
  source: { url: string | null };
  /** From the scan request; copied and frozen once per context. */
  labels?: readonly Label[];
  /** Replaces DEFAULT_RULES (to add a rule, pass [...DEFAULT_RULES, myRule]). */
  rules?: readonly Rule[];
  /** analyseDer only: the file the certificate came from, reported as observation.file.path. */
  filePath?: string;
}

/** The context in the form the engine uses per certificate; its objects are shared by every finding of the run. */
export interface PreparedContext {
  nowMs: number;
  timestamp: string;
  expiringWithinDays: number;
  sensor: SensorInfo;
  sourceUrl: string | null;
  labels: readonly Label[];
  certificateRules: readonly CertificateRule[];
  inventoryRules: readonly InventoryRule[];
  file: { path: string } | undefined;
}

interface CacheEntry {
  prepared: PreparedContext;
  // What the entry was built from: a caller that mutates its context object gets a fresh entry.
  now: Date;
  nowMs: number;
  expiringWithinDays: number | undefined;
  labels: readonly Label[] | undefined;
  rules: readonly Rule[] | undefined;
  sensor: AnalysisContext['sensor'];
  url: string | null;
  filePath: string | undefined;
}

const cache = new WeakMap<AnalysisContext, CacheEntry>();

const RULE_ID = /^KFS-[A-Z]+-\d{3}$/;

function splitRules(rules: readonly Rule[]): { certificate: CertificateRule[]; inventory: InventoryRule[] } {
  const certificate: CertificateRule[] = [];
  const inventory: InventoryRule[] = [];
  const seen = new Set<string>();
  for (const rule of rules) {
    if (!RULE_ID.test(rule.id))
      throw new InputError(`rule id "${rule.id}" does not match KFS-<FAMILY>-<NNN>`);
    if (seen.has(rule.id)) throw new InputError(`rule id ${rule.id} appears twice in the rule set`);
    seen.add(rule.id);
    if (rule.scope === 'certificate') certificate.push(rule);
    else inventory.push(rule);
  }
  return { certificate, inventory };
}

function build(context: AnalysisContext): PreparedContext {
  const nowMs = context.now instanceof Date ? context.now.getTime() : Number.NaN;
  if (!Number.isFinite(nowMs)) throw new InputError('AnalysisContext.now is not a valid Date');
  const days = context.expiringWithinDays ?? DEFAULT_EXPIRING_WITHIN_DAYS;
  if (!Number.isFinite(days) || days < 0) {
    throw new InputError(`expiringWithinDays must be a non-negative number, got ${String(days)}`);
  }
  const { certificate, inventory } = splitRules(context.rules ?? DEFAULT_RULES);
  const labels = Object.freeze(
    (context.labels ?? []).map((label) =>
      Object.freeze({ name: String(label.name), value: String(label.value) }),
    ),
  );
  return {
    nowMs,
    timestamp: new Date(nowMs).toISOString(),
    expiringWithinDays: days,
    sensor: Object.freeze({
      name: context.sensor.name,
      type: SENSOR_TYPE,
      version: context.sensor.version,
      ran_by: context.sensor.ranBy,
    }),
    sourceUrl: context.source.url ?? null,
    labels,
    certificateRules: Object.freeze(certificate),
    inventoryRules: Object.freeze(inventory),
    file: context.filePath === undefined ? undefined : Object.freeze({ path: context.filePath }),
  };
}

/**
 * The prepared form of `context`, built on first use and reused while the context object is unchanged. Throws
 * InputError for a context no run could use (invalid date, negative window, malformed or duplicate rule ids).
 */
export function prepareContext(context: AnalysisContext): PreparedContext {
  const entry = cache.get(context);
  if (
    entry !== undefined &&
    entry.now === context.now &&
    entry.nowMs === context.now.getTime() &&
    entry.expiringWithinDays === context.expiringWithinDays &&
    entry.labels === context.labels &&
    entry.rules === context.rules &&
    entry.sensor === context.sensor &&
    entry.url === context.source.url &&
    entry.filePath === context.filePath
  ) {
    return entry.prepared;
  }
  const prepared = build(context);
  cache.set(context, {
    prepared,
    now: context.now,
    nowMs: prepared.nowMs,
    expiringWithinDays: context.expiringWithinDays,
    labels: context.labels,
    rules: context.rules,
    sensor: context.sensor,
    url: context.source.url,
    filePath: context.filePath,
  });
  return prepared;
}

/** The scan request's labels ([{ "<name>": "<value>" }], as the AgileSec API takes them) as name/value pairs. */
export function labelsFromRequest(entries: ReadonlyArray<Readonly<Record<string, string>>>): Label[] {
  const labels: Label[] = [];
  for (const entry of entries) {
    for (const [name, value] of Object.entries(entry)) labels.push({ name, value });
  }
  return labels;
}
