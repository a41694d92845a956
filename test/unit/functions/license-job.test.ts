// The daily license job handler over memory adapters: an EventBridge scheduled event runs runDaily('schedule'),
// returns and logs a summary without secrets, and a failure rejects (EventBridge retries, the error alarm fires).
import type { Context, ScheduledEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  createMemoryLicenseStores,
  MemoryAlertPublisher,
  StaticInstanceKey,
} from '#shared/adapters/memory/license-stores';
import { createMemoryScanStores } from '#shared/adapters/memory/scan-stores';
import type { LicenseDeps } from '#shared/license/service';
import { generateInstanceKeyPair } from '#shared/license/usage-log';
import type { LogFields, Logger } from '#shared/logging';
import { analyseCrafted } from '#test/support/findings/harness';
import { craftCertificate } from '#test/support/findings/craft';
import { issueTestLicense, TEST_INSTANCE_ID, TEST_VENDOR_PUBLIC_KEY } from '#test/support/license';
import { createLicenseJobHandler } from '../../../functions/license-job/handler.ts';

const NOW = '2026-06-01T02:00:05.000Z';
const keyPair = generateInstanceKeyPair();

const event: ScheduledEvent = {
  version: '0',
  id: 'evt-1',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: '2026-06-01T02:00:00Z',
  region: 'us-east-1',
  resources: ['arn:aws:events:us-east-1:123456789012:rule/ActionedCertificateCount'],
  detail: {},
};
const context = {} as Context;

function deps() {
  const lines: Array<{ level: string; message: string; fields?: LogFields }> = [];
  const log = (level: string) => (message: string, fields?: LogFields) =>
    void lines.push({ level, message, ...(fields ? { fields } : {}) });
  const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  const stores = createMemoryLicenseStores();
  const scan = createMemoryScanStores();
  const publisher = new MemoryAlertPublisher();
  const d: LicenseDeps = {
    ...stores,
    findings: scan.findings,
    instanceKey: new StaticInstanceKey(keyPair),
    publisher,
    clock: { now: () => new Date(NOW) },
    logger,
    config: {
      instanceId: TEST_INSTANCE_ID,
      trustedKeys: [TEST_VENDOR_PUBLIC_KEY],
      excludedMetadataFields: [],
      sensorVersion: '0.1.0',
      deployment: 'unit',
    },
  };
  return { d, stores, scan, publisher, lines };
}

describe('license job handler', () => {
  it('runs the scheduled count, stores the run, publishes the over-limit alert and logs a summary', async () => {
    const t = deps();
    const text = issueTestLicense({ actionedCertificates: { type: 'Limited', allowance: 1 } });
    await t.stores.licenses.putInstalled({ text, installedAt: NOW, installedBy: 'admin' });
    await t.stores.contexts.putContext({
      sensorKey: 's1',
      url: 'https://command.example.com/KeyfactorAPI',
      capturedAt: NOW,
      scanId: 'scan-1',
      collections: [],
      expirationAlerts: [],
      workflowDefinitions: [],
    });
    const findings = [1, 2].map((Id) =>
      analyseCrafted(
        craftCertificate({
          notBefore: new Date('2026-01-01T00:00:00Z'),
          notAfter: new Date('2027-01-01T00:00:00Z'),
        }),
        { Id, NotAfter: '2027-01-01T00:00:00Z', HasPrivateKey: true, CertRequestId: null },
      ),
    );
    await t.scan.findings.upsertFindings(
      's1',
      'scan-1',
      NOW,
      findings.map((document) => ({
        sensorKey: 's1',
        findingId: document.id,
        certificateId: document.observation.source.certificate_id,
        contentHash: document.id,
        document,
      })),
    );

    const summary = await createLicenseJobHandler(t.d)(event, context);
    expect(summary).toMatchObject({
      total: 2,
      allowance: 1,
      overLimit: true,
      sensors: 1,
      examined: 2,
      warnings: 0,
      alertsRaised: ['actioned-over-limit:2026-06-01'],
    });
    const [run] = await t.stores.runs.listRuns(5);
    expect(run).toMatchObject({ runId: summary.runId, trigger: 'schedule', total: 2 });
    expect(t.publisher.published.map((a) => a.alertId)).toEqual(['actioned-over-limit:2026-06-01']);
    const done = t.lines.find((l) => l.message === 'license job finished');
    expect(done?.fields).toMatchObject({ eventId: 'evt-1', scheduledAt: '2026-06-01T02:00:00Z', total: 2 });
    const logged = JSON.stringify(t.lines);
    expect(logged).not.toContain('PRIVATE KEY');
    expect(logged).not.toContain((JSON.parse(text) as { signature: { value: string } }).signature.value);
  });

  it('runs without a license (allowance null) and says so in the log', async () => {
    const t = deps();
    const summary = await createLicenseJobHandler(t.d)(event, context);
    expect(summary).toMatchObject({ total: 0, allowance: null, overLimit: false, alertsRaised: [] });
    expect(t.lines.some((l) => l.level === 'warn' && /no license is installed/.test(l.message))).toBe(true);
  });

  it('rejects when the count fails, so EventBridge retries and the error alarm fires', async () => {
    const t = deps();
    t.d.contexts = {
      putContext: () => Promise.resolve(),
      listContexts: () => Promise.reject(new Error('DynamoDB throttled')),
    };
    await expect(createLicenseJobHandler(t.d)(event, context)).rejects.toThrow('DynamoDB throttled');
    expect(await t.stores.runs.listRuns(5)).toEqual([]);
  });
});
