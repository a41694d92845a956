// The scan engine end to end over the memory adapters against the real Command simulator over HTTP: full and
// incremental scans, auto-resolution, data moving under a scan, redelivery, failures, cancel, de-duplication, priority.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CommandCertificate } from '#shared/keyfactor/index';
import { CommandUnavailableError } from '#shared/keyfactor/index';
import type { Finding } from '#shared/findings/index';
import { generateInventory } from '#shared/simulator/generator/index';
import { startSimulator, type RunningSimulator } from '#shared/simulator/server';
import type { CreateScanInput, PipelineConfig, ScanRecord } from '#shared/scan/index';
import { createMemoryPipeline, type MemoryPipeline } from '#test/support/scan/memory-pipeline';

const GENERATED_AT = new Date('2026-01-01T00:00:00Z');
const USER = { username: 'alice', password: 'correct horse', domain: 'CORP' };
let inventory: CommandCertificate[] = [];
let extras: CommandCertificate[] = [];

/** A clock the test moves; the simulator and the pipeline share it. */
function testClock(start = '2026-02-01T00:00:00Z') {
  let ms = Date.parse(start);
  return {
    now: () => new Date(ms),
    advance(seconds: number) {
      ms += seconds * 1000;
    },
  };
}

beforeAll(() => {
  inventory = generateInventory({ seed: 7, count: 2000, now: GENERATED_AT });
  // The generator's first 8 certificates are its shared CA hierarchy (the same DER for every seed): skip them.
  extras = generateInventory({ seed: 99, count: 48, now: GENERATED_AT }).slice(8);
});

const running: RunningSimulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function setup(options: { config?: Partial<PipelineConfig> } = {}) {
  const clock = testClock();
  const sim = await startSimulator({
    certificates: inventory,
    now: clock.now,
    auth: { basic: [USER] },
    prewarm: false,
  });
  running.push(sim);
  const p = createMemoryPipeline({ clock, ...(options.config ? { config: options.config } : {}) });
  const input = (overrides: Partial<CreateScanInput> = {}): CreateScanInput => ({
    sensorName: 'kf-test',
    url: sim.url,
    queryFilter: null,
    credentials: { username: `${USER.domain}\\${USER.username}`, password: USER.password },
    callbackId: null,
    labels: [{ name: 'env', value: 'test' }],
    priority: 'normal',
    pageSize: 250,
    ...overrides,
  });
  return { clock, sim, p, input };
}

async function runScan(p: MemoryPipeline, input: CreateScanInput): Promise<ScanRecord> {
  const { scan } = await p.api.createScan(input, { type: 'api' });
  await p.runUntilIdle();
  return (await p.scans.getScan(scan.scanId))!;
}

function certificateIdsOf(findings: readonly Finding[]): number[] {
  return findings.map((f) => f.observation.source.certificate_id!).sort((a, b) => a - b);
}

/** Newly imported certificates (no Id, no ImportDate: the simulator assigns both). */
function fresh(certificates: readonly CommandCertificate[]) {
  return certificates.map(({ Id: _id, ImportDate: _importDate, ...rest }) => rest);
}

