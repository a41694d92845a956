// runRemoteScan end to end: the real simulator over HTTP, a real ingestion receiver, the scan core, local_export
// files, incremental second runs, auth failures, a failing range, an interrupt, and --dry-run's single probe.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { validateCbomJson, CSV_HEADER } from '#shared/export/index';
import type { Finding } from '#shared/findings/index';
import type { CommandCertificate } from '#shared/keyfactor/index';
import { generateInventory } from '#shared/simulator/generator/index';
import {
  basicConfigYaml,
  basicEnv,
  loadText,
  runOnce,
  sharedMemoryState,
  startServices,
  tempDir,
  type Services,
} from './support';

const GENERATED_AT = new Date('2026-01-01T00:00:00Z');
let inventory: CommandCertificate[] = [];
let extras: CommandCertificate[] = [];

beforeAll(() => {
  inventory = generateInventory({ seed: 11, count: 300, now: GENERATED_AT });
  // The generator's first 8 certificates are its shared CA hierarchy (the same DER for every seed): skip them.
  extras = generateInventory({ seed: 98, count: 13, now: GENERATED_AT }).slice(8);
});

const open: Services[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function services(certificates = inventory): Promise<Services> {
  const s = await startServices(certificates);
  open.push(s);
  return s;
}

function fresh(certificates: readonly CommandCertificate[]) {
  return certificates.map(({ Id: _id, ImportDate: _importDate, ...rest }) => rest);
}

function distinctDers(certificates: readonly CommandCertificate[]): number {
  return new Set(certificates.map((c) => c.ContentBytes)).size;
}

describe('remote scan over Basic auth', () => {
  it('ships one finding per certificate, writes the reports atomically, and a second run is incremental', async () => {
    const { sim, receiver } = await services();
    const out = tempDir();
    const state = sharedMemoryState();
    const config = loadText(
      basicConfigYaml({ commandUrl: sim.url, ingestionUrl: receiver.url, outputDir: out, pageSize: 40 }),
      basicEnv(),
    );

    const first = await runOnce(config, { openState: state.open });
    expect(first.error).toBeNull();
    expect(first.exitCode).toBe(0);
    expect(first.scan).toMatchObject({ state: 'COMPLETED', mode: 'full', trigger: 'cli' });
    const certificates = distinctDers(inventory);
    expect(first.scan!.counts.fetchedCertificates).toBe(inventory.length);
    // Ingestion: every certificate once, no batch twice.
    expect(receiver.findings.size).toBe(certificates);
    expect(receiver.stats.findingLines).toBe(certificates);
    expect(receiver.stats.duplicates).toBe(0);
    const shipped = [...receiver.batches.values()][0]!;
    expect(shipped.sensor).toMatchObject({ name: 'Remote Test Scan', ranBy: 'tester' });
    expect(shipped.labels).toEqual([{ name: 'scan', value: 'remote' }]);

    // local_export: JSONL = one line per certificate, CSV rows, a valid CBOM, no temp files left.
    const files = readdirSync(out).sort();
    expect(files).toEqual([
      'kf-cbom.cdx.json',
      'kf-findings.csv',
      'kf-findings.jsonl',
      'kf-resolutions.jsonl',
    ]);
    const lines = readFileSync(path.join(out, 'kf-findings.jsonl'), 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(certificates);
    const documents = lines.map((l) => JSON.parse(l) as Finding);
    expect(new Set(documents.map((d) => d.id)).size).toBe(certificates);
    expect(new Set(documents.map((d) => d.id))).toEqual(new Set(receiver.findings.keys()));
    expect(documents.every((d) => typeof d.first_found === 'string')).toBe(true);
    const csv = readFileSync(path.join(out, 'kf-findings.csv'), 'utf8').trimEnd().split('\r\n');
    expect(csv[0]).toContain(CSV_HEADER[0]);
    expect(csv).toHaveLength(certificates + 1);
    const cbom = readFileSync(path.join(out, 'kf-cbom.cdx.json'), 'utf8');
    const validation = await validateCbomJson(cbom);
    expect(validation.valid, JSON.stringify(validation)).toBe(true);
    expect(readFileSync(path.join(out, 'kf-resolutions.jsonl'), 'utf8')).toBe('');
    expect(first.summaryText).toContain('Expiry:');
    expect(first.summaryText).toContain('Quantum-vulnerable');

    // Changes in Command, then run 2: only the new and the revoked certificates are fetched.
    const added = sim.inventory.addNew(fresh(extras));
    const revokedId = inventory[20]!.Id;
    sim.inventory.revoke(revokedId);
    sim.requestLog.clear();
    const beforeBatches = receiver.batches.size;
    const second = await runOnce(config, { openState: state.open });
    expect(second.exitCode).toBe(0);
    expect(second.scan).toMatchObject({ state: 'COMPLETED', mode: 'incremental' });
    expect(second.scan!.counts.fetchedCertificates).toBe(added.length + 1);
    const pages = sim.requestLog.certificatePages();
    expect(pages.length).toBeGreaterThan(0);
    for (const entry of pages) expect(entry.params?.queryString).toMatch(/CertId -gt "\d+"|RevocationDate/);
    const counted = pages
      .filter((e) => e.params?.returnLimit !== 1)
      .reduce((n, e) => n + (e.totalCount ?? 0), 0);
    expect(counted).toBeLessThanOrEqual((added.length + 1) * 2);
    // The new findings and the revoked one's change were shipped; nothing twice.
    expect(receiver.batches.size).toBeGreaterThan(beforeBatches);
    expect(receiver.findings.size).toBe(certificates + added.length);
    expect(receiver.stats.duplicates).toBe(0);
    const lines2 = readFileSync(path.join(out, 'kf-findings.jsonl'), 'utf8').trimEnd().split('\n');
    expect(lines2).toHaveLength(certificates + added.length);
  });

  it('formats and file_prefix choose the reports', async () => {
    const { sim } = await services(inventory.slice(0, 40));
    const out = tempDir();
    const config = loadText(
      basicConfigYaml({ commandUrl: sim.url, outputDir: out, formats: ['csv'], filePrefix: 'weekly' }),
      basicEnv(),
    );
    const result = await runOnce(config, { openState: sharedMemoryState().open });
    expect(result.exitCode).toBe(0);
    expect(readdirSync(out)).toEqual(['weekly-findings.csv']);
  });

  it('reports that cannot be written make the run fail (exit 1), never a silent 0', async () => {
    const { sim } = await services(inventory.slice(0, 20));
    const blocker = path.join(tempDir(), 'a-file');
    writeFileSync(blocker, 'not a directory');
    const config = loadText(
      basicConfigYaml({ commandUrl: sim.url, outputDir: path.join(blocker, 'out') }),
      basicEnv(),
    );
    const result = await runOnce(config, { openState: sharedMemoryState().open });
    expect(result.scan?.state).toBe('COMPLETED');
    expect(result.exitCode).toBe(1);
    expect(result.error).toMatch(/ENOTDIR|not a directory/i);
  });

  it('a wrong password exits 3 with a clear message and no secret', async () => {
    const { sim, receiver } = await services(inventory.slice(0, 20));
    const config = loadText(
      basicConfigYaml({ commandUrl: sim.url, ingestionUrl: receiver.url }),
      basicEnv('not the password'),
    );
    const result = await runOnce(config, { openState: sharedMemoryState().open });
    expect(result.exitCode).toBe(3);
    expect(result.scan?.state).toBe('FAILED');
    expect(result.error).toMatch(/401|refused|credential|authenticat/i);
    expect(result.error).not.toContain('not the password');
    expect(receiver.stats.requests).toBe(0);
  });

  it('a range failing on every attempt exits 4 (PARTIAL) and leaves the cursor for the next run', async () => {
    const { sim, receiver } = await services();
    const state = sharedMemoryState();
    const config = loadText(
      basicConfigYaml({ commandUrl: sim.url, ingestionUrl: receiver.url, pageSize: 50 }),
      basicEnv(),
    );
    // The first range (it starts at the lowest Id) fails on every request; the others succeed.
    const lowest = Math.min(...inventory.map((c) => c.Id));
    sim.faults.add({
      match: { path: '/Certificates', query: new RegExp(`CertId -ge "${lowest}"`) },
      times: Infinity,
      action: { type: 'status', status: 503 },
    });
    const partial = await runOnce(config, { openState: state.open, pipeline: { pageMaxAttempts: 2 } });
    expect(partial.exitCode, partial.error ?? '').toBe(4);
    expect(partial.scan?.state).toBe('PARTIAL');
    expect(partial.scan?.errors.some((e) => e.where.startsWith('page:'))).toBe(true);
    sim.faults.clear();
    const again = await runOnce(config, { openState: state.open });
    expect(again.exitCode).toBe(0);
    expect(again.scan?.mode).toBe('full');
    expect(receiver.findings.size).toBe(distinctDers(inventory));
    expect(receiver.stats.duplicates).toBe(0);
  });

  it('an interrupt cancels the scan, keeps the cursor, and the rerun delivers every certificate exactly once', async () => {
    const { sim, receiver } = await services();
    const state = sharedMemoryState();
    const config = loadText(
      basicConfigYaml({ commandUrl: sim.url, ingestionUrl: receiver.url, pageSize: 20, concurrency: 2 }),
      basicEnv(),
    );
    const controller = new AbortController();
    let pagesServed = 0;
    sim.faults.add({
      match: { path: '/Certificates' },
      times: Infinity,
      action: {
        type: 'mutate',
        apply: () => {
          pagesServed += 1;
          if (pagesServed === 6) controller.abort();
        },
      },
    });
    sim.faults.add({
      match: { path: '/Certificates' },
      times: Infinity,
      action: { type: 'latency', ms: 20 },
    });
    const interrupted = await runOnce(config, { openState: state.open, signal: controller.signal });
    expect(interrupted.exitCode).toBe(130);
    expect(interrupted.scan?.state).toBe('CANCELLED');
    const key = interrupted.scan!.sensorKey;
    expect(await state.state()!.scans.getCursor(key)).toBeNull();
    const storedBefore = await countFindings(state, key);
    expect(storedBefore).toBeGreaterThan(0);
    expect(storedBefore).toBeLessThan(distinctDers(inventory));

    sim.faults.clear();
    const rerun = await runOnce(config, { openState: state.open });
    expect(rerun.exitCode).toBe(0);
    expect(rerun.scan?.mode).toBe('full');
    expect(await countFindings(state, key)).toBe(distinctDers(inventory));
    expect(receiver.findings.size).toBe(distinctDers(inventory));
    expect(receiver.stats.findingLines).toBe(distinctDers(inventory));
    expect(receiver.stats.duplicates).toBe(0);
  });
});

async function countFindings(state: ReturnType<typeof sharedMemoryState>, key: string): Promise<number> {
  let n = 0;
  for await (const page of state.state()!.findings.listFindings(key, { status: 'open' })) n += page.length;
  return n;
}

describe('ingestion failing', () => {
  it('undelivered batches make a COMPLETED scan exit 4; the next run redrives them and everything arrives once', async () => {
    const { sim, receiver } = await services(inventory.slice(0, 120));
    // The real state directory: the export journal lives next to the state file.
    const { openLocalFileState } = await import('#shared/remote/state');
    const stateDir = tempDir();
    const config = loadText(
      basicConfigYaml({ commandUrl: sim.url, ingestionUrl: receiver.url, pageSize: 30 }),
      basicEnv(),
    );
    receiver.setFaults({ failRate: 1, kinds: ['503'] });
    const first = await runOnce(config, {
      openState: openLocalFileState,
      stateDir,
      ingestionRetry: { maxAttempts: 1 },
    });
    expect(first.scan?.state).toBe('COMPLETED');
    expect(first.scan?.counts.exportBatchesFailed).toBeGreaterThan(0);
    expect(first.exitCode).toBe(4);
    expect(first.error).toMatch(/not delivered/);
    expect(receiver.findings.size).toBe(0);

    receiver.setFaults(null);
    const second = await runOnce(config, { openState: openLocalFileState, stateDir });
    expect(second.exitCode, second.error ?? '').toBe(0);
    expect(second.scan?.mode).toBe('incremental');
    const distinct = new Set(inventory.slice(0, 120).map((c) => c.ContentBytes)).size;
    expect(receiver.findings.size).toBe(distinct);
    expect(receiver.stats.findingLines).toBe(distinct);
    // The redriven batches are no longer counted as failed on the first scan.
    const reopened = await openLocalFileState(stateDir, { now: () => new Date() });
    try {
      expect((await reopened.scans.getScan(first.scan!.scanId))?.counts.exportBatchesFailed).toBe(0);
    } finally {
      await reopened.close();
    }
  });
});

describe('dry run', () => {
  it('authenticates and probes the filter with one page-size-1 request; nothing stored, nothing shipped', async () => {
    const { sim, receiver } = await services();
    const state = sharedMemoryState();
    const config = loadText(
      basicConfigYaml({
        commandUrl: sim.url,
        ingestionUrl: receiver.url,
        queryFilter: 'IssuedDate -gt "2020-01-01"',
      }),
      basicEnv(),
    );
    sim.requestLog.clear();
    const result = await runOnce(config, { openState: state.open, dryRun: true });
    expect(result.error).toBeNull();
    expect(result.exitCode).toBe(0);
    expect(result.dryRun?.matchingCertificates).toBeGreaterThan(0);
    expect(result.dryRun?.query).toContain('IssuedDate');
    const pages = sim.requestLog.certificatePages();
    expect(pages).toHaveLength(1);
    expect(pages[0]!.params?.returnLimit).toBe(1);
    expect(receiver.stats.requests).toBe(0);
    expect(state.state()).toBeNull();
  });

  it('a wrong password is exit 3 in a dry run too', async () => {
    const { sim } = await services(inventory.slice(0, 10));
    const config = loadText(basicConfigYaml({ commandUrl: sim.url }), basicEnv('wrong'));
    const result = await runOnce(config, { openState: sharedMemoryState().open, dryRun: true });
    expect(result.exitCode).toBe(3);
    expect(sim.requestLog.certificatePages()).toHaveLength(0);
  });
});

describe('state directory', () => {
  it('a state directory in use by another run is exit 1 naming it; nothing is fetched', async () => {
    const { openLocalState } = await import('#shared/adapters/local/scan-stores');
    const { openLocalFileState } = await import('#shared/remote/state');
    const { sim } = await services(inventory.slice(0, 10));
    const stateDir = tempDir();
    const holder = openLocalState(stateDir, { lockTimeoutMs: 50 });
    try {
      const config = loadText(basicConfigYaml({ commandUrl: sim.url }), basicEnv());
      sim.requestLog.clear();
      const result = await runOnce(config, { openState: openLocalFileState, stateDir });
      expect(result.exitCode).toBe(1);
      expect(result.error).toContain(stateDir);
      expect(sim.requestLog.entries()).toHaveLength(0);
    } finally {
      holder.close();
    }
  });
});
