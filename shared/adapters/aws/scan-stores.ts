// DynamoDB scan pipeline stores. Three tables (see docs/state-store.md): scans (scan records, task completions,
// cursors, schedules, host lease slots, callbackId claims), findings (gzip documents) and the export outbox.
// Every atomic promise of shared/scan/ports.ts is a conditional write or a transaction, never a read-then-write.
import { randomUUID } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  ResourceInUseException,
  TransactionCanceledException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import { InputError, SensorError } from '#shared/errors';
import { StoredItemError } from './apikey-store.ts';
import {
  FINDINGS_CHUNK,
  MAX_ERROR_CHARS,
  MAX_SCAN_ERRORS,
  ScanNotFoundError,
  assertOutboxBodySize,
  assertSameSensor,
  boundedError,
  checkLeaseArgs,
  checkListLimit,
  taskCountDelta,
  upsertDecision,
  upsertedFinding,
} from '../memory/scan-stores.ts';
import type { TransitionPatch, UpsertInput } from '../memory/scan-stores.ts';
import { ScanExistsError, systemClock } from '#shared/scan/ports';
import type {
  Clock,
  ExportOutbox,
  FindingStore,
  HostLeases,
  ScanListQuery,
  ScanPage,
  ScanStore,
  ScheduleStore,
  TaskCompletion,
} from '#shared/scan/ports';
import type {
  ExportBatch,
  Resolution,
  Schedule,
  ScanCounts,
  ScanError,
  ScanRecord,
  ScanState,
  SensorCursor,
  StoredFinding,
  TaskOutcome,
  UpsertOutcome,
} from '#shared/scan/model';

export { OutboxBatchTooLargeError, ScanNotFoundError } from '../memory/scan-stores.ts';

export interface ScanTableNames {
  scans: string;
  findings: string;
  outbox: string;
}

/** Key and attribute names of the scans table (infra creates the same). */
export const SCANS_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'expiresAt',
  createdIndex: 'byCreated',
  createdIndexPartitionKey: 'gsi1pk',
  createdIndexSortKey: 'gsi1sk',
} as const;

/** Key and attribute names of the findings table. */
export const FINDINGS_TABLE = {
  partitionKey: 'sensorKey',
  sortKey: 'findingId',
  /** gzip of the Finding document's JSON. */
  documentAttribute: 'doc',
  /**
   * Sparse index of open findings: openSensorKey (= sensorKey, present only while the finding is open) and
   * lastSeenScanId, projecting certificateId, so resolveUnseen reads only the findings a full scan did not see.
   */
  openIndex: 'openByLastSeen',
  openIndexPartitionKey: 'openSensorKey',
  openIndexSortKey: 'lastSeenScanId',
  openIndexProjection: ['certificateId'],
} as const;

/** Key and attribute names of the outbox table. */
export const OUTBOX_TABLE = {
  partitionKey: 'batchId',
  ttlAttribute: 'expiresAt',
} as const;

/** Partition of the byCreated index holding every scan (newest-first listing) and every schedule. */
const SCANS_INDEX_PARTITION = 'SCANS';
const SCHEDULES_INDEX_PARTITION = 'SCHEDULES';
/** Attributes on a scan item that are not part of ScanRecord. */
const SCAN_ITEM_EXTRAS = ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'settled', 'finalizeClaimed'] as const;
/** BatchGetItem and BatchWriteItem limits per request. */
const BATCH_GET_MAX = 100;
const BATCH_WRITE_MAX = 25;
/** Attempts for unprocessed batch items and conflicting transactions before giving up with an error. */
const MAX_ATTEMPTS = 8;
/** Parallel requests one call issues (batch chunks, conditional resolutions). */
const PARALLEL_REQUESTS = 8;

type Item = Record<string, NativeAttributeValue>;

export class DynamoRetryExhaustedError extends SensorError {}

function documentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Exponential backoff with full jitter: 25 ms, 50 ms, ... capped at 2 s. */
function backoff(attempt: number): Promise<void> {
  return sleep(Math.random() * Math.min(2000, 25 * 2 ** attempt));
}

/** Runs `task` over `items` with at most `limit` in flight, keeping order of results. */
async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const scanKey = (scanId: string): Item => ({ pk: `SCAN#${scanId}`, sk: 'SCAN' });
const cursorKey = (sensorKey: string): Item => ({ pk: `CURSOR#${sensorKey}`, sk: 'CURSOR' });
const scheduleKey = (scheduleId: string): Item => ({ pk: `SCHEDULE#${scheduleId}`, sk: 'SCHEDULE' });

function toScan(item: Item): ScanRecord {
  const record: Item = { ...item };
  for (const extra of SCAN_ITEM_EXTRAS) delete record[extra];
  if (typeof record.scanId !== 'string' || typeof record.counts !== 'object' || !Array.isArray(record.errors))
    throw new StoredItemError(`a stored scan item (${String(item.pk)}) is malformed`);
  const scan = record as unknown as ScanRecord;
  // addError appends before it trims, so a reader can briefly see one too many.
  scan.errors = scan.errors.slice(-MAX_SCAN_ERRORS);
  return scan;
}

