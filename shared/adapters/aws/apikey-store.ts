// DynamoDB API-key store and audit log: one item per key (partition key keyId), one item per audit event.
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { SensorError } from '#shared/errors';
import { ApiKeyValidationError } from '#shared/apikeys/model';
import type {
  ApiKeyChanges,
  ApiKeyRecord,
  ApiKeyStore,
  AuditLog,
  AuditQuery,
  AuditRecord,
  PutOutcome,
  UpdateOutcome,
} from '#shared/apikeys/ports';
import { ApiKeyRecordSchema, AuditRecordSchema } from '#shared/apikeys/validation';

/** An item in the key table is not a key record (edited by hand, or written by something else). */
export class StoredItemError extends SensorError {}

function documentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

function toRecord(item: Record<string, unknown>): ApiKeyRecord {
  const parsed = ApiKeyRecordSchema.safeParse(item);
  if (!parsed.success)
    throw new StoredItemError('a stored API key item is malformed', { cause: parsed.error });
  return parsed.data;
}

/**
 * Keys by id. Reads are strongly consistent so a lock or delete is seen by the next uncached authentication.
 * list() is a paginated Scan: a sensor holds tens of keys, so a full read per listing is cheap and needs no index.
 */
export class DynamoApiKeyStore implements ApiKeyStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.doc = documentClient(client);
  }

  async put(record: ApiKeyRecord, _options: { ifAbsent: true }): Promise<PutOutcome> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: record,
          // Create only: a key id that is taken stays with its owner (no read-then-write race).
          ConditionExpression: 'attribute_not_exists(keyId)',
        }),
      );
      return 'created';
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return 'exists';
      throw err;
    }
  }

  async get(keyId: string): Promise<ApiKeyRecord | null> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { keyId }, ConsistentRead: true }),
    );
    return out.Item ? toRecord(out.Item) : null;
  }

  async update(
    keyId: string,
    changes: ApiKeyChanges,
    options: { expectedVersion: number },
  ): Promise<UpdateOutcome> {
    const names: Record<string, string> = { '#version': 'version' };
    const values: Record<string, unknown> = { ':expected': options.expectedVersion, ':one': 1 };
    const sets = ['#version = #version + :one'];
    for (const [field, value] of Object.entries(changes)) {
      if (value === undefined) continue;
      names[`#${field}`] = field;
      values[`:${field}`] = value;
      sets.push(`#${field} = :${field}`);
    }
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { keyId },
          UpdateExpression: `SET ${sets.join(', ')}`,
          // Optimistic concurrency: apply only to the version the caller read, and never resurrect a deleted key.
          ConditionExpression: 'attribute_exists(keyId) AND #version = :expected',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return 'updated';
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      return (await this.get(keyId)) ? 'conflict' : 'not-found';
    }
  }

  async recordUse(keyId: string, at: string): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { keyId },
          UpdateExpression: 'SET lastUsedAt = :at',
          // Only an existing key: a use racing a delete must not leave a stub item behind.
          ConditionExpression: 'attribute_exists(keyId)',
          ExpressionAttributeValues: { ':at': at },
        }),
      );
    } catch (err) {
      // The key was deleted since it was read; there is nothing left to mark as used.
      if (err instanceof ConditionalCheckFailedException) return;
      throw err;
    }
  }

  async delete(keyId: string): Promise<boolean> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { keyId },
          // Report whether there was a key, so a bulk delete can say 'not-found' for unknown ids.
          ConditionExpression: 'attribute_exists(keyId)',
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  async list(): Promise<ApiKeyRecord[]> {
    const out: ApiKeyRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new ScanCommand({ TableName: this.tableName, ConsistentRead: true, ExclusiveStartKey: start }),
      );
      for (const item of page.Items ?? []) out.push(toRecord(item));
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }
}

/** Every audit item shares one partition so a Query returns them newest first; fine for a sensor's audit volume. */
const AUDIT_PARTITION = 'apikeys';
/** Attribute DynamoDB's TTL reads on the audit table (set only when a retention is configured). */
export const AUDIT_TTL_ATTRIBUTE = 'expiresAt';
const AuditCursorSchema = z.object({ stream: z.string(), sk: z.string() });