describe('full scan', () => {
  it('exports exactly one finding per certificate and advances the cursor', async () => {
    const { p, input, sim } = await setup();
    const scan = await runScan(p, input({ callbackId: 'cb-full' }));
    expect(scan.state).toBe('COMPLETED');
    expect(scan.mode).toBe('full');
    expect(scan.counts).toMatchObject({
      plannedCertificates: 2000,
      fetchedCertificates: 2000,
      analysedCertificates: 2000,
      pagesPlanned: 8,
      pagesDone: 8,
      pagesFailed: 0,
      changedFindings: 2000,
      resolvedFindings: 0,
    });
    const exported = await p.exportedFindings(scan.scanId);
    expect(exported).toHaveLength(2000);
    expect(new Set(exported.map((f) => f.id)).size).toBe(2000);
    expect(certificateIdsOf(exported)).toEqual(inventory.map((c) => c.Id).sort((a, b) => a - b));
    expect(exported.every((f) => f.first_found === '2026-02-01T00:00:00.000Z')).toBe(true);
    expect(exported[0]!.labels).toEqual([{ name: 'env', value: 'test' }]);
    // Every batch written was announced to the exporter, and batches respect the count bound.
    const batches = await p.exportBatches(scan.scanId);
    expect(new Set(p.outbox.written)).toEqual(new Set(batches.map((b) => b.batchId)));
    expect(batches.every((b) => b.count <= 500 && b.status === 'pending')).toBe(true);
    expect(scan.counts.exportBatchesPlanned).toBe(batches.length);
    const cursor = await p.scans.getCursor(scan.sensorKey);
    expect(cursor).toMatchObject({ maxCertId: 2000, scansSinceFull: 1, lastFullScanId: scan.scanId });
    const finished = p.events.ofType('ScanFinished');
    expect(finished).toHaveLength(1);
    expect(finished[0]!.detail).toMatchObject({
      scanId: scan.scanId,
      callbackId: 'cb-full',
      state: 'COMPLETED',
      mode: 'full',
    });
    // Two bounds probes and 8 ranges of 250 (one page each).
    const pages = sim.requestLog.certificatePages();
    expect(pages).toHaveLength(2 + 8);
    expect(pages.slice(2).every((e) => /CertId/.test(decodeURIComponent(e.rawQuery)))).toBe(true);
    // The API scan's credentials are gone once it finished.
    expect(p.secrets.has(scan.sensor.credentialsRef)).toBe(false);
  });
});

