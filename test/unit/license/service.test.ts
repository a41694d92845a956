// LicenseService over the memory adapters with real signed licenses (test vendor key), real certificates analysed
// into findings, and a fake clock: install/refuse/replace, preview, gates, the daily run and its alerts, N/A views.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createMemoryLicenseStores,
  MemoryAlertPublisher,
  StaticInstanceKey,
} from '#shared/adapters/memory/license-stores';
import { createMemoryScanStores } from '#shared/adapters/memory/scan-stores';
import type { Finding } from '#shared/findings/index';
import type { CommandCertificate } from '#shared/keyfactor/index';
import { FeatureDisabledError } from '#shared/license/gates';
import type { Alert, CommandContextSnapshot, LicenseDocument } from '#shared/license/model';
import { LicenseRejectedError, LicenseService } from '#shared/license/service';
import { generateInstanceKeyPair, type InstanceKeyPair } from '#shared/license/usage-log';
import type { LogFields, Logger } from '#shared/logging';
import { analyseCrafted } from '#test/support/findings/harness';
import { craftCertificate } from '#test/support/findings/craft';
import {
  issueTestLicense,
  OTHER_PRIVATE_KEY,
  TEST_INSTANCE_ID,
  TEST_VENDOR_PUBLIC_KEY,
} from '#test/support/license';

const DAY = 86_400_000;
const START = '2026-06-01T12:00:00.000Z';

let instanceKey: InstanceKeyPair;
beforeAll(() => {
  instanceKey = generateInstanceKeyPair();
});

class FailingPublisher extends MemoryAlertPublisher {
  fail = false;
  override async publishAlert(alert: Alert): Promise<void> {
    if (this.fail) throw new Error('EventBridge is down');
    await super.publishAlert(alert);
  }
}

function setup(options: { excluded?: string[] } = {}) {
  let now = Date.parse(START);
  const clock = { now: () => new Date(now) };
  const logs: Array<{ level: string; message: string; fields?: LogFields }> = [];
  const log = (level: string) => (message: string, fields?: LogFields) =>
    void logs.push({ level, message, ...(fields ? { fields } : {}) });
  const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  const stores = createMemoryLicenseStores();
  const scan = createMemoryScanStores();
  const publisher = new FailingPublisher();
  const service = new LicenseService({
    ...stores,
    findings: scan.findings,
    instanceKey: new StaticInstanceKey(instanceKey),
    publisher,
    clock,
    logger,
    config: {
      instanceId: TEST_INSTANCE_ID,
      trustedKeys: [TEST_VENDOR_PUBLIC_KEY],
      excludedMetadataFields: options.excluded ?? ['Internal'],
      sensorVersion: '0.1.0',
      deployment: 'unit-test',
    },
  });
  return {
    service,
    stores,
    scan,
    publisher,
    logs,
    advance: (ms: number) => void (now += ms),
    at: (iso: string) => void (now = Date.parse(iso)),
  };
}

/** A license file as the API receives it: the parsed JSON object. */
const file = (overrides: Partial<LicenseDocument> = {}, key?: string): Record<string, unknown> =>
  JSON.parse(issueTestLicense(overrides, key)) as Record<string, unknown>;

async function refusal(promise: Promise<unknown>): Promise<LicenseRejectedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LicenseRejectedError);
  return error as LicenseRejectedError;
}

