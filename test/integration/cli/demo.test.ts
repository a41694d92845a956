// `kfsensor demo` (npm start) as a user runs it: a child process, the sample config over OAuth2 against the
// simulator, reports on disk, and a second scan that is incremental and fetches only what changed.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = path.resolve(import.meta.dirname, '../../../bin/kfsensor.js');

function runDemo(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'demo', ...args], {
      env: { ...process.env, NO_COLOR: '1' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    // Generous: the demo takes seconds; this only stops a hung child from outliving the test.
    const timer = setTimeout(() => child.kill('SIGKILL'), 100_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

const number = (text: string) => Number(text.replace(/,/g, ''));

function match(text: string, pattern: RegExp): RegExpExecArray {
  const found = pattern.exec(text);
  if (!found) throw new Error(`output has no ${pattern.source}:\n${text}`);
  return found;
}

describe('kfsensor demo', () => {
  it('scans 300 generated certificates in full, then only the changed ones incrementally', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kfsensor-demo-test-'));
    const out = path.join(dir, 'out');
    const run = await runDemo(['--count', '300', '--out', out]);
    expect(run.code, run.err + run.out).toBe(0);
    expect(run.err).toBe('');

    // The sample config with local addresses, all three plugins, and a fresh state directory removed at the end.
    expect(run.out).toContain('Plugins: keyfactor, export, local_export');
    expect(run.out).toMatch(/OAuth2 token endpoint\s+http:\/\/127\.0\.0\.1:\d+\/token/);
    const stateDir = match(run.out, /State directory: (\S+) \(fresh, removed at the end\)/)[1]!;
    expect(existsSync(stateDir)).toBe(false);

    // Scan 1: full, every generated certificate.
    const [scan1, scan2] = run.out.split('== Scan 2 ==');
    expect(scan2, run.out).toBeDefined();
    expect(scan1).toMatch(/COMPLETED \(full\)/);
    expect(scan1).toContain('Fetched 300 of 300 planned');
    expect(scan1).toMatch(/Expiry: expired \d+/);
    expect(scan1).toMatch(/Quantum-vulnerable keys: \d+ of 300/);

    // The changes: 10 imported, 5 revoked.
    const changes = match(
      run.out,
      /imported (\d+) certificates \(Ids (\d+)\.\.(\d+)\), revoked (\d+) \(Ids ([\d, ]+)\); it now holds ([\d,]+) certificates \(([\d,]+) distinct\)/,
    );
    expect(Number(changes[1])).toBe(10);
    expect([Number(changes[2]), Number(changes[3])]).toEqual([301, 310]);
    expect(Number(changes[4])).toBe(5);
    const revokedIds = changes[5]!.split(', ').map(Number);
    expect(revokedIds).toHaveLength(5);
    expect(number(changes[6]!)).toBe(310);
    const distinct = number(changes[7]!);

    // Scan 2: incremental, the 15 changed certificates plus any the generator had revoked within the overlap day.
    expect(scan2).toMatch(/COMPLETED \(incremental\)/);
    expect(scan2).toContain('mode: incremental');
    const alsoFetched = Number(/also fetched: (\d+) certificates/.exec(scan2!)?.[1] ?? 0);
    const fetched = match(scan2!, /certificates fetched: ([\d,]+) of ([\d,]+)/);
    expect(number(fetched[1]!)).toBe(15 + alsoFetched);
    expect(number(fetched[2]!)).toBe(310);
    expect(scan2).toContain('changed by the demo: 15 (10 imported, 5 revoked)');
    // Only the changed findings were exported, and the ingestion endpoint got exactly those.
    expect(scan2).toContain('exported: 15 findings (15 finding lines reached the ingestion endpoint)');
    const returned = match(
      scan2!,
      /request log: (\d+) certificate list requests returned ([\d,]+) certificates/,
    );
    // The pages carry the fetched certificates; the rest are the planner's one-certificate probes.
    expect(number(returned[2]!)).toBeGreaterThanOrEqual(15 + alsoFetched);
    expect(number(returned[2]!)).toBeLessThanOrEqual(15 + alsoFetched + Number(returned[1]));

    // Reports: one finding per distinct certificate in the simulator after the changes, the new and revoked included.
    const findingsFile = path.join(out, 'keyfactor-command-findings.jsonl');
    for (const name of [
      'keyfactor-command-findings.jsonl',
      'keyfactor-command-resolutions.jsonl',
      'keyfactor-command-findings.csv',
      'keyfactor-command-cbom.cdx.json',
    ]) {
      expect(existsSync(path.join(out, name)), name).toBe(true);
    }
    const findings = readFileSync(findingsFile, 'utf8')
      .trimEnd()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as { id: string; crypto: { x509: { keyfactor?: Record<string, unknown> } } },
      );
    expect(findings).toHaveLength(distinct);
    expect(new Set(findings.map((f) => f.id)).size).toBe(distinct);
    const byCertId = new Map(findings.map((f) => [f.crypto.x509.keyfactor?.certificate_id, f]));
    for (let id = 301; id <= 310; id++) expect(byCertId.has(id), `certificate ${id}`).toBe(true);
    for (const id of revokedIds) {
      expect(byCertId.get(id)?.crypto.x509.keyfactor?.cert_state).toMatchObject({ code: 2 });
    }
    expect(run.out).toMatch(/Demo finished in \d+\.\d s/);
  }, 120_000);

  it('rejects a bad --count before starting anything', async () => {
    const run = await runDemo(['--count', '0']);
    expect(run.code).toBe(2);
    expect(run.err).toContain('--count must be a whole number');
    expect(run.out).not.toContain('Generated');
  });

  it('fails with exit 1 and the reason when the reports cannot be written', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kfsensor-demo-test-'));
    const file = path.join(dir, 'a-file');
    writeFileSync(file, '');
    const run = await runDemo(['--count', '20', '--out', path.join(file, 'out')]);
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/kfsensor demo: failed: the scan failed .*ENOTDIR/);
    expect(run.out).not.toContain('== Scan 2 ==');
  }, 120_000);
});
