// In-memory SecretSource: credentials in a Map behind `memory:<name>` references.
import { SensorError } from '#shared/errors';
import type { CommandCredentials } from '#shared/scan/model';
import type { SecretSource } from '#shared/scan/ports';

export class SecretNotFoundError extends SensorError {}

export class MemorySecretSource implements SecretSource {
  private readonly secrets = new Map<string, CommandCredentials>();

  constructor(private readonly ingestionToken = 'memory-ingestion-token') {}

  async putCredentials(name: string, credentials: CommandCredentials): Promise<string> {
    await Promise.resolve();
    if (name.trim() === '') throw new SensorError('secret name must not be empty');
    const ref = `memory:${name}`;
    this.secrets.set(ref, structuredClone(credentials));
    return ref;
  }

  async getCredentials(ref: string): Promise<CommandCredentials> {
    await Promise.resolve();
    const credentials = this.secrets.get(ref);
    // The reference is not secret; the credentials never appear in the message.
    if (!credentials) throw new SecretNotFoundError(`no credentials stored under ${ref}`);
    return structuredClone(credentials);
  }

  async deleteCredentials(ref: string): Promise<void> {
    await Promise.resolve();
    this.secrets.delete(ref);
  }

  async getIngestionToken(): Promise<string> {
    await Promise.resolve();
    return this.ingestionToken;
  }

  has(ref: string): boolean {
    return this.secrets.has(ref);
  }

  get size(): number {
    return this.secrets.size;
  }
}
