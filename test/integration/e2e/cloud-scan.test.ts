// The cloud path end to end through the real handlers: API → collector → SQS page fan-out → page workers → exporter
// → a real ingestion receiver, over moto and the Command simulator, driven by the local driver.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { CommandCertificate } from '#shared/keyfactor/model';
import { generateInventory } from '#shared/simulator/generator/index';
import { startIngestionReceiver, type IngestionReceiver } from '#shared/simulator/ingestion-receiver';
import { SimulatorInventory } from '#shared/simulator/inventory';
import { jsonLogger } from '#shared/logging';
import { startSimulator, type RunningSimulator } from '#shared/simulator/server';
import { startLocalDeployment, type LocalDeployment } from '#test/support/local-driver';

const COUNT = 10_000;
const USER = { username: 'scanner', password: 'e2e-Secret-9f3c' };
const TOKEN = 'ingest-e2e-token';
const DAY_MS = 86_400_000;

function derSha256(cert: CommandCertificate): string {
  return createHash('sha256')
    .update(Buffer.from(cert.ContentBytes ?? '', 'base64'))
    .digest('hex');
}

function certificatesReturned(sim: RunningSimulator, fromSeq: number): number {
  // The simulator logs x-total-count per list response; page-size-1 probes are counted by what they returned.
  return sim.requestLog
    .entries()
    .filter((e) => e.seq > fromSeq && e.route === '/Certificates' && e.status === 200)
    .reduce((sum, e) => sum + Math.min(e.totalCount ?? 0, e.params?.returnLimit ?? 0), 0);
}

