// The actioned-certificate count (seed "Actioned Certificates Tab"): from the stored inventory and each sensor's
// Command context, certificates in one or more of the seven categories, each counted once. No Command access here.
import type { Finding } from '#shared/findings/index';
import type { CommandCertificate } from '#shared/keyfactor/index';
import { compileCertificateFilter, type CertificatePredicate } from '#shared/query/index';
import { parseCertificateInstant } from '#shared/query/literals';
import type { StoredFinding } from '#shared/scan/model';
import {
  ACTIONED_CATEGORIES,
  type ActionedCategory,
  type ActionedRun,
  type CommandContextSnapshot,
} from './model.ts';
import { certRequestIdOf, commandViewOfFinding, fieldsNotInFinding } from './finding-view.ts';

export type ActionedCount = Pick<ActionedRun, 'total' | 'categories' | 'examined' | 'warnings'>;

export interface ActionedSource {
  /** The sensor's latest Command context; null when none was captured (category 7 cannot be judged then). */
  context: CommandContextSnapshot | null;
  /** The sensor's findings in pages; only open ones count (resolved ones left Command). */
  findings: AsyncIterable<StoredFinding[]>;
}

export interface ActionedOptions {
  now: Date;
  /** Metadata field names whose values do not make a certificate actioned (compared case-insensitively). */
  excludedMetadataFields: readonly string[];
}

/** How many unjudgeable findings a warning names (the rest are counted, not listed). */
const MAX_NAMED_FINDINGS = 5;
/** Command's certificate state for revoked certificates. */
const REVOKED = 2;
const WEEK_MS = 7 * 24 * 3600 * 1000;
/** Workflow types whose Key names a collection the seed counts (Enrollment, Revocation... do not count). */
const COLLECTION_WORKFLOW_TYPES = new Set(['certificateenteredcollection', 'certificateleftcollection']);

/** Bit per category, in ACTIONED_CATEGORIES order: a certificate seen by several sensors ORs its bits. */
const BIT: Record<ActionedCategory, number> = Object.fromEntries(
  ACTIONED_CATEGORIES.map((category, index) => [category, 1 << index]),
) as Record<ActionedCategory, number>;

/**
 * Counts actioned certificates across sensors. A certificate (finding id = SHA-256 of its DER) seen by several
 * sensors counts once: it is in a category when any sensor puts it there. Problems that leave part of the count
 * unjudged (a collection query that does not parse, a workflow Key that is no collection) become warnings.
 */
export async function countActionedCertificates(
  sources: AsyncIterable<ActionedSource> | Iterable<ActionedSource>,
  options: ActionedOptions,
): Promise<ActionedCount> {
  const now = options.now.getTime();
  if (!Number.isFinite(now))
    throw new TypeError('countActionedCertificates: options.now is not a valid date');
  const excluded = new Set(options.excludedMetadataFields.map((name) => name.trim().toLowerCase()));
  const warnings: string[] = [];
  const bitsById = new Map<string, number>();

  for await (const source of sources) {
    const collections = collectionPredicates(source.context, options.now, warnings);
    let sensorKey: string | undefined;
    const unjudged: string[] = [];
    for await (const page of source.findings) {
      for (const stored of page) {
        if (stored.status !== 'open') continue;
        sensorKey ??= stored.sensorKey;
        let bits = 0;
        try {
          bits = categoryBits(stored.document, now, excluded, collections);
        } catch (error) {
          // One damaged stored document must not stop the licence count; it is examined, not counted, and named.
          unjudged.push(`${stored.findingId} (${error instanceof Error ? error.message : String(error)})`);
        }
        bitsById.set(stored.findingId, (bitsById.get(stored.findingId) ?? 0) | bits);
      }
    }
    if (unjudged.length > 0) {
      const shown = unjudged.slice(0, MAX_NAMED_FINDINGS).join('; ');
      const more =
        unjudged.length > MAX_NAMED_FINDINGS ? ` and ${unjudged.length - MAX_NAMED_FINDINGS} more` : '';
      warnings.push(
        `sensor ${sensorKey ?? '(unknown)'}: ${unjudged.length} stored finding(s) could not be judged and were not counted: ${shown}${more}`,
      );
    }
    if (source.context === null && sensorKey !== undefined) {
      warnings.push(
        `sensor ${sensorKey}: no Command context (collections, alerts, workflows) has been captured yet, so its certificates were not judged for the alert/workflow collection category; it is captured at the sensor's next scan`,
      );
    }
  }

  const categories = Object.fromEntries(ACTIONED_CATEGORIES.map((c) => [c, 0])) as Record<
    ActionedCategory,
    number
  >;
  let total = 0;
  for (const bits of bitsById.values()) {
    if (bits === 0) continue;
    total += 1;
    for (const category of ACTIONED_CATEGORIES) if (bits & BIT[category]) categories[category] += 1;
  }
  return { total, categories, examined: bitsById.size, warnings };
}

