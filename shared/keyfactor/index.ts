// The Command client's public surface, and a factory from the sensor's plain auth settings.
import type { Logger } from '#shared/logging';
import { BasicAuth, OAuth2ClientCredentialsAuth, type CommandAuth } from './auth';
import { CommandClient, createTokenHttp, type CommandClientOptions } from './client';
import { CommandError } from './errors';
import { KerberosAuth, type KerberosSettings } from './kerberos';

export * from './auth';
export * from './client';
export * from './errors';
export * from './kerberos';
export * from './model';

/** Auth settings as the scan API and the YAML config name them (snake_case, as in the seed documents). */
export interface CommandConnectionSettings {
  url: string;
  username?: string | undefined;
  password?: string | undefined;
  token_url?: string | undefined;
  client_id?: string | undefined;
  client_secret?: string | undefined;
  scope?: string | undefined;
  audience?: string | undefined;
  /** Kerberos (SPNEGO); remote scans only. */
  kerberos?: KerberosSettings | undefined;
  ca_cert?: string | undefined;
  insecure_skip_tls_verify?: boolean | undefined;
}

const METHODS =
  'username/password (Basic), token_url/client_id/client_secret (OAuth2) or kerberos (upn with keytab or password)';

/** Picks the one complete auth method; two, or a half-filled one, is an error naming the missing fields. */
export function authFromSettings(
  settings: CommandConnectionSettings,
  options: { logger?: Logger } = {},
): CommandAuth {
  const basicFields = [settings.username, settings.password];
  const oauthFields = [settings.token_url, settings.client_id, settings.client_secret];
  const basicGiven = basicFields.some(Boolean);
  const oauthGiven = oauthFields.some(Boolean);
  const kerberosGiven = settings.kerberos !== undefined && settings.kerberos !== null;
  const given = [
    basicGiven && 'username/password (Basic)',
    oauthGiven && 'token_url/client_id/client_secret (OAuth2)',
    kerberosGiven && 'kerberos',
  ].filter((m): m is string => Boolean(m));
  if (given.length > 1) {
    throw new CommandError(
      given.length === 2 && !kerberosGiven
        ? 'Give either username/password (Basic) or token_url/client_id/client_secret (OAuth2), not both'
        : `Give exactly one of ${METHODS}; got ${given.join(' and ')}`,
    );
  }
  if (kerberosGiven) {
    return new KerberosAuth(settings.kerberos ?? { upn: '' }, {
      commandUrl: settings.url,
      ...(options.logger ? { logger: options.logger } : {}),
    });
  }
  if (oauthGiven) {
    const missing = (['token_url', 'client_id', 'client_secret'] as const).filter((k) => !settings[k]);
    if (missing.length > 0)
      throw new CommandError(`OAuth2 settings are incomplete: missing ${missing.join(', ')}`);
    return new OAuth2ClientCredentialsAuth(
      {
        tokenUrl: settings.token_url ?? '',
        clientId: settings.client_id ?? '',
        clientSecret: settings.client_secret ?? '',
        scope: settings.scope,
        audience: settings.audience,
      },
      createTokenHttp({ caCert: settings.ca_cert }),
    );
  }
  if (basicGiven) {
    const missing = (['username', 'password'] as const).filter((k) => !settings[k]);
    if (missing.length > 0)
      throw new CommandError(`Basic auth settings are incomplete: missing ${missing.join(', ')}`);
    return new BasicAuth(settings.username ?? '', settings.password ?? '');
  }
  throw new CommandError(`No Command credentials: give ${METHODS}`);
}

export function createCommandClient(
  settings: CommandConnectionSettings,
  options: Omit<CommandClientOptions, 'baseUrl' | 'auth' | 'caCert' | 'insecureSkipTlsVerify'> & {
    logger?: Logger;
  } = {},
): CommandClient {
  return new CommandClient({
    ...options,
    baseUrl: settings.url,
    auth: authFromSettings(settings, options.logger ? { logger: options.logger } : {}),
    caCert: settings.ca_cert,
    insecureSkipTlsVerify: settings.insecure_skip_tls_verify ?? false,
  });
}
