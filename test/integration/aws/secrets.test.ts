// SecretsManagerSecretSource against moto: sensor credentials by prefix, re-creation, deletion, the ingestion token.
import { randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { describe, expect, inject, it } from 'vitest';
import { localAwsClientConfig } from '#shared/adapters/aws/client-config';
import {
  INGESTION_TOKEN_PLACEHOLDER,
  SecretError,
  SecretsManagerSecretSource,
  sensorSecretName,
} from '#shared/adapters/aws/secrets';

const config = localAwsClientConfig(inject('awsEndpoint'));

describe('SecretsManagerSecretSource (moto)', () => {
  const client = new SecretsManagerClient(config);
  const prefix = () => `kfs-${randomUUID().slice(0, 8)}`;
  const basic = { username: 'svc-sensor', password: 'pa55-w0rd!' };

  it('stores credentials under <prefix>/sensors/<name> and reads them back by ARN', async () => {
    const p = prefix();
    const source = new SecretsManagerSecretSource(client, { prefix: p });
    const arn = await source.putCredentials('prod-command', basic);
    expect(arn).toMatch(
      new RegExp(`^arn:aws:secretsmanager:us-east-1:\\d+:secret:${p}/sensors/prod-command-`),
    );
    expect(await source.getCredentials(arn)).toEqual(basic);
    const described = await client.send(new DescribeSecretCommand({ SecretId: arn }));
    expect(described.Name).toBe(`${p}/sensors/prod-command`);
  });

  it('replaces the value when the sensor already has a secret, keeping the ARN', async () => {
    const source = new SecretsManagerSecretSource(client, { prefix: prefix() });
    const first = await source.putCredentials('s1', basic);
    const oauth = {
      token_url: 'https://idp.example.com/token',
      client_id: 'c',
      client_secret: 'cs',
      scope: 'api',
    };
    const second = await source.putCredentials('s1', oauth);
    expect(second).toBe(first);
    expect(await source.getCredentials(first)).toEqual(oauth);
  });

  it('keeps sensors whose names sanitise alike apart', async () => {
    const p = prefix();
    const source = new SecretsManagerSecretSource(client, { prefix: p });
    const a = await source.putCredentials('team a', { username: 'a', password: 'x' });
    const b = await source.putCredentials('team/a', { username: 'b', password: 'y' });
    expect(a).not.toBe(b);
    expect((await source.getCredentials(a)).username).toBe('a');
    expect((await source.getCredentials(b)).username).toBe('b');
    expect(sensorSecretName(p, 'team a')).toMatch(new RegExp(`^${p}/sensors/team-a-[0-9a-f]{10}$`));
    expect(sensorSecretName(p, 'ok_name.1')).toBe(`${p}/sensors/ok_name.1`);
  });

  it('names a missing secret in a clear error', async () => {
    const source = new SecretsManagerSecretSource(client, { prefix: prefix() });
    const missing = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:nope/sensors/x-AbCdEf';
    await expect(source.getCredentials(missing)).rejects.toThrow(
      new SecretError(`credentials secret ${missing} does not exist`),
    );
  });

  it('rejects malformed JSON and unexpected shapes without quoting the value', async () => {
    const source = new SecretsManagerSecretSource(client, { prefix: prefix() });
    const notJson = await client.send(
      new CreateSecretCommand({ Name: `bad-${randomUUID()}`, SecretString: 'hunter2-not-json' }),
    );
    const e1 = (await source.getCredentials(notJson.ARN ?? '').catch((e: unknown) => e)) as Error;
    expect(e1).toBeInstanceOf(SecretError);
    expect(e1.message).toBe(`credentials secret ${notJson.ARN} is not valid JSON`);

    const wrong = await client.send(
      new CreateSecretCommand({
        Name: `bad-${randomUUID()}`,
        SecretString: JSON.stringify({ username: 7654321, password: 'hunter2', extra: 'hunter3' }),
      }),
    );
    const e2 = (await source.getCredentials(wrong.ARN ?? '').catch((e: unknown) => e)) as Error;
    expect(e2).toBeInstanceOf(SecretError);
    expect(e2.message).toMatch(/is malformed \(.*username: invalid_type.*unrecognized_keys/);
    for (const leaked of ['hunter2', 'hunter3', '7654321']) expect(e2.message).not.toContain(leaked);
  });

  it('deletes with a recovery window, and a later put restores the secret', async () => {
    const p = prefix();
    const source = new SecretsManagerSecretSource(client, { prefix: p, recoveryWindowDays: 7 });
    const arn = await source.putCredentials('gone', basic);
    await source.deleteCredentials(arn);
    const described = await client.send(new DescribeSecretCommand({ SecretId: arn }));
    expect(described.DeletedDate).toBeInstanceOf(Date);
    await expect(source.getCredentials(arn)).rejects.toBeInstanceOf(SecretError);

    const again = await source.putCredentials('gone', { username: 'new', password: 'n' });
    expect(again).toBe(arn);
    expect(await source.getCredentials(arn)).toEqual({ username: 'new', password: 'n' });
  });

  it('treats deleting a missing secret as done and refuses one outside the prefix', async () => {
    const p = prefix();
    const source = new SecretsManagerSecretSource(client, { prefix: p });
    await expect(
      source.deleteCredentials(
        `arn:aws:secretsmanager:us-east-1:123456789012:secret:${p}/sensors/none-AbCdEf`,
      ),
    ).resolves.toBeUndefined();
    const other = await client.send(
      new CreateSecretCommand({ Name: `other-${randomUUID()}`, SecretString: 'x' }),
    );
    await expect(source.deleteCredentials(other.ARN ?? '')).rejects.toThrow(/not a sensor secret/);
    expect(
      (await client.send(new DescribeSecretCommand({ SecretId: other.ARN }))).DeletedDate,
    ).toBeUndefined();
  });

  it('reads the ingestion token (plain or {"token"}) and caches it for the configured time', async () => {
    const created = await client.send(
      new CreateSecretCommand({ Name: `token-${randomUUID()}`, SecretString: ' tok-1 \n' }),
    );
    let now = Date.parse('2026-01-01T00:00:00Z');
    const source = new SecretsManagerSecretSource(client, {
      prefix: prefix(),
      ingestionTokenSecretId: created.ARN,
      tokenCacheMs: 60_000,
      clock: { now: () => new Date(now) },
    });
    expect(await source.getIngestionToken()).toBe('tok-1');
    await client.send(
      new PutSecretValueCommand({ SecretId: created.ARN, SecretString: '{"token":"tok-2"}' }),
    );
    now += 30_000;
    expect(await source.getIngestionToken()).toBe('tok-1');
    now += 31_000;
    expect(await source.getIngestionToken()).toBe('tok-2');
  });

  it('refuses the deployment placeholder, a missing token secret and no configured secret', async () => {
    const placeholder = await client.send(
      new CreateSecretCommand({ Name: `token-${randomUUID()}`, SecretString: INGESTION_TOKEN_PLACEHOLDER }),
    );
    const unset = new SecretsManagerSecretSource(client, {
      prefix: prefix(),
      ingestionTokenSecretId: placeholder.ARN,
    });
    await expect(unset.getIngestionToken()).rejects.toThrow(/is not set yet/);
    const missing = new SecretsManagerSecretSource(client, {
      prefix: prefix(),
      ingestionTokenSecretId: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-token-AbCdEf',
    });
    await expect(missing.getIngestionToken()).rejects.toThrow(
      /ingestion token secret .*missing-token.* does not exist/,
    );
    const none = new SecretsManagerSecretSource(client, { prefix: prefix() });
    await expect(none.getIngestionToken()).rejects.toThrow(/no ingestion token secret/);
  });

  it('rejects credentials with unknown fields before storing anything, and a bad prefix', async () => {
    const p = prefix();
    const source = new SecretsManagerSecretSource(client, { prefix: p });
    await expect(
      source.putCredentials('x', { username: 'u', password: 'p', pasword: 'typo' } as never),
    ).rejects.toThrow();
    await expect(client.send(new GetSecretValueCommand({ SecretId: `${p}/sensors/x` }))).rejects.toThrow();
    expect(() => new SecretsManagerSecretSource(client, { prefix: 'bad prefix/' })).toThrow(SecretError);
  });
});