function withoutKeys<T>(item: Item, keys: readonly string[]): T {
  const record: Item = { ...item };
  for (const key of keys) delete record[key];
  return record as T;
}

/** Builds `SET #counts.#k = #counts.#k + :k, ...` (or `= :k` to set) parts for a counts delta. */
function countParts(
  counts: Partial<ScanCounts>,
  mode: 'add' | 'set',
  names: Record<string, string>,
  values: Record<string, unknown>,
): string[] {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(counts)) {
    if (value === undefined) continue;
    if (!Number.isFinite(value)) throw new InputError(`count ${key} must be a number, got ${String(value)}`);
    names['#counts'] = 'counts';
    names[`#c_${key}`] = key;
    values[`:c_${key}`] = value;
    parts.push(
      mode === 'add' ? `#counts.#c_${key} = #counts.#c_${key} + :c_${key}` : `#counts.#c_${key} = :c_${key}`,
    );
  }
  return parts;
}

/** Keeps `settled` (pagesDone + pagesFailed, which a condition can compare with pagesPlanned) in step. */
function settledPart(
  counts: Partial<ScanCounts>,
  mode: 'add' | 'set',
  names: Record<string, string>,
  values: Record<string, unknown>,
): string | null {
  const { pagesDone, pagesFailed } = counts;
  if (pagesDone === undefined && pagesFailed === undefined) return null;
  if (mode === 'add') {
    values[':settledDelta'] = (pagesDone ?? 0) + (pagesFailed ?? 0);
    return 'settled = settled + :settledDelta';
  }
  names['#counts'] = 'counts';
  names['#c_pagesDone'] = 'pagesDone';
  names['#c_pagesFailed'] = 'pagesFailed';
  // Uses the value being set for a given field and the stored value for the other.
  const done = pagesDone === undefined ? '#counts.#c_pagesDone' : ':c_pagesDone';
  const failed = pagesFailed === undefined ? '#counts.#c_pagesFailed' : ':c_pagesFailed';
  return `settled = ${done} + ${failed}`;
}

const ScanTokenKeys = ['pk', 'sk', 'gsi1pk', 'gsi1sk'] as const;

function encodeToken(key: Item): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

function decodeScanToken(token: string): Item {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (
      typeof parsed === 'object' &&
      parsed !== null &&
      Object.keys(parsed).length === ScanTokenKeys.length &&
      ScanTokenKeys.every((key) => typeof (parsed as Item)[key] === 'string') &&
      // Only a position in the scans partition of the index: a token cannot reach schedules or other items.
      (parsed as Item).gsi1pk === SCANS_INDEX_PARTITION
    )
      return parsed;
  } catch {
    // Falls through to the InputError below.
  }
  throw new InputError(
    'nextToken is not a scan list token (pass the nextToken of the previous page unchanged)',
  );
}

function isConditionFailure(err: unknown): boolean {
  return err instanceof ConditionalCheckFailedException;
}

/**
 * Scan records, task completions, cursors (see the module comment for item layouts). Reads are strongly consistent
 * except listScans, which reads the byCreated index (eventually consistent, like every GSI).
 */
