// The scan store contract against the DynamoDB adapters on moto, plus what only DynamoDB has: batch limits (25 writes,
// 100 reads per request) and their unprocessed items, the 400 KB item guard and expiry of the outbox, the gzip document
// attribute, and the finalisation claim a redelivery can still make after a crash.
import { randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { describe, expect, inject, it } from 'vitest';
import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { AttributeValue, WriteRequest } from '@aws-sdk/client-dynamodb';
import { localAwsClientConfig } from '#shared/adapters/aws/client-config';
import { InputError } from '#shared/errors';
import {
  DynamoRetryExhaustedError,
  FINDINGS_TABLE,
  OutboxBatchTooLargeError,
  SCANS_TABLE,
  createDynamoScanStores,
  createScanTables,
} from '#shared/adapters/aws/scan-stores';
import type { ScanTableNames } from '#shared/adapters/aws/scan-stores';
import {
  TestClock,
  describeScanStoreContract,
  exportBatch,
  findingInputs,
  scanRecord,
} from '#test/support/scan-store-contract';

const dynamo = new DynamoDBClient(localAwsClientConfig(inject('awsEndpoint')));
/**
 * DynamoDB applies each request to an item atomically; moto serves requests on parallel threads without item locks
 * (a concurrent `SET n = n + :d` loses updates there). So the contract's client sends one request at a time: each
 * request is atomic as on AWS, while the adapters' multi-request sequences (transaction then claim, read then
 * batch write, query then conditional updates) still interleave freely between concurrent callers.
 */
const serialDynamo = new DynamoDBClient(localAwsClientConfig(inject('awsEndpoint')));
let inFlight: Promise<unknown> = Promise.resolve();
serialDynamo.middlewareStack.add(
  (next) => (args) => {
    const run = inFlight.then(() => next(args));
    inFlight = run.catch(() => undefined);
    return run;
  },
  { step: 'deserialize', name: 'oneRequestAtATimeForMoto' },
);
// Unique per run and file (moto is shared and never reset); each contract test gets its own tables.
const runId = randomUUID().slice(0, 8);
let tableCount = 0;

function chunksOf<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
}

async function freshTables(): Promise<ScanTableNames> {
  const n = tableCount++;
  const names = {
    scans: `scan-stores-${runId}-${n}-scans`,
    findings: `scan-stores-${runId}-${n}-findings`,
    outbox: `scan-stores-${runId}-${n}-outbox`,
  };
  await createScanTables(dynamo, names);
  return names;
}

describeScanStoreContract('DynamoDB (moto)', async (clock) =>
  createDynamoScanStores(serialDynamo, await freshTables(), { clock }),
);

