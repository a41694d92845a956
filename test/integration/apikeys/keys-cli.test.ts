// `kfsensor keys` as an operator runs it: a real process, a temporary state directory, the token printed exactly once.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOKEN_PATTERN } from '#shared/apikeys/index';

const bin = path.resolve(import.meta.dirname, '../../../bin/kfsensor.js');

interface Run {
  code: number | null;
  out: string;
  err: string;
}

function run(args: string[], env: NodeJS.ProcessEnv = {}, stdin = ''): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'keys', ...args], { env: { ...process.env, ...env } });
    child.stdin.end(stdin);
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

let stateDir: string;
let xdg: string;

beforeAll(async () => {
  stateDir = await mkdtemp(path.join(tmpdir(), 'kfsensor-keys-cli-'));
  xdg = await mkdtemp(path.join(tmpdir(), 'kfsensor-keys-xdg-'));
});

afterAll(async () => {
  await rm(stateDir, { recursive: true, force: true });
  await rm(xdg, { recursive: true, force: true });
});

describe('kfsensor keys', () => {
  it('prints the token alone on stdout, the details on stderr, and stores only a hash', async () => {
    const created = await run([
      'create',
      '--role',
      'ScanManager',
      '--role',
      'Auditor',
      '--key-id',
      'nightly',
      '--description',
      'nightly scans',
      '--reauth-timeout',
      '30',
      '--state-dir',
      stateDir,
    ]);
    expect(created.code).toBe(0);
    const token = created.out.trim();
    expect(token).toMatch(TOKEN_PATTERN);
    expect(created.out).toBe(`${token}\n`);
    expect(created.err).toContain('nightly scans');
    expect(created.err).not.toContain(token);
    for (const file of await readdir(stateDir)) {
      expect(await readFile(path.join(stateDir, file), 'utf8')).not.toContain(token.slice(-43));
    }

    const listed = await run(['list', '--state-dir', stateDir]);
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(/^nightly\tScanManager,Auditor\tno\t30\t/m);
    expect(listed.out).not.toContain(token.slice(-43));
  });

  it('refuses an unknown role and a duplicate id with a usage exit code', async () => {
    const unknown = await run(['create', '--role', 'Root', '--state-dir', stateDir]);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('"Root"');
    const duplicate = await run([
      'create',
      '--role',
      'Auditor',
      '--key-id',
      'nightly',
      '--state-dir',
      stateDir,
    ]);
    expect(duplicate.code).toBe(2);
    expect(duplicate.err).toContain('already exists');
    expect(duplicate.out).toBe('');
  });

  it('imports a token read from stdin, never from the command line', async () => {
    const token = `kfsk_migrated_${'M'.repeat(43)}`;
    const imported = await run(
      ['import', '--role', 'Auditor', '--description', 'from hub A', '--state-dir', stateDir],
      {},
      `${token}\n`,
    );
    expect(imported.code).toBe(0);
    expect(imported.err).toContain('migrated');
    expect(`${imported.out}${imported.err}`).not.toContain(token);
    const junk = await run(['import', '--role', 'Auditor', '--state-dir', stateDir], {}, 'hunter2\n');
    expect(junk.code).toBe(2);
    expect(junk.err).toContain('is not an API key');
  });

  it('locks, unlocks and deletes several keys, reporting each id and failing on unknown ones', async () => {
    await run(['create', '--role', 'Auditor', '--key-id', 'bulk-a', '--state-dir', stateDir]);
    await run(['create', '--role', 'Auditor', '--key-id', 'bulk-b', '--state-dir', stateDir]);
    const locked = await run(['lock', 'bulk-a', 'bulk-b', '--state-dir', stateDir]);
    expect([locked.code, locked.out]).toEqual([0, 'bulk-a\tlocked\nbulk-b\tlocked\n']);
    expect((await run(['list', '--state-dir', stateDir])).out).toMatch(/^bulk-a\tAuditor\tyes\t/m);
    const unlocked = await run(['unlock', 'bulk-a', '--state-dir', stateDir]);
    expect(unlocked.out).toBe('bulk-a\tunlocked\n');
    const deleted = await run(['delete', 'bulk-b', 'no-such-key', '--state-dir', stateDir]);
    expect(deleted.code).toBe(2);
    expect(deleted.out).toBe('bulk-b\tdeleted\nno-such-key\tnot-found\n');
    expect(deleted.err).toContain('1 of 2 key ids not found');
    expect((await run(['list', '--state-dir', stateDir])).out).not.toContain('bulk-b');
  });

  it('uses $XDG_DATA_HOME/keyfactor-command-sensor (shared with remote scans) when no state directory is given', async () => {
    const created = await run(['create', '--role', 'Auditor', '--key-id', 'xdg-key'], { XDG_DATA_HOME: xdg });
    expect(created.code).toBe(0);
    expect(await readdir(path.join(xdg, 'keyfactor-command-sensor'))).toContain('apikeys.json');
    expect((await run(['list'], { XDG_DATA_HOME: xdg })).out).toContain('xdg-key');
  });
});
