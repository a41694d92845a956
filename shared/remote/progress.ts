// What a remote scan shows while it runs and when it ends: one updating line on a terminal (fetched, analysed,
// exported, rate, ETA), structured log lines otherwise, and a summary table of the sensor's open findings.
import { formatFindingsSummary, summarizeFindings, terminalSafe } from '#shared/export/index';
import type { Finding } from '#shared/findings/index';
import type { Logger } from '#shared/logging';
import type { ScanRecord } from '#shared/scan/model';

export interface ProgressSnapshot {
  state: ScanRecord['state'];
  planned: number;
  fetched: number;
  analysed: number;
  exported: number;
  /** ms since the scan started. */
  elapsedMs: number;
}

export interface ProgressReporter {
  update(snapshot: ProgressSnapshot): void;
  /** The last update is final: clear the terminal line. */
  finish(): void;
}

export function snapshotOf(scan: ScanRecord, startedAtMs: number, nowMs: number): ProgressSnapshot {
  return {
    state: scan.state,
    planned: scan.counts.plannedCertificates,
    fetched: scan.counts.fetchedCertificates,
    analysed: scan.counts.analysedCertificates,
    exported: scan.counts.exportedFindings,
    elapsedMs: Math.max(0, nowMs - startedAtMs),
  };
}

/** Certificates per second and seconds left, from what has been fetched so far; null until there is a rate. */
export function rateAndEta(s: ProgressSnapshot): { perSecond: number | null; etaSeconds: number | null } {
  if (s.elapsedMs < 250 || s.fetched === 0) return { perSecond: null, etaSeconds: null };
  const perSecond = s.fetched / (s.elapsedMs / 1000);
  const left = Math.max(0, s.planned - s.fetched);
  return { perSecond, etaSeconds: s.planned > 0 ? left / perSecond : null };
}

function duration(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  const m = Math.floor(seconds / 60);
  return m < 60 ? `${m}m${Math.round(seconds % 60)}s` : `${Math.floor(m / 60)}h${m % 60}m`;
}

export function progressLine(s: ProgressSnapshot): string {
  const { perSecond, etaSeconds } = rateAndEta(s);
  const of = s.planned > 0 ? `/${s.planned}` : '';
  const parts = [
    s.state.toLowerCase(),
    `fetched ${s.fetched}${of}`,
    `analysed ${s.analysed}`,
    `exported ${s.exported}`,
    perSecond === null ? '– certs/s' : `${Math.round(perSecond)} certs/s`,
    etaSeconds === null ? 'ETA –' : `ETA ${duration(etaSeconds)}`,
  ];
  return parts.join(' · ');
}

/** A single line rewritten in place on `stream`, at most once per `minIntervalMs` (default 200: 5 a second). */
export function terminalProgress(
  stream: NodeJS.WriteStream,
  options: { minIntervalMs?: number; now?: () => number } = {},
): ProgressReporter {
  const min = options.minIntervalMs ?? 200;
  const now = options.now ?? Date.now;
  let last = -Infinity;
  let shown = false;
  // A poll answered after finish() must not draw the line again over the summary.
  let finished = false;
  return {
    update(s) {
      if (finished) return;
      const t = now();
      if (t - last < min) return;
      last = t;
      const width = stream.columns && stream.columns > 10 ? stream.columns - 1 : 120;
      stream.write(`\r\x1b[2K${progressLine(s).slice(0, width)}`);
      shown = true;
    },
    finish() {
      finished = true;
      if (shown) stream.write('\r\x1b[2K');
      shown = false;
    },
  };
}

