// API Lambda (API Gateway REST proxy): the /v3 routes over the API-key service; the caller comes from the authorizer.
import { ApiKeyService } from '#shared/apikeys/index';
import {
  apiConfigFromEnv,
  dynamoBackendFromEnv,
  licenseServiceFromEnv,
  scanApiFromEnv,
} from '#shared/api/config';
import { classifyLicenseError } from '#shared/api/license-routes';
import { classifyApiKeyError, createApiRoutes } from '#shared/api/routes';
import { classifyScanError } from '#shared/api/scan-routes';
import { callerOf } from '#shared/http/caller';
import { createHttpHandler, type HttpHandler } from '#shared/http/lambda';
import { DEFAULT_BODY_LIMIT_BYTES } from '#shared/http/request';
import { createRouter } from '#shared/http/router';
import type { LicenseService } from '#shared/license/service';
import { jsonLogger, type Logger } from '#shared/logging';
import type { ScanApi } from '#shared/scan/ports';

export interface ApiHandlerDeps {
  service: ApiKeyService;
  /** The scan core; without it the scan and schedule routes are not served. */
  scans?: ScanApi;
  /** Licensing; without it the license routes are not served and no route is feature-gated. */
  license?: LicenseService;
  logger?: Logger;
  bodyLimitBytes?: number;
}

export function createApiHandler(deps: ApiHandlerDeps): HttpHandler {
  const logger = deps.logger ?? jsonLogger({ service: 'api' });
  const license = deps.license;
  const router = createRouter(createApiRoutes(deps.service, undefined, deps.scans, license), {
    caller: callerOf,
    bodyLimitBytes: deps.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
    ...(license ? { featureGate: (feature) => license.checkFeature(feature) } : {}),
  });
  return createHttpHandler({
    router,
    logger,
    classify: (error) =>
      classifyApiKeyError(error) ?? classifyScanError(error) ?? classifyLicenseError(error),
  });
}

function handlerFromEnv(): HttpHandler {
  const config = apiConfigFromEnv();
  const service = new ApiKeyService(dynamoBackendFromEnv(config));
  const logger = jsonLogger({ service: 'api', level: config.LOG_LEVEL });
  const scans = scanApiFromEnv(logger);
  if (!scans) logger.warn('scan routes disabled: SCANS_TABLE_NAME is not set');
  const license = licenseServiceFromEnv(logger);
  if (!license) logger.warn('license routes and feature gates disabled: LICENSE_TABLE_NAME is not set');
  return createApiHandler({ service, scans, license, logger });
}

let fromEnv: HttpHandler | undefined;

/**
 * The deployed entry point. Built on the first invocation of a container (its cold start) and reused after, so
 * config is validated and SDK clients created once; importing this module for createApiHandler reads no env.
 */
export const handler: HttpHandler = (event, context) => (fromEnv ??= handlerFromEnv())(event, context);
