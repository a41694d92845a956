// The real esbuild bundles that `cdk synth` deploys: they build offline and the API bundle serves a request.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../infra/constructs/sensor-function.ts';
import { buildSensorApp, type SensorApp } from '../../../infra/sensor-app.ts';

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
  }, 60_000);

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
    const { apiFunction, authorizerFunction, bootstrapFunction } = sensor.stateless;
    for (const fn of [apiFunction, authorizerFunction, bootstrapFunction]) {
      const dir = bundleOf(fn);
      expect(existsSync(path.join(dir, 'index.mjs')), dir).toBe(true);
      expect(existsSync(path.join(dir, 'index.mjs.map')), dir).toBe(true);
    }
  });

  it('serves GET /v3/openapi.json from the bundled API handler with the deployed environment', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { API_KEYS_TABLE_NAME: 'keys', API_KEYS_AUDIT_TABLE_NAME: 'audit' });
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
      expect(JSON.parse(result.body)).toMatchObject({ openapi: expect.stringMatching(/^3\./) as unknown });
    } finally {
      process.env = saved;
    }
  });
});