export class DynamoScanStore implements ScanStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly clock: Clock;
  private readonly taskRetentionSeconds: number;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    options: { clock?: Clock; taskRetentionDays?: number } = {},
  ) {
    this.doc = documentClient(client);
    this.clock = options.clock ?? systemClock;
    this.taskRetentionSeconds = Math.round((options.taskRetentionDays ?? 90) * 86_400);
  }

  async createScan(scan: ScanRecord): Promise<void> {
    const item: Item = {
      ...scan,
      ...scanKey(scan.scanId),
      gsi1pk: SCANS_INDEX_PARTITION,
      gsi1sk: `${scan.createdAt}#${scan.scanId}`,
      settled: scan.counts.pagesDone + scan.counts.pagesFailed,
    };
    const put = {
      TableName: this.tableName,
      Item: item,
      // Create only: a taken id stays with its scan.
      ConditionExpression: 'attribute_not_exists(pk)',
    };
    if (scan.callbackId === null) {
      try {
        await this.doc.send(new PutCommand(put));
      } catch (err) {
        if (isConditionFailure(err)) throw new ScanExistsError(scan.scanId);
        throw err;
      }
      return;
    }
    try {
      // The callbackId claim is written with the scan so findByCallbackId never sees one without the other.
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: put },
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  pk: `CALLBACK#${scan.callbackId}`,
                  sk: `${scan.createdAt}#${scan.scanId}`,
                  scanId: scan.scanId,
                  expiresAt: scan.expiresAt,
                },
              },
            },
          ],
        }),
      );
    } catch (err) {
      if (
        err instanceof TransactionCanceledException &&
        err.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed'
      )
        throw new ScanExistsError(scan.scanId);
      throw err;
    }
  }

  async getScan(scanId: string): Promise<ScanRecord | null> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: scanKey(scanId), ConsistentRead: true }),
    );
    return out.Item ? toScan(out.Item) : null;
  }

  async listScans(query: ScanListQuery): Promise<ScanPage> {
    checkListLimit(query.limit);
    const names: Record<string, string> = { '#gpk': 'gsi1pk' };
    const values: Record<string, unknown> = { ':scans': SCANS_INDEX_PARTITION };
    const filters: string[] = [];
    if (query.state !== undefined) {
      names['#state'] = 'state';
      values[':state'] = query.state;
      filters.push('#state = :state');
    }
    if (query.sensorName !== undefined) {
      names['#sensor'] = 'sensor';
      names['#sensorName'] = 'sensorName';
      values[':sensorName'] = query.sensorName;
      filters.push('#sensor.#sensorName = :sensorName');
    }
    const items: ScanRecord[] = [];
    let start = query.nextToken === undefined ? undefined : decodeScanToken(query.nextToken);
    // A filtered query can come back short (or empty) while more matches follow: keep reading until full or done.
    do {
      const remaining = query.limit - items.length;
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: SCANS_TABLE.createdIndex,
          KeyConditionExpression: '#gpk = :scans',
          FilterExpression: filters.length > 0 ? filters.join(' AND ') : undefined,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ScanIndexForward: false,
          // Read ahead when filtering so sparse matches do not cost a round trip each.
          Limit: filters.length > 0 ? Math.min(1000, Math.max(remaining * 4, 50)) : remaining,
          ExclusiveStartKey: start,
        }),
      );
      const matched = page.Items ?? [];
      if (matched.length > remaining) {
        const taken = matched.slice(0, remaining);
        items.push(...taken.map(toScan));
        const last = taken.at(-1)!;
        // Resume right after the last item returned, not where DynamoDB stopped reading.
        start = Object.fromEntries(ScanTokenKeys.map((key) => [key, last[key] as string]));
        break;
      }
      items.push(...matched.map(toScan));
      start = page.LastEvaluatedKey;
    } while (start && items.length < query.limit);
    return { items, nextToken: start ? encodeToken(start) : null };
  }

  async findByCallbackId(callbackId: string, since: string): Promise<ScanRecord | null> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND sk >= :since',
        ExpressionAttributeValues: { ':pk': `CALLBACK#${callbackId}`, ':since': since },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    const claim = out.Items?.[0];
    return typeof claim?.scanId === 'string' ? this.getScan(claim.scanId) : null;
  }

  async transition(
    scanId: string,
    fromStates: readonly ScanState[],
    patch: TransitionPatch,
  ): Promise<ScanRecord | null> {
    if (fromStates.length === 0) return null;
    const { counts, ...fields } = patch;
    const names: Record<string, string> = { '#state': 'state', '#version': 'version' };
    const values: Record<string, unknown> = { ':one': 1 };
    const sets = ['#version = #version + :one'];
    for (const [field, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      names[`#f_${field}`] = field;
      values[`:f_${field}`] = value;
      sets.push(`#f_${field} = :f_${field}`);
    }
    if (counts) {
      sets.push(...countParts(counts, 'set', names, values));
      const settled = settledPart(counts, 'set', names, values);
      if (settled) sets.push(settled);
    }
    const states = fromStates.map((state, i) => {
      values[`:from${i}`] = state;
      return `:from${i}`;
    });
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: scanKey(scanId),
          UpdateExpression: `SET ${sets.join(', ')}`,
          // The state check and the write are one operation: of racing callers exactly one moves the scan.
          ConditionExpression: `attribute_exists(pk) AND #state IN (${states.join(', ')})`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes ? toScan(out.Attributes) : null;
    } catch (err) {
      if (isConditionFailure(err)) return null;
      throw err;
    }
  }

  async addError(scanId: string, error: ScanError): Promise<void> {
    let size: number;
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: scanKey(scanId),
          UpdateExpression: 'SET #errors = list_append(#errors, :error), errorCount = errorCount + :one',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#errors': 'errors' },
          ExpressionAttributeValues: { ':error': [boundedError(error)], ':one': 1 },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      size = (out.Attributes?.errors as unknown[] | undefined)?.length ?? 0;
    } catch (err) {
      if (isConditionFailure(err)) throw new ScanNotFoundError(scanId);
      throw err;
    }
    if (size <= MAX_SCAN_ERRORS) return;
    // One append, at most one trim of the oldest, and only while over the cap: racing appenders end at exactly 50.
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: scanKey(scanId),
          UpdateExpression: 'REMOVE #errors[0]',
          ConditionExpression: 'size(#errors) > :max',
          ExpressionAttributeNames: { '#errors': 'errors' },
          ExpressionAttributeValues: { ':max': MAX_SCAN_ERRORS },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }

  async completeTask(scanId: string, taskId: string, outcome: TaskOutcome): Promise<TaskCompletion> {
    const delta = taskCountDelta(outcome);
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const sets = [...countParts(delta, 'add', names, values), settledPart(delta, 'add', names, values)!];
    const now = this.clock.now();
    let applied = true;
    for (let attempt = 0; ; attempt++) {
      try {
        // The task item's create-only put and the counter update commit together or not at all.
        await this.doc.send(
          new TransactWriteCommand({
            // Idempotent across the SDK's own retries of this attempt (a retry of a transaction that did commit is
            // not a redelivery); a fresh token per conflict retry, since a cancelled attempt is a new transaction.
            ClientRequestToken: randomUUID(),
            TransactItems: [
              {
                Put: {
                  TableName: this.tableName,
                  Item: {
                    pk: `SCAN#${scanId}`,
                    sk: `TASK#${taskId}`,
                    taskId,
                    status: outcome.status,
                    fetched: outcome.fetched,
                    error: outcome.error?.slice(0, MAX_ERROR_CHARS),
                    completedAt: now.toISOString(),
                    expiresAt: Math.floor(now.getTime() / 1000) + this.taskRetentionSeconds,
                  },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
              {
                Update: {
                  TableName: this.tableName,
                  Key: scanKey(scanId),
                  UpdateExpression: `SET ${sets.join(', ')}`,
                  ConditionExpression: 'attribute_exists(pk)',
                  ExpressionAttributeNames: names,
                  ExpressionAttributeValues: values,
                },
              },
            ],
          }),
        );
        break;
      } catch (err) {
        if (!(err instanceof TransactionCanceledException)) throw err;
        const [task, scan] = err.CancellationReasons ?? [];
        if (scan?.Code === 'ConditionalCheckFailed') throw new ScanNotFoundError(scanId);
        if (task?.Code === 'ConditionalCheckFailed') {
          applied = false;
          break;
        }
        // TransactionConflict: another completion is updating the same scan item right now.
        if (attempt + 1 >= MAX_ATTEMPTS)
          throw new DynamoRetryExhaustedError(
            `completing task ${taskId} of scan ${scanId} kept conflicting after ${MAX_ATTEMPTS} attempts`,
            { cause: err },
          );
        await backoff(attempt);
      }
    }
    const claimed = await this.claimFinalize(scanId, taskId);
    if (claimed) return { applied, lastTask: true, scan: claimed };
    const scan = await this.getScan(scanId);
    if (!scan) throw new ScanNotFoundError(scanId);
    return { applied, lastTask: false, scan };
  }

  /**
   * Hands out lastTask: sets `finalizeClaimed` only while every planned page is settled and nobody has claimed it,
   * so exactly one caller wins. Also tried on a redelivery, so a worker that crashed between recording the last
   * task and claiming leaves the claim to the redelivered message instead of stranding the scan in RUNNING.
   */
  private async claimFinalize(scanId: string, taskId: string): Promise<ScanRecord | null> {
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: scanKey(scanId),
          UpdateExpression: 'SET finalizeClaimed = :taskId',
          ConditionExpression:
            'attribute_exists(pk) AND attribute_not_exists(finalizeClaimed) AND ' +
            '#counts.#planned > :zero AND settled = #counts.#planned',
          ExpressionAttributeNames: { '#counts': 'counts', '#planned': 'pagesPlanned' },
          ExpressionAttributeValues: { ':taskId': taskId, ':zero': 0 },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes ? toScan(out.Attributes) : null;
    } catch (err) {
      if (isConditionFailure(err)) return null;
      throw err;
    }
  }

  async addCounts(scanId: string, counts: Partial<ScanCounts>): Promise<void> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const sets = countParts(counts, 'add', names, values);
    const settled = settledPart(counts, 'add', names, values);
    if (settled) sets.push(settled);
    if (sets.length === 0) {
      if (!(await this.getScan(scanId))) throw new ScanNotFoundError(scanId);
      return;
    }
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: scanKey(scanId),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) throw new ScanNotFoundError(scanId);
      throw err;
    }
  }

  async getCursor(sensorKey: string): Promise<SensorCursor | null> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: cursorKey(sensorKey), ConsistentRead: true }),
    );
    return out.Item ? withoutKeys<SensorCursor>(out.Item, ['pk', 'sk']) : null;
  }

  async putCursor(cursor: SensorCursor, expectedVersion: number): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          // The store numbers versions so every write moves the version on, whatever the caller passed.
          Item: { ...cursor, ...cursorKey(cursor.sensorKey), version: expectedVersion + 1 },
          ConditionExpression:
            expectedVersion === 0
              ? 'attribute_not_exists(pk)'
              : 'attribute_exists(pk) AND #version = :expected',
          ExpressionAttributeNames: expectedVersion === 0 ? undefined : { '#version': 'version' },
          ExpressionAttributeValues: expectedVersion === 0 ? undefined : { ':expected': expectedVersion },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }
}

