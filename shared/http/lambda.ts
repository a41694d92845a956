// A middy-wrapped API Gateway REST proxy handler around a router, with the one error mapper as its onError middleware.
import middy from '@middy/core';
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { Logger } from '#shared/logging';
import { errorResponse, type ErrorClassifier } from './errors.ts';
import { jsonResponse, requestIdOf } from './request.ts';
import type { Router } from './router.ts';

/**
 * Maps any error to a response: 4xx with its message, everything else a plain 500 whose details go only to the log.
 * This is the only place errors become HTTP.
 */
export function httpErrorMapper(
  logger: Logger,
  classify?: ErrorClassifier,
): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  return {
    onError: (request) => {
      const requestId = requestIdOf(request.event);
      const { status, body, headers } = errorResponse(request.error, requestId, classify);
      const error = request.error;
      if (status >= 500) {
        logger.error('request failed', {
          requestId,
          error:
            error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : error,
        });
      } else {
        logger.info('request rejected', { requestId, status, message: body.message });
      }
      request.response = jsonResponse(status, body, requestId, headers);
    },
  };
}

export type HttpHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export function createHttpHandler(options: {
  router: Router;
  logger: Logger;
  classify?: ErrorClassifier;
}): HttpHandler {
  const { router, logger } = options;
  const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>().handler(async (event) => {
    const requestId = requestIdOf(event);
    const response = await router.handle(event, requestId);
    logger.info('request served', {
      requestId,
      method: event.httpMethod,
      path: event.path,
      status: response.statusCode,
    });
    return response;
  });
  handler.use(httpErrorMapper(logger, options.classify));
  return (event, context) => handler(event, context);
}