/** Structured `scan progress` log lines, at most once per `minIntervalMs` (default 5 s) and when the state moves. */
export function logProgress(
  logger: Logger,
  options: { minIntervalMs?: number; now?: () => number } = {},
): ProgressReporter {
  const min = options.minIntervalMs ?? 5000;
  const now = options.now ?? Date.now;
  let last = -Infinity;
  let lastState: string | null = null;
  return {
    update(s) {
      const t = now();
      if (t - last < min && s.state === lastState) return;
      last = t;
      lastState = s.state;
      const { perSecond, etaSeconds } = rateAndEta(s);
      logger.info('scan progress', {
        state: s.state,
        planned: s.planned,
        fetched: s.fetched,
        analysed: s.analysed,
        exported: s.exported,
        certsPerSecond: perSecond === null ? null : Math.round(perSecond),
        etaSeconds: etaSeconds === null ? null : Math.ceil(etaSeconds),
      });
    },
    finish() {},
  };
}

export const noProgress: ProgressReporter = { update() {}, finish() {} };

export const EXPIRY_BUCKETS = ['expired', '<30d', '<90d', 'later', 'unknown'] as const;
export type ExpiryBucket = (typeof EXPIRY_BUCKETS)[number];

export function expiryBucket(finding: Finding, now: Date): ExpiryBucket {
  const notAfter = finding.crypto.x509.not_after ?? finding.crypto.x509.keyfactor?.not_after ?? null;
  const t = notAfter === null ? NaN : Date.parse(notAfter);
  if (Number.isNaN(t)) return 'unknown';
  const days = (t - now.getTime()) / 86_400_000;
  if (days < 0) return 'expired';
  if (days < 30) return '<30d';
  if (days < 90) return '<90d';
  return 'later';
}

export interface RemoteSummary {
  findings: ReturnType<typeof summarizeFindings>;
  expiry: Record<ExpiryBucket, number>;
}

export function summarizeRemote(findings: readonly Finding[], now: Date): RemoteSummary {
  const summary = emptyRemoteSummary();
  addToRemoteSummary(summary, findings, now);
  return summary;
}

export function emptyRemoteSummary(): RemoteSummary {
  const expiry = Object.fromEntries(EXPIRY_BUCKETS.map((b) => [b, 0])) as Record<ExpiryBucket, number>;
  return { findings: summarizeFindings([]), expiry };
}

/** Adds a page of findings, so a summary of a million findings never holds them all at once. */
export function addToRemoteSummary(summary: RemoteSummary, findings: readonly Finding[], now: Date): void {
  for (const f of findings) summary.expiry[expiryBucket(f, now)]++;
  const page = summarizeFindings(findings);
  const total = summary.findings;
  total.total += page.total;
  total.analysed += page.analysed;
  total.parseErrors += page.parseErrors;
  total.quantumVulnerable += page.quantumVulnerable;
  for (const [severity, n] of Object.entries(page.bySeverity)) {
    total.bySeverity[severity as keyof typeof total.bySeverity] += n;
  }
  const keys = new Map(total.byKeyAlgorithm);
  for (const [label, n] of page.byKeyAlgorithm) keys.set(label, (keys.get(label) ?? 0) + n);
  total.byKeyAlgorithm = [...keys].sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
}

/**
 * What the summary reads of a finding, as a short string the SQLite state keeps beside the document (its `summary`
 * column): `<notAfter>\t<JSON of highest severity, analysis status, PQC assessment, public key>`. Counted by
 * addSummaryFacts exactly as the whole finding would be by addToRemoteSummary. notAfter comes first and apart so
 * the JSON part repeats across findings (a few dozen distinct values) and is analysed once per value.
 */
export function summaryFacts(finding: Finding): string {
  const x509 = finding.crypto.x509;
  const notAfter = x509.not_after ?? x509.keyfactor?.not_after ?? '';
  // The key's fingerprint and RSA exponent are left out: the key label never reads them, and the fingerprint made
  // every finding's facts unique (and the summary index twice as large).
  const key = x509.public_key;
  const { spki_sha256: _fingerprint, rsa_exponent: _exponent, ...labelled } = key ?? {};
  return `${notAfter}\t${JSON.stringify([
    finding.analysis.highest_severity,
    finding.analysis.status,
    finding.analysis.pqc ?? null,
    key === undefined ? null : labelled,
  ])}`;
}