/** Attributes read to decide an upsert (the document is not needed). */
const UPSERT_PROJECTION = ['findingId', 'status', 'contentHash', 'lastSeenScanId', 'firstSeenAt'];

function toFindingItem(finding: StoredFinding): Item {
  const { document, ...fields } = finding;
  return {
    ...fields,
    [FINDINGS_TABLE.documentAttribute]: gzipSync(JSON.stringify(document)),
    // Only open findings are in the openByLastSeen index (a put replaces the item, so a write that leaves it
    // open also heals a finding stored before the index existed).
    ...(finding.status === 'open' ? { [FINDINGS_TABLE.openIndexPartitionKey]: finding.sensorKey } : {}),
  };
}

function toStoredFinding(item: Item): StoredFinding {
  const body = item[FINDINGS_TABLE.documentAttribute] as unknown;
  if (!(body instanceof Uint8Array))
    throw new StoredItemError(`stored finding ${String(item.findingId)} has no document`);
  const fields = withoutKeys<Omit<StoredFinding, 'document'>>(item, [
    FINDINGS_TABLE.documentAttribute,
    FINDINGS_TABLE.openIndexPartitionKey,
  ]);
  try {
    return {
      ...fields,
      document: JSON.parse(gunzipSync(body).toString('utf8')) as StoredFinding['document'],
    };
  } catch (err) {
    throw new StoredItemError(`stored finding ${String(item.findingId)} has an unreadable document`, {
      cause: err,
    });
  }
}