describe('install', () => {
  it('installs a valid license, stores its JSON text and reports it', async () => {
    const t = setup();
    const body = file({ licenseId: 'LIC-A', expiresAt: '2026-06-11T12:00:00Z' });
    const status = await t.service.install(body, 'admin-key');
    expect(status).toMatchObject({
      instanceId: TEST_INSTANCE_ID,
      installed: true,
      valid: true,
      installedAt: START,
      installedBy: 'admin-key',
      daysToExpiry: 10,
      actionedCertificates: { type: 'Limited', allowance: 1000 },
    });
    expect(status.license?.licenseId).toBe('LIC-A');
    expect(status.features).toContain('scheduled-scans');
    expect(status.reason).toBeUndefined();
    const stored = await t.stores.licenses.getInstalled();
    expect(JSON.parse(stored?.text ?? 'null')).toEqual(body);
  });

  it('accepts the file text as a string too', async () => {
    const t = setup();
    expect((await t.service.install(issueTestLicense(), null)).valid).toBe(true);
  });

  const refused: Array<[string, () => unknown, string, RegExp]> = [
    [
      'tampered (one byte)',
      () => JSON.parse(issueTestLicense().replace('Example Corp', 'Example Corq')) as unknown,
      'bad-signature',
      /altered/,
    ],
    [
      'tampered allowance',
      () => {
        const f = file() as { license: { actionedCertificates: { allowance: number } } };
        f.license.actionedCertificates.allowance = 1_000_000;
        return f;
      },
      'bad-signature',
      /signature does not match/,
    ],
    ['expired', () => file({ expiresAt: '2026-05-31T12:00:00Z' }), 'expired', /expired on 2026-05-31/],
    ['not yet valid', () => file({ issuedAt: '2026-07-01T00:00:00Z' }), 'not-yet-valid', /in the future/],
    [
      'for another instance',
      () => file({ instanceId: 'other-instance' }),
      'wrong-instance',
      /other-instance/,
    ],
    ['signed by an untrusted key', () => file({}, OTHER_PRIVATE_KEY), 'unknown-key', /does not trust/],
    ['malformed (no signature)', () => ({ license: file().license }), 'malformed', /signature/],
    ['malformed (empty object)', () => ({}), 'malformed', /./],
    ['malformed (not JSON)', () => 'not a license', 'malformed', /./],
  ];

  it.each(refused)(
    'refuses a license %s with the reason; the installed one stays',
    async (_, make, reason, says) => {
      const t = setup();
      await t.service.install(file({ licenseId: 'LIC-OLD' }), 'admin');
      const before = await t.stores.licenses.getInstalled();
      const error = await refusal(t.service.install(make(), 'admin'));
      expect(error.reason).toBe(reason);
      expect(error.message).toMatch(new RegExp(`^license refused \\(${reason}\\): `));
      expect(error.detail).toMatch(says);
      expect(await t.stores.licenses.getInstalled()).toEqual(before);
      const status = await t.service.status();
      expect(status).toMatchObject({ valid: true, license: { licenseId: 'LIC-OLD' } });
      expect(t.logs.find((l) => l.message === 'license refused')?.fields).toMatchObject({ reason });
    },
  );

  it('replaces the installed license with a new valid one', async () => {
    const t = setup();
    await t.service.install(file({ licenseId: 'LIC-A', features: ['api-scans'] }), 'admin');
    await expect(t.service.checkFeature('scheduled-scans')).rejects.toThrow(FeatureDisabledError);
    t.advance(DAY);
    const status = await t.service.install(
      file({ licenseId: 'LIC-B', features: ['api-scans', 'scheduled-scans'] }),
      'admin-2',
    );
    expect(status).toMatchObject({ license: { licenseId: 'LIC-B' }, installedBy: 'admin-2' });
    expect(status.installedAt).toBe(new Date(Date.parse(START) + DAY).toISOString());
    await expect(t.service.checkFeature('scheduled-scans')).resolves.toBeUndefined();
  });
});

