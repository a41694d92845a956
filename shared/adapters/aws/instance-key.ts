// The instance's usage-log signing key in Secrets Manager: JSON { privateKeyPem, publicKeyPem }. The deployment
// creates the secret with a placeholder value; the deploy-time custom resource calls ensureInstanceKey to fill it.
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  InstanceKeyError,
  generateInstanceKeyPair,
  keyFingerprint,
  parseInstanceKeyPair,
} from '#shared/license/usage-log';
import type { InstanceKeyPair } from '#shared/license/usage-log';
import type { InstanceKeySource } from '#shared/license/ports';

/** The secret's value as a string, or null when the secret has no value yet. Errors name the secret only. */
async function readSecret(client: SecretsManagerClient, secretArn: string): Promise<string | null> {
  try {
    const out = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
    return out.SecretString ?? null;
  } catch (err) {
    // A secret created without a value answers like a missing one; the caller decides what that means.
    if (err instanceof ResourceNotFoundException) return null;
    throw new InstanceKeyError(`cannot read the instance key secret ${secretArn}: ${(err as Error).name}`, {
      cause: err,
    });
  }
}

function parseSecret(value: string | null, secretArn: string): InstanceKeyPair {
  const source = `secret ${secretArn}`;
  if (value === null)
    throw new InstanceKeyError(
      `instance key ${source} does not exist or has no value (the deployment creates it)`,
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    // Never echo the value: it may hold a private key.
    parsed = undefined;
  }
  return parseInstanceKeyPair(parsed, source);
}

/** Reads the key pair once per container (it never changes after deploy) and checks it is one RSA key pair. */
export class SecretsManagerInstanceKey implements InstanceKeySource {
  private cached: Promise<InstanceKeyPair> | null = null;

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly secretArn: string,
  ) {}

  getKeyPair(): Promise<InstanceKeyPair> {
    this.cached ??= readSecret(this.client, this.secretArn)
      .then((value) => parseSecret(value, this.secretArn))
      .catch((err: unknown) => {
        // A failed read is retried on the next call instead of being cached.
        this.cached = null;
        throw err;
      });
    return this.cached.then((pair) => ({ ...pair }));
  }
}

/**
 * Makes sure the secret holds a usable key pair: when its value is not one (the placeholder the deployment wrote,
 * or nothing), generates an RSA 3072 pair and stores it. A valid pair is never replaced, so re-running a deployment
 * keeps the key that signed earlier usage logs. Returns the public key's fingerprint and whether it was created.
 */
export async function ensureInstanceKey(
  client: SecretsManagerClient,
  secretArn: string,
): Promise<{ created: boolean; keyFingerprint: string }> {
  const current = await readSecret(client, secretArn);
  try {
    const pair = parseSecret(current, secretArn);
    return { created: false, keyFingerprint: keyFingerprint(pair.publicKeyPem) };
  } catch (err) {
    if (!(err instanceof InstanceKeyError)) throw err;
  }
  const pair = generateInstanceKeyPair();
  try {
    await client.send(new PutSecretValueCommand({ SecretId: secretArn, SecretString: JSON.stringify(pair) }));
  } catch (err) {
    throw new InstanceKeyError(
      `cannot store the instance key in secret ${secretArn}: ${(err as Error).name}`,
      {
        cause: err,
      },
    );
  }
  return { created: true, keyFingerprint: keyFingerprint(pair.publicKeyPem) };
}