/** Findings keyed by (sensorKey, findingId), the document gzipped in `doc`. */
export class DynamoFindingStore implements FindingStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.doc = documentClient(client);
  }

  async upsertFindings(
    sensorKey: string,
    scanId: string,
    seenAt: string,
    findings: readonly UpsertInput[],
  ): Promise<UpsertOutcome[]> {
    assertSameSensor(sensorKey, findings);
    const current = await this.readCurrent(sensorKey, [...new Set(findings.map((f) => f.findingId))]);
    const writes = new Map<string, StoredFinding>();
    // In order, against what this call has decided so far: a repeated id behaves like a redelivery of the first.
    const outcomes = findings.map((input) => {
      const stored = current.get(input.findingId) ?? null;
      const { outcome, write } = upsertDecision(stored, input.contentHash, scanId);
      if (write) {
        const next = upsertedFinding(sensorKey, scanId, seenAt, input, stored);
        writes.set(input.findingId, next);
        current.set(input.findingId, next);
      }
      return outcome;
    });
    await mapLimit(chunks([...writes.values()], BATCH_WRITE_MAX), PARALLEL_REQUESTS, (chunk) =>
      this.writeChunk(chunk.map(toFindingItem)),
    );
    return outcomes;
  }

  private async readCurrent(
    sensorKey: string,
    findingIds: readonly string[],
  ): Promise<Map<string, Pick<StoredFinding, 'status' | 'contentHash' | 'lastSeenScanId' | 'firstSeenAt'>>> {
    const found = new Map<
      string,
      Pick<StoredFinding, 'status' | 'contentHash' | 'lastSeenScanId' | 'firstSeenAt'>
    >();
    await mapLimit(chunks(findingIds, BATCH_GET_MAX), PARALLEL_REQUESTS, async (ids) => {
      let keys: Item[] = ids.map((findingId) => ({ sensorKey, findingId }));
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt >= MAX_ATTEMPTS)
          throw new DynamoRetryExhaustedError(
            `reading findings of ${sensorKey}: ${keys.length} keys still unprocessed after ${MAX_ATTEMPTS} attempts`,
          );
        if (attempt > 0) await backoff(attempt);
        const out = await this.doc.send(
          new BatchGetCommand({
            RequestItems: {
              [this.tableName]: {
                Keys: keys,
                ConsistentRead: true,
                ProjectionExpression: UPSERT_PROJECTION.map((_, i) => `#p${i}`).join(', '),
                ExpressionAttributeNames: Object.fromEntries(
                  UPSERT_PROJECTION.map((name, i) => [`#p${i}`, name]),
                ),
              },
            },
          }),
        );
        for (const item of out.Responses?.[this.tableName] ?? [])
          found.set(
            item.findingId as string,
            item as Pick<StoredFinding, 'status' | 'contentHash' | 'lastSeenScanId' | 'firstSeenAt'>,
          );
        keys = (out.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Item[];
      }
    });
    return found;
  }

  private async writeChunk(items: Item[]): Promise<void> {
    let requests = items.map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; requests.length > 0; attempt++) {
      if (attempt >= MAX_ATTEMPTS)
        throw new DynamoRetryExhaustedError(
          `writing findings: ${requests.length} items still unprocessed after ${MAX_ATTEMPTS} attempts`,
        );
      if (attempt > 0) await backoff(attempt);
      const out = await this.doc.send(
        new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }),
      );
      requests = (out.UnprocessedItems?.[this.tableName] ?? []) as typeof requests;
    }
  }

  async getFinding(sensorKey: string, findingId: string): Promise<StoredFinding | null> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { sensorKey, findingId }, ConsistentRead: true }),
    );
    return out.Item ? toStoredFinding(out.Item) : null;
  }

  async *listFindings(
    sensorKey: string,
    options: { status?: 'open' | 'resolved' } = {},
  ): AsyncIterable<StoredFinding[]> {
    let start: Item | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'sensorKey = :key',
          FilterExpression: options.status === undefined ? undefined : '#status = :status',
          ExpressionAttributeNames: options.status === undefined ? undefined : { '#status': 'status' },
          ExpressionAttributeValues: {
            ':key': sensorKey,
            ...(options.status === undefined ? {} : { ':status': options.status }),
          },
          ConsistentRead: true,
          Limit: FINDINGS_CHUNK,
          ExclusiveStartKey: start,
        }),
      );
      const items = (page.Items ?? []).map(toStoredFinding);
      if (items.length > 0) yield items;
      start = page.LastEvaluatedKey;
    } while (start);
  }

  /**
   * Reads the openByLastSeen index of the sensor's open findings on both sides of `scanId` in its sort order
   * (lastSeenScanId < scanId, then > scanId), so the findings this scan saw are never read. The index is eventually
   * consistent: each resolution is re-checked on the table by resolveOne, so a stale entry costs at most a no-op
   * write, and an entry not yet indexed can only belong to a write of the last moments, i.e. by another scan running
   * concurrently; the next full scan resolves it (see docs/state-store.md).
   */
  async *resolveUnseen(sensorKey: string, scanId: string, resolvedAt: string): AsyncIterable<Resolution[]> {
    let pending: Resolution[] = [];
    for (const side of ['<', '>'] as const) {
      let start: Item | undefined;
      do {
        const page = await this.doc.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: FINDINGS_TABLE.openIndex,
            KeyConditionExpression: `#open = :key AND #seen ${side} :scan`,
            ProjectionExpression: 'findingId, certificateId',
            ExpressionAttributeNames: {
              '#open': FINDINGS_TABLE.openIndexPartitionKey,
              '#seen': FINDINGS_TABLE.openIndexSortKey,
            },
            ExpressionAttributeValues: { ':key': sensorKey, ':scan': scanId },
            ExclusiveStartKey: start,
          }),
        );
        const resolved = await mapLimit(page.Items ?? [], PARALLEL_REQUESTS, (item) =>
          this.resolveOne(
            sensorKey,
            item.findingId as string,
            (item.certificateId ?? null) as number | null,
            scanId,
            resolvedAt,
          ),
        );
        pending.push(...resolved.filter((r): r is Resolution => r !== null));
        while (pending.length >= FINDINGS_CHUNK) {
          yield pending.slice(0, FINDINGS_CHUNK);
          pending = pending.slice(FINDINGS_CHUNK);
        }
        start = page.LastEvaluatedKey;
      } while (start);
    }
    if (pending.length > 0) yield pending;
  }

  private async resolveOne(
    sensorKey: string,
    findingId: string,
    certificateId: number | null,
    scanId: string,
    resolvedAt: string,
  ): Promise<Resolution | null> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { sensorKey, findingId },
          // Leaving the openByLastSeen index with its status: only open findings carry openSensorKey.
          UpdateExpression:
            'SET #status = :resolved, resolvedAt = :at, resolvedByScanId = :scan REMOVE #openKey',
          // Re-checked at write time: a racing or repeated call (or an upsert in between) resolves it at most once.
          ConditionExpression: '#status = :open AND lastSeenScanId <> :scan',
          ExpressionAttributeNames: { '#status': 'status', '#openKey': FINDINGS_TABLE.openIndexPartitionKey },
          ExpressionAttributeValues: {
            ':resolved': 'resolved',
            ':open': 'open',
            ':at': resolvedAt,
            ':scan': scanId,
          },
        }),
      );
      return { findingId, certificateId, sensorKey, resolvedAt, scanId };
    } catch (err) {
      if (isConditionFailure(err)) return null;
      throw err;
    }
  }
}