describe('DynamoDB scan stores: what only DynamoDB has', () => {
  it('creates the tables infra creates (keys, byCreated index, TTL), idempotently', async () => {
    const names = await freshTables();
    await createScanTables(dynamo, names);
    const scans = await dynamo.send(new DescribeTableCommand({ TableName: names.scans }));
    expect(scans.Table?.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    const index = scans.Table?.GlobalSecondaryIndexes?.[0];
    expect(index?.IndexName).toBe(SCANS_TABLE.createdIndex);
    expect(index?.KeySchema).toEqual([
      { AttributeName: 'gsi1pk', KeyType: 'HASH' },
      { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
    ]);
    expect(index?.Projection?.ProjectionType).toBe('ALL');
    const findings = await dynamo.send(new DescribeTableCommand({ TableName: names.findings }));
    expect(findings.Table?.KeySchema?.map((k) => k.AttributeName)).toEqual(['sensorKey', 'findingId']);
    const open = findings.Table?.GlobalSecondaryIndexes?.[0];
    expect(open?.IndexName).toBe('openByLastSeen');
    expect(open?.KeySchema).toEqual([
      { AttributeName: 'openSensorKey', KeyType: 'HASH' },
      { AttributeName: 'lastSeenScanId', KeyType: 'RANGE' },
    ]);
    expect(open?.Projection).toEqual({ ProjectionType: 'INCLUDE', NonKeyAttributes: ['certificateId'] });
    for (const table of [names.scans, names.outbox]) {
      const ttl = await dynamo.send(new DescribeTimeToLiveCommand({ TableName: table }));
      expect(ttl.TimeToLiveDescription?.AttributeName).toBe('expiresAt');
    }
  });

  it('upserts more findings than one BatchWriteItem (25) or BatchGetItem (100) takes', async () => {
    const stores = createDynamoScanStores(dynamo, await freshTables());
    const sensorKey = `sk-${randomUUID()}`;
    const inputs = findingInputs(sensorKey, 0, 230);
    const outcomes = await stores.findings.upsertFindings(
      sensorKey,
      'scan-1',
      '2026-03-01T12:00:00.000Z',
      inputs,
    );
    expect(outcomes).toEqual(inputs.map(() => 'created'));
    const listed: string[] = [];
    for await (const page of stores.findings.listFindings(sensorKey))
      listed.push(...page.map((f) => f.findingId));
    expect(listed.sort()).toEqual(inputs.map((i) => i.findingId).sort());
    // The second pass reads all 230 back (three BatchGetItem requests) and rewrites them as seen by scan-2.
    const again = await stores.findings.upsertFindings(
      sensorKey,
      'scan-2',
      '2026-03-01T13:00:00.000Z',
      inputs,
    );
    expect(again).toEqual(inputs.map(() => 'unchanged'));
    expect((await stores.findings.getFinding(sensorKey, inputs[229]!.findingId))?.lastSeenScanId).toBe(
      'scan-2',
    );
  });

  it('stores the finding document gzipped in a binary attribute, smaller than its JSON', async () => {
    const names = await freshTables();
    const stores = createDynamoScanStores(dynamo, names);
    const sensorKey = `sk-${randomUUID()}`;
    const [input] = findingInputs(sensorKey, 50, 51);
    await stores.findings.upsertFindings(sensorKey, 'scan-1', '2026-03-01T12:00:00.000Z', [input!]);
    const raw = await dynamo.send(
      new GetItemCommand({
        TableName: names.findings,
        Key: { sensorKey: { S: sensorKey }, findingId: { S: input!.findingId } },
      }),
    );
    const body = raw.Item?.[FINDINGS_TABLE.documentAttribute]?.B;
    expect(body).toBeInstanceOf(Uint8Array);
    const json = JSON.stringify(input!.document);
    expect(body!.byteLength).toBeLessThan(Buffer.byteLength(json) / 2);
    expect(JSON.parse(gunzipSync(body!).toString('utf8'))).toEqual(input!.document);
    // Plain attributes for what conditions and filters read.
    expect(raw.Item?.status).toEqual({ S: 'open' });
    expect(raw.Item?.lastSeenScanId).toEqual({ S: 'scan-1' });
    expect(raw.Item?.contentHash).toEqual({ S: input!.contentHash });
    expect(raw.Item?.certificateId).toEqual({ N: String(input!.certificateId) });
  });

  it('resolves unseen findings of a 3,000-finding partition reading only those 10 through the sparse index', async () => {
    const names = await freshTables();
    // Counts what every Query of the adapter read (moto reports ScannedCount before any filter, like DynamoDB).
    const counted = new DynamoDBClient(localAwsClientConfig(inject('awsEndpoint')));
    const queries: { index: string | undefined; scanned: number }[] = [];
    counted.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        if (context.commandName === 'QueryCommand') {
          const input = args.input as { IndexName?: string };
          const output = out.output as { ScannedCount?: number };
          queries.push({ index: input.IndexName, scanned: output.ScannedCount ?? -1 });
        }
        return out;
      },
      { step: 'initialize', name: 'countQueryReads' },
    );
    const stores = createDynamoScanStores(counted, names);
    const sensorKey = `sk-${randomUUID()}`;
    const [template] = findingInputs(sensorKey, 0, 1);
    const inputs = Array.from({ length: 3000 }, (_, i) => ({
      ...template!,
      findingId: `${template!.findingId}-${String(i).padStart(4, '0')}`,
      certificateId: i + 1,
    }));
    // ULID-shaped scan ids, ordered as newScanId makes them.
    const [older, full] = ['01J0000000AAAAAAAAAAAAAAAA', '01J0000001AAAAAAAAAAAAAAAA'];
    await Promise.all(
      chunksOf(inputs, 500).map((part) =>
        stores.findings.upsertFindings(sensorKey, older, '2026-03-01T00:00:00.000Z', part),
      ),
    );
    const unseen = inputs.filter((_, i) => i % 300 === 7);
    const seen = inputs.filter((_, i) => i % 300 !== 7);
    await Promise.all(
      chunksOf(seen, 500).map((part) =>
        stores.findings.upsertFindings(sensorKey, full, '2026-03-02T00:00:00.000Z', part),
      ),
    );
    const indexQuery = async () =>
      dynamo.send(
        new QueryCommand({
          TableName: names.findings,
          IndexName: FINDINGS_TABLE.openIndex,
          KeyConditionExpression: 'openSensorKey = :k AND lastSeenScanId < :s',
          ExpressionAttributeValues: { ':k': { S: sensorKey }, ':s': { S: full } },
        }),
      );
    const before = await indexQuery();
    expect(before.Count).toBe(10);
    expect(before.Items?.map((i) => i.findingId?.S).sort()).toEqual(unseen.map((i) => i.findingId).sort());

    queries.length = 0;
    const resolved: string[] = [];
    for await (const chunk of stores.findings.resolveUnseen(sensorKey, full, '2026-03-02T01:00:00.000Z'))
      resolved.push(...chunk.map((r) => r.findingId));
    expect(resolved.sort()).toEqual(unseen.map((i) => i.findingId).sort());
    // Only the index, and only the 10 unseen entries: not the 2,990 findings this scan saw.
    expect(queries.every((q) => q.index === FINDINGS_TABLE.openIndex)).toBe(true);
    expect(queries.reduce((sum, q) => sum + q.scanned, 0)).toBe(10);

    expect((await indexQuery()).Count).toBe(0);
    const raw = async (findingId: string) =>
      (
        await dynamo.send(
          new GetItemCommand({
            TableName: names.findings,
            Key: { sensorKey: { S: sensorKey }, findingId: { S: findingId } },
          }),
        )
      ).Item;
    const gone = await raw(unseen[0]!.findingId);
    expect(gone?.status).toEqual({ S: 'resolved' });
    expect(gone?.openSensorKey).toBeUndefined();
    expect((await raw(seen[0]!.findingId))?.openSensorKey).toEqual({ S: sensorKey });
    // The index attribute stays inside the adapter.
    expect(await stores.findings.getFinding(sensorKey, seen[0]!.findingId)).not.toHaveProperty(
      'openSensorKey',
    );
    expect((await collect(stores.findings.resolveUnseen(sensorKey, full, 'later'))).flat()).toEqual([]);
  });

  it('resolves a finding last seen by a scan id sorting after this one too (as the contract’s “not scanId”)', async () => {
    const stores = createDynamoScanStores(dynamo, await freshTables());
    const sensorKey = `sk-${randomUUID()}`;
    const [a, b, c] = findingInputs(sensorKey, 0, 3);
    await stores.findings.upsertFindings(sensorKey, 'scan-1', '2026-03-01T00:00:00.000Z', [a!]);
    await stores.findings.upsertFindings(sensorKey, 'scan-3', '2026-03-01T00:00:00.000Z', [b!]);
    await stores.findings.upsertFindings(sensorKey, 'scan-2', '2026-03-01T00:00:00.000Z', [c!]);
    const resolved = (await collect(stores.findings.resolveUnseen(sensorKey, 'scan-2', 'at'))).flat();
    expect(resolved.map((r) => r.findingId).sort()).toEqual([a!.findingId, b!.findingId].sort());
  });

  it('gives a finding stored before the index existed its index entry back on its next upsert', async () => {
    const names = await freshTables();
    const stores = createDynamoScanStores(dynamo, names);
    const sensorKey = `sk-${randomUUID()}`;
    const [a, b] = findingInputs(sensorKey, 0, 2);
    await stores.findings.upsertFindings(sensorKey, 'scan-1', '2026-03-01T00:00:00.000Z', [a!, b!]);
    // What an item written by the adapter before openByLastSeen looks like.
    for (const input of [a!, b!])
      await dynamo.send(
        new UpdateItemCommand({
          TableName: names.findings,
          Key: { sensorKey: { S: sensorKey }, findingId: { S: input.findingId } },
          UpdateExpression: 'REMOVE openSensorKey',
        }),
      );
    // Not indexed, so not resolved: why docs/state-store.md asks for a backfill of existing data.
    expect((await collect(stores.findings.resolveUnseen(sensorKey, 'scan-2', 'at'))).flat()).toEqual([]);
    // An unchanged finding is still rewritten (lastSeen*), which puts it back in the index.
    expect(
      await stores.findings.upsertFindings(sensorKey, 'scan-2', '2026-03-02T00:00:00.000Z', [a!]),
    ).toEqual(['unchanged']);
    const raw = await dynamo.send(
      new GetItemCommand({
        TableName: names.findings,
        Key: { sensorKey: { S: sensorKey }, findingId: { S: a!.findingId } },
      }),
    );
    expect(raw.Item?.openSensorKey).toEqual({ S: sensorKey });
    // The one-off backfill of docs/state-store.md, for a finding no scan will see again.
    const backfill = () =>
      dynamo.send(
        new UpdateItemCommand({
          TableName: names.findings,
          Key: { sensorKey: { S: sensorKey }, findingId: { S: b!.findingId } },
          UpdateExpression: 'SET openSensorKey = :k',
          ConditionExpression: '#s = :open AND attribute_not_exists(openSensorKey)',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':open': { S: 'open' }, ':k': { S: sensorKey } },
        }),
      );
    await backfill();
    const resolved = (await collect(stores.findings.resolveUnseen(sensorKey, 'scan-3', 'at'))).flat();
    expect(resolved.map((r) => r.findingId).sort()).toEqual([a!.findingId, b!.findingId].sort());
    // Resolved findings are not backfilled: the condition refuses them.
    await expect(backfill()).rejects.toThrow(/conditional/i);
  });

  it('refuses an outbox body over 350 KB before DynamoDB would, and accepts one just under', async () => {
    const stores = createDynamoScanStores(dynamo, await freshTables());
    const tooLarge = exportBatch({ body: new Uint8Array(350 * 1024 + 1) });
    await expect(stores.outbox.putBatch(tooLarge)).rejects.toBeInstanceOf(OutboxBatchTooLargeError);
    await expect(stores.outbox.putBatch(tooLarge)).rejects.toThrow(/350 KB|358400/);
    const fits = exportBatch({ body: new Uint8Array(350 * 1024).fill(7), lastError: 'x'.repeat(50_000) });
    expect(await stores.outbox.putBatch(fits)).toBe(true);
    const stored = await stores.outbox.getBatch(fits.batchId);
    expect(stored?.body.byteLength).toBe(350 * 1024);
    expect(stored?.lastError?.length).toBeLessThanOrEqual(2000);
  });

  it('lets only sent outbox batches expire, 14 days after sending', async () => {
    const names = await freshTables();
    const stores = createDynamoScanStores(dynamo, names);
    const batch = exportBatch();
    await stores.outbox.putBatch(batch);
    const raw = async () =>
      (
        await dynamo.send(
          new GetItemCommand({ TableName: names.outbox, Key: { batchId: { S: batch.batchId } } }),
        )
      ).Item;
    expect((await raw())?.expiresAt).toBeUndefined();
    await stores.outbox.markAttempt(batch.batchId, 'HTTP 503', true);
    expect((await raw())?.expiresAt).toBeUndefined();
    await stores.outbox.markSent(batch.batchId, '2026-03-02T00:00:00.000Z');
    expect((await raw())?.expiresAt).toEqual({ N: String(Date.parse('2026-03-16T00:00:00.000Z') / 1000) });
    expect((await raw())?.body?.B).toBeInstanceOf(Uint8Array);
    await expect(stores.outbox.markSent(exportBatch().batchId, 'yesterday')).rejects.toBeInstanceOf(
      InputError,
    );
  });

  it('keeps task completions and callbackId claims as their own items under the scan', async () => {
    const names = await freshTables();
    const stores = createDynamoScanStores(dynamo, names, { clock: new TestClock() });
    const scan = scanRecord({ callbackId: 'cb-raw', state: 'RUNNING' });
    await stores.scans.createScan(scan);
    await stores.scans.completeTask(scan.scanId, 'r1-10', {
      status: 'failed',
      fetched: 10,
      analysed: 0,
      rejected: 0,
      changed: 0,
      exportBatches: 0,
      error: 'HTTP 503',
    });
    const task = await dynamo.send(
      new GetItemCommand({
        TableName: names.scans,
        Key: { pk: { S: `SCAN#${scan.scanId}` }, sk: { S: 'TASK#r1-10' } },
      }),
    );
    expect(task.Item?.status).toEqual({ S: 'failed' });
    expect(task.Item?.expiresAt?.N).toBeDefined();
    const claim = await dynamo.send(
      new GetItemCommand({
        TableName: names.scans,
        Key: { pk: { S: 'CALLBACK#cb-raw' }, sk: { S: `${scan.createdAt}#${scan.scanId}` } },
      }),
    );
    expect(claim.Item?.scanId).toEqual({ S: scan.scanId });
  });

  it('hands lastTask to the redelivery when the last completion was recorded but never claimed (a crash)', async () => {
    const names = await freshTables();
    const stores = createDynamoScanStores(dynamo, names);
    const scan = scanRecord({ state: 'RUNNING', counts: { ...scanRecord().counts, pagesPlanned: 1 } });
    await stores.scans.createScan(scan);
    const outcome = {
      status: 'done',
      fetched: 5,
      analysed: 5,
      rejected: 0,
      changed: 0,
      exportBatches: 0,
    } as const;
    expect(await stores.scans.completeTask(scan.scanId, 'r1-5', outcome)).toMatchObject({ lastTask: true });
    // As if the worker had died between the transaction and the claim.
    await dynamo.send(
      new UpdateItemCommand({
        TableName: names.scans,
        Key: { pk: { S: `SCAN#${scan.scanId}` }, sk: { S: 'SCAN' } },
        UpdateExpression: 'REMOVE finalizeClaimed',
      }),
    );
    const redelivered = await stores.scans.completeTask(scan.scanId, 'r1-5', outcome);
    expect(redelivered).toMatchObject({ applied: false, lastTask: true });
    expect(redelivered.scan.counts.pagesDone).toBe(1);
    expect(await stores.scans.completeTask(scan.scanId, 'r1-5', outcome)).toMatchObject({ lastTask: false });
  });

  describe('unprocessed batch items', () => {
    /**
     * A client whose BatchWriteItem/BatchGetItem requests DynamoDB only partly processes, as under throttling:
     * `keep(n)` says how many entries of the n sent reach moto; the rest come back as Unprocessed*.
     */
    function throttledClient(keep: (sent: number) => number): { client: DynamoDBClient; calls: string[] } {
      const client = new DynamoDBClient(localAwsClientConfig(inject('awsEndpoint')));
      const calls: string[] = [];
      client.middlewareStack.add(
        (next, context) => async (args) => {
          const input = args.input as {
            RequestItems?: Record<string, WriteRequest[] | { Keys?: Record<string, AttributeValue>[] }>;
          };
          const [table, request] = Object.entries(input.RequestItems ?? {})[0] ?? [];
          if (table === undefined || request === undefined) return next(args);
          if (context.commandName === 'BatchWriteItemCommand' && Array.isArray(request)) {
            const n = keep(request.length);
            calls.push(`write ${n}/${request.length}`);
            const result = await next({
              ...args,
              input: { ...input, RequestItems: { [table]: request.slice(0, n) } },
            });
            if (n === 0)
              return { ...result, output: { ...result.output, UnprocessedItems: { [table]: request } } };
            const output = result.output as { UnprocessedItems?: Record<string, WriteRequest[]> };
            output.UnprocessedItems = request.length > n ? { [table]: request.slice(n) } : {};
            return result;
          }
          if (context.commandName === 'BatchGetItemCommand' && !Array.isArray(request)) {
            const keys = request.Keys ?? [];
            const n = keep(keys.length);
            calls.push(`get ${n}/${keys.length}`);
            if (n === 0)
              return {
                response: {},
                output: { $metadata: {}, Responses: { [table]: [] }, UnprocessedKeys: { [table]: request } },
              } as unknown as Awaited<ReturnType<typeof next>>;
            const result = await next({
              ...args,
              input: { ...input, RequestItems: { [table]: { ...request, Keys: keys.slice(0, n) } } },
            });
            const output = result.output as { UnprocessedKeys?: Record<string, unknown> };
            output.UnprocessedKeys = keys.length > n ? { [table]: { ...request, Keys: keys.slice(n) } } : {};
            return result;
          }
          return next(args);
        },
        { step: 'initialize', name: 'partialBatches' },
      );
      return { client, calls };
    }

    it('retries what DynamoDB left unprocessed until every finding is read and written', async () => {
      const names = await freshTables();
      const { client, calls } = throttledClient((sent) => Math.ceil(sent / 2));
      const stores = createDynamoScanStores(client, names);
      const sensorKey = `sk-${randomUUID()}`;
      const inputs = findingInputs(sensorKey, 60, 100);
      expect(
        await stores.findings.upsertFindings(sensorKey, 'scan-1', '2026-03-01T12:00:00.000Z', inputs),
      ).toEqual(inputs.map(() => 'created'));
      expect(calls.filter((c) => c.startsWith('write')).length).toBeGreaterThan(2);
      expect(
        await stores.findings.upsertFindings(sensorKey, 'scan-1', '2026-03-01T12:00:00.000Z', inputs),
      ).toEqual(inputs.map(() => 'unchanged'));
      expect(calls).toContain('get 20/40');
      const plain = createDynamoScanStores(dynamo, names);
      for (const input of inputs)
        expect((await plain.findings.getFinding(sensorKey, input.findingId))?.contentHash).toBe(
          input.contentHash,
        );
    });

    it('gives up with a clear error after a bounded number of attempts', async () => {
      const names = await freshTables();
      const stores = createDynamoScanStores(throttledClient(() => 0).client, names);
      const sensorKey = `sk-${randomUUID()}`;
      const inputs = findingInputs(sensorKey, 60, 63);
      const error = await stores.findings
        .upsertFindings(sensorKey, 'scan-1', '2026-03-01T12:00:00.000Z', inputs)
        .catch((err: unknown) => err);
      expect(error).toBeInstanceOf(DynamoRetryExhaustedError);
      expect((error as Error).message).toMatch(/3 keys still unprocessed after 8 attempts/);
    });
  });
});
