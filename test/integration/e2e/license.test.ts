// Licensing through the deployed path: the real API, collector, page workers and the daily license job (as its
// EventBridge rule invokes it) over moto and the Command simulator, driven by the local driver. Expected counts are
// computed here, from the simulator's own certificate objects, not by the code under test.
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LICENSE_ENV } from '#shared/adapters/aws/license-deps';
import { SCAN_ENV } from '#shared/adapters/aws/scan-deps';
import type { CommandCertificate } from '#shared/keyfactor/model';
import { verifyUsageLog } from '#shared/license/usage-log';
import { defaultExtras } from '#shared/simulator/extras';
import { generateInventory } from '#shared/simulator/generator/index';
import { SimulatorInventory } from '#shared/simulator/inventory';
import { startSimulator, type RunningSimulator } from '#shared/simulator/server';
import { issueTestLicense, OTHER_PRIVATE_KEY } from '#test/support/license';
import { startLocalDeployment, type LocalDeployment } from '#test/support/local-driver';

const COUNT = 240;
const USER = { username: 'licensing', password: 'e2e-License-7c1d' };
const DAY_MS = 86_400_000;
/** Metadata field whose values do not make a certificate actioned (compared case-insensitively). */
const EXCLUDED = ['retired'];
/** The collection an expiration alert watches: certificates with CertId ≤ 30. */
const ALERT_COLLECTION = { Id: 41, Name: 'First thirty', Content: 'CertId -le 30' };
/** A collection nothing references: membership must not count. */
const UNREFERENCED = { Id: 42, Name: 'Everything', Content: 'CertId -ge 1' };

/** Spreads the seven categories over the inventory so that no one category covers everything. */
function shape(cert: CommandCertificate, i: number): CommandCertificate {
  return {
    ...cert,
    CertRequestId: i % 4 === 0 ? 1000 + i : null,
    HasPrivateKey: i % 6 === 1,
    Locations: i % 5 === 2 ? (cert.Locations ?? []) : [],
    LocationsCount: i % 5 === 2 ? (cert.LocationsCount ?? []) : [],
    SSLLocations:
      i % 9 === 3
        ? [{ StorePath: null, AgentPool: 'Default', IPAddress: '10.0.0.5', Port: 443, NetworkName: 'dmz' }]
        : [],
    Metadata: i % 10 === 7 ? { Owner: 'pki@example.com' } : i % 10 === 8 ? { Retired: 'True' } : {},
  };
}

/** The seed's rules, written out plainly over Command's fields. */
function expectedActioned(certs: readonly CommandCertificate[], now: number): number {
  let total = 0;
  for (const c of certs) {
    if (Date.parse(c.NotAfter) < now) continue; // expired: in no category
    if (c.CertState === 2) {
      const revokedAt = c.RevocationEffDate ? Date.parse(c.RevocationEffDate) : NaN;
      if (revokedAt >= now - 7 * DAY_MS && revokedAt <= now) total += 1;
      continue;
    }
    const metadata = Object.entries(c.Metadata ?? {}).some(
      ([name, value]) => !EXCLUDED.includes(name.toLowerCase()) && (value ?? '') !== '',
    );
    if (
      (c.CertRequestId ?? 0) > 0 ||
      metadata ||
      (c.SSLLocations ?? []).length > 0 ||
      (c.Locations ?? []).length > 0 ||
      c.HasPrivateKey === true ||
      c.Id <= 30
    )
      total += 1;
  }
  return total;
}

