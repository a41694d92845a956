// Scan planning as pure functions: full or incremental, the query sent to Command, and the split into page ranges.
import { and, clause, or, parseQuery, printQuery, withCommandFieldNames } from '#shared/query/index';
import type { QueryNode } from '#shared/query/index';
import { taskIdFor } from './keys.ts';
import type { PageTask, Priority, ScanMode, SensorCursor } from './model.ts';

/**
 * Full or incremental. `scansSinceFull` counts completed scans since and including the last full one, so with
 * interval N the sequence is: scan 1 full (no cursor), scans 2..N incremental, scan N+1 full, N+2..2N incremental,
 * ... (one full scan then N-1 incremental ones per cycle of N). Interval 1: every scan is full.
 */
export function chooseScanMode(cursor: SensorCursor | null, autoResolutionInterval: number): ScanMode {
  if (!Number.isInteger(autoResolutionInterval) || autoResolutionInterval < 1) {
    throw new RangeError(`autoResolutionInterval must be an integer >= 1, got ${autoResolutionInterval}`);
  }
  if (cursor === null) return 'full';
  return cursor.scansSinceFull >= autoResolutionInterval ? 'full' : 'incremental';
}

/** The cursor after a COMPLETED scan (the only kind that advances it). */
export function advancedCursor(
  previous: SensorCursor | null,
  scan: {
    scanId: string;
    sensorKey: string;
    url: string;
    queryFilter: string | null;
    mode: ScanMode;
    planMaxCertId: number | null;
    startedAt: string;
  },
): SensorCursor {
  return {
    sensorKey: scan.sensorKey,
    url: scan.url,
    queryFilter: scan.queryFilter,
    maxCertId: Math.max(previous?.maxCertId ?? 0, scan.planMaxCertId ?? 0),
    lastScanStartedAt: scan.startedAt,
    scansSinceFull: scan.mode === 'full' ? 1 : (previous?.scansSinceFull ?? 0) + 1,
    lastFullScanId: scan.mode === 'full' ? scan.scanId : (previous?.lastFullScanId ?? null),
    lastScanId: scan.scanId,
    version: previous?.version ?? 0,
  };
}

/** ISO 8601 in whole seconds with Z, the only literal date form seen in Command material; floors the instant. */
export function isoSeconds(date: Date): string {
  return `${new Date(Math.floor(date.getTime() / 1000) * 1000).toISOString().slice(0, 19)}Z`;
}

/** The user's filter with aliases replaced by Command's names (null: every certificate). Throws QueryError. */
export function userFilterNode(queryFilter: string | null): QueryNode | null {
  if (queryFilter === null) return null;
  const node = parseQuery(queryFilter);
  return node === null ? null : withCommandFieldNames(node);
}

/**
 * The condition of an incremental scan: new since the cursor (CertId is immutable and grows with each import) or
 * revoked on or after the last completed scan's start minus the overlap (clocks, late revocation bookkeeping).
 */
export function incrementalCondition(cursor: SensorCursor, overlapSeconds: number): QueryNode {
  const since = Date.parse(cursor.lastScanStartedAt);
  if (!Number.isFinite(since)) {
    throw new RangeError(`cursor of ${cursor.sensorKey} has an invalid lastScanStartedAt`);
  }
  return or(
    clause('CertId', '-gt', cursor.maxCertId),
    clause('RevocationDate', '-ge', isoSeconds(new Date(since - overlapSeconds * 1000))),
  );
}

export interface ScanQuery {
  node: QueryNode | null;
  /** Printed with printQuery; '' means every certificate. */
  text: string;
}

/**
 * The query a scan sends to Command: the user's filter for a full scan, `(<filter>) AND (<incremental>)` for an
 * incremental one. Built as a tree and printed, never spliced as text.
 */
export function composeScanQuery(options: {
  queryFilter: string | null;
  mode: ScanMode;
  cursor: SensorCursor | null;
  revocationOverlapSeconds: number;
}): ScanQuery {
  const filter = userFilterNode(options.queryFilter);
  if (options.mode === 'full') return { node: filter, text: printQuery(filter) };
  if (options.cursor === null) throw new RangeError('an incremental scan needs a cursor');
  const node = and(filter, incrementalCondition(options.cursor, options.revocationOverlapSeconds));
  return { node, text: printQuery(node) };
}

/**
 * The query of one keyset page of a range: `(<effective>) AND CertId -ge lo AND CertId -le hi`, or with
 * `CertId -gt <after>` in place of the lower bound once a page has been read.
 */
export function rangePageQuery(
  effectiveQuery: string | null,
  range: { lo: number; hi: number },
  after: number | null,
): string {
  const effective = effectiveQuery === null ? null : parseQuery(effectiveQuery);
  const lower = after === null ? clause('CertId', '-ge', range.lo) : clause('CertId', '-gt', after);
  return printQuery(and(effective, lower, clause('CertId', '-le', range.hi)));
}

export interface IdRange {
  lo: number;
  hi: number;
}

/**
 * Splits [minId, maxId] into contiguous, disjoint, inclusive ranges: ceil(total / pageSize) of them (at least 1,
 * never more than there are ids), whose widths differ by at most one (the first `span % count` are one wider).
 * The split depends only on (minId, maxId, count), so a recorded plan can be rebuilt exactly.
 */
export function splitIdRange(minId: number, maxId: number, total: number, pageSize: number): IdRange[] {
  if (!Number.isInteger(pageSize) || pageSize < 1) {
    throw new RangeError(`pageSize must be an integer >= 1, got ${pageSize}`);
  }
  if (!Number.isInteger(total) || total < 0)
    throw new RangeError(`total must be an integer >= 0, got ${total}`);
  return rangesOf(minId, maxId, Math.max(1, Math.ceil(total / pageSize)));
}

/** `count` ranges (capped at the number of ids) over [minId, maxId]; see splitIdRange. */
export function rangesOf(minId: number, maxId: number, count: number): IdRange[] {
  if (!Number.isSafeInteger(minId) || !Number.isSafeInteger(maxId) || minId > maxId) {
    throw new RangeError(`invalid id bounds [${minId}, ${maxId}]`);
  }
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`range count must be >= 1, got ${count}`);
  const span = maxId - minId + 1;
  const n = Math.min(count, span);
  const base = Math.floor(span / n);
  const wider = span % n;
  const ranges: IdRange[] = [];
  let lo = minId;
  for (let i = 0; i < n; i += 1) {
    const width = base + (i < wider ? 1 : 0);
    ranges.push({ lo, hi: lo + width - 1 });
    lo += width;
  }
  return ranges;
}

export function pageTasksFor(scanId: string, ranges: readonly IdRange[], priority: Priority): PageTask[] {
  return ranges.map(({ lo, hi }) => ({ scanId, taskId: taskIdFor(lo, hi), lo, hi, priority }));
}
