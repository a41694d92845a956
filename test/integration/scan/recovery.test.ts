// Crashes at the seams of the pipeline (collector, finalizer) and a Command that ignores the paging filter.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CommandCertificate } from '#shared/keyfactor/index';
import { generateInventory } from '#shared/simulator/generator/index';
import { startSimulator, type RunningSimulator } from '#shared/simulator/server';
import type { CreateScanInput, ScanRecord } from '#shared/scan/index';
import { createMemoryPipeline, type MemoryPipeline } from '#test/support/scan/memory-pipeline';

const USER = { username: 'bob', password: 'pw-for-bob', domain: 'CORP' };
let inventory: CommandCertificate[] = [];
const running: RunningSimulator[] = [];

beforeAll(() => {
  inventory = generateInventory({ seed: 11, count: 600, now: new Date('2026-01-01T00:00:00Z') });
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function setup() {
  let ms = Date.parse('2026-02-01T00:00:00Z');
  const clock = { now: () => new Date(ms), advance: (s: number) => (ms += s * 1000) };
  const sim = await startSimulator({
    certificates: inventory,
    now: clock.now,
    auth: { basic: [USER] },
    prewarm: false,
  });
  running.push(sim);
  const p = createMemoryPipeline({ clock });
  const input: CreateScanInput = {
    sensorName: 'recovery',
    url: sim.url,
    queryFilter: null,
    credentials: { username: `${USER.domain}\\${USER.username}`, password: USER.password },
    callbackId: null,
    labels: [],
    priority: 'normal',
    pageSize: 100,
  };
  return { p, sim, input, clock };
}

async function runScan(p: MemoryPipeline, input: CreateScanInput): Promise<ScanRecord> {
  const { scan } = await p.api.createScan(input, { type: 'api' });
  await p.runUntilIdle();
  return (await p.scans.getScan(scan.scanId))!;
}

async function expectExactlyOnce(p: MemoryPipeline, scan: ScanRecord) {
  const exported = await p.exportedFindings(scan.scanId);
  const ids = exported.map((f) => f.observation.source.certificate_id);
  expect(new Set(ids).size).toBe(ids.length);
  expect(ids.sort((a, b) => a! - b!)).toEqual(inventory.map((c) => c.Id));
}

describe('collector crashes', () => {
  it('dies while PLANNING (before recording the plan): the redelivered start plans again', async () => {
    const { p, input } = await setup();
    const transition = p.scans.transition.bind(p.scans);
    let crashed = false;
    p.scans.transition = async (scanId, from, patch) => {
      if (patch.state === 'RUNNING' && !crashed) {
        crashed = true;
        throw new Error('collector died');
      }
      return transition(scanId, from, patch);
    };
    const scan = await runScan(p, input);
    expect(crashed).toBe(true);
    expect(scan.state).toBe('COMPLETED');
    expect(
      p.steps.filter((s) => s.queue === 'start').map((s) => [s.receiveCount, s.error !== undefined]),
    ).toEqual([
      [1, true],
      [2, false],
    ]);
    await expectExactlyOnce(p, scan);
  });

  it('dies after recording the plan but before sending its tasks: the redelivered start re-sends them', async () => {
    const { p, input } = await setup();
    const sendPages = p.queue.sendPages.bind(p.queue);
    let crashed = false;
    p.queue.sendPages = async (messages, priority) => {
      if (!crashed) {
        crashed = true;
        throw new Error('collector died before fan-out');
      }
      return sendPages(messages, priority);
    };
    const scan = await runScan(p, input);
    expect(scan.state).toBe('COMPLETED');
    expect(scan.counts).toMatchObject({ pagesPlanned: 6, pagesDone: 6, fetchedCertificates: 600 });
    await expectExactlyOnce(p, scan);
  });

  it('the result set emptied between the size and bounds requests: planning is retried, not failed', async () => {
    const { p, input } = await setup();
    const build = p.deps.commandClient;
    let raced = false;
    p.deps.commandClient = (settings) => {
      const client = build(settings);
      const getPage = client.getCertificatePage.bind(client);
      client.getCertificatePage = async (page, options = {}) => {
        const result = await getPage(page, options);
        if (options.sortAscending === false && !raced) {
          raced = true;
          return { ...result, certificates: [], rejected: [] };
        }
        return result;
      };
      return client;
    };
    const scan = await runScan(p, input);
    expect(raced).toBe(true);
    expect(scan.state).toBe('COMPLETED');
    expect(p.steps.filter((s) => s.queue === 'start')[0]!.error).toMatch(/returned none; planning again/);
    await expectExactlyOnce(p, scan);
  });

  it('a start message delivered again after the scan finished does nothing', async () => {
    const { p, input } = await setup();
    const scan = await runScan(p, input);
    await p.queue.sendStart({ type: 'start', scanId: scan.scanId }, 'normal');
    await p.runUntilIdle();
    expect(await p.scans.getScan(scan.scanId)).toEqual(scan);
  });
});

describe('finalizer crashes', () => {
  it('dies while resolving: the last page comes back, finalization resumes, the cursor moves once', async () => {
    const { p, input, sim, clock } = await setup();
    const first = await runScan(p, input);
    expect(first.state).toBe('COMPLETED');
    for (const id of [100, 200, 300]) sim.inventory.delete(id);
    clock.advance(10);
    const putCursor = p.scans.putCursor.bind(p.scans);
    let crashed = false;
    p.scans.putCursor = async (cursor, version) => {
      if (!crashed) {
        crashed = true;
        throw new Error('finalizer died');
      }
      return putCursor(cursor, version);
    };
    const second = await runScan(p, { ...input, autoResolutionInterval: 1 });
    expect(crashed).toBe(true);
    expect(second).toMatchObject({ state: 'COMPLETED', mode: 'full', counts: { resolvedFindings: 3 } });
    const resolutions = await p.exportedResolutions(second.scanId);
    expect(resolutions.map((r) => r.certificateId).sort((a, b) => a! - b!)).toEqual([100, 200, 300]);
    expect(await p.scans.getCursor(second.sensorKey)).toMatchObject({
      lastScanId: second.scanId,
      scansSinceFull: 1,
    });
    expect(p.events.ofType('ScanFinished').filter((e) => e.detail.scanId === second.scanId)).toHaveLength(1);
  });
});

describe('a Command that does not honour the paging query', () => {
  it('is caught by the range and order checks; the scan fails with a clear message instead of double counting', async () => {
    const { p, input } = await setup();
    const build = p.deps.commandClient;
    p.deps.commandClient = (settings) => {
      const client = build(settings);
      const getPage = client.getCertificatePage.bind(client);
      // Drops the CertId bounds for page tasks (the bounds probes still work).
      client.getCertificatePage = (page, options = {}) =>
        getPage(page, options.pageSize === 1 ? options : { ...options, query: null });
      return client;
    };
    const scan = await runScan(p, input);
    expect(scan.state).toBe('PARTIAL');
    expect(scan.counts.pagesFailed).toBe(5);
    expect(scan.errors.map((e) => e.message).join('\n')).toMatch(/ignoring the CertId filter or the Id sort/);
    expect(await p.scans.getCursor(scan.sensorKey)).toBeNull();
  });

  it('a query Command rejects (HTTP 400) fails the scan at planning without retries', async () => {
    const { p, input, sim } = await setup();
    sim.faults.add({
      match: { path: '/Certificates' },
      times: Infinity,
      action: {
        type: 'status',
        status: 400,
        body: '{"ErrorCode":"0xA0110000","Message":"Invalid query field: Foo"}',
      },
    });
    const scan = await runScan(p, input);
    expect(scan.state).toBe('FAILED');
    expect(scan.errors[0]!.message).toMatch(
      /Command rejected the (request|query filter).*Invalid query field: Foo/,
    );
    expect(p.steps.filter((s) => s.queue === 'start')).toHaveLength(1);
  });
});
