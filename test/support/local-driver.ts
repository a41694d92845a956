// The local driver: the deployed cloud path on one machine. The real API and authorizer handlers behind the gateway
// emulator, and the real collector, page-worker and exporter handlers fed from moto's SQS queues by the event source
// emulator, over moto's DynamoDB, Secrets Manager, EventBridge and Scheduler.
import { randomUUID } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createApiKeyTables, DynamoApiKeyStore, DynamoAuditLog } from '#shared/adapters/aws/apikey-store';
import { licenseDepsFromEnv } from '#shared/adapters/aws/license-deps';
import { scanDepsFromEnv } from '#shared/adapters/aws/scan-deps';
import {
  SqsEventSourceEmulator,
  type DriveOptions,
  type DriveResult,
  type EventSourceMapping,
} from '#shared/adapters/aws/sqs-event-source';
import { ApiKeyAuthenticator, ApiKeyService, ScryptKeyHasher, type Role } from '#shared/apikeys/index';
import { createCommandClient } from '#shared/keyfactor/index';
import type { RetryPolicy } from '#shared/keyfactor/retry';
import { silentLogger, type Logger } from '#shared/logging';
import type { LicenseDocument } from '#shared/license/model';
import { LicenseService, type LicenseDeps } from '#shared/license/service';
import { createScanApi, type ScanDeps } from '#shared/scan/index';
import { createApiHandler } from '../../functions/api/handler.ts';
import { createAuthorizerHandler } from '../../functions/authorizer/handler.ts';
import { createCollectorHandler } from '../../functions/collector/handler.ts';
import { createExporterHandler } from '../../functions/exporter/handler.ts';
import { createLicenseJobHandler, type LicenseJobSummary } from '../../functions/license-job/handler.ts';
import { createPageWorkerHandler } from '../../functions/page-worker/handler.ts';
import { gateway } from './apigw.ts';
import { issueTestLicense, TEST_VENDOR_PUBLIC_KEY } from './license.ts';
import { createLocalCloud, type LocalCloud, type LocalCloudOptions } from './local-cloud.ts';

type SqsHandler = (event: SQSEvent) => Promise<SQSBatchResponse>;

export interface LocalDeploymentOptions extends LocalCloudOptions {
  /** Command client retries (tests shorten the delays so fault runs stay quick). */
  commandRetry?: Partial<RetryPolicy>;
  /** Invocations in flight per queue, as each mapping's MaximumConcurrency. */
  concurrency?: { collector?: number; pageHigh?: number; pageNormal?: number; exporter?: number };
  /** Page tasks per page-worker invocation (the mapping's BatchSize). */
  pageBatchSize?: number;
  /** Wraps a handler, e.g. to crash it mid-batch; receives the stage name. */
  wrap?: (stage: 'collector' | 'page-high' | 'page-normal' | 'exporter', handler: SqsHandler) => SqsHandler;
  /** Changes ScanDeps before the handlers are built (fault injection into a port). */
  adjustDeps?: (deps: ScanDeps) => ScanDeps;
  /**
   * The license installed before the first request (signed with the test vendor key, which this deployment trusts):
   * by default every feature for a year; null installs none, so feature-gated routes answer 403.
   */
  license?: Partial<LicenseDocument> | null;
  /** Changes LicenseDeps (e.g. a fixed clock) before the API and the license job are built. */
  adjustLicenseDeps?: (deps: LicenseDeps) => LicenseDeps;
  logger?: Logger;
}

export interface LocalDeployment {
  cloud: LocalCloud;
  deps: ScanDeps;
  /** A request through the gateway: authorizer, then the API handler. */
  call: ReturnType<typeof gateway>;
  adminToken: string;
  tokenFor(roles: Role[]): Promise<string>;
  emulator: SqsEventSourceEmulator;
  /** Moves messages through the functions until every queue is empty (or the timeout). */
  drive(options?: DriveOptions): Promise<DriveResult>;
  licenseDeps: LicenseDeps;
  /** Invokes the real license-job handler as the EventBridge rule does (the daily 02:00 UTC run). */
  runLicenseJob(): Promise<LicenseJobSummary>;
}