describe(`cloud scan of ${COUNT.toLocaleString('en-US')} certificates through the local driver`, () => {
  let inventory: SimulatorInventory;
  let sim: RunningSimulator;
  let receiver: IngestionReceiver;
  let cloud: LocalDeployment;
  let scanBody: Record<string, unknown>;

  beforeAll(async () => {
    // An inventory made three days ago: its own revocations lie outside the incremental overlap window (24 h).
    inventory = new SimulatorInventory({
      certificates: generateInventory({ seed: 51, count: COUNT, now: new Date(Date.now() - 3 * DAY_MS) }),
    });
    sim = await startSimulator({ inventory, auth: { basic: [USER] } });
    receiver = await startIngestionReceiver({ token: TOKEN });
    cloud = await startLocalDeployment(inject('awsEndpoint'), {
      ingestionUrl: receiver.url,
      ingestionToken: TOKEN,
      concurrency: { pageNormal: 4, exporter: 4 },
      logger: process.env.E2E_DEBUG ? jsonLogger({ service: 'e2e', level: 'debug' }) : undefined,
    });
    scanBody = {
      sensorName: 'e2e-cloud',
      sensorType: 'Keyfactor Command',
      sensorConfig: {
        url: sim.url,
        username: USER.username,
        password: USER.password,
        page_size: 500,
        auto_resolution_interval: 2,
      },
      labels: [{ env: 'e2e' }],
      priority: 'normal',
    };
  }, 120_000);

  afterAll(async () => {
    await Promise.all([sim?.close(), receiver?.stop()]);
  });

  async function scan(callbackId: string): Promise<Record<string, unknown>> {
    const created = await cloud.call({
      method: 'POST',
      path: '/v3/scan/create',
      token: cloud.adminToken,
      json: { ...scanBody, callbackId },
    });
    expect(created.status).toBe(201);
    const scanId = (created.body as { scanId: string }).scanId;
    const driven = await cloud.drive({ timeoutMs: 600_000 });
    expect(driven.drained).toBe(true);
    const got = await cloud.call({ method: 'GET', path: `/v3/scans/${scanId}`, token: cloud.adminToken });
    expect(got.status).toBe(200);
    return got.body as Record<string, unknown>;
  }

  it('full scan: the receiver gets exactly one finding per certificate, each identified by its DER SHA-256', async () => {
    const result = await scan('first');
    expect(result).toMatchObject({ state: 'COMPLETED', mode: 'full' });
    expect(result.counts).toMatchObject({
      plannedCertificates: COUNT,
      fetchedCertificates: COUNT,
      analysedCertificates: COUNT,
      failedCertificates: 0,
      changedFindings: COUNT,
      exportedFindings: COUNT,
      pagesFailed: 0,
    });
    const expected = new Set(inventory.list().map(derSha256));
    expect(expected.size).toBe(COUNT);
    expect(receiver.findings.size).toBe(COUNT);
    expect(receiver.stats.findingLines).toBe(COUNT);
    expect([...receiver.findings.keys()].every((id) => expected.has(id))).toBe(true);
    const sample = [...receiver.batches.values()][0];
    expect(sample?.sensor).toMatchObject({ name: 'e2e-cloud', type: 'Keyfactor Command' });
    expect(sample?.labels).toEqual([{ name: 'env', value: 'e2e' }]);
    // Nothing of the credentials reached the scan record the API returns.
    expect(JSON.stringify(result)).not.toContain(USER.password);
  }, 600_000);

  it('incremental scan after 20 changes fetches and exports only those 20', async () => {
    const existing = inventory.list();
    // Revocations inside the overlap window before the last scan are fetched again by design (docs/scan-pipeline.md).
    const windowStart = Date.now() - 2 * DAY_MS;
    const alreadyInWindow = existing.filter(
      (c) => c.RevocationEffDate && Date.parse(c.RevocationEffDate) >= windowStart,
    );
    expect(alreadyInWindow).toEqual([]);
    const added = inventory.addNew(
      generateInventory({ seed: 52, count: 10, now: new Date(), includeCaCertificates: false }).map((c) => ({
        ...c,
        Id: undefined,
      })),
    );
    const revoked = existing.slice(100, 110).map((c) => inventory.revoke(c.Id));
    const changed = new Set([...added, ...revoked].map(derSha256));
    // The new certificates are new DER, not copies of inventory certificates (the generator's CA certificates are).
    expect(added.map(derSha256).some((id) => receiver.findings.has(id))).toBe(false);
    const fromSeq = sim.requestLog.entries().at(-1)?.seq ?? 0;
    const findingLinesBefore = receiver.stats.findingLines;

    const result = await scan('second');
    expect(result).toMatchObject({ state: 'COMPLETED', mode: 'incremental' });
    expect(result.counts).toMatchObject({
      fetchedCertificates: 20,
      changedFindings: 20,
      exportedFindings: 20,
    });
    // The simulator's log: the certificate requests of this scan returned 20 certificates in all (plus probes).
    expect(certificatesReturned(sim, fromSeq)).toBeLessThanOrEqual(20 + 2);
    expect(receiver.stats.findingLines - findingLinesBefore).toBe(20);
    const lastBatches = [...receiver.batches.values()].filter((b) => b.scanId === result.scanId);
    expect(new Set(lastBatches.flatMap((b) => b.ids))).toEqual(changed);
  }, 600_000);

  it('the next full scan resolves exactly the deleted certificates', async () => {
    const victims = inventory.list().slice(2000, 2015);
    for (const v of victims) inventory.delete(v.Id);
    const result = await scan('third');
    expect(result).toMatchObject({ state: 'COMPLETED', mode: 'full' });
    expect(result.counts).toMatchObject({ resolvedFindings: 15, exportedResolutions: 15 });
    // A full scan re-exports only findings whose content changed; nothing changed in Command but the deletions, so
    // at most a certificate crossing an expiry threshold during the test could be re-exported.
    const exportedHere = [...receiver.batches.values()].filter(
      (b) => b.scanId === result.scanId && b.kind === 'findings',
    );
    const changed = (result.counts as { changedFindings: number }).changedFindings;
    expect(exportedHere.reduce((n, b) => n + b.count, 0)).toBe(changed);
    expect(changed).toBeLessThanOrEqual(2);
    const resolvedHere = [...receiver.resolutions.values()].filter((r) => r.scanId === result.scanId);
    expect(new Set(resolvedHere.map((r) => r.findingId))).toEqual(new Set(victims.map(derSha256)));
  }, 600_000);
});
