// The Command client against the simulator over real HTTP: Basic, OAuth2 (oidc-provider), every fault, TLS.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  BasicAuth,
  CommandAuthenticationError,
  CommandBadRequestError,
  CommandClient,
  CommandNotFoundError,
  CommandPermissionError,
  CommandResponseError,
  CommandTlsError,
  CommandTokenError,
  CommandUnavailableError,
  OAuth2ClientCredentialsAuth,
  createCommandClient,
  createTokenHttp,
  type CommandCertificate,
} from '#shared/keyfactor/index';
import { recordingLogger } from '#test/support/logging';
import { generateInventory } from '#shared/simulator/generator/index';
import { startSimulator, type RunningSimulator } from '#shared/simulator/server';
import { startOidcProvider, type RunningOidcProvider } from '#test/support/oidc';

const NOW = new Date('2026-01-01T00:00:00Z');
const inventory = generateInventory({ seed: 42, count: 250, now: NOW });
const FAST_RETRY = { baseDelayMs: 5, maxDelayMs: 40 };
const USER = { username: 'alice', password: 'correct horse', domain: 'CORP' };

async function collect(client: CommandClient, pageSize = 40): Promise<CommandCertificate[]> {
  const all: CommandCertificate[] = [];
  for await (const cert of client.certificates({ pageSize })) all.push(cert);
  return all;
}