/** Export batches keyed by batchId; a sent batch expires `retentionDays` (default 14) after it was sent. */
export class DynamoExportOutbox implements ExportOutbox {
  private readonly doc: DynamoDBDocumentClient;
  private readonly retentionSeconds: number;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    options: { retentionDays?: number } = {},
  ) {
    this.doc = documentClient(client);
    this.retentionSeconds = Math.round((options.retentionDays ?? 14) * 86_400);
  }

  async putBatch(batch: ExportBatch): Promise<boolean> {
    // DynamoDB items are at most 400 KB: refuse clearly here rather than with a ValidationException later.
    assertOutboxBodySize(batch);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...batch,
            body: batch.body,
            lastError: batch.lastError?.slice(0, MAX_ERROR_CHARS) ?? null,
            // Pending and failed batches never expire: a DLQ redrive needs the body whenever it comes.
            ...(batch.status === 'sent'
              ? { expiresAt: this.expiryAfter(batch.sentAt ?? batch.createdAt) }
              : {}),
          },
          // Only if absent: a re-run task must not reset a batch that was already sent.
          ConditionExpression: 'attribute_not_exists(batchId)',
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  private expiryAfter(at: string): number {
    const ms = Date.parse(at);
    if (Number.isNaN(ms)) throw new InputError(`${JSON.stringify(at)} is not an ISO timestamp`);
    return Math.floor(ms / 1000) + this.retentionSeconds;
  }

  async getBatch(batchId: string): Promise<ExportBatch | null> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { batchId }, ConsistentRead: true }),
    );
    if (!out.Item) return null;
    const batch = withoutKeys<ExportBatch>(out.Item, ['expiresAt']);
    if (!(batch.body instanceof Uint8Array)) throw new StoredItemError(`outbox batch ${batchId} has no body`);
    return { ...batch, body: new Uint8Array(batch.body) };
  }

  async markSent(batchId: string, sentAt: string): Promise<boolean> {
    return this.conditionalUpdate({
      Key: { batchId },
      // A sent batch is only kept for inspection: it expires `retentionDays` after sending.
      UpdateExpression: 'SET #status = :sent, sentAt = :at, expiresAt = :expires',
      ConditionExpression: 'attribute_exists(batchId) AND #status <> :sent',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':sent': 'sent', ':at': sentAt, ':expires': this.expiryAfter(sentAt) },
    });
  }

  async markAttempt(batchId: string, error: string, final: boolean): Promise<boolean> {
    return this.conditionalUpdate({
      Key: { batchId },
      UpdateExpression: 'SET #status = :next, attempts = attempts + :one, lastError = :error',
      // 'sent' and 'failed' are final: a late attempt report changes neither.
      ConditionExpression: 'attribute_exists(batchId) AND #status = :pending',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':next': final ? 'failed' : 'pending',
        ':pending': 'pending',
        ':one': 1,
        ':error': error.slice(0, MAX_ERROR_CHARS),
      },
    });
  }

  private async conditionalUpdate(
    input: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName'>,
  ): Promise<boolean> {
    try {
      await this.doc.send(new UpdateCommand({ TableName: this.tableName, ...input }));
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }
}

