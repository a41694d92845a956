// API Gateway REST event factories, a gateway that runs a REQUEST authorizer before the proxy handler as AWS does, and a moto-backed stack.
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  APIGatewayRequestAuthorizerEvent,
  Context,
} from 'aws-lambda';
import { createApiKeyTables, DynamoApiKeyStore, DynamoAuditLog } from '#shared/adapters/aws/apikey-store';
import { localAwsClientConfig } from '#shared/adapters/aws/client-config';
import { ApiKeyAuthenticator, ApiKeyService, ScryptKeyHasher, type Role } from '#shared/apikeys/index';
import { silentLogger } from '#shared/logging';
import { createApiHandler } from '../../functions/api/handler.ts';
import { createAuthorizerHandler } from '../../functions/authorizer/handler.ts';

const ACCOUNT = '123456789012';
const API_ID = 'abcdef1234';
const STAGE = 'v3';
let counter = 0;

export function nextRequestId(): string {
  counter++;
  return `req-${process.pid}-${counter}`;
}

export function methodArn(method: string, path: string): string {
  return `arn:aws:execute-api:us-east-1:${ACCOUNT}:${API_ID}/${STAGE}/${method}${path}`;
}

export interface ProxyRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  /** A value to send as JSON (content-type set unless headers say otherwise), or a raw string body. */
  json?: unknown;
  rawBody?: string;
  authorizer?: Record<string, string | number | boolean> | null;
  requestId?: string;
}

export function proxyEvent(request: ProxyRequest): APIGatewayProxyEvent {
  const requestId = request.requestId ?? nextRequestId();
  const headers: Record<string, string> = { ...(request.headers ?? {}) };
  let body: string | null = null;
  if (request.rawBody !== undefined) body = request.rawBody;
  else if (request.json !== undefined) {
    body = JSON.stringify(request.json);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
      headers['Content-Type'] = 'application/json';
  }
  return {
    resource: '/{proxy+}',
    path: request.path,
    httpMethod: request.method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: request.query ?? null,
    multiValueQueryStringParameters: request.query
      ? Object.fromEntries(Object.entries(request.query).map(([k, v]) => [k, [v]]))
      : null,
    pathParameters: { proxy: request.path.replace(/^\//, '') },
    stageVariables: null,
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: ACCOUNT,
      apiId: API_ID,
      authorizer: request.authorizer ?? null,
      protocol: 'HTTP/1.1',
      httpMethod: request.method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: '192.0.2.10',
        user: null,
        userAgent: 'vitest',
        userArn: null,
      },
      path: `/${STAGE}${request.path}`,
      stage: STAGE,
      requestId,
      requestTimeEpoch: Date.now(),
      resourceId: 'res123',
      resourcePath: '/{proxy+}',
    },
  };
}

export function authorizerEvent(request: {
  method: string;
  path: string;
  headers?: Record<string, string>;
  requestId?: string;
}): APIGatewayRequestAuthorizerEvent {
  const headers = request.headers ?? {};
  return {
    type: 'REQUEST',
    methodArn: methodArn(request.method, request.path),
    resource: '/{proxy+}',
    path: request.path,
    httpMethod: request.method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    pathParameters: { proxy: request.path.replace(/^\//, '') },
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    requestContext: proxyEvent({ method: request.method, path: request.path, requestId: request.requestId })
      .requestContext as APIGatewayRequestAuthorizerEvent['requestContext'],
  };
}

export function lambdaContext(): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'test',
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:test`,
    memoryLimitInMB: '256',
    awsRequestId: 'lambda-req',
    logGroupName: '/aws/lambda/test',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function arnMatches(pattern: string, arn: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
      .join('.*')}$`,
  );
  return re.test(arn);
}

/** Whether an IAM policy from an authorizer allows invoking `arn` (explicit Deny wins, as in IAM). */
export function policyAllows(result: APIGatewayAuthorizerResult, arn: string): boolean {
  let allowed = false;
  for (const statement of result.policyDocument.Statement) {
    const resources: (string | undefined)[] = 'Resource' in statement ? [statement.Resource].flat() : [];
    if (!resources.some((r) => r !== undefined && arnMatches(r, arn))) continue;
    if (statement.Effect === 'Deny') return false;
    if (statement.Effect === 'Allow') allowed = true;
  }
  return allowed;
}

