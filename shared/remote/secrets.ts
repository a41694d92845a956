// The remote CLI's SecretSource: the config's credentials held in this process's memory only (never written to the
// state directory, a log or an error), and the export plugin's token as the ingestion token.
import { SensorError } from '#shared/errors';
import type { CommandCredentials } from '#shared/scan/model';
import type { SecretSource } from '#shared/scan/ports';

export class ConfigSecretSource implements SecretSource {
  readonly #credentials = new Map<string, CommandCredentials>();
  readonly #ingestionToken: string | null;

  constructor(ingestionToken: string | null) {
    this.#ingestionToken = ingestionToken;
  }

  async putCredentials(name: string, credentials: CommandCredentials): Promise<string> {
    await Promise.resolve();
    if (name.trim() === '') throw new SensorError('secret name must not be empty');
    // The reference lands in the scan record on disk; it names the run's memory, not a secret.
    const ref = `process:${name}`;
    this.#credentials.set(ref, structuredClone(credentials));
    return ref;
  }

  async getCredentials(ref: string): Promise<CommandCredentials> {
    await Promise.resolve();
    const credentials = this.#credentials.get(ref);
    if (!credentials) {
      throw new SensorError(
        `no credentials under ${ref} in this process (a scan from an earlier run is resumed with this run's config)`,
      );
    }
    return structuredClone(credentials);
  }

  /** A scan resumed from an earlier run gets this run's credentials under its stored reference. */
  adopt(ref: string, credentials: CommandCredentials): void {
    this.#credentials.set(ref, structuredClone(credentials));
  }

  async deleteCredentials(ref: string): Promise<void> {
    await Promise.resolve();
    this.#credentials.delete(ref);
  }

  async getIngestionToken(): Promise<string> {
    await Promise.resolve();
    if (this.#ingestionToken === null)
      throw new SensorError('the export plugin is not configured: no ingestion token');
    return this.#ingestionToken;
  }

  /** Never print the credentials, even by accident (console.log, util.inspect). */
  toJSON(): string {
    return '[ConfigSecretSource]';
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[ConfigSecretSource]';
  }
}
