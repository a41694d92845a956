// Lambda authorizer (API Gateway REST, type REQUEST): checks the isg-api-token header and hands the caller to the API.
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent, Context } from 'aws-lambda';
import { ApiKeyAuthenticator } from '#shared/apikeys/index';
import { apiConfigFromEnv, dynamoBackendFromEnv } from '#shared/api/config';
import { API_KEY_HEADER } from '#shared/api/routes';
import { authorizerContextOf } from '#shared/http/caller';
import { headerOf } from '#shared/http/request';
import { jsonLogger, type Logger } from '#shared/logging';

export type AuthorizerHandler = (
  event: APIGatewayRequestAuthorizerEvent,
  context: Context,
) => Promise<APIGatewayAuthorizerResult>;

export interface AuthorizerDeps {
  authenticator: Pick<ApiKeyAuthenticator, 'authenticate'>;
  logger?: Logger;
}

/**
 * The policy covers every method and path of the stage, not just the one called: API Gateway may cache the
 * result per token and reuse it for other routes. Per-route permissions are checked by the API from the context.
 */
function stageWildcard(methodArn: string): string {
  const [arnPrefix, apiPath] = methodArn.split(':execute-api:');
  const [region, account, rest] = (apiPath ?? '').split(':');
  const [apiId, stage] = (rest ?? '').split('/');
  if (!arnPrefix || !region || !account || !apiId || !stage) return methodArn;
  return `${arnPrefix}:execute-api:${region}:${account}:${apiId}/${stage}/*/*`;
}

/**
 * Every refusal (missing, malformed, unknown, wrong secret, locked) throws `Unauthorized`, which API Gateway turns
 * into 401 without calling the API; a Deny policy would be a 403 and tell a caller more than it needs to know.
 */
export function createAuthorizerHandler(deps: AuthorizerDeps): AuthorizerHandler {
  const logger = deps.logger ?? jsonLogger({ service: 'authorizer' });
  return async (event) => {
    const requestId = event.requestContext?.requestId;
    const decision = await deps.authenticator.authenticate(headerOf(event.headers, API_KEY_HEADER));
    if (!decision.ok) {
      logger.info('authentication refused', { requestId, reason: decision.reason });
      throw new Error('Unauthorized');
    }
    return {
      principalId: decision.keyId,
      policyDocument: {
        Version: '2012-10-17',
        Statement: [
          { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: stageWildcard(event.methodArn) },
        ],
      },
      context: authorizerContextOf(decision.keyId, decision.permissions),
    };
  };
}

function handlerFromEnv(): AuthorizerHandler {
  const config = apiConfigFromEnv();
  const authenticator = new ApiKeyAuthenticator(dynamoBackendFromEnv(config));
  return createAuthorizerHandler({
    authenticator,
    logger: jsonLogger({ service: 'authorizer', level: config.LOG_LEVEL }),
  });
}

let fromEnv: AuthorizerHandler | undefined;

/** The deployed entry point, built once per container on its first invocation (see functions/api/handler.ts). */
export const handler: AuthorizerHandler = (event, context) => (fromEnv ??= handlerFromEnv())(event, context);
