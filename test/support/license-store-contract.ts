// One behavioural contract for the licensing stores (shared/license/ports.ts), run against every adapter: memory in
// test/unit/adapters, DynamoDB on moto in test/integration/aws.
import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { InputError } from '#shared/errors';
import { ContextTooLargeError } from '#shared/adapters/memory/license-stores';
import type { LicenseStores } from '#shared/adapters/memory/license-stores';
import type { ActionedRun, Alert, CommandContextSnapshot, InstalledLicense } from '#shared/license/model';

/** A complete run; `i` varies every count so runs are distinguishable. */
export function actionedRun(i: number, overrides: Partial<ActionedRun> = {}): ActionedRun {
  const startedAt = new Date(Date.parse('2026-03-01T02:00:00.000Z') + i * 86_400_000).toISOString();
  return {
    runId: `run-${String(i).padStart(3, '0')}`,
    trigger: i % 2 === 0 ? 'schedule' : 'manual',
    startedAt,
    finishedAt: new Date(Date.parse(startedAt) + 95_000).toISOString(),
    total: 10 + i,
    categories: {
      requested: i,
      revokedLastWeek: i + 1,
      metadata: i + 2,
      sslEndpoint: i + 3,
      certificateStore: i + 4,
      privateKey: i + 5,
      alertOrWorkflowCollection: i + 6,
    },
    examined: 100 + i,
    sensors: 2,
    allowance: i % 3 === 0 ? null : 50,
    overLimit: i % 4 === 0,
    warnings: i % 2 === 0 ? [] : [`collection "Élan ✓ ${i}" query does not parse`],
    ...overrides,
  };
}

export function testAlert(id: string, createdAt: string, overrides: Partial<Alert> = {}): Alert {
  return {
    alertId: id,
    kind: 'actioned-over-limit',
    severity: 'warning',
    message: `alert ${id}: 120 actioned certificates exceed the allowance of 100`,
    createdAt,
    details: { total: 120, allowance: 100, runId: 'run-1', nested: { list: [1, 'two', null], ok: true } },
    ...overrides,
  };
}

export function contextSnapshot(
  sensorKey: string,
  overrides: Partial<CommandContextSnapshot> = {},
): CommandContextSnapshot {
  return {
    sensorKey,
    url: 'https://command.example.com/KeyfactorAPI',
    capturedAt: '2026-03-01T12:00:00.000Z',
    scanId: `scan-${sensorKey}`,
    collections: [
      { Id: 1, Name: 'Expiring — «web»', Content: 'NotAfter -le "%TODAY+30%" AND IssuedCN -contains "web"' },
      { Id: 2, Name: 'Everything', Content: '' },
    ],
    expirationAlerts: [
      { Id: 7, DisplayName: '30 days', CertificateQuery: { Id: 1, Name: 'Expiring — «web»' } },
    ],
    workflowDefinitions: [
      { Id: 'a1b2', DisplayName: 'Enroll approve', Key: '1', WorkflowType: 'Enrollment' },
    ],
    ...overrides,
  };
}

function license(text: string, installedAt = '2026-03-01T12:00:00.000Z'): InstalledLicense {
  return { text, installedAt, installedBy: 'admin@example.com' };
}