describe('incremental scans and auto-resolution', () => {
  it('after 10 new and 10 revoked certificates, fetches and exports only those 20', async () => {
    const { p, input, sim, clock } = await setup();
    const first = await runScan(p, input());
    expect(first.state).toBe('COMPLETED');
    clock.advance(3600);
    const added = sim.inventory.addNew(fresh(extras.slice(0, 10)));
    const revokedIds = [5, 50, 500, 700, 900, 1100, 1300, 1500, 1700, 1999];
    for (const id of revokedIds) sim.inventory.revoke(id, { date: clock.now() });
    sim.requestLog.clear();
    clock.advance(60);

    const second = await runScan(p, input());
    expect(second.state).toBe('COMPLETED');
    expect(second.mode).toBe('incremental');
    expect(second.effectiveQuery).toBe('CertId -gt "2000" OR RevocationDate -ge "2026-01-31T00:00:00Z"');
    expect(second.counts).toMatchObject({
      plannedCertificates: 20,
      fetchedCertificates: 20,
      changedFindings: 20,
    });
    const listRequests = sim.requestLog.certificatePages();
    // The size probe says 20; every list request carried the incremental condition.
    expect(listRequests[0]!.totalCount).toBe(20);
    expect(
      listRequests.every((e) =>
        decodeURIComponent(e.rawQuery.replace(/\+/g, ' ')).includes('CertId -gt "2000"'),
      ),
    ).toBe(true);
    const exported = await p.exportedFindings(second.scanId);
    expect(certificateIdsOf(exported)).toEqual(
      [...revokedIds, ...added.map((c) => c.Id)].sort((a, b) => a - b),
    );
    const cursor = await p.scans.getCursor(second.sensorKey);
    expect(cursor).toMatchObject({ maxCertId: 2010, scansSinceFull: 2, lastScanId: second.scanId });

    // Nothing changed since: the next incremental finds the 10 revocations again (inside the overlap) but
    // exports nothing, as their findings are unchanged.
    clock.advance(60);
    const third = await runScan(p, input());
    expect(third.counts.fetchedCertificates).toBe(10);
    expect(await p.exportedFindings(third.scanId)).toHaveLength(0);
  });

  it('full, incremental x(N-1), full: the full scan resolves exactly the deleted certificates; a re-import reopens', async () => {
    const { p, input, sim, clock } = await setup();
    const scanInput = input({ autoResolutionInterval: 3 });
    const modes: string[] = [];
    const s1 = await runScan(p, scanInput);
    modes.push(s1.mode!);
    const deleted = [10, 20, 30, 40, 50];
    for (const id of deleted) sim.inventory.delete(id);
    clock.advance(5);
    const s2 = await runScan(p, scanInput);
    clock.advance(5);
    const s3 = await runScan(p, scanInput);
    modes.push(s2.mode!, s3.mode!);
    expect(s2.counts.resolvedFindings + s3.counts.resolvedFindings).toBe(0);
    clock.advance(5);
    const s4 = await runScan(p, scanInput);
    modes.push(s4.mode!);
    expect(modes).toEqual(['full', 'incremental', 'incremental', 'full']);
    expect(s4.state).toBe('COMPLETED');
    expect(s4.counts.resolvedFindings).toBe(5);
    const resolutions = await p.exportedResolutions(s4.scanId);
    expect(resolutions.map((r) => r.certificateId).sort((a, b) => a! - b!)).toEqual(deleted);
    expect(resolutions[0]).toMatchObject({
      scanId: s4.scanId,
      sensor: { name: 'kf-test', type: 'Keyfactor Command' },
    });
    // Unchanged certificates are not exported again by the full scan.
    expect(await p.exportedFindings(s4.scanId)).toHaveLength(0);

    // Certificate 30 comes back (imported again: a new Id, the same DER); the incremental scan reopens it.
    const back = sim.inventory.addNew(fresh([inventory.find((c) => c.Id === 30)!]))[0]!;
    clock.advance(5);
    const s5 = await runScan(p, scanInput);
    expect(s5.mode).toBe('incremental');
    const exported = await p.exportedFindings(s5.scanId);
    expect(certificateIdsOf(exported)).toEqual([back.Id]);
    const stored = await p.findings.getFinding(s5.sensorKey, exported[0]!.id);
    expect(stored).toMatchObject({
      status: 'open',
      resolvedAt: null,
      firstSeenAt: '2026-02-01T00:00:00.000Z',
    });
    expect(exported[0]!.first_found).toBe('2026-02-01T00:00:00.000Z');
  });
});

describe('data moving under a scan', () => {
  it('every certificate present for the whole scan gets exactly one finding, none twice', async () => {
    const { p, input, sim } = await setup();
    const deletedDuringScan = new Set<number>();
    let next = 0;
    // Between page fetches Command deletes a certificate ahead of the scan and imports new ones.
    sim.faults.add({
      match: { path: '/Certificates', every: 2 },
      times: Infinity,
      action: {
        type: 'mutate',
        apply: (inv) => {
          const victim = inv.list()[Math.floor(inv.size / 2) + next]?.Id;
          if (victim !== undefined && inv.delete(victim)) deletedDuringScan.add(victim);
          // Each import is a distinct certificate (the same DER twice would be one finding for two records).
          if (next < extras.length) inv.addNew(fresh(extras.slice(next, next + 1)));
          next += 1;
        },
      },
    });
    const { scan } = await p.api.createScan(input({ pageSize: 100 }), { type: 'api' });
    // The test also moves data itself between worker calls: deletes behind and ahead of the scan.
    while (await p.step()) {
      const ids = sim.inventory.list().map((c) => c.Id);
      const victim = ids[(next * 37) % ids.length]!;
      if (victim <= 2000 && sim.inventory.delete(victim)) deletedDuringScan.add(victim);
    }
    const done = (await p.scans.getScan(scan.scanId))!;
    expect(done.state).toBe('COMPLETED');
    expect(deletedDuringScan.size).toBeGreaterThan(10);
    const exported = await p.exportedFindings(scan.scanId);
    expect(new Set(exported.map((f) => f.id)).size).toBe(exported.length);
    const exportedIds = new Set(certificateIdsOf(exported));
    const presentThroughout = inventory.map((c) => c.Id).filter((id) => !deletedDuringScan.has(id));
    for (const id of presentThroughout) expect(exportedIds.has(id)).toBe(true);
    expect(exportedIds.size).toBe(done.counts.fetchedCertificates);
  });
});