/**
 * Schedules in the scans table (`SCHEDULE#<id>`), listed through the byCreated index's SCHEDULES partition
 * (oldest first; eventually consistent, so a schedule put a moment ago may be missing from a listing).
 */
export class DynamoScheduleStore implements ScheduleStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.doc = documentClient(client);
  }

  async putSchedule(schedule: Schedule): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...schedule,
          ...scheduleKey(schedule.scheduleId),
          gsi1pk: SCHEDULES_INDEX_PARTITION,
          gsi1sk: `${schedule.createdAt}#${schedule.scheduleId}`,
        },
      }),
    );
  }

  async getSchedule(scheduleId: string): Promise<Schedule | null> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: scheduleKey(scheduleId), ConsistentRead: true }),
    );
    return out.Item ? withoutKeys<Schedule>(out.Item, ['pk', 'sk', 'gsi1pk', 'gsi1sk']) : null;
  }

  async listSchedules(): Promise<Schedule[]> {
    const out: Schedule[] = [];
    let start: Item | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: SCANS_TABLE.createdIndex,
          KeyConditionExpression: 'gsi1pk = :schedules',
          ExpressionAttributeValues: { ':schedules': SCHEDULES_INDEX_PARTITION },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? [])
        out.push(withoutKeys<Schedule>(item, ['pk', 'sk', 'gsi1pk', 'gsi1sk']));
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  async deleteSchedule(scheduleId: string): Promise<boolean> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: scheduleKey(scheduleId),
          ConditionExpression: 'attribute_exists(pk)',
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }
}

/**
 * `limit` slot items per host (`LEASE#<host>`, `SLOT#<n>`). A lease id is `<n>:<uuid>` so release finds its slot.
 * expiresAtMs decides whether a slot is free; expiresAt (seconds) lets DynamoDB's TTL sweep old slots.
 */
export class DynamoHostLeases implements HostLeases {
  private readonly doc: DynamoDBDocumentClient;
  private readonly clock: Clock;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    options: { clock?: Clock } = {},
  ) {
    this.doc = documentClient(client);
    this.clock = options.clock ?? systemClock;
  }

  async acquire(host: string, limit: number, ttlSeconds: number): Promise<string | null> {
    checkLeaseArgs(host, limit, ttlSeconds);
    const now = this.clock.now().getTime();
    const held = new Set<string>();
    let start: Item | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `LEASE#${host}` },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? [])
        if (typeof item.expiresAtMs === 'number' && item.expiresAtMs > now) held.add(item.sk as string);
      start = page.LastEvaluatedKey;
    } while (start);
    const expiresAtMs = now + Math.round(ttlSeconds * 1000);
    for (let n = 0; n < limit; n++) {
      if (held.has(`SLOT#${n}`)) continue;
      const leaseId = `${n}:${randomUUID()}`;
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: {
              pk: `LEASE#${host}`,
              sk: `SLOT#${n}`,
              leaseId,
              expiresAtMs,
              expiresAt: Math.ceil(expiresAtMs / 1000),
            },
            // Free or expired at write time: of racing acquirers exactly one takes the slot.
            ConditionExpression: 'attribute_not_exists(pk) OR expiresAtMs <= :now',
            ExpressionAttributeValues: { ':now': now },
          }),
        );
        return leaseId;
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
    }
    return null;
  }

  async release(host: string, leaseId: string): Promise<void> {
    const slot = /^(\d+):/.exec(leaseId)?.[1];
    if (slot === undefined) return;
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pk: `LEASE#${host}`, sk: `SLOT#${slot}` },
          // Only the holder frees its slot: a stale id (expired and re-taken) is a no-op.
          ConditionExpression: 'leaseId = :id',
          ExpressionAttributeValues: { ':id': leaseId },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }
}

