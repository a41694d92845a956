// The real esbuild bundles that `cdk synth` deploys: they build offline and the API bundle serves a request.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../infra/constructs/sensor-function.ts';
import { buildSensorApp, type SensorApp } from '../../../infra/sensor-app.ts';
import { LICENSE_ENV } from '#shared/adapters/aws/license-deps';
import { SCAN_ENV, type ScanEnvName } from '#shared/adapters/aws/scan-deps';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';

/** Values of the shape the stacks pass (names, URLs, ARNs), for loading bundles outside AWS. */
const SCAN_ENVIRONMENT: Record<ScanEnvName, string> = {
  [SCAN_ENV.scansTable]: 'scans',
  [SCAN_ENV.findingsTable]: 'findings',
  [SCAN_ENV.outboxTable]: 'outbox',
  [SCAN_ENV.startQueueUrl]: 'https://sqs.us-east-1.amazonaws.com/123456789012/start',
  [SCAN_ENV.startQueueArn]: 'arn:aws:sqs:us-east-1:123456789012:start',
  [SCAN_ENV.pageHighQueueUrl]: 'https://sqs.us-east-1.amazonaws.com/123456789012/page-high',
  [SCAN_ENV.pageNormalQueueUrl]: 'https://sqs.us-east-1.amazonaws.com/123456789012/page-normal',
  [SCAN_ENV.exportQueueUrl]: 'https://sqs.us-east-1.amazonaws.com/123456789012/export',
  [SCAN_ENV.eventBusName]: 'scan-events',
  [SCAN_ENV.scheduleGroup]: 'scan-schedules',
  [SCAN_ENV.schedulerRoleArn]: 'arn:aws:iam::123456789012:role/scheduler',
  [SCAN_ENV.ingestionUrl]: '',
  [SCAN_ENV.ingestionTokenSecretArn]: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:token-AbCdEf',
  [SCAN_ENV.secretPrefix]: 'keyfactor-command-sensor',
  [SCAN_ENV.ranBy]: 'KfSensorStateless',
  [SCAN_ENV.logLevel]: 'error',
  [SCAN_ENV.pageMaxAttempts]: '3',
  [SCAN_ENV.exportMaxAttempts]: '5',
};

const LICENSE_ENVIRONMENT: Record<string, string> = {
  [LICENSE_ENV.licenseTable]: 'license',
  [LICENSE_ENV.instanceId]: 'aws:123456789012:us-east-1:KfSensorStateful',
  [LICENSE_ENV.instanceKeySecretArn]:
    'arn:aws:secretsmanager:us-east-1:123456789012:secret:instance-key-AbCdEf',
  [LICENSE_ENV.excludedMetadataFields]: 'Retired',
  [LICENSE_ENV.deployment]: 'KfSensorStateless',
};

type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

