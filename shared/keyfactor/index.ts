// The Command client's public surface, and a factory from the sensor's plain auth settings.
import type { Logger } from '#shared/logging';
import { BasicAuth, OAuth2ClientCredentialsAuth, type CommandAuth } from './auth';
import { CommandClient, createTokenHttp, type CommandClientOptions } from './client';
import { CommandError } from './errors';

export * from './auth';
export * from './client';
export * from './errors';
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
  ca_cert?: string | undefined;
  insecure_skip_tls_verify?: boolean | undefined;
}

/** Picks the one complete auth method; two, or a half-filled one, is an error naming the missing fields. */
export function authFromSettings(settings: CommandConnectionSettings): CommandAuth {
  const basicFields = [settings.username, settings.password];
  const oauthFields = [settings.token_url, settings.client_id, settings.client_secret];
  const basicGiven = basicFields.some(Boolean);
  const oauthGiven = oauthFields.some(Boolean);
  if (basicGiven && oauthGiven) {
    throw new CommandError(
      'Give either username/password (Basic) or token_url/client_id/client_secret (OAuth2), not both',
    );
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
  throw new CommandError(
    'No Command credentials: give username/password (Basic) or token_url/client_id/client_secret (OAuth2)',
  );
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
    auth: authFromSettings(settings),
    caCert: settings.ca_cert,
    insecureSkipTlsVerify: settings.insecure_skip_tls_verify ?? false,
  });
}