describe('licensing through the local driver', () => {
  let inventory: SimulatorInventory;
  let sim: RunningSimulator;
  let cloud: LocalDeployment;
  let expected: number;
  let alertQueueUrl: string;

  beforeAll(async () => {
    const generated = generateInventory({ seed: 71, count: COUNT, now: new Date(Date.now() - 2 * DAY_MS) });
    inventory = new SimulatorInventory({ certificates: generated.map(shape) });
    const extras = defaultExtras();
    sim = await startSimulator({
      inventory,
      auth: { basic: [USER] },
      extras: {
        collections: [...extras.collections, ALERT_COLLECTION, UNREFERENCED].map((c) => ({
          Description: '',
          Automated: false,
          DuplicationField: 0,
          ShowOnDashboard: false,
          Favorite: false,
          ...c,
        })),
        expirationAlerts: [
          {
            ...extras.expirationAlerts[0]!,
            Id: 9,
            CertificateQuery: { Id: ALERT_COLLECTION.Id, Name: ALERT_COLLECTION.Name },
          },
        ],
        // An Enrollment workflow keyed to the unreferenced collection's id does not make it count.
        workflowDefinitions: [
          {
            ...extras.workflowDefinitions[1]!,
            WorkflowType: 'Enrollment',
            Key: String(UNREFERENCED.Id),
          },
        ],
      },
    });
    expected = expectedActioned(inventory.list(), Date.now());
    // Over the allowance on purpose: the job must raise (and publish) a warning and block nothing.
    cloud = await startLocalDeployment(inject('awsEndpoint'), {
      excludedMetadataFields: ['Retired'],
      license: {
        features: ['api-scans', 'remote-scan', 'actioned-certificates', 'cbom-export'],
        actionedCertificates: { type: 'Limited', allowance: expected - 1 },
      },
    });
    // A rule on the sensor's bus forwarding LicenseAlert events to a queue, to see what the job published.
    const queue = await cloud.cloud.sqs.send(new CreateQueueCommand({ QueueName: `alerts-${Date.now()}` }));
    alertQueueUrl = queue.QueueUrl ?? '';
    const attrs = await cloud.cloud.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: alertQueueUrl, AttributeNames: ['QueueArn'] }),
    );
    const events = new EventBridgeClient(cloud.cloud.aws);
    const bus = cloud.cloud.env[SCAN_ENV.eventBusName];
    await events.send(
      new PutRuleCommand({
        Name: 'license-alerts',
        EventBusName: bus,
        EventPattern: JSON.stringify({ 'detail-type': ['LicenseAlert'] }),
      }),
    );
    await events.send(
      new PutTargetsCommand({
        Rule: 'license-alerts',
        EventBusName: bus,
        Targets: [{ Id: 'queue', Arn: attrs.Attributes?.QueueArn ?? '' }],
      }),
    );
  }, 120_000);

  afterAll(async () => {
    await sim?.close();
  });

  const get = (path: string) => cloud.call({ method: 'GET', path, token: cloud.adminToken });

  it('refuses a feature the license does not enable with a 403 naming it and the license', async () => {
    const response = await cloud.call({
      method: 'POST',
      path: '/v3/schedules',
      token: cloud.adminToken,
      json: { name: 'nightly', expression: 'cron(0 3 * * ? *)', scan: {} },
    });
    expect(response.status).toBe(403);
    expect(JSON.stringify(response.body)).toMatch(/scheduled-scans/);
    expect(JSON.stringify(response.body)).toMatch(/LIC-TEST-0001/);
  });

  it('scans, then the daily job counts the actioned certificates once each and raises the over-limit alert', async () => {
    const created = await cloud.call({
      method: 'POST',
      path: '/v3/scan/create',
      token: cloud.adminToken,
      json: {
        sensorName: 'licensing',
        sensorType: 'Keyfactor Command',
        sensorConfig: { url: sim.url, username: USER.username, password: USER.password, page_size: 100 },
      },
    });
    expect(created.status).toBe(201);
    const driven = await cloud.drive({ timeoutMs: 300_000 });
    expect(driven.drained).toBe(true);
    const scanId = (created.body as { scanId: string }).scanId;
    expect((await get(`/v3/scans/${scanId}`)).body).toMatchObject({ state: 'COMPLETED' });
    // The collector captured the sensor's collections, alerts and workflows for the job.
    expect(sim.requestLog.entries().some((e) => (e.route ?? '').startsWith('/CertificateCollections'))).toBe(
      true,
    );

    const summary = await cloud.runLicenseJob();
    expect(summary).toMatchObject({
      total: expected,
      allowance: expected - 1,
      overLimit: true,
      sensors: 1,
      examined: COUNT,
    });
    expect(summary.alertsRaised).toEqual([expect.stringMatching(/^actioned-over-limit:\d{4}-\d{2}-\d{2}$/)]);

    const counts = await get('/v3/license/actioned-certificates');
    expect(counts.status).toBe(200);
    expect(JSON.stringify(counts.body)).toContain(`"total":${expected}`);

    const alerts = await get('/v3/alerts');
    expect(alerts.status).toBe(200);
    expect(JSON.stringify(alerts.body)).toContain('actioned-over-limit');

    const received = await cloud.cloud.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: alertQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2 }),
    );
    const published = (received.Messages ?? []).map(
      (m) => JSON.parse(m.Body ?? '{}') as Record<string, unknown>,
    );
    expect(published).toHaveLength(1);
    expect(published[0]?.['detail-type']).toBe('LicenseAlert');
    expect(published[0]?.detail).toMatchObject({ kind: 'actioned-over-limit' });

    // A second run the same day raises nothing new; nothing stopped working meanwhile.
    const again = await cloud.runLicenseJob();
    expect(again.alertsRaised).toEqual([]);
    expect((await get(`/v3/scans/${scanId}`)).status).toBe(200);
  }, 600_000);

  it('serves a usage log signed by the instance key, naming this instance and the latest count', async () => {
    const response = await get('/v3/license/usage-log');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/xml/);
    const xml = String(response.body);
    const verified = verifyUsageLog(xml);
    expect(verified).toMatchObject({ valid: true, instanceId: cloud.cloud.env[LICENSE_ENV.instanceId] });
    expect(xml).toContain(`total="${expected}"`);
    expect(verifyUsageLog(xml.replace(`total="${expected}"`, `total="${expected - 5}"`)).valid).toBe(false);
  });

  it('keeps the installed license when a tampered or foreign one is offered', async () => {
    const foreign = JSON.parse(
      issueTestLicense({ instanceId: cloud.cloud.env[LICENSE_ENV.instanceId] }, OTHER_PRIVATE_KEY),
    ) as Record<string, unknown>;
    const refused = await cloud.call({
      method: 'PUT',
      path: '/v3/license',
      token: cloud.adminToken,
      json: foreign,
    });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(refused.status).toBeLessThan(500);
    expect(JSON.stringify(refused.body)).toMatch(/unknown-key|not signed by a trusted/i);
    const status = await get('/v3/license');
    expect(status.body).toMatchObject({ valid: true, license: { licenseId: 'LIC-TEST-0001' } });
  });
});