/** The five DynamoDB stores over the three tables. */
export function createDynamoScanStores(
  client: DynamoDBClient,
  names: ScanTableNames,
  options: { clock?: Clock; outboxRetentionDays?: number; taskRetentionDays?: number } = {},
): {
  scans: DynamoScanStore;
  findings: DynamoFindingStore;
  outbox: DynamoExportOutbox;
  schedules: DynamoScheduleStore;
  leases: DynamoHostLeases;
} {
  return {
    scans: new DynamoScanStore(client, names.scans, options),
    findings: new DynamoFindingStore(client, names.findings),
    outbox: new DynamoExportOutbox(client, names.outbox, { retentionDays: options.outboxRetentionDays }),
    schedules: new DynamoScheduleStore(client, names.scans),
    leases: new DynamoHostLeases(client, names.scans, options),
  };
}

/** Creates the three tables as infra does (tests, benchmarks, local setups); idempotent. */
export async function createScanTables(client: DynamoDBClient, names: ScanTableNames): Promise<void> {
  const create = async (command: CreateTableCommand): Promise<void> => {
    try {
      await client.send(command);
    } catch (err) {
      // Already there: creating is idempotent for callers that set up on every run.
      if (!(err instanceof ResourceInUseException)) throw err;
    }
  };
  const enableTtl = async (tableName: string, attribute: string): Promise<void> => {
    await client
      .send(
        new UpdateTimeToLiveCommand({
          TableName: tableName,
          TimeToLiveSpecification: { AttributeName: attribute, Enabled: true },
        }),
      )
      .catch((err: unknown) => {
        // Already enabled on a table created by an earlier run.
        if (!(err instanceof Error && /already enabled/i.test(err.message))) throw err;
      });
  };
  await Promise.all([
    create(
      new CreateTableCommand({
        TableName: names.scans,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: SCANS_TABLE.partitionKey, AttributeType: 'S' },
          { AttributeName: SCANS_TABLE.sortKey, AttributeType: 'S' },
          { AttributeName: SCANS_TABLE.createdIndexPartitionKey, AttributeType: 'S' },
          { AttributeName: SCANS_TABLE.createdIndexSortKey, AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: SCANS_TABLE.partitionKey, KeyType: 'HASH' },
          { AttributeName: SCANS_TABLE.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: SCANS_TABLE.createdIndex,
            KeySchema: [
              { AttributeName: SCANS_TABLE.createdIndexPartitionKey, KeyType: 'HASH' },
              { AttributeName: SCANS_TABLE.createdIndexSortKey, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      }),
    ),
    create(
      new CreateTableCommand({
        TableName: names.findings,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: FINDINGS_TABLE.partitionKey, AttributeType: 'S' },
          { AttributeName: FINDINGS_TABLE.sortKey, AttributeType: 'S' },
          { AttributeName: FINDINGS_TABLE.openIndexPartitionKey, AttributeType: 'S' },
          { AttributeName: FINDINGS_TABLE.openIndexSortKey, AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: FINDINGS_TABLE.partitionKey, KeyType: 'HASH' },
          { AttributeName: FINDINGS_TABLE.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: FINDINGS_TABLE.openIndex,
            KeySchema: [
              { AttributeName: FINDINGS_TABLE.openIndexPartitionKey, KeyType: 'HASH' },
              { AttributeName: FINDINGS_TABLE.openIndexSortKey, KeyType: 'RANGE' },
            ],
            Projection: {
              ProjectionType: 'INCLUDE',
              NonKeyAttributes: [...FINDINGS_TABLE.openIndexProjection],
            },
          },
        ],
      }),
    ),
    create(
      new CreateTableCommand({
        TableName: names.outbox,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: OUTBOX_TABLE.partitionKey, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: OUTBOX_TABLE.partitionKey, KeyType: 'HASH' }],
      }),
    ),
  ]);
  await Promise.all([
    enableTtl(names.scans, SCANS_TABLE.ttlAttribute),
    enableTtl(names.outbox, OUTBOX_TABLE.ttlAttribute),
  ]);
}