describe('status', () => {
  it('without a license shows the instance id and nothing enabled', async () => {
    const status = await setup().service.status();
    expect(status).toMatchObject({
      instanceId: TEST_INSTANCE_ID,
      installed: false,
      valid: false,
      license: null,
      features: [],
      daysToExpiry: null,
      installedAt: null,
    });
    expect(status.message).toMatch(/no license is installed/);
  });

  it('notices expiry on the next load even within the verification cache window', async () => {
    const t = setup();
    await t.service.install(file({ expiresAt: '2026-06-01T12:00:30Z' }), 'admin');
    expect((await t.service.status()).valid).toBe(true);
    t.advance(40_000);
    const status = await t.service.status();
    expect(status).toMatchObject({ valid: false, reason: 'expired', features: [] });
    expect(status.license?.licenseId).toBe('LIC-TEST-0001');
    await expect(t.service.checkFeature('api-scans')).rejects.toThrow(
      /no valid license is installed \(expired/,
    );
  });

  it('re-verifies the stored text: an edit in the store makes the license invalid', async () => {
    const t = setup();
    await t.service.install(file(), 'admin');
    const stored = await t.stores.licenses.getInstalled();
    if (!stored) throw new Error('not stored');
    await t.stores.licenses.putInstalled({ ...stored, text: stored.text.replace('1000', '9000') });
    expect(await t.service.status()).toMatchObject({
      installed: true,
      valid: false,
      reason: 'bad-signature',
    });
  });

  it('shows a Site-License allowance without a number', async () => {
    const t = setup();
    const status = await t.service.install(file({ actionedCertificates: { type: 'Site-License' } }), 'admin');
    expect(status.actionedCertificates).toEqual({ type: 'Site-License', allowance: null });
  });
});

describe('preview', () => {
  it('compares a valid candidate with the installed license without installing it', async () => {
    const t = setup();
    await t.service.install(
      file({ licenseId: 'LIC-A', features: ['api-scans', 'kerberos'], expiresAt: '2026-12-01T00:00:00Z' }),
      'admin',
    );
    const preview = await t.service.preview(
      file({
        licenseId: 'LIC-B',
        features: ['api-scans', 'scheduled-scans'],
        expiresAt: '2027-12-01T00:00:00Z',
        actionedCertificates: { type: 'Limited', allowance: 5000 },
      }),
    );
    expect(preview.verification).toMatchObject({ valid: true });
    expect(preview.installed?.licenseId).toBe('LIC-A');
    expect(preview.candidate?.licenseId).toBe('LIC-B');
    expect(preview.comparison?.features).toEqual({
      gained: ['scheduled-scans'],
      lost: ['kerberos'],
      kept: ['api-scans'],
    });
    expect(preview.comparison?.expiresAt.changeDays).toBe(365);
    expect(preview.comparison?.actionedCertificates).toMatchObject({ change: 'increased', difference: 4000 });
    expect((await t.service.status()).license?.licenseId).toBe('LIC-A');
  });

  it('shows the reason and, when it could be read, the comparison for an invalid candidate', async () => {
    const t = setup();
    const expired = await t.service.preview(file({ expiresAt: '2026-05-01T00:00:00Z' }));
    expect(expired.verification).toMatchObject({ valid: false, reason: 'expired' });
    expect(expired.verification.message).toMatch(/expired/);
    expect(expired.installed).toBeNull();
    expect(expired.comparison?.actionedCertificates.change).toBe('none-installed');

    const tampered = await t.service.preview(
      JSON.parse(issueTestLicense().replace('Example Corp', 'Evil Corp')),
    );
    expect(tampered.verification).toMatchObject({ valid: false, reason: 'bad-signature' });
    expect(tampered.comparison).toBeNull();

    const malformed = await t.service.preview({ hello: 'world' });
    expect(malformed).toMatchObject({ verification: { valid: false, reason: 'malformed' }, candidate: null });
    expect(await t.stores.licenses.getInstalled()).toBeNull();
  });
});

describe('checkFeature', () => {
  it('names the feature and the license, or says no valid license is installed', async () => {
    const t = setup();
    const none = await t.service.checkFeature('scheduled-scans').catch((e: unknown) => e);
    expect(none).toBeInstanceOf(FeatureDisabledError);
    expect(none).toMatchObject({ feature: 'scheduled-scans', licenseId: null });
    expect((none as Error).message).toMatch(/no valid license is installed/);

    await t.service.install(file({ licenseId: 'LIC-NOSCHED', features: ['api-scans'] }), 'admin');
    const off = await t.service.checkFeature('scheduled-scans').catch((e: unknown) => e);
    expect(off).toMatchObject({ feature: 'scheduled-scans', licenseId: 'LIC-NOSCHED' });
    expect((off as Error).message).toMatch(/scheduled-scans.*LIC-NOSCHED/);
    await expect(t.service.checkFeature('api-scans')).resolves.toBeUndefined();
  });
});

// ---- the daily run, over real certificates analysed into findings

let serial = 0;
function finding(overrides: Partial<CommandCertificate> = {}): Finding {
  const der = craftCertificate({
    notBefore: new Date('2025-06-01T00:00:00Z'),
    notAfter: new Date('2027-06-01T00:00:00Z'),
  });
  return analyseCrafted(der, {
    Id: ++serial,
    NotAfter: '2027-06-01T00:00:00Z',
    CertRequestId: null,
    HasPrivateKey: false,
    Metadata: {},
    ...overrides,
  });
}

function context(sensorKey: string): CommandContextSnapshot {
  return {
    sensorKey,
    url: 'https://command.example.com/KeyfactorAPI',
    capturedAt: START,
    scanId: 'scan-1',
    collections: [],
    expirationAlerts: [],
    workflowDefinitions: [],
  };
}

async function inventory(
  t: ReturnType<typeof setup>,
  sensorKey: string,
  findings: Finding[],
  withContext = true,
) {
  if (withContext) await t.stores.contexts.putContext(context(sensorKey));
  await t.scan.findings.upsertFindings(
    sensorKey,
    'scan-1',
    START,
    findings.map((document) => ({
      sensorKey,
      findingId: document.id,
      certificateId: document.observation.source.certificate_id,
      contentHash: document.id,
      document,
    })),
  );
}

/** 3 actioned certificates (one in two categories, one shared by both sensors), 1 not, 1 with only excluded metadata. */
async function standardInventory(t: ReturnType<typeof setup>) {
  const shared = finding({ HasPrivateKey: true });
  await inventory(t, 'sensor-a', [
    finding({ CertRequestId: 7, Metadata: { Owner: 'alice' } }),
    shared,
    finding(),
    finding({ Metadata: { Internal: 'x' } }),
  ]);
  await inventory(t, 'sensor-b', [shared, finding({ Metadata: { Owner: 'bob' } })]);
}

describe('runDaily', () => {
  it('counts every sensor once per certificate, stores the run and raises the over-limit alert once a day', async () => {
    const t = setup();
    await standardInventory(t);
    await t.service.install(
      file({ licenseId: 'LIC-SMALL', actionedCertificates: { type: 'Limited', allowance: 2 } }),
      'a',
    );

    const first = await t.service.runDaily('schedule');
    expect(first.run).toMatchObject({
      trigger: 'schedule',
      total: 3,
      examined: 5,
      sensors: 2,
      allowance: 2,
      overLimit: true,
      startedAt: START,
      categories: { requested: 1, metadata: 2, privateKey: 1, sslEndpoint: 0 },
      warnings: [],
    });
    expect(first.alerts.map((a) => a.alertId)).toEqual(['actioned-over-limit:2026-06-01']);
    expect(first.alerts[0]).toMatchObject({ kind: 'actioned-over-limit', severity: 'warning' });
    expect(first.alerts[0]?.message).toMatch(/3 actioned certificates exceed the 2 licensed by LIC-SMALL/);
    expect(t.publisher.published.map((a) => a.alertId)).toEqual(['actioned-over-limit:2026-06-01']);

    t.advance(3600_000);
    const again = await t.service.runDaily('manual');
    expect(again.run.trigger).toBe('manual');
    expect(again.run.overLimit).toBe(true);
    expect(again.alerts).toEqual([]);
    expect(t.publisher.published).toHaveLength(1);

    t.advance(DAY);
    const nextDay = await t.service.runDaily('schedule');
    expect(nextDay.alerts.map((a) => a.alertId)).toEqual(['actioned-over-limit:2026-06-02']);
    expect(t.publisher.published).toHaveLength(2);

    const view = await t.service.actionedCertificates(10);
    expect(view.licenseType).toBe('Limited');
    expect(view.allowance).toBe(2);
    expect(view.history.map((r) => r.runId)).toEqual([nextDay.run.runId, again.run.runId, first.run.runId]);
    expect(view.latest?.runId).toBe(nextDay.run.runId);
    expect((await t.service.actionedCertificates(1)).history).toHaveLength(1);
    expect((await t.service.listAlerts(10)).map((a) => a.alertId)).toEqual([
      'actioned-over-limit:2026-06-02',
      'actioned-over-limit:2026-06-01',
    ]);
  });

  it('raises nothing at or under the allowance', async () => {
    const t = setup();
    await standardInventory(t);
    await t.service.install(file({ actionedCertificates: { type: 'Limited', allowance: 3 } }), 'a');
    const { run, alerts } = await t.service.runDaily('schedule');
    expect(run).toMatchObject({ total: 3, allowance: 3, overLimit: false });
    expect(alerts).toEqual([]);
    expect(t.publisher.published).toEqual([]);
  });

  it('counts the excluded metadata field when the configuration does not exclude it', async () => {
    const t = setup({ excluded: [] });
    await standardInventory(t);
    expect((await t.service.runDaily('schedule')).run).toMatchObject({
      total: 4,
      categories: { metadata: 3 },
    });
  });

  it('counts without a license, records no allowance and logs that no license is installed', async () => {
    const t = setup();
    await standardInventory(t);
    const { run, alerts } = await t.service.runDaily('schedule');
    expect(run).toMatchObject({ total: 3, allowance: null, overLimit: false });
    expect(alerts).toEqual([]);
    expect(t.logs.some((l) => l.level === 'warn' && /no license is installed/.test(l.message))).toBe(true);
    const view = await t.service.actionedCertificates(10);
    expect(view).toMatchObject({ licenseType: null, allowance: null, latest: { total: 3 } });
  });

  it('counts only sensors whose Command context was captured', async () => {
    const t = setup();
    await inventory(t, 'sensor-a', [finding({ HasPrivateKey: true })]);
    await inventory(t, 'sensor-no-context', [finding({ HasPrivateKey: true })], false);
    expect((await t.service.runDaily('schedule')).run).toMatchObject({ total: 1, sensors: 1, examined: 1 });
  });

  it('shows N/A for every count under a Site-License and raises no over-limit alert', async () => {
    const t = setup();
    await standardInventory(t);
    await t.service.install(file({ actionedCertificates: { type: 'Site-License' } }), 'a');
    const { run, alerts } = await t.service.runDaily('schedule');
    expect(run).toMatchObject({ total: 3, allowance: null, overLimit: false });
    expect(alerts).toEqual([]);
    const view = await t.service.actionedCertificates(10);
    expect(view.licenseType).toBe('Site-License');
    expect(view.allowance).toBe('N/A');
    expect(view.latest).toMatchObject({ total: 'N/A', allowance: 'N/A', overLimit: false, sensors: 2 });
    expect(Object.values(view.latest?.categories ?? {})).toEqual(Array(7).fill('N/A'));
  });

  it('raises each expiry threshold once, then the expired alert, and publishes each once', async () => {
    const t = setup();
    await t.service.install(file({ licenseId: 'LIC-EXP', expiresAt: '2026-06-11T12:00:00Z' }), 'a');
    const ids = async () => (await t.service.runDaily('schedule')).alerts.map((a) => a.alertId);

    expect(await ids()).toEqual(['license-expiry:LIC-EXP:14']);
    expect(await ids()).toEqual([]);
    t.at('2026-06-04T12:00:00Z'); // 7 days left: crosses the 7-day threshold
    expect(await ids()).toEqual(['license-expiry:LIC-EXP:7']);
    t.at('2026-06-10T13:00:00Z'); // 23 hours left
    expect(await ids()).toEqual(['license-expiry:LIC-EXP:1']);
    t.at('2026-06-11T12:00:01Z');
    expect(await ids()).toEqual(['license-expired:LIC-EXP']);
    expect(await ids()).toEqual([]);
    expect(t.publisher.published.map((a) => a.alertId)).toEqual([
      'license-expiry:LIC-EXP:14',
      'license-expiry:LIC-EXP:7',
      'license-expiry:LIC-EXP:1',
      'license-expired:LIC-EXP',
    ]);
    const expired = t.publisher.published[3];
    expect(expired).toMatchObject({ kind: 'license-expired', severity: 'critical' });
    // Once expired the allowance no longer applies and the run says so.
    expect((await t.service.actionedCertificates(1)).latest?.allowance).toBeNull();
  });

  it('no expiry alert more than 30 days before expiry', async () => {
    const t = setup();
    await t.service.install(file({ expiresAt: '2026-08-01T00:00:00Z' }), 'a');
    expect((await t.service.runDaily('schedule')).alerts).toEqual([]);
  });

  it('keeps a stored alert listed when publishing fails, logs it, and does not fail the run', async () => {
    const t = setup();
    await standardInventory(t);
    await t.service.install(file({ actionedCertificates: { type: 'Limited', allowance: 1 } }), 'a');
    t.publisher.fail = true;
    const { alerts } = await t.service.runDaily('schedule');
    expect(alerts).toHaveLength(1);
    expect(await t.service.listAlerts(5)).toHaveLength(1);
    expect(t.logs.find((l) => l.message === 'alert stored but not published')?.fields).toMatchObject({
      alertId: 'actioned-over-limit:2026-06-01',
    });
  });

  it('logs a summary without license text or keys', async () => {
    const t = setup();
    await standardInventory(t);
    await t.service.install(file(), 'a');
    await t.service.runDaily('schedule');
    const text = JSON.stringify(t.logs);
    expect(text).not.toContain('signature');
    expect(text).not.toContain('PRIVATE KEY');
    expect(t.logs.find((l) => l.message === 'actioned-certificate count finished')?.fields).toMatchObject({
      total: 3,
      sensors: 2,
    });
  });
});

describe('usage log', () => {
  it('is signed XML that names the instance and the license', async () => {
    const { verifyUsageLog } = await import('#shared/license/usage-log');
    const t = setup();
    await standardInventory(t);
    await t.service.install(file({ licenseId: 'LIC-LOG' }), 'a');
    await t.service.runDaily('schedule');
    const xml = await t.service.usageLog();
    expect(xml).toContain('LIC-LOG');
    expect(xml).not.toContain('PRIVATE KEY');
    const verification = verifyUsageLog(xml, { publicKeyPem: instanceKey.publicKeyPem });
    expect(verification).toMatchObject({ valid: true, instanceId: TEST_INSTANCE_ID });
    expect(
      verifyUsageLog(xml.replace('LIC-LOG', 'LIC-LOX'), { publicKeyPem: instanceKey.publicKeyPem }).valid,
    ).toBe(false);
  });
});
