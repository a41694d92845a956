// The CLI's usage-log signing key: `instance-key.pem` (PKCS#8 RSA private key, mode 0600) in the state directory,
// created on first use. The public key is derived from it.
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { InstanceKeyError, generateInstanceKeyPair, parseInstanceKeyPair } from '#shared/license/usage-log';
import type { InstanceKeyPair } from '#shared/license/usage-log';
import type { InstanceKeySource } from '#shared/license/ports';

export const INSTANCE_KEY_FILE = 'instance-key.pem';

const isCode = (err: unknown, code: string): boolean => (err as NodeJS.ErrnoException | null)?.code === code;

export class FileInstanceKey implements InstanceKeySource {
  readonly file: string;
  private cached: Promise<InstanceKeyPair> | null = null;

  constructor(private readonly stateDir: string) {
    this.file = path.join(stateDir, INSTANCE_KEY_FILE);
  }

  getKeyPair(): Promise<InstanceKeyPair> {
    this.cached ??= this.load().catch((err: unknown) => {
      this.cached = null;
      throw err;
    });
    return this.cached.then((pair) => ({ ...pair }));
  }

  private async load(): Promise<InstanceKeyPair> {
    try {
      return await this.read();
    } catch (err) {
      if (!isCode(err, 'ENOENT')) throw err;
    }
    await this.create();
    return this.read();
  }

  /** Writes a new key to a private temp file and links it into place: a concurrent creator's key wins intact. */
  private async create(): Promise<void> {
    await mkdir(this.stateDir, { recursive: true, mode: 0o700 });
    const temp = path.join(this.stateDir, `.${INSTANCE_KEY_FILE}.${randomUUID()}`);
    await writeFile(temp, generateInstanceKeyPair().privateKeyPem, { mode: 0o600, flag: 'wx' });
    try {
      await link(temp, this.file);
    } catch (err) {
      if (!isCode(err, 'EEXIST')) throw err;
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  private async read(): Promise<InstanceKeyPair> {
    const info = await stat(this.file);
    // Like ssh: a private key others can read is not trusted to be private (POSIX permissions only).
    if (process.platform !== 'win32' && (info.mode & 0o077) !== 0)
      throw new InstanceKeyError(
        `instance key ${this.file} is readable by other users (mode ${(info.mode & 0o777).toString(8)}); ` +
          `run chmod 600 on it`,
      );
    const pem = await readFile(this.file, 'utf8');
    let publicKeyPem: string;
    try {
      publicKeyPem = createPublicKey(createPrivateKey(pem))
        .export({ type: 'spki', format: 'pem' })
        .toString();
    } catch {
      throw new InstanceKeyError(
        `instance key ${this.file} is not a PKCS#8 PEM private key; move it away to have a new one created`,
      );
    }
    return parseInstanceKeyPair({ privateKeyPem: pem, publicKeyPem }, `file ${this.file}`);
  }
}