describe('CommandClient with Basic auth', () => {
  let sim: RunningSimulator;
  const basicClient = (overrides: Partial<ConstructorParameters<typeof CommandClient>[0]> = {}) =>
    new CommandClient({
      baseUrl: sim.url,
      auth: new BasicAuth(`${USER.domain}\\${USER.username}`, USER.password),
      retry: FAST_RETRY,
      ...overrides,
    });

  beforeAll(async () => {
    sim = await startSimulator({
      certificates: inventory,
      now: () => NOW,
      auth: { basic: [USER, { username: 'reader', password: 'pw', canReadCertificates: false }] },
    });
  });
  afterAll(() => sim.close());
  afterEach(() => {
    sim.faults.clear();
    sim.requestLog.clear();
  });

  it('pages through the whole inventory, revoked and expired included, each certificate once', async () => {
    const certs = await collect(basicClient());
    expect(certs).toHaveLength(inventory.length);
    expect(new Set(certs.map((c) => c.Id)).size).toBe(inventory.length);
    expect(certs.map((c) => c.Id)).toEqual([...inventory.map((c) => c.Id)].sort((a, b) => a - b));
    expect(certs.some((c) => c.CertState === 2)).toBe(true);
    expect(certs.some((c) => Date.parse(c.NotAfter) < NOW.getTime())).toBe(true);
    const pages = sim.requestLog.certificatePages();
    expect(pages).toHaveLength(Math.ceil(inventory.length / 40));
    expect(pages.map((p) => p.params?.pageReturned)).toEqual(pages.map((_, i) => i + 1));
    for (const page of pages) {
      expect(page.params).toMatchObject({
        returnLimit: 40,
        sortField: 'Id',
        includeRevoked: true,
        includeExpired: true,
        includeLocations: true,
        includeMetadata: true,
        includeHasPrivateKey: true,
      });
      expect(page.principal).toContain('alice');
    }
  });

  it('sends the query filter and returns only what it selects', async () => {
    const client = basicClient();
    const certs: CommandCertificate[] = [];
    for await (const cert of client.certificates({ query: 'KeySizeInBits -lt 2048', pageSize: 1000 }))
      certs.push(cert);
    const expected = inventory.filter((c) => c.KeySizeInBits < 2048);
    expect(expected.length).toBeGreaterThan(0);
    expect(certs.map((c) => c.Id)).toEqual(expected.map((c) => c.Id));
    expect(sim.requestLog.certificatePages()[0]?.params?.queryString).toBe('KeySizeInBits -lt 2048');
  });

  it('speaks the v10 pq.-prefixed parameter names too', async () => {
    const certs = await collect(basicClient({ paramStyle: 'v10' }), 100);
    expect(certs).toHaveLength(inventory.length);
    expect(sim.requestLog.certificatePages()[0]?.rawQuery).toContain('pq.pageReturned=1');
  });

  it('stops at the last page without asking for one past the end when x-total-count says so', async () => {
    await collect(basicClient(), 50);
    expect(sim.requestLog.certificatePages()).toHaveLength(5);
  });

  it('verifies the connection through /Status/Endpoints and reads the product version', async () => {
    const status = await basicClient().verifyConnection();
    expect(status.endpoints.length).toBeGreaterThan(0);
    expect(status.productVersion).toMatch(/^\d+\.\d+/);
  });

  it('reads one certificate by id with every include flag', async () => {
    const wanted = inventory.find((c) => (c.Locations ?? []).length > 0);
    expect(wanted).toBeDefined();
    const cert = await basicClient().getCertificate(wanted?.Id ?? -1);
    expect(cert.Thumbprint).toBe(wanted?.Thumbprint);
    expect(cert.Locations).toEqual(wanted?.Locations);
  });

  it('refuses a wrong password at once with an error naming the user and not the password', async () => {
    const client = new CommandClient({ baseUrl: sim.url, auth: new BasicAuth('CORP\\alice', 'wrong-pw') });
    const error = await client.verifyConnection().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandAuthenticationError);
    expect((error as Error).message).toContain('CORP\\alice');
    expect((error as Error).message).not.toContain('wrong-pw');
    expect(sim.requestLog.entries()).toHaveLength(1);
  });

  it('accepts the user@domain form of the same account', async () => {
    const client = new CommandClient({ baseUrl: sim.url, auth: new BasicAuth('alice@CORP', USER.password) });
    await expect(client.verifyConnection()).resolves.toBeDefined();
  });

  it('reports a missing permission as 403 with what to grant', async () => {
    const client = new CommandClient({ baseUrl: sim.url, auth: new BasicAuth('reader', 'pw') });
    const error = await client.getCertificatePage(1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandPermissionError);
    expect((error as Error).message).toMatch(/certificate read permission/);
  });

  it('reports a wrong API path as 404 with a hint about the URL', async () => {
    const client = basicClient({ baseUrl: sim.url.replace(/KeyfactorAPI$/, 'NotTheAPI') });
    const error = await client.verifyConnection().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandNotFoundError);
    expect((error as Error).message).toMatch(/KeyfactorAPI/);
  });

  it('passes Command’s own message on for an invalid query, without retrying', async () => {
    const error = await basicClient()
      .getCertificatePage(1, { query: 'IssuedDate -gt' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandBadRequestError);
    expect((error as Error).message).toMatch(/query filter/);
    expect((error as Error).message).toMatch(/column/);
    expect(sim.requestLog.entries()).toHaveLength(1);
  });

  it.each([
    ['a 500', { type: 'status', status: 500 }],
    ['a 503', { type: 'status', status: 503 }],
    ['a connection reset', { type: 'reset' }],
    ['a truncated body', { type: 'truncated' }],
    ['a truncated body with a premature close', { type: 'truncated', declaredLength: true }],
    ['a body that is not JSON', { type: 'malformed' }],
    ['an HTML error page with status 200', { type: 'malformed', variant: 'html' }],
  ] as const)('recovers from %s on a page and loses nothing', async (_name, action) => {
    sim.faults.add({ match: { path: '/Certificates', page: 3 }, times: 2, action });
    const client = basicClient();
    const certs = await collect(client);
    expect(certs.map((c) => c.Id)).toEqual(inventory.map((c) => c.Id));
    expect(client.stats.retries).toBe(2);
    const page3 = sim.requestLog.certificatePages().filter((p) => p.params?.pageReturned === 3);
    expect(page3).toHaveLength(3);
  });

  it('waits as long as Retry-After says on a 429', async () => {
    sim.faults.add({
      match: { path: '/Certificates' },
      action: { type: 'status', status: 429, retryAfter: 1 },
    });
    const started = Date.now();
    const page = await basicClient().getCertificatePage(1, { pageSize: 10 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(page.certificates).toHaveLength(10);
  });

  it('gives up on a Retry-After longer than it is willing to wait, saying so', async () => {
    sim.faults.add({ action: { type: 'status', status: 429, retryAfter: 3600 } });
    const error = await basicClient()
      .getCertificatePage(1)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandUnavailableError);
    expect((error as Error).message).toMatch(/3600 s/);
  });

  it('times out a hung request and retries it', async () => {
    sim.faults.add({ match: { path: '/Certificates' }, action: { type: 'latency', ms: 1500 } });
    const client = basicClient({ timeoutMs: 300 });
    const page = await client.getCertificatePage(1, { pageSize: 5 });
    expect(page.certificates).toHaveLength(5);
    expect(client.stats.retries).toBe(1);
  });

  it('fails clearly after the last attempt when Command keeps failing', async () => {
    sim.faults.add({ times: Infinity, action: { type: 'status', status: 503 } });
    const client = basicClient({ retry: { ...FAST_RETRY, maxAttempts: 3 } });
    const error = await client.getCertificatePage(1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandUnavailableError);
    expect((error as Error).message).toMatch(/after 3 attempts \(last: HTTP 503\)/);
    expect(sim.requestLog.entries()).toHaveLength(3);
  });

  it('does not miss or repeat certificates when new ones are imported between pages', async () => {
    const extra = generateInventory({
      seed: 99,
      count: 30,
      now: NOW,
      startId: 10_000,
      includeCaCertificates: false,
    });
    sim.faults.add({
      match: { path: '/Certificates', page: 2 },
      action: { type: 'mutate', apply: (inv) => inv.add(extra) },
    });
    try {
      const certs = await collect(basicClient());
      const ids = certs.map((c) => c.Id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const original of inventory) expect(ids).toContain(original.Id);
      expect(ids.filter((id) => id >= 10_000)).toHaveLength(30);
    } finally {
      for (const cert of extra) sim.inventory.delete(cert.Id);
    }
  });

  it('hands certificates that fail validation back with their Id instead of dropping them', async () => {
    const victim = inventory[5];
    expect(victim).toBeDefined();
    const broken = { ...victim, Id: 20_000, ContentBytes: undefined } as unknown as CommandCertificate;
    sim.inventory.add([broken]);
    try {
      const client = basicClient();
      const pages = [];
      for await (const page of client.certificatePages({ pageSize: 1000 })) pages.push(page);
      const rejected = pages.flatMap((p) => p.rejected);
      expect(rejected).toHaveLength(1);
      expect(rejected[0]?.id).toBe(20_000);
      expect(rejected[0]?.reason).toMatch(/certificate 20000: missing required field ContentBytes/);
      expect(pages.flatMap((p) => p.certificates)).toHaveLength(inventory.length);
      await expect(collect(client, 1000)).rejects.toThrow(CommandResponseError);
    } finally {
      sim.inventory.delete(20_000);
    }
  });

  it('keeps at most maxConcurrency requests in flight to one host', async () => {
    sim.faults.add({
      times: Infinity,
      match: { path: '/Certificates' },
      action: { type: 'latency', ms: 100 },
    });
    const client = basicClient({ maxConcurrency: 2 });
    const started = Date.now();
    await Promise.all([1, 2, 3, 4, 5, 6].map((page) => client.getCertificatePage(page, { pageSize: 10 })));
    // Six 100 ms requests, two at a time, take at least three rounds.
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });
});

