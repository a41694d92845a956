// The bootstrap custom resource: the generated secret becomes an Administrator key, stored hashed, imported once.
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalApiKeyStore, LocalAuditLog } from '#shared/adapters/local/apikey-store';
import { ApiKeyAuthenticator, ApiKeyService } from '#shared/apikeys/index';
import { createBootstrapHandler } from '../../../infra/bootstrap/handler.ts';

const SECRET = 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0U1v'; // 43 alphanumerics, as Secrets Manager generates
const TOKEN = `kfsk_bootstrap-admin_${SECRET}`;

function cfnEvent(requestType: 'Create' | 'Update' | 'Delete'): CloudFormationCustomResourceEvent {
  const common = {
    ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:provider',
    ResponseURL: 'https://example.invalid/response',
    StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/KfSensorStateless/1',
    RequestId: 'req-1',
    LogicalResourceId: 'BootstrapAdminKey',
    ResourceType: 'AWS::CloudFormation::CustomResource',
    ResourceProperties: { ServiceToken: 'x', SecretArn: 'arn:secret' },
  };
  if (requestType === 'Create') return { ...common, RequestType: 'Create' };
  if (requestType === 'Update')
    return {
      ...common,
      RequestType: 'Update',
      PhysicalResourceId: 'bootstrap-admin',
      OldResourceProperties: { ServiceToken: 'x' },
    };
  return { ...common, RequestType: 'Delete', PhysicalResourceId: 'bootstrap-admin' };
}

describe('bootstrap key custom resource', () => {
  let dir: string;
  let backend: { store: LocalApiKeyStore; audit: LocalAuditLog };
  let secretReads: number;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kfsensor-bootstrap-'));
    backend = { store: new LocalApiKeyStore(dir), audit: new LocalAuditLog(dir) };
    secretReads = 0;
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const handlerFor = (service: ApiKeyService) =>
    createBootstrapHandler({
      service,
      readSecret: () => {
        secretReads++;
        return Promise.resolve(JSON.stringify({ keyId: 'bootstrap-admin', secret: SECRET }));
      },
    });

  it('imports the token from the secret as an Administrator key that then authenticates', async () => {
    const handler = handlerFor(new ApiKeyService(backend));

    const result = await handler(cfnEvent('Create'));

    expect(result).toEqual({ PhysicalResourceId: 'bootstrap-admin', Data: { KeyId: 'bootstrap-admin' } });
    const decision = await new ApiKeyAuthenticator(backend).authenticate(TOKEN);
    expect(decision).toMatchObject({ ok: true, keyId: 'bootstrap-admin', roles: ['Administrator'] });
  });

  it('stores the key only hashed: the token appears in no state file', async () => {
    await handlerFor(new ApiKeyService(backend))(cfnEvent('Create'));

    const files = await readdir(dir, { recursive: true, withFileTypes: true });
    const contents = await Promise.all(
      files.filter((f) => f.isFile()).map((f) => readFile(path.join(f.parentPath, f.name), 'utf8')),
    );
    expect(contents.length).toBeGreaterThan(0);
    for (const text of contents) expect(text).not.toContain(SECRET);
  });

  it('leaves an existing key as it is on update (a locked bootstrap key stays locked)', async () => {
    const service = new ApiKeyService(backend);
    const handler = handlerFor(service);
    await handler(cfnEvent('Create'));
    await service.lock(null, ['bootstrap-admin']);

    await expect(handler(cfnEvent('Update'))).resolves.toMatchObject({
      PhysicalResourceId: 'bootstrap-admin',
    });

    expect(await service.get('bootstrap-admin')).toMatchObject({ locked: true });
  });

  it('keeps the key and does not read the secret on delete', async () => {
    const result = await handlerFor(new ApiKeyService(backend))(cfnEvent('Delete'));

    expect(result).toEqual({ PhysicalResourceId: 'bootstrap-admin' });
    expect(secretReads).toBe(0);
  });

  it('fails the deployment when the secret is not the generated JSON', async () => {
    const handler = createBootstrapHandler({
      service: new ApiKeyService(backend),
      readSecret: () => Promise.resolve('kfsk_not-json'),
    });

    await expect(handler(cfnEvent('Create'))).rejects.toThrow();
  });
});