describe('redelivery and failures', () => {
  it('delivering every message twice changes nothing', async () => {
    const { p, input } = await setup();
    const { scan } = await p.api.createScan(input(), { type: 'api' });
    await p.runUntilIdle({ redeliverEach: true });
    const done = (await p.scans.getScan(scan.scanId))!;
    expect(done.state).toBe('COMPLETED');
    expect(done.counts).toMatchObject({ fetchedCertificates: 2000, pagesDone: 8, changedFindings: 2000 });
    const exported = await p.exportedFindings(scan.scanId);
    expect(exported).toHaveLength(2000);
    expect(new Set(exported.map((f) => f.id)).size).toBe(2000);
    expect(p.events.ofType('ScanFinished')).toHaveLength(1);
    expect((await p.scans.getCursor(done.sensorKey))!.scansSinceFull).toBe(1);
  });

  it('a worker crash after writing findings, or between findings and outbox, loses and doubles nothing', async () => {
    const { p, input } = await setup();
    const completeTask = p.scans.completeTask.bind(p.scans);
    const putBatch = p.outbox.putBatch.bind(p.outbox);
    let crashes = 0;
    p.scans.completeTask = async (scanId, taskId, outcome) => {
      if (taskId.startsWith('r1-') && crashes === 0) {
        crashes += 1;
        throw new Error('simulated crash before the completion was recorded');
      }
      return completeTask(scanId, taskId, outcome);
    };
    let putFailures = 0;
    p.outbox.putBatch = async (batch) => {
      if (batch.batchId.includes('.r251-') && putFailures === 0) {
        putFailures += 1;
        throw new Error('simulated crash between the findings and the outbox');
      }
      return putBatch(batch);
    };
    const scan = await runScan(p, input());
    expect(crashes + putFailures).toBe(2);
    expect(scan.state).toBe('COMPLETED');
    expect(scan.counts.fetchedCertificates).toBe(2000);
    const exported = await p.exportedFindings(scan.scanId);
    expect(exported).toHaveLength(2000);
    expect(new Set(certificateIdsOf(exported)).size).toBe(2000);
  });

  it('a page task failing on every attempt ends PARTIAL naming the range; the cursor stays; the next scan re-covers', async () => {
    const { p, input } = await setup();
    const build = p.deps.commandClient;
    let failing = true;
    p.deps.commandClient = (settings) => {
      const client = build(settings);
      const getPage = client.getCertificatePage.bind(client);
      client.getCertificatePage = async (page, options = {}) => {
        if (failing && options.query?.includes('CertId -ge "501"')) {
          throw new CommandUnavailableError('Command did not answer (simulated)', { path: '/Certificates' });
        }
        return getPage(page, options);
      };
      return client;
    };
    const scan = await runScan(p, input());
    expect(scan.state).toBe('PARTIAL');
    expect(scan.counts).toMatchObject({
      pagesDone: 7,
      pagesFailed: 1,
      fetchedCertificates: 1750,
      failedCertificates: 250,
    });
    expect(scan.errors.map((e) => e.where)).toEqual(['page:r501-750']);
    expect(scan.errors[0]!.message).toContain('CertIds 501-750');
    expect(p.steps.filter((s) => s.taskId === 'r501-750').map((s) => s.receiveCount)).toEqual([1, 2, 3]);
    expect(await p.scans.getCursor(scan.sensorKey)).toBeNull();
    expect(p.events.ofType('ScanFinished')[0]!.detail).toMatchObject({ state: 'PARTIAL' });
    failing = false;
    const again = await runScan(p, input());
    expect(again).toMatchObject({ state: 'COMPLETED', mode: 'full' });
    // The missing range is exported now; the rest is unchanged.
    expect(certificateIdsOf(await p.exportedFindings(again.scanId))).toEqual(
      Array.from({ length: 250 }, (_, i) => 501 + i),
    );
  });

  it('refused credentials fail the scan with a clear message and no secret', async () => {
    const { p, input } = await setup();
    const scan = await runScan(
      p,
      input({ credentials: { username: 'CORP\\alice', password: 'wrong-password-123' } }),
    );
    expect(scan.state).toBe('FAILED');
    expect(scan.errors[0]!.where).toBe('plan');
    expect(scan.errors[0]!.message).toMatch(/refused|401/);
    expect(JSON.stringify(scan)).not.toContain('wrong-password-123');
    expect(JSON.stringify(p.events.events)).not.toContain('wrong-password-123');
    expect(p.events.ofType('ScanFinished')[0]!.detail).toMatchObject({ state: 'FAILED' });
  });

  it('Command unavailable while planning: retried, then FAILED on the last attempt', async () => {
    const { p, input, sim } = await setup();
    sim.faults.add({
      match: { path: '/Status/Endpoints' },
      times: Infinity,
      action: { type: 'status', status: 503 },
    });
    const scan = await runScan(p, input());
    expect(scan.state).toBe('FAILED');
    expect(p.steps.filter((s) => s.queue === 'start').map((s) => s.receiveCount)).toEqual([1, 2, 3]);
    expect(scan.errors[0]!.message).toMatch(/did not answer/);
  });

  it('a filter matching nothing completes at once with no pages', async () => {
    const { p, input } = await setup();
    const scan = await runScan(p, input({ queryFilter: 'CN -eq "no-such-certificate-anywhere"' }));
    expect(scan).toMatchObject({ state: 'COMPLETED', counts: { plannedCertificates: 0, pagesPlanned: 0 } });
  });
});

