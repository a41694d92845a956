// One behavioural contract for the scan pipeline's stores (shared/scan/ports.ts), run against every adapter
// (memory in test/unit/scan, DynamoDB on moto in test/integration/aws). Documents are real findings: certificates
// from the simulator's generator, analysed by analyseCertificate.
import { createHash, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { beforeEach, describe, expect, it } from 'vitest';
import { InputError } from '#shared/errors';
import { analyseCertificate } from '#shared/findings/index';
import type { Finding } from '#shared/findings/index';
import { generateSimulatedCertificates } from '#shared/simulator/generator/index';
import type { GeneratedCertificate } from '#shared/simulator/generator/index';
import { ScanExistsError } from '#shared/scan/ports';
import type {
  Clock,
  ExportOutbox,
  FindingStore,
  HostLeases,
  ScanStore,
  ScheduleStore,
} from '#shared/scan/ports';
import { ZERO_COUNTS } from '#shared/scan/model';
import type {
  ExportBatch,
  Schedule,
  ScanRecord,
  ScanState,
  SensorDefinition,
  StoredFinding,
  TaskOutcome,
} from '#shared/scan/model';

export interface ScanStores {
  scans: ScanStore;
  findings: FindingStore;
  outbox: ExportOutbox;
  schedules: ScheduleStore;
  leases: HostLeases;
}

/** A clock the test moves by hand (lease expiry). */
export class TestClock implements Clock {
  private ms = Date.parse('2026-03-01T12:00:00.000Z');
  now(): Date {
    return new Date(this.ms);
  }
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}

export type UpsertInput = Parameters<FindingStore['upsertFindings']>[3][number];

const SOURCE_URL = 'https://command.example.com/KeyfactorAPI';
let generated: GeneratedCertificate[] | undefined;

/** Real certificates (CA certificates first), generated once per test file. */
export function certificates(): GeneratedCertificate[] {
  generated ??= [...generateSimulatedCertificates({ seed: 20260301, count: 260 })];
  return generated;
}

/** Content hash as the scan layer defines it: the document without its run timestamp. */
export function contentHashOf(document: Finding): string {
  const { '@timestamp': _ts, first_found: _first, ...content } = document;
  return createHash('sha256').update(JSON.stringify(content)).digest('hex');
}

/**
 * Findings for certificates [from, to) of the generated inventory; `variant` changes the labels, so the content
 * (and its hash) differs while the finding id (the DER's hash) stays.
 */
export function findingInputs(sensorKey: string, from: number, to: number, variant = 'a'): UpsertInput[] {
  return certificates()
    .slice(from, to)
    .map(({ certificate }) => {
      const document = analyseCertificate(certificate, {
        now: new Date('2026-03-01T00:00:00Z'),
        sensor: { name: 'contract', version: '0.1.0', ranBy: 'vitest' },
        source: { url: SOURCE_URL },
        labels: [{ name: 'variant', value: variant }],
      });
      return {
        sensorKey,
        findingId: document.id,
        certificateId: certificate.Id,
        contentHash: contentHashOf(document),
        document,
      };
    });
}

function sensor(name: string): SensorDefinition {
  return {
    sensorName: name,
    url: SOURCE_URL,
    queryFilter: 'IssuedCN -contains "example"',
    authMethod: 'basic',
    credentialsRef: 'arn:aws:secretsmanager:eu-west-1:000000000000:secret:kfsensor/contract',
    labels: [{ name: 'team', value: 'pki' }],
    priority: 'normal',
    autoResolutionInterval: 5,
    pageSize: 1000,
    hostConcurrency: 4,
  };
}

export function scanRecord(overrides: Partial<ScanRecord> = {}): ScanRecord {
  const createdAt = overrides.createdAt ?? '2026-03-01T12:00:00.000Z';
  return {
    scanId: randomUUID(),
    sensorKey: `sk-${randomUUID()}`,
    sensor: sensor('contract-sensor'),
    callbackId: null,
    trigger: 'api',
    scheduleId: null,
    state: 'PENDING',
    mode: null,
    effectiveQuery: null,
    planMaxCertId: null,
    createdAt,
    startedAt: null,
    finishedAt: null,
    counts: { ...ZERO_COUNTS },
    errors: [],
    errorCount: 0,
    expiresAt: Math.floor(Date.parse(createdAt) / 1000) + 90 * 86_400,
    version: 1,
    ...overrides,
  };
}

export function exportBatch(overrides: Partial<ExportBatch> = {}): ExportBatch {
  const lines = findingInputs('sk-outbox', 10, 14)
    .map((input) => JSON.stringify(input.document))
    .join('\n');
  return {
    batchId: `${randomUUID()}.r1-100.0`,
    scanId: randomUUID(),
    kind: 'findings',
    count: 4,
    body: new Uint8Array(gzipSync(lines)),
    status: 'pending',
    attempts: 0,
    createdAt: '2026-03-01T12:00:00.000Z',
    sentAt: null,
    lastError: null,
    ...overrides,
  };
}

function schedule(overrides: Partial<Schedule> = {}): Schedule {
  return {
    scheduleId: randomUUID(),
    name: 'nightly',
    expression: 'cron(0 2 * * ? *)',
    timezone: 'Europe/Berlin',
    sensor: sensor('scheduled'),
    enabled: true,
    createdAt: '2026-03-01T12:00:00.000Z',
    createdBy: 'key-contract',
    ...overrides,
  };
}

const done = (fetched: number, changed = 0): TaskOutcome => ({
  status: 'done',
  fetched,
  analysed: fetched,
  rejected: 0,
  changed,
  exportBatches: changed > 0 ? 1 : 0,
});

async function collect<T>(iterable: AsyncIterable<T[]>): Promise<T[][]> {
  const chunks: T[][] = [];
  for await (const chunk of iterable) chunks.push(chunk);
  return chunks;
}

const iso = (minute: number): string => new Date(Date.UTC(2026, 2, 1, 12, minute)).toISOString();

/**
 * Registers the contract for one adapter family. `factory` is called before each test with a fresh TestClock and
 * must return stores that share nothing with earlier tests (fresh tables or fresh objects).
 */
export function describeScanStoreContract(
  name: string,
  factory: (clock: TestClock) => Promise<ScanStores> | ScanStores,
): void {
  describe(`${name}: scan store contract`, () => {
    let stores: ScanStores;
    let clock: TestClock;

    beforeEach(async () => {
      clock = new TestClock();
      stores = await factory(clock);
    });

    describe('ScanStore', () => {
      it('creates, reads back an equal copy and refuses a taken id', async () => {
        const scan = scanRecord({ callbackId: 'cb-1' });
        await stores.scans.createScan(scan);
        expect(await stores.scans.getScan(scan.scanId)).toEqual(scan);
        expect(await stores.scans.getScan('no-such-scan')).toBeNull();
        await expect(stores.scans.createScan({ ...scan, state: 'RUNNING' })).rejects.toBeInstanceOf(
          ScanExistsError,
        );
        expect((await stores.scans.getScan(scan.scanId))?.state).toBe('PENDING');
      });

      it('returns copies: mutating a returned record or the input does not change the stored one', async () => {
        const scan = scanRecord();
        await stores.scans.createScan(scan);
        scan.counts.pagesDone = 99;
        const read = await stores.scans.getScan(scan.scanId);
        expect(read?.counts.pagesDone).toBe(0);
        read!.errors.push({ where: 'plan', message: 'x', at: iso(0) });
        read!.sensor.labels.push({ name: 'x', value: 'y' });
        const again = await stores.scans.getScan(scan.scanId);
        expect(again?.errors).toEqual([]);
        expect(again?.sensor.labels).toHaveLength(1);
      });

      it('lists newest first in pages whose tokens resume exactly where the last page stopped', async () => {
        const scans = Array.from({ length: 7 }, (_, i) => scanRecord({ createdAt: iso(i) }));
        for (const scan of scans) await stores.scans.createScan(scan);
        const seen: string[] = [];
        let token: string | undefined;
        const sizes: number[] = [];
        do {
          const page = await stores.scans.listScans({ limit: 3, nextToken: token });
          sizes.push(page.items.length);
          seen.push(...page.items.map((scan) => scan.scanId));
          token = page.nextToken ?? undefined;
        } while (token);
        expect(seen).toEqual(scans.map((scan) => scan.scanId).reverse());
        expect(sizes.slice(0, 2)).toEqual([3, 3]);
        expect(sizes.reduce((a, b) => a + b, 0)).toBe(7);
        const first = await stores.scans.listScans({ limit: 7 });
        expect(first.items).toEqual([...scans].reverse());
      });

      it('filters by state and sensor name, still filling pages of `limit` when most scans do not match', async () => {
        const states: ScanState[] = ['COMPLETED', 'RUNNING', 'RUNNING', 'FAILED', 'RUNNING'];
        const scans: ScanRecord[] = [];
        for (let i = 0; i < 30; i++) {
          const scan = scanRecord({
            createdAt: iso(i),
            state: states[i % states.length],
            sensor: sensor(i % 3 === 0 ? 'alpha' : 'beta'),
          });
          scans.push(scan);
          await stores.scans.createScan(scan);
        }
        const expectCompleted = scans.filter((s) => s.state === 'COMPLETED').map((s) => s.scanId);
        const expectAlphaRunning = scans
          .filter((s) => s.state === 'RUNNING' && s.sensor.sensorName === 'alpha')
          .map((s) => s.scanId);
        const all = async (query: { state?: ScanState; sensorName?: string }): Promise<string[][]> => {
          const pages: string[][] = [];
          let token: string | undefined;
          do {
            const page = await stores.scans.listScans({ ...query, limit: 2, nextToken: token });
            expect(page.items.length).toBeLessThanOrEqual(2);
            pages.push(page.items.map((s) => s.scanId));
            token = page.nextToken ?? undefined;
          } while (token);
          return pages;
        };
        const completed = await all({ state: 'COMPLETED' });
        expect(completed.flat()).toEqual([...expectCompleted].reverse());
        // Every page but the last is full: a filtered-out stretch does not make a short page.
        for (const page of completed.slice(0, -1)) expect(page).toHaveLength(2);
        const alphaRunning = await all({ state: 'RUNNING', sensorName: 'alpha' });
        expect(alphaRunning.flat()).toEqual([...expectAlphaRunning].reverse());
        expect((await all({ sensorName: 'gamma' })).flat()).toEqual([]);
      });

      it('rejects a malformed page token and a bad limit with an InputError', async () => {
        await stores.scans.createScan(scanRecord());
        for (const nextToken of ['not a token', Buffer.from('{"x":1}').toString('base64url'), '%%%'])
          await expect(stores.scans.listScans({ limit: 5, nextToken })).rejects.toBeInstanceOf(InputError);
        await expect(stores.scans.listScans({ limit: 0 })).rejects.toBeInstanceOf(InputError);
      });

      it('finds the newest scan of a callbackId created at or after `since`', async () => {
        const older = scanRecord({ callbackId: 'cb-dup', createdAt: iso(1) });
        const newer = scanRecord({ callbackId: 'cb-dup', createdAt: iso(5) });
        const other = scanRecord({ callbackId: 'cb-other', createdAt: iso(6) });
        const none = scanRecord({ callbackId: null, createdAt: iso(7) });
        for (const scan of [older, newer, other, none]) await stores.scans.createScan(scan);
        expect((await stores.scans.findByCallbackId('cb-dup', iso(0)))?.scanId).toBe(newer.scanId);
        expect((await stores.scans.findByCallbackId('cb-dup', iso(5)))?.scanId).toBe(newer.scanId);
        expect(await stores.scans.findByCallbackId('cb-dup', iso(6))).toBeNull();
        expect(await stores.scans.findByCallbackId('cb-missing', iso(0))).toBeNull();
        expect(await stores.scans.findByCallbackId('cb-dup', iso(2))).toEqual(newer);
      });

      it('transitions only from the given states, sets (not adds) counts and bumps the version', async () => {
        const scan = scanRecord({ counts: { ...ZERO_COUNTS, fetchedCertificates: 7, pagesPlanned: 1 } });
        await stores.scans.createScan(scan);
        expect(await stores.scans.transition(scan.scanId, ['RUNNING'], { state: 'FINALIZING' })).toBeNull();
        const planned = await stores.scans.transition(scan.scanId, ['PENDING', 'PLANNING'], {
          state: 'RUNNING',
          mode: 'incremental',
          effectiveQuery: 'CertId -gt 10',
          planMaxCertId: 500,
          startedAt: iso(1),
          counts: { pagesPlanned: 4, plannedCertificates: 3500 },
        });
        expect(planned).toEqual({
          ...scan,
          state: 'RUNNING',
          mode: 'incremental',
          effectiveQuery: 'CertId -gt 10',
          planMaxCertId: 500,
          startedAt: iso(1),
          counts: { ...scan.counts, pagesPlanned: 4, plannedCertificates: 3500 },
          version: scan.version + 1,
        });
        expect(await stores.scans.getScan(scan.scanId)).toEqual(planned);
        expect(await stores.scans.transition('no-such-scan', ['PENDING'], { state: 'RUNNING' })).toBeNull();
      });

      it('lets exactly one of 20 concurrent transitions RUNNING → FINALIZING win', async () => {
        const scan = scanRecord({ state: 'RUNNING' });
        await stores.scans.createScan(scan);
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            stores.scans.transition(scan.scanId, ['RUNNING'], { state: 'FINALIZING', finishedAt: iso(i) }),
          ),
        );
        const winners = results.filter((r) => r !== null);
        expect(winners).toHaveLength(1);
        const stored = await stores.scans.getScan(scan.scanId);
        expect(stored?.state).toBe('FINALIZING');
        expect(stored?.finishedAt).toBe(winners[0]?.finishedAt);
        expect(stored?.version).toBe(scan.version + 1);
      });

      it('keeps the newest 50 errors (messages cut to 2000 characters) and counts all of them', async () => {
        const scan = scanRecord();
        await stores.scans.createScan(scan);
        for (let i = 0; i < 60; i++)
          await stores.scans.addError(scan.scanId, { where: `page:r${i}`, message: `boom ${i}`, at: iso(i) });
        const stored = await stores.scans.getScan(scan.scanId);
        expect(stored?.errorCount).toBe(60);
        expect(stored?.errors).toHaveLength(50);
        expect(stored?.errors[0]?.where).toBe('page:r10');
        expect(stored?.errors.at(-1)?.message).toBe('boom 59');
        await stores.scans.addError(scan.scanId, {
          where: 'finalize',
          message: 'x'.repeat(100_000),
          at: iso(61),
        });
        const long = await stores.scans.getScan(scan.scanId);
        expect(long?.errors.at(-1)?.message).toHaveLength(2000);
        expect(long?.errorCount).toBe(61);
        await expect(
          stores.scans.addError('no-such-scan', { where: 'plan', message: 'x', at: iso(0) }),
        ).rejects.toThrow(/not found/);
      });

      it('counts concurrent errors exactly and never keeps more than 50', async () => {
        const scan = scanRecord();
        await stores.scans.createScan(scan);
        await Promise.all(
          Array.from({ length: 70 }, (_, i) =>
            stores.scans.addError(scan.scanId, { where: `page:r${i}`, message: `boom ${i}`, at: iso(i) }),
          ),
        );
        const stored = await stores.scans.getScan(scan.scanId);
        expect(stored?.errorCount).toBe(70);
        expect(stored?.errors).toHaveLength(50);
        expect(new Set(stored?.errors.map((e) => e.where)).size).toBe(50);
      });

      it('records a task once: a redelivery counts nothing and is not the last task', async () => {
        const scan = scanRecord({ state: 'RUNNING', counts: { ...ZERO_COUNTS, pagesPlanned: 2 } });
        await stores.scans.createScan(scan);
        const first = await stores.scans.completeTask(scan.scanId, 'r1-100', done(100, 3));
        expect(first).toMatchObject({ applied: true, lastTask: false });
        expect(first.scan.counts).toMatchObject({
          pagesDone: 1,
          fetchedCertificates: 100,
          analysedCertificates: 100,
          changedFindings: 3,
          exportBatchesPlanned: 1,
        });
        const again = await stores.scans.completeTask(scan.scanId, 'r1-100', done(100, 3));
        expect(again).toMatchObject({ applied: false, lastTask: false });
        expect(again.scan.counts).toEqual(first.scan.counts);
        const last = await stores.scans.completeTask(scan.scanId, 'r101-200', {
          status: 'failed',
          fetched: 100,
          analysed: 0,
          rejected: 0,
          changed: 0,
          exportBatches: 0,
          error: 'HTTP 503 after 3 attempts',
        });
        expect(last).toMatchObject({ applied: true, lastTask: true });
        expect(last.scan.counts).toMatchObject({
          pagesDone: 1,
          pagesFailed: 1,
          fetchedCertificates: 100,
          failedCertificates: 100,
        });
        // Redelivering the last task must not hand out a second lastTask.
        expect(await stores.scans.completeTask(scan.scanId, 'r101-200', done(1))).toMatchObject({
          applied: false,
          lastTask: false,
        });
        expect(await stores.scans.getScan(scan.scanId)).toEqual(last.scan);
        await expect(stores.scans.completeTask('no-such-scan', 'r1-2', done(1))).rejects.toThrow(/not found/);
      });

      it('30 concurrent completions (with redeliveries) count exactly and give lastTask to exactly one', async () => {
        const scan = scanRecord({ state: 'RUNNING', counts: { ...ZERO_COUNTS, pagesPlanned: 30 } });
        await stores.scans.createScan(scan);
        const taskIds = Array.from({ length: 30 }, (_, i) => `r${i * 100 + 1}-${i * 100 + 100}`);
        const results = await Promise.all(
          [...taskIds, ...taskIds.slice(0, 10)].map((taskId, i) =>
            stores.scans.completeTask(scan.scanId, taskId, i % 7 === 0 ? done(10, 1) : done(10)),
          ),
        );
        expect(results.filter((r) => r.applied)).toHaveLength(30);
        const lasts = results.filter((r) => r.lastTask);
        expect(lasts).toHaveLength(1);
        expect(lasts[0]?.scan.counts.pagesDone).toBe(30);
        const stored = await stores.scans.getScan(scan.scanId);
        expect(stored?.counts.pagesDone).toBe(30);
        expect(stored?.counts.fetchedCertificates).toBe(300);
        expect(stored?.counts.pagesFailed).toBe(0);
      });

      it('adds counts atomically under concurrency', async () => {
        const scan = scanRecord();
        await stores.scans.createScan(scan);
        await Promise.all(
          Array.from({ length: 20 }, () =>
            stores.scans.addCounts(scan.scanId, { exportedFindings: 5, exportBatchesSent: 1 }),
          ),
        );
        const stored = await stores.scans.getScan(scan.scanId);
        expect(stored?.counts).toEqual({ ...ZERO_COUNTS, exportedFindings: 100, exportBatchesSent: 20 });
        await expect(stores.scans.addCounts('no-such-scan', { exportedFindings: 1 })).rejects.toThrow(
          /not found/,
        );
      });

      it('versions the cursor: create with 0, update from the stored version, refuse stale writers', async () => {
        const sensorKey = `sk-${randomUUID()}`;
        const cursor = {
          sensorKey,
          url: SOURCE_URL,
          queryFilter: null,
          maxCertId: 1200,
          lastScanStartedAt: iso(0),
          scansSinceFull: 1,
          lastFullScanId: 'scan-a',
          lastScanId: 'scan-a',
          version: 1,
        };
        expect(await stores.scans.getCursor(sensorKey)).toBeNull();
        expect(await stores.scans.putCursor(cursor, 1)).toBe(false);
        expect(await stores.scans.putCursor(cursor, 0)).toBe(true);
        expect(await stores.scans.getCursor(sensorKey)).toEqual(cursor);
        expect(await stores.scans.putCursor({ ...cursor, maxCertId: 9 }, 0)).toBe(false);
        const next = { ...cursor, maxCertId: 1500, scansSinceFull: 2, lastScanId: 'scan-b', version: 2 };
        expect(await stores.scans.putCursor(next, 1)).toBe(true);
        expect(await stores.scans.putCursor({ ...next, maxCertId: 1 }, 1)).toBe(false);
        expect(await stores.scans.getCursor(sensorKey)).toEqual(next);
        const racing = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            stores.scans.putCursor({ ...next, maxCertId: 2000 + i, version: 3 }, 2),
          ),
        );
        expect(racing.filter(Boolean)).toHaveLength(1);
        const winner = 2000 + racing.indexOf(true);
        expect(await stores.scans.getCursor(sensorKey)).toMatchObject({ maxCertId: winner, version: 3 });
      });
    });

    describe('FindingStore', () => {
      it('reports created / unchanged (redelivery) / unchanged (next scan) / changed and keeps firstSeenAt', async () => {
        const sensorKey = `sk-${randomUUID()}`;
        const inputs = findingInputs(sensorKey, 0, 12);
        expect(await stores.findings.upsertFindings(sensorKey, 'scan-1', iso(1), inputs)).toEqual(
          inputs.map(() => 'created'),
        );
        const first = await stores.findings.getFinding(sensorKey, inputs[0]!.findingId);
        expect(first).toEqual({
          ...inputs[0]!,
          status: 'open',
          firstSeenAt: iso(1),
          lastSeenAt: iso(1),
          lastSeenScanId: 'scan-1',
          resolvedAt: null,
          resolvedByScanId: null,
        } satisfies StoredFinding);

        // The same task redelivered within scan-1: nothing is written again.
        expect(await stores.findings.upsertFindings(sensorKey, 'scan-1', iso(2), inputs)).toEqual(
          inputs.map(() => 'unchanged'),
        );
        expect((await stores.findings.getFinding(sensorKey, inputs[0]!.findingId))?.lastSeenAt).toBe(iso(1));

        const changedInputs = findingInputs(sensorKey, 0, 4, 'b');
        const outcomes = await stores.findings.upsertFindings(sensorKey, 'scan-2', iso(3), [
          ...changedInputs,
          ...inputs.slice(4),
        ]);
        expect(outcomes).toEqual([
          ...changedInputs.map(() => 'changed'),
          ...inputs.slice(4).map(() => 'unchanged'),
        ]);
        const changed = await stores.findings.getFinding(sensorKey, changedInputs[0]!.findingId);
        expect(changed).toMatchObject({
          firstSeenAt: iso(1),
          lastSeenAt: iso(3),
          lastSeenScanId: 'scan-2',
          contentHash: changedInputs[0]!.contentHash,
        });
        expect(changed?.document).toEqual(changedInputs[0]!.document);
        expect(await stores.findings.getFinding(sensorKey, inputs[5]!.findingId)).toMatchObject({
          firstSeenAt: iso(1),
          lastSeenAt: iso(3),
          lastSeenScanId: 'scan-2',
        });
        const before = structuredClone(inputs[6]!.document);
        inputs[6]!.document.object.name = 'edited after the upsert';
        expect((await stores.findings.getFinding(sensorKey, inputs[6]!.findingId))?.document).toEqual(before);
        expect(await stores.findings.getFinding(sensorKey, 'f'.repeat(64))).toBeNull();
        expect(await stores.findings.getFinding(`sk-${randomUUID()}`, inputs[0]!.findingId)).toBeNull();
      });

      it('treats a repeated finding id inside one call as a redelivery of the first', async () => {
        const sensorKey = `sk-${randomUUID()}`;
        const [a, b] = findingInputs(sensorKey, 20, 22);
        expect(await stores.findings.upsertFindings(sensorKey, 'scan-1', iso(1), [a!, b!, a!])).toEqual([
          'created',
          'created',
          'unchanged',
        ]);
      });

      it('refuses findings of another sensor with an InputError', async () => {
        const sensorKey = `sk-${randomUUID()}`;
        const inputs = findingInputs('sk-someone-else', 0, 2);
        await expect(
          stores.findings.upsertFindings(sensorKey, 'scan-1', iso(1), inputs),
        ).rejects.toBeInstanceOf(InputError);
        expect(await stores.findings.getFinding(sensorKey, inputs[0]!.findingId)).toBeNull();
      });

      it('resolves exactly the unseen findings once, then reopens one that reappears', async () => {
        const sensorKey = `sk-${randomUUID()}`;
        const otherSensor = `sk-${randomUUID()}`;
        const inputs = findingInputs(sensorKey, 30, 40);
        await stores.findings.upsertFindings(sensorKey, 'scan-1', iso(1), inputs);
        await stores.findings.upsertFindings(
          otherSensor,
          'scan-x',
          iso(1),
          findingInputs(otherSensor, 30, 33),
        );
        await stores.findings.upsertFindings(sensorKey, 'scan-2', iso(2), inputs.slice(0, 6));

        const resolved = (await collect(stores.findings.resolveUnseen(sensorKey, 'scan-2', iso(3)))).flat();
        const unseen = inputs.slice(6);
        expect(resolved.map((r) => r.findingId).sort()).toEqual(unseen.map((i) => i.findingId).sort());
        for (const r of resolved) {
          const input = unseen.find((i) => i.findingId === r.findingId)!;
          expect(r).toEqual({
            findingId: input.findingId,
            certificateId: input.certificateId,
            sensorKey,
            resolvedAt: iso(3),
            scanId: 'scan-2',
          });
        }
        expect(await stores.findings.getFinding(sensorKey, unseen[0]!.findingId)).toMatchObject({
          status: 'resolved',
          resolvedAt: iso(3),
          resolvedByScanId: 'scan-2',
        });
        expect((await stores.findings.getFinding(sensorKey, inputs[0]!.findingId))?.status).toBe('open');
        // Idempotent, and the other sensor's findings are untouched.
        expect((await collect(stores.findings.resolveUnseen(sensorKey, 'scan-2', iso(4)))).flat()).toEqual(
          [],
        );
        const otherOpen = (
          await collect(stores.findings.listFindings(otherSensor, { status: 'open' }))
        ).flat();
        expect(otherOpen).toHaveLength(3);

        expect(
          await stores.findings.upsertFindings(sensorKey, 'scan-3', iso(5), [unseen[0]!, inputs[0]!]),
        ).toEqual(['reopened', 'unchanged']);
        expect(await stores.findings.getFinding(sensorKey, unseen[0]!.findingId)).toMatchObject({
          status: 'open',
          resolvedAt: null,
          resolvedByScanId: null,
          firstSeenAt: iso(1),
          lastSeenScanId: 'scan-3',
        });
        // Redelivering scan-3's task: the reopened finding is now just seen by this scan.
        expect(await stores.findings.upsertFindings(sensorKey, 'scan-3', iso(6), [unseen[0]!])).toEqual([
          'unchanged',
        ]);
      });

      it('resolves each finding once when two resolveUnseen calls race, in chunks of at most 100', async () => {
        const sensorKey = `sk-${randomUUID()}`;
        const inputs = findingInputs(sensorKey, 0, 150);
        await stores.findings.upsertFindings(sensorKey, 'scan-1', iso(1), inputs);
        const [a, b] = await Promise.all([
          collect(stores.findings.resolveUnseen(sensorKey, 'scan-2', iso(2))),
          collect(stores.findings.resolveUnseen(sensorKey, 'scan-2', iso(2))),
        ]);
        for (const chunk of [...a, ...b]) {
          expect(chunk.length).toBeGreaterThan(0);
          expect(chunk.length).toBeLessThanOrEqual(100);
        }
        const ids = [...a.flat(), ...b.flat()].map((r) => r.findingId);
        expect(ids).toHaveLength(150);
        expect(new Set(ids).size).toBe(150);
        expect(
          (await collect(stores.findings.listFindings(sensorKey, { status: 'resolved' }))).flat(),
        ).toHaveLength(150);
      });

      it('lists a sensor’s findings in pages, optionally by status, as copies', async () => {
        const sensorKey = `sk-${randomUUID()}`;
        const inputs = findingInputs(sensorKey, 40, 75);
        await stores.findings.upsertFindings(sensorKey, 'scan-1', iso(1), inputs);
        await stores.findings.upsertFindings(sensorKey, 'scan-2', iso(2), inputs.slice(0, 20));
        await collect(stores.findings.resolveUnseen(sensorKey, 'scan-2', iso(3)));
        const all = (await collect(stores.findings.listFindings(sensorKey))).flat();
        expect(all.map((f) => f.findingId).sort()).toEqual(inputs.map((i) => i.findingId).sort());
        const open = (await collect(stores.findings.listFindings(sensorKey, { status: 'open' }))).flat();
        const resolved = (
          await collect(stores.findings.listFindings(sensorKey, { status: 'resolved' }))
        ).flat();
        expect(open.map((f) => f.findingId).sort()).toEqual(
          inputs
            .slice(0, 20)
            .map((i) => i.findingId)
            .sort(),
        );
        expect(resolved).toHaveLength(15);
        expect(resolved.every((f) => f.status === 'resolved')).toBe(true);
        const one = open.find((f) => f.findingId === inputs[0]!.findingId)!;
        expect(one.document).toEqual(inputs[0]!.document);
        one.document.labels = [];
        expect((await stores.findings.getFinding(sensorKey, one.findingId))?.document.labels).toHaveLength(1);
        expect(await collect(stores.findings.listFindings(`sk-${randomUUID()}`))).toEqual([]);
      });
    });

    describe('ExportOutbox', () => {
      it('writes a batch only if absent and reads back the same bytes', async () => {
        const batch = exportBatch();
        expect(await stores.outbox.putBatch(batch)).toBe(true);
        expect(await stores.outbox.putBatch({ ...batch, count: 999, body: new Uint8Array([1, 2, 3]) })).toBe(
          false,
        );
        const stored = await stores.outbox.getBatch(batch.batchId);
        const { body: _body, ...fields } = batch;
        expect(stored).toMatchObject(fields);
        expect(Buffer.from(stored!.body).equals(Buffer.from(batch.body))).toBe(true);
        // Copies both ways: neither the caller's array nor the one it got back is the stored body.
        const original = Buffer.from(batch.body);
        batch.body.fill(0);
        stored!.body.fill(1);
        expect(Buffer.from((await stores.outbox.getBatch(batch.batchId))!.body).equals(original)).toBe(true);
        expect(await stores.outbox.getBatch('no-such-batch')).toBeNull();
        const racing = exportBatch();
        const results = await Promise.all(Array.from({ length: 10 }, () => stores.outbox.putBatch(racing)));
        expect(results.filter(Boolean)).toHaveLength(1);
      });

      it('marks a batch sent exactly once, even when ten exporters race', async () => {
        const batch = exportBatch();
        await stores.outbox.putBatch(batch);
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => stores.outbox.markSent(batch.batchId, iso(i))),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(await stores.outbox.markSent(batch.batchId, iso(30))).toBe(false);
        const stored = await stores.outbox.getBatch(batch.batchId);
        expect(stored?.status).toBe('sent');
        expect(stored?.sentAt).toBe(iso(results.indexOf(true)));
        expect(await stores.outbox.markSent('no-such-batch', iso(1))).toBe(false);
      });

      it('records attempts, makes a final one failed, ignores attempts after that, still lets a redrive mark it sent', async () => {
        const batch = exportBatch();
        await stores.outbox.putBatch(batch);
        expect(await stores.outbox.markAttempt(batch.batchId, 'HTTP 502', false)).toBe(true);
        expect(await stores.outbox.getBatch(batch.batchId)).toMatchObject({
          status: 'pending',
          attempts: 1,
          lastError: 'HTTP 502',
        });
        expect(await stores.outbox.markAttempt(batch.batchId, 'HTTP 503', true)).toBe(true);
        expect(await stores.outbox.markAttempt(batch.batchId, 'late', true)).toBe(false);
        expect(await stores.outbox.markAttempt(batch.batchId, 'late', false)).toBe(false);
        expect(await stores.outbox.getBatch(batch.batchId)).toMatchObject({
          status: 'failed',
          attempts: 2,
          lastError: 'HTTP 503',
        });
        expect(await stores.outbox.markAttempt('no-such-batch', 'x', false)).toBe(false);
        // A failed batch redriven from the DLQ and delivered is marked sent, once.
        expect(await stores.outbox.markSent(batch.batchId, iso(9))).toBe(true);
        expect(await stores.outbox.markSent(batch.batchId, iso(10))).toBe(false);
        expect(await stores.outbox.getBatch(batch.batchId)).toMatchObject({ status: 'sent', sentAt: iso(9) });
      });

      it('refuses a body too large for one outbox item with a clear error', async () => {
        const batch = exportBatch({ body: new Uint8Array(360 * 1024) });
        await expect(stores.outbox.putBatch(batch)).rejects.toThrow(/bytes.*at most/);
        expect(await stores.outbox.getBatch(batch.batchId)).toBeNull();
      });
    });

    describe('ScheduleStore', () => {
      it('puts, overwrites, lists oldest first, gets and deletes', async () => {
        const a = schedule({ createdAt: iso(1) });
        const b = schedule({ createdAt: iso(2), name: 'hourly', expression: 'rate(1 hour)' });
        await stores.schedules.putSchedule(b);
        await stores.schedules.putSchedule(a);
        expect(await stores.schedules.getSchedule(a.scheduleId)).toEqual(a);
        expect(await stores.schedules.listSchedules()).toEqual([a, b]);
        const disabled = { ...a, enabled: false };
        await stores.schedules.putSchedule(disabled);
        expect(await stores.schedules.getSchedule(a.scheduleId)).toEqual(disabled);
        expect(await stores.schedules.listSchedules()).toEqual([disabled, b]);
        expect(await stores.schedules.deleteSchedule(a.scheduleId)).toBe(true);
        expect(await stores.schedules.deleteSchedule(a.scheduleId)).toBe(false);
        expect(await stores.schedules.getSchedule(a.scheduleId)).toBeNull();
        expect(await stores.schedules.listSchedules()).toEqual([b]);
      });
    });

    describe('HostLeases', () => {
      it('hands out at most `limit` leases per host under concurrency; hosts are independent', async () => {
        const host = `command-${randomUUID()}.example.com`;
        const leases = await Promise.all(
          Array.from({ length: 20 }, () => stores.leases.acquire(host, 3, 60)),
        );
        const held = leases.filter((l): l is string => l !== null);
        expect(held).toHaveLength(3);
        expect(new Set(held).size).toBe(3);
        expect(await stores.leases.acquire(`other-${host}`, 1, 60)).not.toBeNull();
        expect(await stores.leases.acquire(host, 3, 60)).toBeNull();
        await stores.leases.release(host, held[1]!);
        const again = await stores.leases.acquire(host, 3, 60);
        expect(again).not.toBeNull();
        expect(held).not.toContain(again);
        expect(await stores.leases.acquire(host, 3, 60)).toBeNull();
      });

      it('reclaims an expired lease, and the stale holder’s release does not free the new one', async () => {
        const host = `command-${randomUUID()}.example.com`;
        const stale = await stores.leases.acquire(host, 1, 30);
        expect(stale).not.toBeNull();
        clock.advance(20);
        expect(await stores.leases.acquire(host, 1, 30)).toBeNull();
        clock.advance(11);
        const fresh = await stores.leases.acquire(host, 1, 30);
        expect(fresh).not.toBeNull();
        await stores.leases.release(host, stale!);
        expect(await stores.leases.acquire(host, 1, 30)).toBeNull();
        await stores.leases.release(host, 'not-a-lease');
        await stores.leases.release(host, '0:not-the-holder');
        expect(await stores.leases.acquire(host, 1, 30)).toBeNull();
        await stores.leases.release(host, fresh!);
        expect(await stores.leases.acquire(host, 1, 30)).not.toBeNull();
      });

      it('rejects a bad limit, ttl or host with an InputError', async () => {
        await expect(stores.leases.acquire('h.example.com', 0, 60)).rejects.toBeInstanceOf(InputError);
        await expect(stores.leases.acquire('h.example.com', 2, 0)).rejects.toBeInstanceOf(InputError);
        await expect(stores.leases.acquire('', 2, 60)).rejects.toBeInstanceOf(InputError);
      });
    });
  });
}