/**
 * Adds findings counted by their facts (summaryFacts → count, as the state groups them): the expiry bucket per
 * notAfter, and the rest analysed once per distinct facts JSON and multiplied by its count.
 */
export function addSummaryFacts(
  summary: RemoteSummary,
  groups: Iterable<{ summary: string; count: number }>,
  now: Date,
): void {
  const byFacts = new Map<string, number>();
  for (const { summary: facts, count } of groups) {
    const tab = facts.indexOf('\t');
    const notAfter = tab > 0 ? facts.slice(0, tab) : null;
    const bucket = expiryBucket(
      { crypto: { x509: notAfter === null ? {} : { not_after: notAfter } } } as unknown as Finding,
      now,
    );
    summary.expiry[bucket] += count;
    const json = facts.slice(tab + 1);
    byFacts.set(json, (byFacts.get(json) ?? 0) + count);
  }
  for (const [json, count] of byFacts) {
    const [severity, status, pqc, publicKey] = JSON.parse(json) as [
      Finding['analysis']['highest_severity'],
      Finding['analysis']['status'],
      Finding['analysis']['pqc'] | null,
      Finding['crypto']['x509']['public_key'] | null,
    ];
    // Just the fields summarizeFindings reads, so the counting rules stay in one place.
    const slim = {
      analysis: { highest_severity: severity, status, pqc },
      crypto: { x509: publicKey === null ? {} : { public_key: publicKey } },
    } as unknown as Finding;
    mergeSummary(summary, summarizeFindings([slim]), count);
  }
}

/** Adds `page` (a summarizeFindings result) `times` times to the running total. */
function mergeSummary(
  summary: RemoteSummary,
  page: ReturnType<typeof summarizeFindings>,
  times: number,
): void {
  const total = summary.findings;
  total.total += page.total * times;
  total.analysed += page.analysed * times;
  total.parseErrors += page.parseErrors * times;
  total.quantumVulnerable += page.quantumVulnerable * times;
  for (const [severity, n] of Object.entries(page.bySeverity)) {
    total.bySeverity[severity as keyof typeof total.bySeverity] += n * times;
  }
  if (page.byKeyAlgorithm.length === 0) return;
  const keys = new Map(total.byKeyAlgorithm);
  for (const [label, n] of page.byKeyAlgorithm) keys.set(label, (keys.get(label) ?? 0) + n * times);
  total.byKeyAlgorithm = [...keys].sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
}

/** The end-of-scan summary: the scan's outcome and counts, then severities, keys, expiry and PQC of open findings. */
export function formatRemoteSummary(scan: ScanRecord, summary: RemoteSummary): string {
  const c = scan.counts;
  const expiry = EXPIRY_BUCKETS.filter((b) => b !== 'unknown' || summary.expiry.unknown > 0)
    .map((b) => `${b} ${summary.expiry[b]}`)
    .join(', ');
  const head = [
    `Scan ${scan.scanId}: ${scan.state} (${scan.mode ?? 'not planned'})`,
    `Fetched ${c.fetchedCertificates} of ${c.plannedCertificates} planned; ${c.changedFindings} new or changed, ` +
      `${c.resolvedFindings} resolved, ${c.exportedFindings} exported` +
      (c.failedCertificates > 0 ? `, ~${c.failedCertificates} in failed ranges` : ''),
  ];
  const errors = scan.errors.slice(0, 5).map((e) => `  error ${e.where}: ${terminalSafe(e.message)}`);
  return (
    [
      ...head,
      ...errors,
      `Open findings of this sensor:`,
      formatFindingsSummary(summary.findings).trimEnd(),
      `Expiry: ${expiry}`,
    ].join('\n') + '\n'
  );
}