describe('cancel, de-duplication, priority', () => {
  it('a cancelled scan does no more work', async () => {
    const { p, input } = await setup();
    const { scan } = await p.api.createScan(input(), { type: 'api' });
    await p.step(); // planned: 8 page tasks queued
    const cancelled = await p.api.cancelScan(scan.scanId);
    expect(cancelled?.state).toBe('CANCELLED');
    await p.runUntilIdle();
    const after = (await p.scans.getScan(scan.scanId))!;
    expect(after.state).toBe('CANCELLED');
    expect(after.counts.fetchedCertificates).toBe(0);
    expect(p.exportMessages(scan.scanId)).toHaveLength(0);
    expect(await p.api.cancelScan(scan.scanId)).toMatchObject({ state: 'CANCELLED' });
    expect(await p.api.cancelScan('no-such-scan')).toBeNull();
  });

  it('the same callbackId within the window returns the existing scan', async () => {
    const { p, input, clock } = await setup();
    const a = await p.api.createScan(input({ callbackId: 'cb-1' }), { type: 'api' });
    const b = await p.api.createScan(input({ callbackId: 'cb-1' }), { type: 'api' });
    expect(a.created).toBe(true);
    expect(b).toMatchObject({ created: false, scan: { scanId: a.scan.scanId } });
    const other = await p.api.createScan(input({ callbackId: 'cb-2' }), { type: 'api' });
    expect(other.scan.scanId).not.toBe(a.scan.scanId);
    clock.advance(15 * 60 + 1);
    const later = await p.api.createScan(input({ callbackId: 'cb-1' }), { type: 'api' });
    expect(later.created).toBe(true);
    expect(later.scan.scanId).not.toBe(a.scan.scanId);
  });

  it('a high-priority scan queued after a large normal one finishes first', async () => {
    const { p, input } = await setup();
    const big = await p.api.createScan(input({ pageSize: 100, sensorName: 'big' }), { type: 'api' });
    const urgent = await p.api.createScan(
      input({ pageSize: 100, sensorName: 'urgent', priority: 'high', queryFilter: 'CertId -le 250' }),
      { type: 'api' },
    );
    await p.runUntilIdle();
    const finished = p.events.ofType('ScanFinished').map((e) => e.detail.scanId);
    expect(finished).toEqual([urgent.scan.scanId, big.scan.scanId]);
    const order = p.steps.filter((s) => s.queue !== 'start').map((s) => s.scanId);
    expect(order.slice(0, 3)).toEqual([urgent.scan.scanId, urgent.scan.scanId, urgent.scan.scanId]);
    expect(p.queue.sent['page-high']).toBe(3);
    expect(p.queue.sent['page-normal']).toBe(20);
  });
});

