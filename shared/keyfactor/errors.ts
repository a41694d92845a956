// Errors the Command client raises, each saying what the user should fix; none carries a credential.
import { SensorError } from '#shared/errors';

export interface CommandErrorDetails {
  method?: string;
  path?: string;
  status?: number;
  commandErrorCode?: string;
  commandMessage?: string;
}

export class CommandError extends SensorError {
  readonly details: CommandErrorDetails;
  /** Whether trying the same request again may succeed (network faults, 429, 5xx, garbled bodies). */
  readonly transient: boolean;

  constructor(
    message: string,
    details: CommandErrorDetails = {},
    options?: { cause?: unknown; transient?: boolean },
  ) {
    super(message, options);
    this.details = details;
    this.transient = options?.transient ?? false;
  }
}

/** 401: the credentials were refused. */
export class CommandAuthenticationError extends CommandError {}
/** 403: authenticated, but the account lacks a Command permission. */
export class CommandPermissionError extends CommandError {}
/** 404: wrong API URL or an unknown object. */
export class CommandNotFoundError extends CommandError {}
/** 400: Command rejected the request, usually the query filter; carries Command's own message. */
export class CommandBadRequestError extends CommandError {}
/** Network failure, 429 or 5xx that outlasted the retries. */
export class CommandUnavailableError extends CommandError {}
/** The TLS handshake failed verification; never retried. */
export class CommandTlsError extends CommandError {}
/** A 2xx response whose body is not what Command sends (not JSON, wrong shape). */
export class CommandResponseError extends CommandError {}
/** The OAuth2 token endpoint refused or failed. */
export class CommandTokenError extends CommandError {}
