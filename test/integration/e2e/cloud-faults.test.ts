// Fault tests of the cloud path through the local driver: Command failing, ingestion failing, a worker crashing
// mid-page, a poison message, a range that never succeeds. Every scan ends with every certificate delivered exactly
// once by id, or honestly PARTIAL with the missing range named.
import { createHash } from 'node:crypto';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { CommandCertificate } from '#shared/keyfactor/model';
import { splitIdRange } from '#shared/scan/plan';
import type { ScanDeps } from '#shared/scan/index';
import { generateInventory } from '#shared/simulator/generator/index';
import { startIngestionReceiver, type IngestionReceiver } from '#shared/simulator/ingestion-receiver';
import { SimulatorInventory } from '#shared/simulator/inventory';
import { startSimulator, type RunningSimulator } from '#shared/simulator/server';
import { startLocalDeployment, type LocalDeployment } from '#test/support/local-driver';

const COUNT = 2_000;
const PAGE_SIZE = 100;
const USER = { username: 'scanner', password: 'faults-Secret-1' };
const TOKEN = 'ingest-faults-token';
const FAST_RETRY = { maxAttempts: 6, baseDelayMs: 5, maxDelayMs: 50, maxRetryAfterMs: 5_000 };

function derSha256(cert: CommandCertificate): string {
  return createHash('sha256')
    .update(Buffer.from(cert.ContentBytes ?? '', 'base64'))
    .digest('hex');
}

interface Rig {
  inventory: SimulatorInventory;
  sim: RunningSimulator;
  receiver: IngestionReceiver;
  cloud: LocalDeployment;
  expected: Set<string>;
  scan(sensorName: string): Promise<{
    scanId: string;
    state: string;
    counts: Record<string, number>;
    errors: { where: string; message: string }[];
  }>;
  close(): Promise<void>;
}

async function rig(
  options: { seed: number; adjustDeps?: (deps: ScanDeps) => ScanDeps } = { seed: 1 },
): Promise<Rig> {
  const inventory = new SimulatorInventory({
    certificates: generateInventory({
      seed: 700 + options.seed,
      count: COUNT,
      now: new Date(Date.now() - 3 * 86_400_000),
    }),
  });
  const sim = await startSimulator({ inventory, auth: { basic: [USER] }, seed: options.seed });
  const receiver = await startIngestionReceiver({ token: TOKEN });
  const cloud = await startLocalDeployment(inject('awsEndpoint'), {
    ingestionUrl: receiver.url,
    ingestionToken: TOKEN,
    commandRetry: FAST_RETRY,
    ...(options.adjustDeps ? { adjustDeps: options.adjustDeps } : {}),
  });
  const scan: Rig['scan'] = async (sensorName) => {
    const created = await cloud.call({
      method: 'POST',
      path: '/v3/scan/create',
      token: cloud.adminToken,
      json: {
        sensorName,
        sensorType: 'Keyfactor Command',
        sensorConfig: {
          url: sim.url,
          username: USER.username,
          password: USER.password,
          page_size: PAGE_SIZE,
        },
      },
    });
    expect(created.status).toBe(201);
    const scanId = (created.body as { scanId: string }).scanId;
    const driven = await cloud.drive({ timeoutMs: 600_000 });
    expect(driven.drained).toBe(true);
    const got = await cloud.call({ method: 'GET', path: `/v3/scans/${scanId}`, token: cloud.adminToken });
    return got.body as Awaited<ReturnType<Rig['scan']>>;
  };
  return {
    inventory,
    sim,
    receiver,
    cloud,
    expected: new Set(inventory.list().map(derSha256)),
    scan,
    close: async () => {
      await Promise.all([sim.close(), receiver.stop()]);
    },
  };
}

function expectDeliveredExactlyOnce(r: Rig): void {
  expect(new Set(r.receiver.findings.keys())).toEqual(r.expected);
  // findingLines counts lines of accepted batches: equal to the distinct ids when no finding came twice.
  expect(r.receiver.stats.findingLines).toBe(r.expected.size);
}