describe('concurrency and Command faults', () => {
  it('8 concurrent workers, Command failing 10% of requests: exactly one finding per certificate, at most hostConcurrency requests at once', async () => {
    const { p, input, sim } = await setup();
    sim.faults.add({
      match: { probability: 0.04 },
      times: Infinity,
      action: { type: 'status', status: 500 },
    });
    sim.faults.add({
      match: { probability: 0.03 },
      times: Infinity,
      action: { type: 'status', status: 429, retryAfter: 0 },
    });
    sim.faults.add({ match: { probability: 0.03 }, times: Infinity, action: { type: 'reset' } });
    sim.faults.add({ match: { path: '/Certificates' }, times: Infinity, action: { type: 'latency', ms: 5 } });
    let held = 0;
    let maxHeld = 0;
    const acquire = p.leases.acquire.bind(p.leases);
    const release = p.leases.release.bind(p.leases);
    p.leases.acquire = async (host, limit, ttl) => {
      const lease = await acquire(host, limit, ttl);
      if (lease !== null) maxHeld = Math.max(maxHeld, ++held);
      return lease;
    };
    p.leases.release = async (host, lease) => {
      held -= 1;
      return release(host, lease);
    };
    const { scan } = await p.api.createScan(input({ pageSize: 100 }), { type: 'api' });
    await p.runUntilIdle({ concurrency: 8 });
    const done = (await p.scans.getScan(scan.scanId))!;
    expect(done.state).toBe('COMPLETED');
    expect(done.counts).toMatchObject({ pagesDone: 20, fetchedCertificates: 2000 });
    const exported = await p.exportedFindings(scan.scanId);
    expect(exported).toHaveLength(2000);
    expect(new Set(certificateIdsOf(exported)).size).toBe(2000);
    expect(sim.requestLog.entries().some((e) => e.faults.length > 0)).toBe(true);
    expect(maxHeld).toBeGreaterThan(1);
    expect(maxHeld).toBeLessThanOrEqual(4);
    expect(p.events.ofType('ScanFinished')).toHaveLength(1);
  });

  it('a host whose request slots are all taken: the task is given back and runs once a slot frees', async () => {
    const { p, input, sim } = await setup();
    const host = new URL(sim.url).host;
    const held = await Promise.all([1, 2, 3, 4].map(() => p.leases.acquire(host, 4, 600)));
    const { scan } = await p.api.createScan(input({ pageSize: 1000 }), { type: 'api' });
    await p.runUntilIdle({
      leaseWaitMs: 50,
      beforePage: async (_task, receiveCount) => {
        if (receiveCount === 2) for (const lease of held) await p.leases.release(host, lease!);
      },
    });
    const done = (await p.scans.getScan(scan.scanId))!;
    expect(done.state).toBe('COMPLETED');
    const busy = p.steps.filter((s) => s.error !== undefined);
    expect(busy.length).toBeGreaterThan(0);
    expect(busy[0]!.error).toMatch(/request slots for Command host .* are taken/);
  });
});