export function describeLicenseStoreContract(
  name: string,
  factory: () => Promise<LicenseStores> | LicenseStores,
): void {
  describe(`${name}: licensing store contract`, () => {
    let stores: LicenseStores;

    beforeEach(async () => {
      stores = await factory();
    });

    describe('LicenseStore', () => {
      it('has none, then returns what was installed, and a later install replaces it', async () => {
        expect(await stores.licenses.getInstalled()).toBeNull();
        // A real license file is JSON with a base64 signature; quotes, newlines and unicode must survive verbatim.
        const first = license(
          '{\n  "license": {"licensee": "Ünïcode & <Co> \\"q\\""},\n  "signature": {"value": "QUJD+/="}\n}\n',
        );
        await stores.licenses.putInstalled(first);
        expect(await stores.licenses.getInstalled()).toEqual(first);
        const second = { ...license('{"second": true}', '2026-04-01T00:00:00.000Z'), installedBy: null };
        await stores.licenses.putInstalled(second);
        expect(await stores.licenses.getInstalled()).toEqual(second);
      });

      it('returns copies: mutating a result does not change what is stored', async () => {
        await stores.licenses.putInstalled(license('text-1'));
        const got = await stores.licenses.getInstalled();
        if (got) got.text = 'mutated';
        expect((await stores.licenses.getInstalled())?.text).toBe('text-1');
      });

      it('refuses an empty license text or a bad installedAt', async () => {
        await expect(stores.licenses.putInstalled(license(''))).rejects.toThrow(InputError);
        await expect(stores.licenses.putInstalled(license('x', 'yesterday'))).rejects.toThrow(/installedAt/);
        expect(await stores.licenses.getInstalled()).toBeNull();
      });
    });

    describe('ActionedRunStore', () => {
      it('lists nothing at first', async () => {
        expect(await stores.runs.listRuns(10)).toEqual([]);
      });

      it('lists newest first by startedAt, at most limit, whatever the insertion order', async () => {
        const runs = [3, 0, 4, 1, 2].map((i) => actionedRun(i));
        for (const run of runs) await stores.runs.putRun(run);
        expect(await stores.runs.listRuns(3)).toEqual([actionedRun(4), actionedRun(3), actionedRun(2)]);
        expect(await stores.runs.listRuns(100)).toEqual([4, 3, 2, 1, 0].map((i) => actionedRun(i)));
        expect(await stores.runs.listRuns(1)).toEqual([actionedRun(4)]);
      });

      it('orders by the instant, not the string (fractional seconds or not)', async () => {
        // '…:00Z' sorts after '…:00.500Z' as text although it is earlier.
        const early = actionedRun(1, { runId: 'early', startedAt: '2026-05-01T00:00:00Z' });
        const late = actionedRun(2, { runId: 'late', startedAt: '2026-05-01T00:00:00.500Z' });
        await stores.runs.putRun(late);
        await stores.runs.putRun(early);
        expect((await stores.runs.listRuns(2)).map((r) => r.runId)).toEqual(['late', 'early']);
      });

      it('round-trips every field (null allowance, warnings, zero counts)', async () => {
        const zero = actionedRun(6, {
          total: 0,
          examined: 0,
          sensors: 0,
          allowance: null,
          overLimit: false,
          categories: {
            requested: 0,
            revokedLastWeek: 0,
            metadata: 0,
            sslEndpoint: 0,
            certificateStore: 0,
            privateKey: 0,
            alertOrWorkflowCollection: 0,
          },
          warnings: ['a', 'b "quoted" ✓'],
        });
        await stores.runs.putRun(zero);
        expect(await stores.runs.listRuns(5)).toEqual([zero]);
      });

      it('putting the same run again replaces it', async () => {
        await stores.runs.putRun(actionedRun(1));
        await stores.runs.putRun(actionedRun(1, { total: 99 }));
        const listed = await stores.runs.listRuns(10);
        expect(listed).toHaveLength(1);
        expect(listed[0]?.total).toBe(99);
      });

      it('refuses a bad limit or a run without id or instants', async () => {
        for (const limit of [0, -1, 1.5, Number.NaN, 1_000_000])
          await expect(stores.runs.listRuns(limit)).rejects.toThrow(InputError);
        await expect(stores.runs.putRun(actionedRun(1, { runId: '' }))).rejects.toThrow(/runId/);
        await expect(stores.runs.putRun(actionedRun(1, { startedAt: 'soon' }))).rejects.toThrow(/startedAt/);
        expect(await stores.runs.listRuns(10)).toEqual([]);
      });
    });

    describe('AlertStore', () => {
      it('raises an alert once per id: true when new, false after, and the first one is kept', async () => {
        const alert = testAlert('license-expiry:L-1:14', '2026-03-02T02:00:00.000Z');
        expect(await stores.alerts.raise(alert)).toBe(true);
        expect(
          await stores.alerts.raise({ ...alert, message: 'changed', createdAt: '2026-03-03T02:00:00.000Z' }),
        ).toBe(false);
        expect(await stores.alerts.list(10)).toEqual([alert]);
      });

      it('concurrent raises of one id: exactly one wins', async () => {
        const alert = testAlert('actioned-over-limit:run-9', '2026-03-02T02:00:00.000Z');
        const results = await Promise.all(Array.from({ length: 6 }, () => stores.alerts.raise(alert)));
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(await stores.alerts.list(10)).toEqual([alert]);
      });

      it('lists newest first by createdAt, at most limit', async () => {
        const alerts = [5, 1, 3, 2, 4].map((d) => testAlert(`a-${d}`, `2026-03-0${d}T02:00:00.000Z`));
        for (const a of alerts) expect(await stores.alerts.raise(a)).toBe(true);
        expect((await stores.alerts.list(3)).map((a) => a.alertId)).toEqual(['a-5', 'a-4', 'a-3']);
        expect(await stores.alerts.list(10)).toEqual(
          [5, 4, 3, 2, 1].map((d) => testAlert(`a-${d}`, `2026-03-0${d}T02:00:00.000Z`)),
        );
      });

      it('refuses a bad limit or an alert without id, message or createdAt', async () => {
        await expect(stores.alerts.list(0)).rejects.toThrow(InputError);
        await expect(stores.alerts.raise(testAlert('', '2026-03-01T00:00:00Z'))).rejects.toThrow(/alertId/);
        await expect(stores.alerts.raise(testAlert('x', 'never'))).rejects.toThrow(/createdAt/);
        await expect(
          stores.alerts.raise(testAlert('y', '2026-03-01T00:00:00Z', { message: ' ' })),
        ).rejects.toThrow(/message/);
        expect(await stores.alerts.list(10)).toEqual([]);
      });
    });

    describe('CommandContextStore', () => {
      it('lists nothing at first, then each sensor once (its latest snapshot), ordered by sensor key', async () => {
        expect(await stores.contexts.listContexts()).toEqual([]);
        await stores.contexts.putContext(contextSnapshot('sensor-b'));
        await stores.contexts.putContext(contextSnapshot('sensor-a'));
        const replaced = contextSnapshot('sensor-b', {
          scanId: 'scan-2',
          capturedAt: '2026-03-02T12:00:00.000Z',
          collections: [],
          expirationAlerts: [{ Id: 9, DisplayName: 'no query', CertificateQuery: null }],
        });
        await stores.contexts.putContext(replaced);
        expect(await stores.contexts.listContexts()).toEqual([contextSnapshot('sensor-a'), replaced]);
      });

      it('keeps a large snapshot intact (hundreds of collections)', async () => {
        const big = contextSnapshot('sensor-big', {
          collections: Array.from({ length: 400 }, (_, i) => ({
            Id: i,
            Name: `Collection ${i} ✓`,
            Content: `IssuedCN -contains "host-${i}.example.com" AND KeySize -ge 2048`,
          })),
        });
        await stores.contexts.putContext(big);
        expect(await stores.contexts.listContexts()).toEqual([big]);
      });

      it('refuses a snapshot too large for one item even compressed, naming the sensor', async () => {
        // Random base64 does not compress: ~480 KB of it stays above the 350 KB limit.
        const huge = contextSnapshot('sensor-huge', {
          collections: Array.from({ length: 40 }, (_, i) => ({
            Id: i,
            Name: `c${i}`,
            Content: randomBytes(9000).toString('base64'),
          })),
        });
        await expect(stores.contexts.putContext(huge)).rejects.toThrow(ContextTooLargeError);
        await expect(stores.contexts.putContext(huge)).rejects.toThrow(/sensor-huge/);
        expect(await stores.contexts.listContexts()).toEqual([]);
      });

      it('refuses a snapshot without sensor key', async () => {
        await expect(stores.contexts.putContext(contextSnapshot(''))).rejects.toThrow(/sensorKey/);
      });
    });
  });
}
