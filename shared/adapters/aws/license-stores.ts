// DynamoDB licensing stores over ONE table (pk, sk strings). Items:
//   LICENSE / CURRENT                     the installed license (its file text is not a secret)
//   ACTIONED / <startedAt>#<runId>         one per actioned-certificate run; Query backwards lists newest first
//   ALERT / <alertId>                      uniqueness of an alert (conditional put: a condition raises one alert)
//   ALERT_BY_TIME / <createdAt>#<alertId>  the same alert in time order, written in the same transaction
//   CONTEXT / <sensorKey>                  each sensor's latest Command context snapshot (gzip JSON)
// Records are stored as JSON text (`json`), so what comes back equals what went in, exactly as the memory adapter.
import { gunzipSync } from 'node:zlib';
import {
  CreateTableCommand,
  ResourceInUseException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import type { NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import { SensorError } from '#shared/errors';
import {
  alertOrderKey,
  assertContext,
  assertInstalledLicense,
  assertLimit,
  compressContext,
  runOrderKey,
} from '#shared/adapters/memory/license-stores';
import type { LicenseStores } from '#shared/adapters/memory/license-stores';
import type { ActionedRun, Alert, CommandContextSnapshot, InstalledLicense } from '#shared/license/model';
import type { ActionedRunStore, AlertStore, CommandContextStore, LicenseStore } from '#shared/license/ports';

/** Key names and partitions of the licensing table (infra creates it with the same schema). */
export const LICENSE_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  partitions: {
    license: 'LICENSE',
    runs: 'ACTIONED',
    alerts: 'ALERT',
    alertsByTime: 'ALERT_BY_TIME',
    contexts: 'CONTEXT',
  },
} as const;

/** Attempts when concurrent transactions on one alert conflict (DynamoDB cancels one of them; retrying decides). */
const MAX_ATTEMPTS = 8;

type Item = Record<string, NativeAttributeValue>;

/** A stored licensing item is not what this adapter writes (edited by hand, or written by something else). */
export class StoredLicenseItemError extends SensorError {}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function documentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

function fromJson<T>(item: Item, idField: string): T {
  const where = `${String(item.pk)}/${String(item.sk)}`;
  if (typeof item.json !== 'string')
    throw new StoredLicenseItemError(`licensing item ${where} has no json attribute`);
  let value: unknown;
  try {
    value = JSON.parse(item.json);
  } catch (err) {
    throw new StoredLicenseItemError(`licensing item ${where} holds invalid JSON`, { cause: err });
  }
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof (value as Record<string, unknown>)[idField] !== 'string'
  )
    throw new StoredLicenseItemError(`licensing item ${where} is not a record with ${idField}`);
  return value as T;
}

/** Pages a Query until `limit` items (or the end), newest first when `backwards`. */
async function queryPartition(
  doc: DynamoDBDocumentClient,
  tableName: string,
  pk: string,
  options: { limit?: number; backwards?: boolean },
): Promise<Item[]> {
  const items: Item[] = [];
  let start: Record<string, NativeAttributeValue> | undefined;
  do {
    const out = await doc.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        ScanIndexForward: !options.backwards,
        ConsistentRead: true,
        ...(options.limit === undefined ? {} : { Limit: options.limit - items.length }),
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start && (options.limit === undefined || items.length < options.limit));
  return items;
}

export class DynamoLicenseStore implements LicenseStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly key = { pk: LICENSE_TABLE.partitions.license, sk: 'CURRENT' };

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.doc = documentClient(client);
  }

  async getInstalled(): Promise<InstalledLicense | null> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: this.key, ConsistentRead: true }),
    );
    return out.Item ? fromJson<InstalledLicense>(out.Item, 'text') : null;
  }

  async putInstalled(license: InstalledLicense): Promise<void> {
    assertInstalledLicense(license);
    await this.doc.send(
      new PutCommand({ TableName: this.tableName, Item: { ...this.key, json: JSON.stringify(license) } }),
    );
  }
}

export class DynamoActionedRunStore implements ActionedRunStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.doc = documentClient(client);
  }

  async putRun(run: ActionedRun): Promise<void> {
    const sk = runOrderKey(run);
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: LICENSE_TABLE.partitions.runs, sk, runId: run.runId, json: JSON.stringify(run) },
      }),
    );
  }

  async listRuns(limit: number): Promise<ActionedRun[]> {
    assertLimit(limit);
    const items = await queryPartition(this.doc, this.tableName, LICENSE_TABLE.partitions.runs, {
      limit,
      backwards: true,
    });
    return items.map((item) => fromJson<ActionedRun>(item, 'runId'));
  }
}