describe('CommandClient with OAuth2 client credentials', () => {
  let oidc: RunningOidcProvider;
  let sim: RunningSimulator;
  const CLIENT = { clientId: 'kf-sensor', clientSecret: 'sensor-secret-value' };

  const oauthAuth = (secret = CLIENT.clientSecret) =>
    new OAuth2ClientCredentialsAuth(
      { tokenUrl: oidc.tokenUrl, clientId: CLIENT.clientId, clientSecret: secret, scope: 'read' },
      createTokenHttp(),
    );

  beforeAll(async () => {
    oidc = await startOidcProvider({ clients: [CLIENT] });
    sim = await startSimulator({
      certificates: inventory,
      now: () => NOW,
      auth: { oauth: { issuer: oidc.issuer, jwksUri: oidc.jwksUri, audience: oidc.resource } },
    });
  });
  afterAll(async () => {
    await sim.close();
    await oidc.close();
  });
  afterEach(() => {
    sim.faults.clear();
    sim.requestLog.clear();
  });

  it('fetches one token and reuses it for every page', async () => {
    const auth = oauthAuth();
    const client = new CommandClient({ baseUrl: sim.url, auth, retry: FAST_RETRY });
    expect(await collect(client)).toHaveLength(inventory.length);
    expect(auth.tokenRequests).toBe(1);
    expect(sim.requestLog.certificatePages().every((p) => p.principal === CLIENT.clientId)).toBe(true);
  });

  it('shares one token request among concurrent callers', async () => {
    const auth = oauthAuth();
    const client = new CommandClient({ baseUrl: sim.url, auth, retry: FAST_RETRY });
    await Promise.all([1, 2, 3, 4, 5].map((page) => client.getCertificatePage(page, { pageSize: 10 })));
    expect(auth.tokenRequests).toBe(1);
  });

  it('re-authenticates once when Command answers 401 and carries on', async () => {
    const auth = oauthAuth();
    const client = new CommandClient({ baseUrl: sim.url, auth, retry: FAST_RETRY });
    sim.faults.add({ match: { path: '/Certificates', page: 2 }, action: { type: 'status', status: 401 } });
    expect(await collect(client)).toHaveLength(inventory.length);
    expect(auth.tokenRequests).toBe(2);
    expect(client.stats.reauthentications).toBe(1);
  });

  it('stops after one re-authentication when Command keeps refusing', async () => {
    const client = new CommandClient({ baseUrl: sim.url, auth: oauthAuth(), retry: FAST_RETRY });
    sim.faults.add({ times: Infinity, action: { type: 'status', status: 401 } });
    const error = await client.getCertificatePage(1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandAuthenticationError);
    // The hint fits the scheme: OAuth2 settings for a bearer token, not a username and password.
    expect((error as Error).message).toMatch(
      /HTTP 401\); check the OAuth2 client id, secret, scope and audience/,
    );
    expect(sim.requestLog.entries()).toHaveLength(2);
  });

  it('reports a wrong client secret from the token endpoint without echoing it', async () => {
    const client = new CommandClient({
      baseUrl: sim.url,
      auth: oauthAuth('not-the-secret'),
      retry: FAST_RETRY,
    });
    const error = await client.verifyConnection().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandTokenError);
    expect((error as Error).message).toMatch(/invalid_client/);
    expect((error as Error).message).toMatch(/client_secret/);
    expect((error as Error).message).not.toContain('not-the-secret');
    expect(sim.requestLog.entries()).toHaveLength(0);
  });

  it('is built from the snake_case settings of the scan API and the YAML config', async () => {
    const client = createCommandClient({
      url: sim.url,
      token_url: oidc.tokenUrl,
      client_id: CLIENT.clientId,
      client_secret: CLIENT.clientSecret,
      scope: 'read',
    });
    const status = await client.verifyConnection();
    expect(status.productVersion).toMatch(/^\d+\./);
  });
});