/**
 * Audit items: partition key `stream` (constant), sort key `sk` = `<ISO time>#<id>`, so a descending Query is the
 * newest-first listing the console needs. Appends are create-only and never overwrite.
 */
export class DynamoAuditLog implements AuditLog {
  private readonly doc: DynamoDBDocumentClient;

  private readonly retentionSeconds: number | null;

  /**
   * With `retentionDays`, each item carries `expiresAt` (epoch seconds) for DynamoDB's TTL, so a flood of refused
   * authentications cannot grow the table forever; without it records are kept until deleted.
   */
  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    options: { retentionDays?: number } = {},
  ) {
    this.doc = documentClient(client);
    this.retentionSeconds =
      options.retentionDays === undefined ? null : Math.round(options.retentionDays * 86_400);
  }

  async append(record: AuditRecord): Promise<void> {
    const expiresAt =
      this.retentionSeconds === null
        ? undefined
        : Math.floor(Date.parse(record.at) / 1000) + this.retentionSeconds;
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          stream: AUDIT_PARTITION,
          sk: `${record.at}#${record.id}`,
          ...record,
          [AUDIT_TTL_ATTRIBUTE]: expiresAt,
        },
        // Audit records are immutable: a repeated id must fail rather than rewrite history.
        ConditionExpression: 'attribute_not_exists(sk)',
      }),
    );
  }

  async list(query: AuditQuery): Promise<{ items: AuditRecord[]; nextPageToken: string | null }> {
    const limit = query.limit ?? 50;
    const items: AuditRecord[] = [];
    let start: Record<string, unknown> | undefined =
      query.pageToken === undefined ? undefined : decodeCursor(query.pageToken);
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#stream = :stream',
          ExpressionAttributeNames: {
            '#stream': 'stream',
            ...(query.keyId === undefined ? {} : { '#target': 'targetKeyId' }),
          },
          ExpressionAttributeValues: {
            ':stream': AUDIT_PARTITION,
            ...(query.keyId === undefined ? {} : { ':target': query.keyId }),
          },
          FilterExpression: query.keyId === undefined ? undefined : '#target = :target',
          ScanIndexForward: false,
          Limit: limit - items.length,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        const parsed = AuditRecordSchema.safeParse(item);
        if (!parsed.success)
          throw new StoredItemError('a stored audit item is malformed', { cause: parsed.error });
        items.push(parsed.data);
      }
      start = page.LastEvaluatedKey;
    } while (start && items.length < limit);
    return {
      items,
      nextPageToken: start ? Buffer.from(JSON.stringify(start)).toString('base64url') : null,
    };
  }
}

function decodeCursor(token: string): Record<string, unknown> {
  try {
    return AuditCursorSchema.parse(JSON.parse(Buffer.from(token, 'base64url').toString('utf8')));
  } catch (err) {
    throw new ApiKeyValidationError([{ path: 'pageToken', message: 'is not an audit page token' }], {
      cause: err,
    });
  }
}

/** Creates the two tables with the key schemas these adapters expect (tests, benchmarks, local setups). */
export async function createApiKeyTables(
  client: DynamoDBClient,
  names: { keys: string; audit: string },
): Promise<void> {
  const create = async (command: CreateTableCommand): Promise<void> => {
    try {
      await client.send(command);
    } catch (err) {
      // Already there: creating is idempotent for callers that set up on every run.
      if (!(err instanceof ResourceInUseException)) throw err;
    }
  };
  await create(
    new CreateTableCommand({
      TableName: names.keys,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'keyId', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'keyId', KeyType: 'HASH' }],
    }),
  );
  await create(
    new CreateTableCommand({
      TableName: names.audit,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'stream', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'stream', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }),
  );
  await client
    .send(
      new UpdateTimeToLiveCommand({
        TableName: names.audit,
        TimeToLiveSpecification: { AttributeName: AUDIT_TTL_ATTRIBUTE, Enabled: true },
      }),
    )
    .catch((err: unknown) => {
      // Already enabled on a table created by an earlier run.
      if (!(err instanceof Error && /already enabled/i.test(err.message))) throw err;
    });
}
