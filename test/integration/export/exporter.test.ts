// exportBatch against the real local receiver over HTTP with the in-memory scan stores: delivery, counting once,
// redelivery after a crash, failures up to the DLQ, and a disabled ingestion URL.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MemoryEventPublisher } from '#shared/adapters/memory/events';
import {
  MemoryExportOutbox,
  MemoryFindingStore,
  MemoryHostLeases,
  MemoryScanStore,
  MemoryScheduleStore,
} from '#shared/adapters/memory/scan-stores';
import { MemoryScheduler } from '#shared/adapters/memory/scheduler';
import { MemorySecretSource } from '#shared/adapters/memory/secrets';
import { MemoryWorkQueue } from '#shared/adapters/memory/work-queue';
import { IngestionClient } from '#shared/export/ingestion';
import type { Logger } from '#shared/logging';
import { DEFAULT_PIPELINE_CONFIG, type PipelineConfig, type ScanDeps } from '#shared/scan/deps';
import { buildExportBatches } from '#shared/scan/export-batches';
import { ExportAttemptError, PoisonBatchError, exportBatch } from '#shared/scan/exporter';
import { ZERO_COUNTS, type ExportBatch, type Resolution, type ScanRecord } from '#shared/scan/model';
import { systemClock, type ExportMessage } from '#shared/scan/ports';
import { startIngestionReceiver, type IngestionReceiver } from '#shared/simulator/ingestion-receiver';
import { craftCertificate } from '#test/support/findings/craft';
import { analyseDerChecked } from '#test/support/findings/harness';

const TOKEN = 'ingestion-token-9d2f41';
const FAST = {
  retry: { baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 2, maxRetryAfterMs: 2_000 },
  timeoutMs: 5_000,
};

let receiver: IngestionReceiver;
beforeAll(async () => {
  receiver = await startIngestionReceiver({ token: TOKEN });
});
afterAll(() => receiver.stop());
beforeEach(() => {
  receiver.setFaults(null);
  receiver.clear();
});

interface LogLine {
  level: string;
  message: string;
  fields: Record<string, unknown> | undefined;
}
function recordingLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: string) =>
    (message: string, fields?: Record<string, unknown>): void => {
      lines.push({ level, message, fields });
    };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

function makeDeps(config: Partial<PipelineConfig> = {}, token = TOKEN) {
  const logger = recordingLogger();
  const deps = {
    scans: new MemoryScanStore(),
    findings: new MemoryFindingStore(),
    outbox: new MemoryExportOutbox(),
    schedules: new MemoryScheduleStore(),
    leases: new MemoryHostLeases(),
    queue: new MemoryWorkQueue(),
    secrets: new MemorySecretSource(token),
    events: new MemoryEventPublisher(),
    scheduler: new MemoryScheduler(),
    clock: systemClock,
    logger,
    config: {
      ...DEFAULT_PIPELINE_CONFIG,
      ingestionUrl: receiver.url,
      sensorVersion: '9.8.7',
      ranBy: 'exporter-test',
      ...config,
    },
    commandClient: () => {
      throw new Error('the exporter never talks to Command');
    },
  } satisfies ScanDeps;
  return deps;
}

let scanCounter = 0;
async function createScan(deps: ScanDeps): Promise<ScanRecord> {
  const now = new Date();
  const scan: ScanRecord = {
    scanId: `scan-${++scanCounter}-${now.getTime()}`,
    sensorKey: 'command.test/0123',
    sensor: {
      sensorName: 'prod command',
      url: 'https://command.test/KeyfactorAPI',
      queryFilter: null,
      authMethod: 'basic',
      credentialsRef: 'memory:x',
      labels: [{ name: 'env', value: 'prod' }],
      priority: 'normal',
      autoResolutionInterval: 5,
      pageSize: 100,
      hostConcurrency: 2,
    },
    callbackId: null,
    trigger: 'api',
    scheduleId: null,
    state: 'RUNNING',
    mode: 'full',
    effectiveQuery: null,
    planMaxCertId: 100,
    createdAt: now.toISOString(),
    startedAt: now.toISOString(),
    finishedAt: null,
    counts: { ...ZERO_COUNTS },
    errors: [],
    errorCount: 0,
    expiresAt: Math.floor(now.getTime() / 1000) + 3600,
    version: 1,
  };
  await deps.scans.createScan(scan);
  return scan;
}

