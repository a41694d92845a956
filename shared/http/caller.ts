// The caller as the Lambda authorizer described it: parsed at the trust boundary, never cast.
import { z } from 'zod';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { UnauthorizedError } from './errors.ts';

export interface Caller {
  keyId: string;
  permissions: ReadonlySet<string>;
}

/** API Gateway passes authorizer context values as strings; permissions travel comma-separated. */
const AuthorizerContextSchema = z.object({
  keyId: z.string().min(1),
  permissions: z.string(),
});

/** The authenticated caller, or 401 when the authorizer context is missing or malformed (fail closed). */
export function callerOf(event: Pick<APIGatewayProxyEvent, 'requestContext'>): Caller {
  const parsed = AuthorizerContextSchema.safeParse(event.requestContext?.authorizer);
  if (!parsed.success) throw new UnauthorizedError();
  const permissions = new Set(
    parsed.data.permissions
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p.length > 0),
  );
  return { keyId: parsed.data.keyId, permissions };
}

/** The authorizer context for a caller: the inverse of callerOf. */
export function authorizerContextOf(keyId: string, permissions: Iterable<string>): Record<string, string> {
  return { keyId, permissions: [...permissions].join(',') };
}
