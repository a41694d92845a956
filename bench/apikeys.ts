// API-key authentication benchmark: µs per authenticate() call, uncached (store lookup + scrypt) vs cached, per store.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { localAwsClientConfig } from '#shared/adapters/aws/client-config';
import { createApiKeyTables, DynamoApiKeyStore, DynamoAuditLog } from '#shared/adapters/aws/apikey-store';
import { LocalApiKeyStore, LocalAuditLog } from '#shared/adapters/local/apikey-store';
import { ApiKeyAuthenticator, ApiKeyService, DEFAULT_SCRYPT } from '#shared/apikeys/index';
import type { ApiKeyStore, AuditLog } from '#shared/apikeys/index';
import { median, type Row } from './report';

interface Timing {
  requests: number;
  medianUs: number;
  p95Us: number;
}

/** Times each call separately after `warmUp` untimed calls. */
async function time(requests: number, warmUp: number, call: () => Promise<unknown>): Promise<Timing> {
  for (let i = 0; i < warmUp; i++) await call();
  const samples: number[] = [];
  for (let i = 0; i < requests; i++) {
    const started = process.hrtime.bigint();
    await call();
    samples.push(Number(process.hrtime.bigint() - started) / 1000);
  }
  samples.sort((a, b) => a - b);
  return {
    requests,
    medianUs: median(samples),
    p95Us: samples[Math.min(samples.length - 1, Math.floor(samples.length * 0.95))] ?? 0,
  };
}

async function measureStore(
  name: string,
  store: ApiKeyStore,
  audit: AuditLog,
  coldRequests: number,
): Promise<Row[]> {
  // The service and authenticator use the default scrypt cost, as in production.
  const service = new ApiKeyService({ store, audit });
  const authenticator = new ApiKeyAuthenticator({ store, audit });
  // Timeout 0 is never cached, so every call pays the lookup and the hash: the cost without the cache.
  const uncached = (
    await service.create(null, {
      keyId: 'bench-uncached',
      roles: ['Auditor'],
      reauthenticationTimeoutSeconds: 0,
    })
  ).secret;
  const cached = (await service.create(null, { keyId: 'bench-cached', roles: ['Auditor'] })).secret;
  const expectOk = async (token: string) => {
    const decision = await authenticator.authenticate(token);
    if (!decision.ok) throw new Error(`benchmark key refused: ${decision.reason}`);
  };
  const lookup = await time(coldRequests * 5, 5, () => store.get('bench-uncached'));
  const cold = await time(coldRequests, 2, () => expectOk(uncached));
  const warm = await time(100_000, 100, () => expectOk(cached));
  const row = (mode: string, t: Timing): Row => ({
    store: name,
    mode,
    requests: t.requests,
    'median µs/request': Number(t.medianUs.toFixed(1)),
    'p95 µs/request': Number(t.p95Us.toFixed(1)),
  });
  return [
    row('store lookup only', lookup),
    row(`uncached (lookup + scrypt N=${DEFAULT_SCRYPT.N})`, cold),
    row('cached (within reauth timeout)', warm),
  ];
}

export async function benchApiKeys(): Promise<Row[]> {
  const rows: Row[] = [];
  const dir = await mkdtemp(path.join(tmpdir(), 'kfsensor-bench-apikeys-'));
  try {
    rows.push(...(await measureStore('local file', new LocalApiKeyStore(dir), new LocalAuditLog(dir), 50)));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const endpoint = process.env.AWS_ENDPOINT_URL;
  if (endpoint) {
    // A local emulator (moto, DynamoDB Local): throw-away credentials and tables.
    const client = new DynamoDBClient(localAwsClientConfig(endpoint));
    const names = { keys: `bench-apikeys-${randomUUID()}`, audit: `bench-apikeys-audit-${randomUUID()}` };
    await createApiKeyTables(client, names);
    try {
      rows.push(
        ...(await measureStore(
          'DynamoDB',
          new DynamoApiKeyStore(client, names.keys),
          new DynamoAuditLog(client, names.audit),
          50,
        )),
      );
    } finally {
      await client.send(new DeleteTableCommand({ TableName: names.keys }));
      await client.send(new DeleteTableCommand({ TableName: names.audit }));
    }
  }
  return rows;
}