async function queueFindings(
  deps: ScanDeps,
  scanId: string,
  ids: string[],
  taskId = 'r1-100',
): Promise<ExportBatch[]> {
  const records = ids.map((id) => ({ id, object: { type: 'certificate', name: id } }));
  const batches = buildExportBatches(
    scanId,
    taskId,
    'findings',
    records,
    { maxRecords: 10, maxBytes: 1 << 20 },
    new Date(),
  );
  for (const batch of batches) expect(await deps.outbox.putBatch(batch)).toBe(true);
  return batches;
}

const messageOf = (batch: ExportBatch): ExportMessage => ({
  type: 'export',
  scanId: batch.scanId,
  batchId: batch.batchId,
});

describe('exportBatch', () => {
  it('delivers findings with the scan sensor identity, marks the batch sent and counts it once', async () => {
    const deps = makeDeps();
    const scan = await createScan(deps);
    const [batch] = await queueFindings(deps, scan.scanId, ['f1', 'f2', 'f3']);
    await exportBatch(deps, messageOf(batch!), { receiveCount: 1 }, { ingestion: FAST });
    expect([...receiver.findings.keys()].sort()).toEqual(['f1', 'f2', 'f3']);
    expect(receiver.batches.get(batch!.batchId)).toMatchObject({
      scanId: scan.scanId,
      sensor: { name: 'prod command', type: 'Keyfactor Command', version: '9.8.7', ranBy: 'exporter-test' },
      labels: [{ name: 'env', value: 'prod' }],
    });
    expect((await deps.outbox.getBatch(batch!.batchId))?.status).toBe('sent');
    const after = await deps.scans.getScan(scan.scanId);
    expect(after?.counts).toMatchObject({
      exportedFindings: 3,
      exportedResolutions: 0,
      exportBatchesSent: 1,
    });
  });

  it('a redelivered message after success sends nothing and counts nothing again', async () => {
    const deps = makeDeps();
    const scan = await createScan(deps);
    const [batch] = await queueFindings(deps, scan.scanId, ['a', 'b']);
    await exportBatch(deps, messageOf(batch!), { receiveCount: 1 }, { ingestion: FAST });
    await exportBatch(deps, messageOf(batch!), { receiveCount: 2 }, { ingestion: FAST });
    expect(receiver.requests).toBe(1);
    expect((await deps.scans.getScan(scan.scanId))?.counts).toMatchObject({
      exportedFindings: 2,
      exportBatchesSent: 1,
    });
  });

  it('a crash after the POST but before markSent: the resend is de-duplicated and counted once', async () => {
    const deps = makeDeps();
    const scan = await createScan(deps);
    const [batch] = await queueFindings(deps, scan.scanId, ['a', 'b']);
    // The "crashed" exporter's POST reached the receiver; the outbox still says pending.
    await new IngestionClient({ url: receiver.url, token: TOKEN }).send(batch!, {
      name: 'prod command',
      version: '9.8.7',
      ranBy: 'exporter-test',
      labels: [],
    });
    await exportBatch(deps, messageOf(batch!), { receiveCount: 2 }, { ingestion: FAST });
    expect(receiver.stats).toMatchObject({ accepted: 1, duplicates: 1, findingLines: 2 });
    expect((await deps.outbox.getBatch(batch!.batchId))?.status).toBe('sent');
    expect((await deps.scans.getScan(scan.scanId))?.counts).toMatchObject({
      exportedFindings: 2,
      exportBatchesSent: 1,
    });
  });

  it('two concurrent deliveries of one message count once', async () => {
    const deps = makeDeps();
    const scan = await createScan(deps);
    const [batch] = await queueFindings(deps, scan.scanId, ['a', 'b', 'c']);
    await Promise.all([
      exportBatch(deps, messageOf(batch!), { receiveCount: 1 }, { ingestion: FAST }),
      exportBatch(deps, messageOf(batch!), { receiveCount: 1 }, { ingestion: FAST }),
    ]);
    expect(receiver.stats.findingLines).toBe(3);
    expect((await deps.scans.getScan(scan.scanId))?.counts).toMatchObject({
      exportedFindings: 3,
      exportBatchesSent: 1,
    });
  });

  it('resolution batches count as exportedResolutions', async () => {
    const deps = makeDeps();
    const scan = await createScan(deps);
    const resolutions: Resolution[] = ['g1', 'g2'].map((findingId, i) => ({
      findingId,
      certificateId: i + 1,
      sensorKey: scan.sensorKey,
      resolvedAt: new Date().toISOString(),
      scanId: scan.scanId,
    }));
    const [batch] = buildExportBatches(
      scan.scanId,
      'resolve',
      'resolutions',
      resolutions,
      { maxRecords: 10, maxBytes: 1 << 20 },
      new Date(),
    );
    await deps.outbox.putBatch(batch!);
    await exportBatch(deps, messageOf(batch!), { receiveCount: 1 }, { ingestion: FAST });
    expect([...receiver.resolutions.keys()].sort()).toEqual(['g1', 'g2']);
    expect(receiver.resolutions.get('g2')).toMatchObject({ certificateId: 2, scanId: scan.scanId });
    expect((await deps.scans.getScan(scan.scanId))?.counts).toMatchObject({
      exportedFindings: 0,
      exportedResolutions: 2,
      exportBatchesSent: 1,
    });
  });

  it('failing every attempt: retries until exportMaxAttempts, then a scan error and PoisonBatchError, counted once', async () => {
    const deps = makeDeps({ exportMaxAttempts: 3 });
    const scan = await createScan(deps);
    const [batch] = await queueFindings(deps, scan.scanId, ['a']);
    receiver.setFaults({ failRate: 1, kinds: ['503'] });
    for (const receiveCount of [1, 2]) {
      const error = await exportBatch(deps, messageOf(batch!), { receiveCount }, { ingestion: FAST }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ExportAttemptError);
      expect(error).not.toBeInstanceOf(PoisonBatchError);
      expect(await deps.outbox.getBatch(batch!.batchId)).toMatchObject({
        status: 'pending',
        attempts: receiveCount,
      });
      expect((await deps.scans.getScan(scan.scanId))?.errorCount).toBe(0);
    }
    const last = await exportBatch(deps, messageOf(batch!), { receiveCount: 3 }, { ingestion: FAST }).catch(
      (e: unknown) => e,
    );
    expect(last).toBeInstanceOf(PoisonBatchError);
    expect((last as Error).message).toMatch(/HTTP 503: injected server error/);
    expect(await deps.outbox.getBatch(batch!.batchId)).toMatchObject({ status: 'failed', attempts: 3 });
    const after = await deps.scans.getScan(scan.scanId);
    expect(after?.counts).toMatchObject({
      exportBatchesFailed: 1,
      exportBatchesSent: 0,
      exportedFindings: 0,
    });
    expect(after?.errors).toEqual([
      expect.objectContaining({
        where: `export:${batch!.batchId}`,
        message: expect.stringMatching(/1 findings not delivered after 3 attempts: .*HTTP 503/) as unknown,
      }),
    ]);
    // A DLQ redelivery that fails again is still poison but is not counted again.
    await expect(
      exportBatch(deps, messageOf(batch!), { receiveCount: 4 }, { ingestion: FAST }),
    ).rejects.toBeInstanceOf(PoisonBatchError);
    expect((await deps.scans.getScan(scan.scanId))?.counts.exportBatchesFailed).toBe(1);
    expect((await deps.scans.getScan(scan.scanId))?.errorCount).toBe(1);
    expect(receiver.batches.size).toBe(0);
  });

  it('a refused token: the scan error names the 401 and no error, record or log line contains the token', async () => {
    const secret = 'wrong-secret-token-77';
    const deps = makeDeps({ exportMaxAttempts: 1 }, secret);
    const scan = await createScan(deps);
    const [batch] = await queueFindings(deps, scan.scanId, ['a']);
    const error = (await exportBatch(deps, messageOf(batch!), { receiveCount: 1 }, { ingestion: FAST }).catch(
      (e: unknown) => e,
    )) as Error;
    expect(error).toBeInstanceOf(PoisonBatchError);
    expect(error.message).toMatch(/HTTP 401/);
    const after = await deps.scans.getScan(scan.scanId);
    expect(after?.errors[0]?.message).toMatch(/401.*token was refused/);
    const everything = JSON.stringify([
      error.message,
      String(error.cause),
      after,
      await deps.outbox.getBatch(batch!.batchId),
      deps.logger.lines,
    ]);
    expect(everything).not.toContain(secret);
    expect(everything).not.toContain(TOKEN);
  });

  it('with no ingestion URL the batch stays pending, nothing is sent, and it is logged once', async () => {
    const deps = makeDeps({ ingestionUrl: null });
    const scan = await createScan(deps);
    const [one, two] = await queueFindings(
      deps,
      scan.scanId,
      Array.from({ length: 15 }, (_, i) => `n${i}`),
    );
    await exportBatch(deps, messageOf(one!), { receiveCount: 1 });
    await exportBatch(deps, messageOf(two!), { receiveCount: 1 });
    expect(receiver.requests).toBe(0);
    expect((await deps.outbox.getBatch(one!.batchId))?.status).toBe('pending');
    expect((await deps.outbox.getBatch(two!.batchId))?.status).toBe('pending');
    expect(deps.logger.lines.filter((l) => /no ingestion URL/.test(l.message))).toHaveLength(1);
    expect((await deps.scans.getScan(scan.scanId))?.counts.exportBatchesSent).toBe(0);
  });

  it('a message for a batch the outbox does not have is dropped with a warning', async () => {
    const deps = makeDeps();
    await exportBatch(deps, { type: 'export', scanId: 's', batchId: 's.r1-2.1' }, { receiveCount: 1 });
    expect(receiver.requests).toBe(0);
    expect(deps.logger.lines.some((l) => l.level === 'warn' && /does not have/.test(l.message))).toBe(true);
  });

  it('ingestion failing half its calls: with queue redeliveries every finding arrives exactly once and counts are exact', async () => {
    const deps = makeDeps({ exportMaxAttempts: 10 });
    const scan = await createScan(deps);
    const ids = Array.from({ length: 200 }, (_, i) => `h${i}`);
    const batches = await queueFindings(deps, scan.scanId, ids);
    receiver.setFaults({
      failRate: 0.5,
      kinds: ['500', '429', 'reset', 'lost-response', '503'],
      retryAfter: 0,
      seed: 11,
    });
    let redeliveries = 0;
    for (const batch of batches) {
      for (let receiveCount = 1; ; receiveCount++) {
        try {
          await exportBatch(deps, messageOf(batch), { receiveCount }, { ingestion: FAST });
          break;
        } catch (error) {
          expect(error).toBeInstanceOf(ExportAttemptError);
          redeliveries++;
        }
      }
    }
    expect(receiver.findings.size).toBe(200);
    expect(receiver.stats.findingLines).toBe(200);
    expect(receiver.batches.size).toBe(20);
    expect(redeliveries).toBeGreaterThan(0);
    expect((await deps.scans.getScan(scan.scanId))?.counts).toMatchObject({
      exportedFindings: 200,
      exportBatchesSent: 20,
      exportBatchesFailed: 0,
    });
  });

  it('a batch redriven from the DLQ and delivered is counted sent and no longer failed', async () => {
    const deps = makeDeps({ exportMaxAttempts: 1 });
    const scan = await createScan(deps);
    const [batch] = await queueFindings(deps, scan.scanId, ['r1', 'r2']);
    receiver.setFaults({ failRate: 1, kinds: ['500'] });
    await expect(
      exportBatch(deps, messageOf(batch!), { receiveCount: 1 }, { ingestion: FAST }),
    ).rejects.toBeInstanceOf(PoisonBatchError);
    receiver.setFaults(null);
    // The redriven message starts its receive count again.
    await exportBatch(deps, messageOf(batch!), { receiveCount: 1 }, { ingestion: FAST });
    expect(receiver.findings.size).toBe(2);
    expect((await deps.scans.getScan(scan.scanId))?.counts).toMatchObject({
      exportedFindings: 2,
      exportBatchesSent: 1,
      exportBatchesFailed: 0,
    });
  });

  it('uses the injected deps.fetch', async () => {
    let calls = 0;
    const deps: ScanDeps = {
      ...makeDeps(),
      fetch: (input, init) => {
        calls++;
        return globalThis.fetch(input, init);
      },
    };
    const scan = await createScan(deps);
    const [batch] = await queueFindings(deps, scan.scanId, ['i1']);
    await exportBatch(deps, messageOf(batch!), { receiveCount: 1 }, { ingestion: FAST });
    expect(calls).toBe(1);
    expect(receiver.findings.has('i1')).toBe(true);
  });

  it('a batch whose scan record is gone fails the attempt with a clear reason', async () => {
    const deps = makeDeps();
    const [batch] = await queueFindings(deps, 'scan-that-expired', ['z']);
    await expect(
      exportBatch(deps, messageOf(batch!), { receiveCount: 1 }, { ingestion: FAST }),
    ).rejects.toThrow(/attempt 1: scan scan-that-expired not found/);
    expect(await deps.outbox.getBatch(batch!.batchId)).toMatchObject({ status: 'pending', attempts: 1 });
    expect(receiver.requests).toBe(0);
  });

  it('a Retry-After beyond the client cap ends the attempt and hands the pause to the queue', async () => {
    const deps = makeDeps();
    const scan = await createScan(deps);
    const [batch] = await queueFindings(deps, scan.scanId, ['w']);
    receiver.setFaults({ failFirst: 1, kinds: ['429'], retryAfter: 120 });
    const error = (await exportBatch(deps, messageOf(batch!), { receiveCount: 1 }, { ingestion: FAST }).catch(
      (e: unknown) => e,
    )) as ExportAttemptError;
    expect(error).toBeInstanceOf(ExportAttemptError);
    expect(error.retryAfterMs).toBe(120_000);
    expect(receiver.requests).toBe(1);
  });

  it('real finding documents (analysed certificates) arrive unchanged, keyed by id', async () => {
    const deps = makeDeps();
    const scan = await createScan(deps);
    const documents = [
      craftCertificate({ key: { kind: 'rsa', bits: 2048 }, hash: 'SHA-1' }),
      craftCertificate({ key: { kind: 'ec', curve: 'P-256' } }),
      craftCertificate({ key: { kind: 'ed25519' }, issuer: 'self' }),
    ].map((der) => analyseDerChecked(der));
    const batches = buildExportBatches(
      scan.scanId,
      'r1-3',
      'findings',
      documents,
      { maxRecords: 2, maxBytes: 1 << 20 },
      new Date(),
    );
    for (const batch of batches) {
      await deps.outbox.putBatch(batch);
      await exportBatch(deps, messageOf(batch), { receiveCount: 1 }, { ingestion: FAST });
    }
    expect(batches).toHaveLength(2);
    expect(receiver.findings.size).toBe(3);
    for (const document of documents)
      expect(receiver.findings.get(document.id)).toEqual(JSON.parse(JSON.stringify(document)));
    expect((await deps.scans.getScan(scan.scanId))?.counts).toMatchObject({
      exportedFindings: 3,
      exportBatchesSent: 2,
    });
  });
});