/** The certificate's categories as bits, for one sensor's view of it. */
function categoryBits(
  finding: Finding,
  now: number,
  excluded: ReadonlySet<string>,
  collections: readonly CertificatePredicate[],
): number {
  const k = finding.crypto.x509.keyfactor;
  // Not read from Command (a file finding): nothing Command did to it to count.
  if (k === null) return 0;
  if (isExpired(k.not_after, finding.crypto.x509.not_after, now)) return 0;
  const revoked = k.cert_state.code === REVOKED;
  if (revoked) {
    const revokedAt = k.revocation_date === null ? NaN : parseCertificateInstant(k.revocation_date);
    return revokedAt >= now - WEEK_MS && revokedAt <= now ? BIT.revokedLastWeek : 0;
  }
  let bits = 0;
  const requestId = certRequestIdOf(k);
  if (requestId !== null && requestId > 0) bits |= BIT.requested;
  if (hasCountedMetadata(k.metadata, excluded)) bits |= BIT.metadata;
  if (k.ssl_locations.length > 0) bits |= BIT.sslEndpoint;
  if (k.locations.length > 0) bits |= BIT.certificateStore;
  if (k.has_private_key === true) bits |= BIT.privateKey;
  if (collections.length > 0) {
    const view = commandViewOfFinding(finding) as CommandCertificate;
    if (collections.some((matches) => matches(view))) bits |= BIT.alertOrWorkflowCollection;
  }
  return bits;
}

/** Expired = NotAfter (Command's, else the certificate's) before now; an unreadable date is not taken as expired. */
function isExpired(commandNotAfter: string | null, x509NotAfter: string | undefined, now: number): boolean {
  let at = commandNotAfter === null ? NaN : parseCertificateInstant(commandNotAfter);
  if (!Number.isFinite(at) && x509NotAfter !== undefined) at = parseCertificateInstant(x509NotAfter);
  return Number.isFinite(at) && at < now;
}

/** A value that is not only blanks, in a field not on the exclusion list. */
function hasCountedMetadata(metadata: Record<string, string | null>, excluded: ReadonlySet<string>): boolean {
  for (const [name, value] of Object.entries(metadata)) {
    if (typeof value !== 'string' || value.trim() === '') continue;
    if (!excluded.has(name.trim().toLowerCase())) return true;
  }
  return false;
}

/**
 * Predicates of the collections that an expiration alert or a certificate-entered/left-collection workflow
 * references. A reference that names no collection, or a collection whose query cannot be evaluated here, is left
 * out with a warning naming it.
 */
function collectionPredicates(
  context: CommandContextSnapshot | null,
  now: Date,
  warnings: string[],
): CertificatePredicate[] {
  if (context === null) return [];
  const where = `sensor ${context.sensorKey} (${context.url})`;
  if (context.captureError !== undefined) {
    warnings.push(
      `${where}: Command's collections, expiration alerts and workflow definitions could not be read at scan ${context.scanId} (${context.captureError}), so its certificates were not judged for the alert/workflow collection category`,
    );
  }
  const byId = new Map(context.collections.map((c) => [c.Id, c]));
  const referenced = new Map<number, string[]>();
  const reference = (id: number, by: string) => {
    if (!byId.has(id)) {
      warnings.push(
        `${where}: ${by} references collection ${id}, which Command did not list; it was skipped`,
      );
      return;
    }
    referenced.set(id, [...(referenced.get(id) ?? []), by]);
  };
  for (const alert of context.expirationAlerts) {
    if (alert.CertificateQuery !== null)
      reference(alert.CertificateQuery.Id, `expiration alert "${alert.DisplayName}" (${alert.Id})`);
  }
  for (const workflow of context.workflowDefinitions) {
    if (!COLLECTION_WORKFLOW_TYPES.has(workflow.WorkflowType.toLowerCase())) continue;
    const by = `${workflow.WorkflowType} workflow "${workflow.DisplayName}" (${workflow.Id})`;
    const key = workflow.Key.trim();
    if (!/^\d+$/.test(key)) {
      warnings.push(
        `${where}: ${by} has Key "${workflow.Key}", which is not a collection id; it was skipped`,
      );
      continue;
    }
    reference(Number(key), by);
  }

  const predicates: CertificatePredicate[] = [];
  for (const id of [...referenced.keys()].sort((a, b) => a - b)) {
    const collection = byId.get(id);
    if (collection === undefined) continue;
    const name = `collection "${collection.Name}" (${collection.Id})`;
    try {
      const missing = fieldsNotInFinding(collection.Content);
      if (missing.length > 0) {
        warnings.push(
          `${where}: ${name} uses ${missing.join(', ')}, which the stored findings do not record; the collection was skipped`,
        );
        continue;
      }
      predicates.push(compileCertificateFilter(collection.Content, { now }));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      warnings.push(
        `${where}: ${name} has a query that cannot be evaluated (${reason}); the collection was skipped`,
      );
    }
  }
  return predicates;
}