export type AuthorizerFn = (
  event: APIGatewayRequestAuthorizerEvent,
  context: Context,
) => Promise<APIGatewayAuthorizerResult>;
export type ProxyFn = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export interface GatewayResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/**
 * Emulates API Gateway with a REQUEST authorizer: a thrown `Unauthorized` is 401, a policy that does not allow the
 * method ARN is 403, otherwise the proxy handler runs with the authorizer context (values stringified, as AWS does).
 */
export function gateway(authorizer: AuthorizerFn, api: ProxyFn) {
  return async (request: Omit<ProxyRequest, 'authorizer'> & { token?: string }): Promise<GatewayResponse> => {
    const headers = { ...(request.headers ?? {}) };
    if (request.token !== undefined) headers['isg-api-token'] = request.token;
    const requestId = request.requestId ?? nextRequestId();
    let auth: APIGatewayAuthorizerResult;
    try {
      auth = await authorizer(
        authorizerEvent({ method: request.method, path: request.path, headers, requestId }),
        lambdaContext(),
      );
    } catch (error) {
      if (error instanceof Error && error.message === 'Unauthorized') {
        return { status: 401, headers: {}, body: { message: 'Unauthorized' } };
      }
      return { status: 500, headers: {}, body: { message: null } };
    }
    if (!policyAllows(auth, methodArn(request.method, request.path))) {
      return {
        status: 403,
        headers: {},
        body: { message: 'User is not authorized to access this resource' },
      };
    }
    const context = Object.fromEntries(Object.entries(auth.context ?? {}).map(([k, v]) => [k, String(v)]));
    const result = await api(
      proxyEvent({
        ...request,
        headers,
        requestId,
        authorizer: { ...context, principalId: auth.principalId },
      }),
      lambdaContext(),
    );
    return parseResult(result);
  };
}

export function parseResult(result: APIGatewayProxyResult): GatewayResponse {
  const headers = Object.fromEntries(
    Object.entries(result.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]),
  );
  return {
    status: result.statusCode,
    headers,
    // JSON bodies parsed; others (the usage log's XML) as the text API Gateway would send.
    body: !result.body
      ? undefined
      : (headers['content-type'] ?? 'application/json').includes('json')
        ? (JSON.parse(result.body) as unknown)
        : result.body,
  };
}

// ---- A full stack for integration tests: DynamoDB tables on moto, the real authorizer and API handlers, a fake clock.

export interface ApiStack {
  call: ReturnType<typeof gateway>;
  service: ApiKeyService;
  clock: { now(): number; advance(ms: number): void };
  /** A token for a fresh key holding `roles`, created directly through the service. */
  tokenFor(
    roles: Role[],
    options?: { keyId?: string; reauthenticationTimeoutSeconds?: number },
  ): Promise<string>;
  adminToken: string;
}

export async function apiStack(awsEndpoint: string): Promise<ApiStack> {
  const dynamo = new DynamoDBClient(localAwsClientConfig(awsEndpoint));
  const names = { keys: `api-keys-${randomUUID()}`, audit: `api-audit-${randomUUID()}` };
  await createApiKeyTables(dynamo, names);
  const store = new DynamoApiKeyStore(dynamo, names.keys);
  const audit = new DynamoAuditLog(dynamo, names.audit);
  let now = Date.parse('2026-01-05T09:00:00Z');
  const clock = { now: () => now, advance: (ms: number) => void (now += ms) };
  // Cheap scrypt for tests; verification reads the parameters stored with each hash.
  const hasher = new ScryptKeyHasher({ N: 1024 });
  const service = new ApiKeyService({ store, audit, hasher, clock: () => new Date(now) });
  const authenticator = new ApiKeyAuthenticator({ store, audit, hasher, clock: () => now });
  const call = gateway(
    createAuthorizerHandler({ authenticator, logger: silentLogger }),
    createApiHandler({ service, logger: silentLogger }),
  );
  const tokenFor: ApiStack['tokenFor'] = async (roles, options = {}) =>
    (await service.create(null, { roles, ...options })).secret;
  return { call, service, clock, tokenFor, adminToken: await tokenFor(['Administrator']) };
}
