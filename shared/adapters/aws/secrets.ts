// Secrets Manager secret source: one secret per sensor under `<prefix>/sensors/`, and the exporter's ingestion token.
import { createHash } from 'node:crypto';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidRequestException,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  RestoreSecretCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import { SensorError } from '#shared/errors';
import type { CommandCredentials } from '#shared/scan/model';
import type { Clock, SecretSource } from '#shared/scan/ports';
import { systemClock } from '#shared/scan/ports';

/** The value the deployment stores in the ingestion-token secret until the operator sets the real token. */
export const INGESTION_TOKEN_PLACEHOLDER = 'UNSET';

/** A secret is missing, malformed or not ours. Messages name the secret, never its value. */
export class SecretError extends SensorError {}

export interface SecretsManagerSecretSourceOptions {
  /** Secret names start with `<prefix>/sensors/`; the deployment's IAM policy allows only that prefix. */
  prefix: string;
  /** ARN (or name) of the ingestion-token secret; getIngestionToken fails clearly without it. */
  ingestionTokenSecretId?: string | null;
  /** How long a read token is reused in this container (a rotated token is picked up after this). */
  tokenCacheMs?: number;
  /** Days Secrets Manager keeps a deleted sensor secret recoverable (7 to 30). */
  recoveryWindowDays?: number;
  clock?: Clock;
}

const CredentialsSchema = z
  .object({
    username: z.string().optional(),
    password: z.string().optional(),
    token_url: z.string().optional(),
    client_id: z.string().optional(),
    client_secret: z.string().optional(),
    scope: z.string().optional(),
    audience: z.string().optional(),
    ca_cert: z.string().optional(),
  })
  .strict();

const TokenObjectSchema = z.object({ token: z.string() });

/** Characters Secrets Manager allows in a name besides `/`; everything else becomes `-`. */
const UNSAFE_NAME_CHARS = /[^A-Za-z0-9_+=.@-]/g;

/**
 * The secret name of a sensor. Sanitising could map two sensor names to one secret ("a b", "a/b"), so a changed
 * name carries a short hash of the original; an already-safe name is kept as is, readable in the console.
 */
export function sensorSecretName(prefix: string, sensorName: string): string {
  if (sensorName.length === 0) throw new SecretError('a sensor name is required for its credentials secret');
  const safe = sensorName.replace(UNSAFE_NAME_CHARS, '-').slice(0, 200);
  const suffix =
    safe === sensorName ? '' : `-${createHash('sha256').update(sensorName).digest('hex').slice(0, 10)}`;
  return `${prefix}/sensors/${safe}${suffix}`;
}

export class SecretsManagerSecretSource implements SecretSource {
  private readonly tokenCacheMs: number;
  private readonly recoveryWindowDays: number;
  private readonly clock: Clock;
  private cachedToken: { value: string; until: number } | null = null;

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly options: SecretsManagerSecretSourceOptions,
  ) {
    if (!/^[A-Za-z0-9_+=.@/-]+$/.test(options.prefix) || options.prefix.endsWith('/'))
      throw new SecretError(
        `secret prefix "${options.prefix}" must be a secret-name path without a trailing /`,
      );
    this.tokenCacheMs = options.tokenCacheMs ?? 5 * 60_000;
    this.recoveryWindowDays = options.recoveryWindowDays ?? 7;
    this.clock = options.clock ?? systemClock;
  }

  async putCredentials(name: string, credentials: CommandCredentials): Promise<string> {
    const secretName = sensorSecretName(this.options.prefix, name);
    const value = JSON.stringify(CredentialsSchema.parse(credentials));
    try {
      const created = await this.client.send(
        new CreateSecretCommand({
          Name: secretName,
          Description: `Keyfactor Command credentials of sensor ${name}`,
          SecretString: value,
        }),
      );
      return requireArn(created.ARN, secretName);
    } catch (error) {
      if (!(error instanceof ResourceExistsException)) throw error;
    }
    // The sensor had credentials already (a repeated request, a schedule, new credentials): replace the value.
    return this.putExisting(secretName, value);
  }

  private async putExisting(secretName: string, value: string): Promise<string> {
    // Deleted earlier and still in its recovery window: bring it back rather than fail until the window ends.
    const described = await this.client.send(new DescribeSecretCommand({ SecretId: secretName }));
    if (described.DeletedDate) await this.client.send(new RestoreSecretCommand({ SecretId: secretName }));
    const put = await this.client.send(
      new PutSecretValueCommand({ SecretId: secretName, SecretString: value }),
    );
    return requireArn(put.ARN, secretName);
  }

  async getCredentials(ref: string): Promise<CommandCredentials> {
    const text = await this.readSecret(ref, 'credentials');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new SecretError(`credentials secret ${ref} is not valid JSON`);
    }
    const parsed = CredentialsSchema.safeParse(json);
    if (!parsed.success) {
      // Paths and issue codes only: zod messages can quote received values, which here are secrets.
      const where = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.code}`).join('; ');
      throw new SecretError(`credentials secret ${ref} is malformed (${where})`);
    }
    return parsed.data;
  }

  async deleteCredentials(ref: string): Promise<void> {
    if (!this.isSensorSecret(ref))
      throw new SecretError(
        `refusing to delete ${ref}: not a sensor secret under ${this.options.prefix}/sensors/`,
      );
    try {
      await this.client.send(
        new DeleteSecretCommand({
          SecretId: ref,
          ForceDeleteWithoutRecovery: false,
          RecoveryWindowInDays: this.recoveryWindowDays,
        }),
      );
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return;
      throw error;
    }
  }

  async getIngestionToken(): Promise<string> {
    const now = this.clock.now().getTime();
    if (this.cachedToken && now < this.cachedToken.until) return this.cachedToken.value;
    const id = this.options.ingestionTokenSecretId;
    if (!id) throw new SecretError('no ingestion token secret is configured');
    const text = (await this.readSecret(id, 'ingestion token')).trim();
    let token = text;
    if (text.startsWith('{')) {
      const parsed = TokenObjectSchema.safeParse(safeJson(text));
      if (!parsed.success)
        throw new SecretError(`ingestion token secret ${id} is JSON without a string "token"`);
      token = parsed.data.token.trim();
    }
    if (token === '' || token === INGESTION_TOKEN_PLACEHOLDER)
      throw new SecretError(
        `ingestion token secret ${id} is not set yet: put the sensor token in it (docs/deploy.md)`,
      );
    this.cachedToken = { value: token, until: now + this.tokenCacheMs };
    return token;
  }

  private async readSecret(id: string, what: string): Promise<string> {
    try {
      const got = await this.client.send(new GetSecretValueCommand({ SecretId: id }));
      if (got.SecretString === undefined) throw new SecretError(`${what} secret ${id} has no string value`);
      return got.SecretString;
    } catch (error) {
      if (error instanceof ResourceNotFoundException)
        throw new SecretError(`${what} secret ${id} does not exist`, { cause: error });
      if (error instanceof InvalidRequestException)
        throw new SecretError(`${what} secret ${id} cannot be read: ${error.message}`, { cause: error });
      throw error;
    }
  }

  /** A name or ARN under `<prefix>/sensors/` (an ARN's name follows `:secret:`). */
  private isSensorSecret(ref: string): boolean {
    const name = ref.startsWith('arn:') ? (ref.split(':secret:')[1] ?? '') : ref;
    return name.startsWith(`${this.options.prefix}/sensors/`);
  }
}

function requireArn(arn: string | undefined, name: string): string {
  if (!arn) throw new SecretError(`Secrets Manager returned no ARN for ${name}`);
  return arn;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
