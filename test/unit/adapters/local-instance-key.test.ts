// FileInstanceKey: creates a private RSA key in the state directory on first use, reuses it, survives concurrent
// first use, and refuses a key file others can read or one that is not a key.
import { chmod, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileInstanceKey, INSTANCE_KEY_FILE } from '#shared/adapters/local/instance-key';
import { InstanceKeyError, buildUsageLog, keyFingerprint, verifyUsageLog } from '#shared/license/usage-log';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kfs-instance-key-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('FileInstanceKey', () => {
  it('creates instance-key.pem (0600, private key only) in a new state dir and reuses it', async () => {
    const stateDir = path.join(dir, 'state');
    const pair = await new FileInstanceKey(stateDir).getKeyPair();
    const file = path.join(stateDir, INSTANCE_KEY_FILE);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(stateDir)).mode & 0o777).toBe(0o700);
    const pem = await readFile(file, 'utf8');
    expect(pem).toBe(pair.privateKeyPem);
    expect(keyFingerprint(pair.privateKeyPem)).toBe(keyFingerprint(pair.publicKeyPem));
    // A new instance (another CLI run) reads the same key; no temp files are left behind.
    expect(await new FileInstanceKey(stateDir).getKeyPair()).toEqual(pair);
    expect(await readdir(stateDir)).toEqual([INSTANCE_KEY_FILE]);
    // The key signs a usage log that verifies against its public key.
    const log = buildUsageLog(
      {
        instance: { instanceId: 'cli', deployment: 'local', sensorVersion: '0.1.0' },
        generatedAt: '2026-03-01T00:00:00.000Z',
        license: null,
        licenseStatus: 'none',
        runs: [],
      },
      pair,
    );
    expect(verifyUsageLog(log, { publicKeyPem: pair.publicKeyPem }).valid).toBe(true);
  });

  it('concurrent first use by separate instances ends with one key for all', async () => {
    const pairs = await Promise.all(Array.from({ length: 4 }, () => new FileInstanceKey(dir).getKeyPair()));
    expect(new Set(pairs.map((p) => p.publicKeyPem)).size).toBe(1);
    expect(await readdir(dir)).toEqual([INSTANCE_KEY_FILE]);
  });

  it('refuses a key file others can read, saying how to fix it', async () => {
    const key = new FileInstanceKey(dir);
    await key.getKeyPair();
    await chmod(path.join(dir, INSTANCE_KEY_FILE), 0o644);
    const error = await new FileInstanceKey(dir).getKeyPair().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InstanceKeyError);
    expect((error as Error).message).toMatch(/readable by other users \(mode 644\).*chmod 600/);
  });

  it('refuses a file that is not a private key (never quoting it), and retries after it is fixed', async () => {
    const file = path.join(dir, INSTANCE_KEY_FILE);
    await writeFile(file, 'secret-looking garbage', { mode: 0o600 });
    const key = new FileInstanceKey(dir);
    const error = await key.getKeyPair().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InstanceKeyError);
    expect((error as Error).message).toContain(file);
    expect((error as Error).message).not.toContain('garbage');
    await rm(file);
    // The failure was not cached: the same instance creates a key now.
    expect((await key.getKeyPair()).privateKeyPem).toMatch(/BEGIN PRIVATE KEY/);
  });
});