export class DynamoAlertStore implements AlertStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.doc = documentClient(client);
  }

  async raise(alert: Alert): Promise<boolean> {
    const order = alertOrderKey(alert);
    const json = JSON.stringify(alert);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.doc.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: this.tableName,
                  Item: {
                    pk: LICENSE_TABLE.partitions.alerts,
                    sk: alert.alertId,
                    createdAt: alert.createdAt,
                    json,
                  },
                  // Atomic: of concurrent raises of one condition, exactly one stores (and so publishes) it.
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
              {
                Put: {
                  TableName: this.tableName,
                  Item: {
                    pk: LICENSE_TABLE.partitions.alertsByTime,
                    sk: order,
                    alertId: alert.alertId,
                    json,
                  },
                },
              },
            ],
          }),
        );
        return true;
      } catch (err) {
        if (!(err instanceof TransactionCanceledException)) throw err;
        const codes = (err.CancellationReasons ?? []).map((r) => r.Code);
        if (codes[0] === 'ConditionalCheckFailed') return false;
        // TransactionConflict: another raise of the same alert is in flight; retry and let the condition decide.
        if (!codes.includes('TransactionConflict') || attempt + 1 >= MAX_ATTEMPTS) throw err;
        await sleep(Math.random() * Math.min(1000, 25 * 2 ** attempt));
      }
    }
  }

  async list(limit: number): Promise<Alert[]> {
    assertLimit(limit);
    const items = await queryPartition(this.doc, this.tableName, LICENSE_TABLE.partitions.alertsByTime, {
      limit,
      backwards: true,
    });
    return items.map((item) => fromJson<Alert>(item, 'alertId'));
  }
}

export class DynamoCommandContextStore implements CommandContextStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.doc = documentClient(client);
  }

  async putContext(snapshot: CommandContextSnapshot): Promise<void> {
    assertContext(snapshot);
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: LICENSE_TABLE.partitions.contexts,
          sk: snapshot.sensorKey,
          capturedAt: snapshot.capturedAt,
          jsonGzip: compressContext(snapshot),
        },
      }),
    );
  }

  async listContexts(): Promise<CommandContextSnapshot[]> {
    // Sort-key order is sensor-key order (the memory adapter sorts the same way).
    const items = await queryPartition(this.doc, this.tableName, LICENSE_TABLE.partitions.contexts, {});
    return items.map((item) => {
      const body = item.jsonGzip as unknown;
      if (!(body instanceof Uint8Array))
        throw new StoredLicenseItemError(
          `licensing item CONTEXT/${String(item.sk)} has no jsonGzip attribute`,
        );
      let json: string;
      try {
        json = gunzipSync(body).toString('utf8');
      } catch (err) {
        throw new StoredLicenseItemError(`licensing item CONTEXT/${String(item.sk)} is not gzip`, {
          cause: err,
        });
      }
      return fromJson<CommandContextSnapshot>({ pk: 'CONTEXT', sk: String(item.sk), json }, 'sensorKey');
    });
  }
}

/** The four licensing stores over one table. */
export function createDynamoLicenseStores(client: DynamoDBClient, tableName: string): LicenseStores {
  return {
    licenses: new DynamoLicenseStore(client, tableName),
    runs: new DynamoActionedRunStore(client, tableName),
    alerts: new DynamoAlertStore(client, tableName),
    contexts: new DynamoCommandContextStore(client, tableName),
  };
}

/** Creates the licensing table as infra does (tests, the local cloud); idempotent. */
export async function createLicenseTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: LICENSE_TABLE.partitionKey, AttributeType: 'S' },
          { AttributeName: LICENSE_TABLE.sortKey, AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: LICENSE_TABLE.partitionKey, KeyType: 'HASH' },
          { AttributeName: LICENSE_TABLE.sortKey, KeyType: 'RANGE' },
        ],
      }),
    );
  } catch (err) {
    // Already there: callers that set up on every run may create it again.
    if (!(err instanceof ResourceInUseException)) throw err;
  }
}