describe('esbuild bundles (one bundled synthesis)', () => {
  // Inside the repository, so a bundle's external imports (the AWS SDK, provided by the Lambda runtime) resolve
  // from node_modules as they would from the runtime's.
  const parent = path.join(REPO_ROOT, '.cache');
  let outdir: string;
  let sensor: SensorApp;

  beforeAll(() => {
    mkdirSync(parent, { recursive: true });
    outdir = mkdtempSync(path.join(parent, 'cdk-bundle-test-'));
    // The CLI turns asset metadata on; it records where each bundle was staged.
    sensor = buildSensorApp({ appProps: { outdir, context: { 'aws:cdk:enable-asset-metadata': true } } });
    sensor.app.synth();
  }, 240_000);

  afterAll(() => {
    rmSync(outdir, { recursive: true, force: true });
  });

  function bundleOf(fn: SensorApp['stateless']['apiFunction']): string {
    const logicalId = sensor.stateless.getLogicalId(fn.function.node.defaultChild as never);
    const resource = Template.fromStack(sensor.stateless).toJSON() as {
      Resources: Record<string, { Metadata?: Record<string, string> }>;
    };
    const assetPath = resource.Resources[logicalId]?.Metadata?.['aws:asset:path'];
    if (!assetPath) throw new Error(`no asset path for ${logicalId}`);
    return path.join(outdir, assetPath);
  }

  it('bundles each function as ESM with an external source map', () => {
    const s = sensor.stateless;
    for (const fn of [
      s.apiFunction,
      s.authorizerFunction,
      s.bootstrapFunction,
      s.collectorFunction,
      s.pageWorkerFunction,
      s.exporterFunction,
      s.licenseJobFunction,
    ]) {
      const dir = bundleOf(fn);
      expect(existsSync(path.join(dir, 'index.mjs')), dir).toBe(true);
      expect(existsSync(path.join(dir, 'index.mjs.map')), dir).toBe(true);
    }
  });

  it('serves GET /v3/openapi.json from the bundled API handler with the deployed environment', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      API_KEYS_TABLE_NAME: 'keys',
      API_KEYS_AUDIT_TABLE_NAME: 'audit',
      ...SCAN_ENVIRONMENT,
      ...LICENSE_ENVIRONMENT,
    });
    try {
      const mod = (await import(
        pathToFileURL(path.join(bundleOf(sensor.stateless.apiFunction), 'index.mjs')).href
      )) as {
        handler: ProxyHandler;
      };
      const event = {
        resource: '/v3/{proxy+}',
        path: '/v3/openapi.json',
        httpMethod: 'GET',
        headers: {},
        multiValueHeaders: {},
        queryStringParameters: null,
        multiValueQueryStringParameters: null,
        pathParameters: { proxy: 'openapi.json' },
        stageVariables: null,
        body: null,
        isBase64Encoded: false,
        requestContext: {
          requestId: 'bundle-test',
          stage: 'prod',
          path: '/prod/v3/openapi.json',
          authorizer: { keyId: 'k1', permissions: 'apikeys:read' },
        },
      } as unknown as APIGatewayProxyEvent;
      const context = { awsRequestId: 'bundle-test', getRemainingTimeInMillis: () => 10_000 } as Context;

      const result = await mod.handler(event, context);

      expect(result.statusCode).toBe(200);
      const document = JSON.parse(result.body) as { openapi: string; paths: Record<string, unknown> };
      expect(document.openapi).toMatch(/^3\./);
      // Licensing is on in the deployed bundle (xml-crypto and xmldom bundled into ESM).
      expect(Object.keys(document.paths)).toEqual(
        expect.arrayContaining(['/v3/license', '/v3/license/usage-log', '/v3/alerts']),
      );
    } finally {
      process.env = saved;
    }
  });

  it('loads each bundled scan handler with the deployed environment and fails a malformed record alone', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, SCAN_ENVIRONMENT);
    try {
      const s = sensor.stateless;
      for (const fn of [s.collectorFunction, s.pageWorkerFunction, s.exporterFunction]) {
        const mod = (await import(pathToFileURL(path.join(bundleOf(fn), 'index.mjs')).href)) as {
          handler: (event: SQSEvent) => Promise<SQSBatchResponse>;
        };
        // Parsing fails before any AWS call, so this runs offline; the reply names exactly the bad message.
        const event = {
          Records: [
            { messageId: 'm-1', body: '{"type":"nonsense"}', attributes: { ApproximateReceiveCount: '1' } },
          ],
        } as unknown as SQSEvent;
        expect(await mod.handler(event)).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
      }
    } finally {
      process.env = saved;
    }
  });

  it('loads the bundled license job, which names a missing variable before any AWS call', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, SCAN_ENVIRONMENT, LICENSE_ENVIRONMENT);
    delete process.env[LICENSE_ENV.licenseTable];
    try {
      const mod = (await import(
        pathToFileURL(path.join(bundleOf(sensor.stateless.licenseJobFunction), 'index.mjs')).href
      )) as { handler: (event: unknown, context: unknown) => Promise<unknown> };
      // The cold start builds the deps from the environment; Lambda reports a throw and a rejection alike.
      await expect(
        (async () => mod.handler({ id: 'e-1', time: '2026-01-01T02:00:00Z' }, {}))(),
      ).rejects.toThrow(/LICENSE_TABLE_NAME is required/);
    } finally {
      process.env = saved;
    }
  });
});