export async function startLocalDeployment(
  endpoint: string,
  options: LocalDeploymentOptions = {},
): Promise<LocalDeployment> {
  const cloud = await createLocalCloud(endpoint, options);
  // The SDK's default credential chain reads the process environment; moto accepts any keys.
  process.env.AWS_ACCESS_KEY_ID ??= 'test';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
  const logger = options.logger ?? silentLogger;
  const base = scanDepsFromEnv({ ...cloud.env }, { logger });
  const configured: ScanDeps = {
    ...base,
    commandClient: (settings) =>
      createCommandClient(settings, {
        pageSize: settings.pageSize,
        maxConcurrency: settings.maxConcurrency,
        logger,
        ...(options.commandRetry ? { retry: options.commandRetry } : {}),
      }),
  };
  const deps = options.adjustDeps ? options.adjustDeps(configured) : configured;

  const keyTables = { keys: `api-keys-${randomUUID()}`, audit: `api-audit-${randomUUID()}` };
  await createApiKeyTables(cloud.dynamo, keyTables);
  const store = new DynamoApiKeyStore(cloud.dynamo, keyTables.keys);
  const audit = new DynamoAuditLog(cloud.dynamo, keyTables.audit);
  // Cheap scrypt parameters for tests; verification reads the parameters stored with each hash.
  const hasher = new ScryptKeyHasher({ N: 1024 });
  const service = new ApiKeyService({ store, audit, hasher });
  const authenticator = new ApiKeyAuthenticator({ store, audit, hasher });
  // The deployed wiring, except that the test vendor key is trusted (code injection, as licenseDepsFromEnv allows).
  const licenseBase = licenseDepsFromEnv({ ...cloud.env }, { logger, trustedKeys: [TEST_VENDOR_PUBLIC_KEY] });
  const licenseDeps = options.adjustLicenseDeps ? options.adjustLicenseDeps(licenseBase) : licenseBase;
  const license = new LicenseService(licenseDeps);
  if (options.license !== null) {
    const now = licenseDeps.clock.now().getTime();
    const text = issueTestLicense({
      instanceId: cloud.instanceId,
      issuedAt: new Date(now - 86_400_000).toISOString(),
      expiresAt: new Date(now + 365 * 86_400_000).toISOString(),
      ...options.license,
    });
    await license.install(JSON.parse(text), 'local-driver');
  }
  const call = gateway(
    createAuthorizerHandler({ authenticator, logger }),
    createApiHandler({ service, scans: createScanApi(deps), license, logger }),
  );
  const licenseJob = createLicenseJobHandler(licenseDeps);
  const tokenFor = async (roles: Role[]) => (await service.create(null, { roles })).secret;

  const wrap = options.wrap ?? ((_stage, handler) => handler);
  const concurrency = options.concurrency ?? {};
  const mapping = (
    name: 'collector' | 'page-high' | 'page-normal' | 'exporter',
    queueUrl: string,
    handler: SqsHandler,
    batchSize: number,
    maxConcurrency: number,
  ): EventSourceMapping => ({ name, queueUrl, handler: wrap(name, handler), batchSize, maxConcurrency });
  const pageWorker = createPageWorkerHandler(deps);
  const emulator = new SqsEventSourceEmulator(cloud.sqs, [
    mapping('collector', cloud.queues.start.url, createCollectorHandler(deps), 1, concurrency.collector ?? 2),
    mapping(
      'page-high',
      cloud.queues.pageHigh.url,
      pageWorker,
      options.pageBatchSize ?? 1,
      concurrency.pageHigh ?? 2,
    ),
    mapping(
      'page-normal',
      cloud.queues.pageNormal.url,
      pageWorker,
      options.pageBatchSize ?? 1,
      concurrency.pageNormal ?? 4,
    ),
    mapping('exporter', cloud.queues.export.url, createExporterHandler(deps), 5, concurrency.exporter ?? 4),
  ]);
  return {
    cloud,
    deps,
    call,
    adminToken: await tokenFor(['Administrator']),
    tokenFor,
    emulator,
    drive: (driveOptions) => emulator.drive(driveOptions),
    licenseDeps,
    runLicenseJob: () =>
      licenseJob(
        {
          version: '0',
          id: randomUUID(),
          'detail-type': 'Scheduled Event',
          source: 'aws.events',
          account: '123456789012',
          time: licenseDeps.clock.now().toISOString(),
          region: cloud.aws.region,
          resources: ['arn:aws:events:us-east-1:123456789012:rule/ActionedCertificateCount'],
          detail: {},
        },
        {} as never,
      ),
  };
}
