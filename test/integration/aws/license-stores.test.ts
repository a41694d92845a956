// The licensing store contract against DynamoDB on moto (one table per test), plus what only DynamoDB has: the item
// layout (one table, pk/sk), an alert raised under concurrent transactions, and hand-edited items refused clearly.
import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { DescribeTableCommand, DynamoDBClient, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { localAwsClientConfig } from '#shared/adapters/aws/client-config';
import {
  LICENSE_TABLE,
  StoredLicenseItemError,
  createDynamoLicenseStores,
  createLicenseTable,
} from '#shared/adapters/aws/license-stores';
import {
  actionedRun,
  contextSnapshot,
  describeLicenseStoreContract,
  testAlert,
} from '#test/support/license-store-contract';

const dynamo = new DynamoDBClient(localAwsClientConfig(inject('awsEndpoint')));
// Unique per run and file (moto is shared and never reset).
const runId = randomUUID().slice(0, 8);
let tableCount = 0;

async function freshTable(): Promise<string> {
  const name = `license-${runId}-${++tableCount}`;
  await createLicenseTable(dynamo, name);
  return name;
}

describeLicenseStoreContract('dynamodb', async () => createDynamoLicenseStores(dynamo, await freshTable()));

describe('DynamoDB licensing stores: what only DynamoDB has', () => {
  it('creates one PAY_PER_REQUEST table keyed pk/sk, idempotently', async () => {
    const name = await freshTable();
    await createLicenseTable(dynamo, name);
    const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: name }));
    expect(Table?.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
  });

  it('keeps every record in the one table under its partition, and stores no key material', async () => {
    const name = await freshTable();
    const stores = createDynamoLicenseStores(dynamo, name);
    await stores.licenses.putInstalled({
      text: '{"license":{}}',
      installedAt: '2026-03-01T00:00:00Z',
      installedBy: null,
    });
    await stores.runs.putRun(actionedRun(1));
    await stores.alerts.raise(testAlert('a-1', '2026-03-01T00:00:00.000Z'));
    await stores.contexts.putContext(contextSnapshot('sensor-a'));
    const { Items = [] } = await dynamo.send(new ScanCommand({ TableName: name, ConsistentRead: true }));
    const keys = Items.map((i) => `${i.pk?.S ?? ''}/${i.sk?.S ?? ''}`).sort();
    expect(keys).toEqual([
      'ACTIONED/2026-03-02T02:00:00.000Z#run-001',
      'ALERT/a-1',
      'ALERT_BY_TIME/2026-03-01T00:00:00.000Z#a-1',
      'CONTEXT/sensor-a',
      'LICENSE/CURRENT',
    ]);
    expect(JSON.stringify(Items)).not.toMatch(/PRIVATE KEY/);
    expect(LICENSE_TABLE.partitions.alerts).toBe('ALERT');
  });

  it('concurrent raises of one alert from separate clients (transactions conflicting) store and report it once', async () => {
    const name = await freshTable();
    const clients = Array.from(
      { length: 4 },
      () => new DynamoDBClient(localAwsClientConfig(inject('awsEndpoint'))),
    );
    const alert = testAlert('actioned-over-limit:2026-03-02', '2026-03-02T02:00:00.000Z');
    const results = await Promise.all(
      clients.map((client) => createDynamoLicenseStores(client, name).alerts.raise(alert)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    const { Items = [] } = await dynamo.send(new ScanCommand({ TableName: name, ConsistentRead: true }));
    expect(Items).toHaveLength(2);
  });

  it('refuses a hand-edited item with an error naming the item', async () => {
    const name = await freshTable();
    const stores = createDynamoLicenseStores(dynamo, name);
    await dynamo.send(
      new PutItemCommand({
        TableName: name,
        Item: { pk: { S: 'ACTIONED' }, sk: { S: '2026-01-01T00:00:00.000Z#bad' }, json: { S: '{not json' } },
      }),
    );
    await expect(stores.runs.listRuns(5)).rejects.toThrow(StoredLicenseItemError);
    await expect(stores.runs.listRuns(5)).rejects.toThrow(/ACTIONED\/2026-01-01T00:00:00.000Z#bad/);
    await dynamo.send(
      new PutItemCommand({
        TableName: name,
        Item: { pk: { S: 'LICENSE' }, sk: { S: 'CURRENT' }, json: { S: '{}' } },
      }),
    );
    await expect(stores.licenses.getInstalled()).rejects.toThrow(
      /LICENSE\/CURRENT is not a record with text/,
    );
  });

  it('lists the newest runs when there are more than one 1 MB query page holds (~1.5 MB)', async () => {
    const name = await freshTable();
    const stores = createDynamoLicenseStores(dynamo, name);
    const big = Array.from({ length: 30 }, (_, i) =>
      actionedRun(i, { warnings: Array.from({ length: 60 }, (_, w) => `warning ${w} `.repeat(100)) }),
    );
    for (const run of big) await stores.runs.putRun(run);
    const listed = await stores.runs.listRuns(25);
    expect(listed.map((r) => r.runId)).toEqual(
      big
        .slice(5)
        .reverse()
        .map((r) => r.runId),
    );
  });
});
