// `kfsensor simulator` as a user runs it: a separate process, its banner, a real client against it, clean shutdown.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BasicAuth, CommandClient } from '#shared/keyfactor/index';
import { loadDataset } from '#shared/simulator/dataset';

const bin = path.resolve(import.meta.dirname, '../../../bin/kfsensor.js');
const children: ChildProcessWithoutNullStreams[] = [];

function run(args: string[]): {
  child: ChildProcessWithoutNullStreams;
  output: () => { out: string; err: string };
} {
  const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, NO_COLOR: '1' } });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return { child, output: () => ({ out, err }) };
}

async function waitFor(predicate: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const exitCode = (child: ChildProcessWithoutNullStreams) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

describe('kfsensor simulator', () => {
  it('serves a generated inventory, saves it, prints how to reach it and stops cleanly on SIGTERM', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kfsim-'));
    const saved = path.join(dir, 'inventory.jsonl');
    const { child, output } = run([
      'simulator',
      '--generate',
      '60',
      '--seed',
      '5',
      '--port',
      '0',
      '--user',
      'CORP\\bob:s3cret',
      '--save',
      saved,
    ]);
    await waitFor(() => /Stop with Ctrl-C/.test(output().out), 'the banner');
    const url = /at (http:\/\/127\.0\.0\.1:\d+\/KeyfactorAPI)/.exec(output().out)?.[1];
    expect(url).toBeDefined();
    expect(output().out).toContain("-u 'CORP\\bob:s3cret'");

    const client = new CommandClient({ baseUrl: url ?? '', auth: new BasicAuth('CORP\\bob', 's3cret') });
    const ids: number[] = [];
    for await (const cert of client.certificates({ pageSize: 25 })) ids.push(cert.Id);
    expect(ids).toHaveLength(60);
    expect((await loadDataset(saved)).map((c) => c.Id)).toEqual(ids);

    child.kill('SIGTERM');
    expect(await exitCode(child)).toBe(0);
  });

  it('serves a dataset file as it is', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kfsim-'));
    const dataset = path.join(dir, 'two.jsonl');
    const base = {
      Thumbprint: 'AA',
      SerialNumber: '01',
      ImportDate: '2026-01-01T00:00:00.000Z',
      NotBefore: '2025-01-01T00:00:00Z',
      NotAfter: '2030-01-01T00:00:00Z',
      CertState: 1,
      KeySizeInBits: 2048,
      KeyType: 1,
      SigningAlgorithm: 'SHA-256withRSA',
    };
    writeFileSync(
      dataset,
      `${JSON.stringify({ ...base, Id: 7, ContentBytes: 'AAAA' })}\n${JSON.stringify({ ...base, Id: 9, ContentBytes: 'not base64 at all!' })}\n`,
    );
    const { output } = run(['simulator', '--dataset', dataset, '--port', '0', '--anonymous']);
    await waitFor(() => /Stop with Ctrl-C/.test(output().out), 'the banner');
    const url = /at (http:\/\/\S+)/.exec(output().out)?.[1] ?? '';
    const response = await fetch(`${url}/Certificates`, {
      headers: { 'X-Keyfactor-Requested-With': 'APIClient' },
    });
    const body = (await response.json()) as Array<{ Id: number; ContentBytes: string }>;
    expect(body.map((c) => [c.Id, c.ContentBytes])).toEqual([
      [7, 'AAAA'],
      [9, 'not base64 at all!'],
    ]);
  });

  it.each([
    [['simulator', '--generate', 'many'], /--generate must be a whole number/],
    [['simulator', '--dataset', '/nonexistent/inventory.jsonl', '--port', '0'], /inventory\.jsonl/],
    [['simulator', '--user', 'nopassword', '--port', '0'], /--user takes USER:PASSWORD/],
  ])('refuses bad options %j with exit code 2 and a message', async (args, message) => {
    const { child, output } = run(args);
    expect(await exitCode(child)).toBe(2);
    expect(output().err).toMatch(message);
  });
});
