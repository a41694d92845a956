// A real OAuth2 authorization server (oidc-provider) on loopback for client-credentials tests.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import Provider from 'oidc-provider';

export interface OidcClient {
  clientId: string;
  clientSecret: string;
  scope?: string;
}

export interface RunningOidcProvider {
  issuer: string;
  tokenUrl: string;
  jwksUri: string;
  introspectionUrl: string;
  /** The resource (audience) that JWT access tokens are issued for. */
  resource: string;
  close(): Promise<void>;
}

/** Starts oidc-provider issuing RS256 JWT access tokens (aud = resource) to client-credentials clients. */
export async function startOidcProvider(options: {
  clients: OidcClient[];
  resource?: string;
  accessTokenTtlSeconds?: number;
  scopes?: string[];
}): Promise<RunningOidcProvider> {
  const resource = options.resource ?? 'urn:keyfactor:command';
  const scopes = options.scopes ?? ['read', 'write', 'api'];
  // The issuer URL needs the port, which is only known after listen; bind first through a placeholder server.
  const { createServer } = await import('node:http');
  const placeholder = createServer();
  await new Promise<void>((resolve) => placeholder.listen(0, '127.0.0.1', resolve));
  const port = (placeholder.address() as AddressInfo).port;
  await new Promise<void>((resolve) => placeholder.close(() => resolve()));

  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: options.clients.map((c) => ({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: c.scope ?? scopes.join(' '),
    })),
    scopes,
    features: {
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      devInteractions: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resource,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: scopes.join(' '),
          audience: resource,
          accessTokenTTL: options.accessTokenTtlSeconds ?? 3600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
  });
  const server: Server = await new Promise((resolve) => {
    const s = provider.listen(port, '127.0.0.1', () => resolve(s));
  });
  return {
    issuer,
    tokenUrl: `${issuer}/token`,
    jwksUri: `${issuer}/jwks`,
    introspectionUrl: `${issuer}/token/introspection`,
    resource,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
