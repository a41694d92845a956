// SecretsManagerInstanceKey and ensureInstanceKey against moto: the deploy-time fill of a placeholder secret, a
// valid key kept, a bad value refused naming the secret (never its content), the key read once per container.
import { randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { describe, expect, inject, it } from 'vitest';
import { localAwsClientConfig } from '#shared/adapters/aws/client-config';
import { SecretsManagerInstanceKey, ensureInstanceKey } from '#shared/adapters/aws/instance-key';
import {
  InstanceKeyError,
  buildUsageLog,
  generateInstanceKeyPair,
  keyFingerprint,
  verifyUsageLog,
} from '#shared/license/usage-log';

const config = localAwsClientConfig(inject('awsEndpoint'));
const client = new SecretsManagerClient(config);

async function secret(value?: string): Promise<string> {
  const out = await client.send(
    new CreateSecretCommand({
      Name: `kfs-${randomUUID().slice(0, 8)}/instance-key`,
      ...(value === undefined ? {} : { SecretString: value }),
    }),
  );
  return out.ARN ?? '';
}

async function errorOf(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InstanceKeyError);
  return error as Error;
}

describe('instance key in Secrets Manager (moto)', () => {
  it('ensureInstanceKey fills the deploy-time placeholder once; the key then signs verifiable usage logs', async () => {
    // What CDK's generateSecretString leaves: a random string, not a key pair.
    const arn = await secret('{"placeholder":"x9!kQ2"}');
    const first = await ensureInstanceKey(client, arn);
    expect(first.created).toBe(true);
    const again = await ensureInstanceKey(client, arn);
    expect(again).toEqual({ created: false, keyFingerprint: first.keyFingerprint });

    const pair = await new SecretsManagerInstanceKey(client, arn).getKeyPair();
    expect(keyFingerprint(pair.publicKeyPem)).toBe(first.keyFingerprint);
    const log = buildUsageLog(
      {
        instance: { instanceId: 'i', deployment: 'aws', sensorVersion: '0.1.0' },
        generatedAt: '2026-03-01T00:00:00.000Z',
        license: null,
        licenseStatus: 'none',
        runs: [],
      },
      pair,
    );
    expect(verifyUsageLog(log, { publicKeyPem: pair.publicKeyPem })).toMatchObject({
      valid: true,
      keyFingerprint: first.keyFingerprint,
    });
  });

  it('ensureInstanceKey fills a secret created without a value, and keeps a valid key it did not make', async () => {
    const empty = await secret();
    expect((await ensureInstanceKey(client, empty)).created).toBe(true);
    const mine = generateInstanceKeyPair();
    const arn = await secret(JSON.stringify(mine));
    expect(await ensureInstanceKey(client, arn)).toEqual({
      created: false,
      keyFingerprint: keyFingerprint(mine.publicKeyPem),
    });
    const stored = await client.send(new GetSecretValueCommand({ SecretId: arn }));
    expect(JSON.parse(stored.SecretString ?? '')).toEqual(mine);
  });

  it('reads the secret once per instance (a later change is not picked up by a running container)', async () => {
    const pair = generateInstanceKeyPair();
    const arn = await secret(JSON.stringify(pair));
    const source = new SecretsManagerInstanceKey(client, arn);
    expect(await source.getKeyPair()).toEqual(pair);
    await client.send(new PutSecretValueCommand({ SecretId: arn, SecretString: 'changed' }));
    expect(await source.getKeyPair()).toEqual(pair);
    // A new container reads the new (bad) value and refuses it.
    await errorOf(new SecretsManagerInstanceKey(client, arn).getKeyPair());
  });

  it('refuses bad values naming the secret ARN and never its content', async () => {
    const pair = generateInstanceKeyPair();
    const other = generateInstanceKeyPair();
    const cases: Array<[string, RegExp]> = [
      ['not json at all', /not a JSON object/],
      [
        JSON.stringify({ privateKeyPem: pair.privateKeyPem, publicKeyPem: other.publicKeyPem }),
        /not the public half/,
      ],
      [JSON.stringify({ privateKeyPem: pair.privateKeyPem }), /publicKeyPem is missing/],
    ];
    for (const [value, reason] of cases) {
      const arn = await secret(value);
      const error = await errorOf(new SecretsManagerInstanceKey(client, arn).getKeyPair());
      expect(error.message).toMatch(reason);
      expect(error.message).toContain(arn);
      expect(error.message).not.toMatch(/BEGIN|not json at all/);
    }
  });

  it('a missing secret: a clear error naming it, on every call', async () => {
    const missing = `arn:aws:secretsmanager:us-east-1:123456789012:secret:kfs-missing-${randomUUID().slice(0, 8)}`;
    const source = new SecretsManagerInstanceKey(client, missing);
    expect((await errorOf(source.getKeyPair())).message).toMatch(/does not exist or has no value/);
    expect((await errorOf(source.getKeyPair())).message).toContain(missing);
  });
});