describe('cloud scan under faults (local driver, moto, simulator, real receiver)', () => {
  const rigs: Rig[] = [];
  afterAll(async () => {
    await Promise.all(rigs.map((r) => r.close()));
  });

  it('Command failing 10% of requests (429, 500, resets) and ingestion failing half its calls: every certificate exactly once', async () => {
    const r = await rig({ seed: 1 });
    rigs.push(r);
    r.sim.faults.add({
      match: { path: '/Certificates', probability: 0.04 },
      times: Infinity,
      action: { type: 'status', status: 429, retryAfter: 0 },
    });
    r.sim.faults.add({
      match: { path: '/Certificates', probability: 0.04 },
      times: Infinity,
      action: { type: 'status', status: 500 },
    });
    r.sim.faults.add({
      match: { path: '/Certificates', probability: 0.02 },
      times: Infinity,
      action: { type: 'reset' },
    });
    r.receiver.setFaults({
      failRate: 0.5,
      kinds: ['500', '429', 'reset', 'lost-response'],
      retryAfter: 0,
      seed: 3,
    });
    const result = await r.scan('faults-flaky');
    expect(result.state).toBe('COMPLETED');
    expect(result.counts).toMatchObject({
      fetchedCertificates: COUNT,
      exportedFindings: COUNT,
      pagesFailed: 0,
    });
    expect(r.sim.requestLog.entries().filter((e) => e.fault !== undefined).length).toBeGreaterThan(0);
    expect(r.receiver.stats.injectedFaults).toBeGreaterThan(0);
    expectDeliveredExactlyOnce(r);
  }, 600_000);

  it('a worker crashing mid-page is redelivered, and a poison message goes to the DLQ without touching the scan', async () => {
    let upserts = 0;
    let crashed = false;
    const r = await rig({
      seed: 2,
      adjustDeps: (deps) => ({
        ...deps,
        findings: {
          ...deps.findings,
          listFindings: deps.findings.listFindings.bind(deps.findings),
          getFinding: deps.findings.getFinding.bind(deps.findings),
          resolveUnseen: deps.findings.resolveUnseen.bind(deps.findings),
          upsertFindings: async (...args: Parameters<ScanDeps['findings']['upsertFindings']>) => {
            // Numbered before awaiting: other workers' calls run concurrently.
            const call = ++upserts;
            // The third write lands and then the worker dies before finishing the page.
            const outcome = await deps.findings.upsertFindings(...args);
            if (call === 3) {
              crashed = true;
              throw new Error('worker crashed mid-page');
            }
            return outcome;
          },
        },
      }),
    });
    rigs.push(r);
    await r.cloud.cloud.sqs.send(
      new SendMessageCommand({
        QueueUrl: r.cloud.cloud.queues.pageNormal.url,
        MessageBody: '{"type":"page","task":"garbage"',
      }),
    );
    const result = await r.scan('faults-crash');
    expect(result.state).toBe('COMPLETED');
    expect(result.counts).toMatchObject({
      fetchedCertificates: COUNT,
      exportedFindings: COUNT,
      pagesFailed: 0,
    });
    expect(crashed).toBe(true);
    // The crashed task and the poison message (three receives) were reported as failures and redelivered.
    expect(r.cloud.emulator.stats['page-normal']?.failed).toBeGreaterThanOrEqual(4);
    expectDeliveredExactlyOnce(r);
    expect(await r.cloud.cloud.dlqBodies(r.cloud.cloud.queues.pageNormal)).toEqual([
      '{"type":"page","task":"garbage"',
    ]);
  }, 600_000);

  it('a range that fails on every attempt makes the scan PARTIAL naming it; the next scan re-covers it exactly once', async () => {
    const r = await rig({ seed: 3 });
    rigs.push(r);
    const ids = r.inventory.list().map((c) => c.Id);
    const ranges = splitIdRange(Math.min(...ids), Math.max(...ids), ids.length, PAGE_SIZE);
    const broken = ranges[3];
    if (!broken) throw new Error('expected at least 4 ranges');
    const rule = r.sim.faults.add({
      match: { path: '/Certificates', query: new RegExp(`CertId -ge "${broken.lo}"`) },
      times: Infinity,
      action: { type: 'status', status: 500 },
    });
    const inBroken = r.inventory
      .list()
      .filter((c) => c.Id >= broken.lo && c.Id <= broken.hi)
      .map(derSha256);
    expect(inBroken.length).toBeGreaterThan(0);

    const partial = await r.scan('faults-partial');
    expect(partial.state).toBe('PARTIAL');
    expect(partial.counts).toMatchObject({ pagesFailed: 1, fetchedCertificates: COUNT - inBroken.length });
    expect(partial.errors.map((e) => e.where)).toContain(`page:r${broken.lo}-${broken.hi}`);
    expect(r.receiver.findings.size).toBe(COUNT - inBroken.length);
    expect(inBroken.some((id) => r.receiver.findings.has(id))).toBe(false);

    r.sim.faults.remove(rule);
    const repaired = await r.scan('faults-partial');
    // The cursor did not move, so this is a full scan again and covers the gap.
    expect(repaired).toMatchObject({ state: 'COMPLETED', mode: 'full' });
    expectDeliveredExactlyOnce(r);
  }, 600_000);
});

beforeAll(() => {
  expect(COUNT % PAGE_SIZE).toBe(0);
});