describe('CommandClient over TLS', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({
      certificates: inventory.slice(0, 20),
      tls: 'self-signed',
      auth: { basic: [USER] },
    });
  });
  afterAll(() => sim.close());

  const auth = () => new BasicAuth('CORP\\alice', USER.password);

  it('refuses a certificate it cannot verify, with a hint about ca_cert, and does not retry', async () => {
    const client = new CommandClient({ baseUrl: sim.url, auth: auth(), retry: FAST_RETRY });
    const error = await client.verifyConnection().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandTlsError);
    expect((error as Error).message).toMatch(/ca_cert/);
    expect(client.stats.retries).toBe(0);
  });

  it('trusts the server when given its CA bundle', async () => {
    expect(sim.caCertPem).toContain('BEGIN CERTIFICATE');
    const client = new CommandClient({ baseUrl: sim.url, auth: auth(), caCert: sim.caCertPem });
    const page = await client.getCertificatePage(1);
    expect(page.certificates).toHaveLength(20);
  });

  it('skips verification only when told to, with a warning', async () => {
    const logger = recordingLogger();
    const client = new CommandClient({ baseUrl: sim.url, auth: auth(), insecureSkipTlsVerify: true, logger });
    await expect(client.verifyConnection()).resolves.toBeDefined();
    expect(logger.warnings.some((w) => /TLS verification .* turned off/.test(w.message))).toBe(true);
  });
});
