// The bridge to shared/keyfactor: the typed keyfactor plugin config as the client's connection settings.
import type { CommandConnectionSettings } from '#shared/keyfactor/index';
import type { KeyfactorPluginConfig } from './types';

/** What shared/scan's commandClient dependency takes: connection settings plus paging and concurrency. */
export type RemoteConnectionSettings = CommandConnectionSettings & {
  pageSize: number;
  maxConcurrency: number;
};

export function commandConnectionSettings(config: KeyfactorPluginConfig): RemoteConnectionSettings {
  const base = {
    url: config.url,
    ca_cert: config.caCert?.pem,
    insecure_skip_tls_verify: config.insecureSkipTlsVerify,
    pageSize: config.pageSize,
    maxConcurrency: config.concurrency,
  };
  const auth = config.auth;
  switch (auth.method) {
    case 'basic':
      return { ...base, username: auth.username, password: auth.password };
    case 'oauth2':
      return {
        ...base,
        token_url: auth.tokenUrl,
        client_id: auth.clientId,
        client_secret: auth.clientSecret,
        scope: auth.scope,
        audience: auth.audience ?? undefined,
      };
    case 'kerberos':
      return {
        ...base,
        kerberos: {
          upn: auth.upn,
          keytab: auth.keytab ?? undefined,
          password: auth.password ?? undefined,
          spn: auth.spn,
          realm: auth.realm ?? undefined,
          krb5_conf: auth.krb5Conf,
        },
      };
  }
}
