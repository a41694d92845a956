// Basic and OAuth2 (real oidc-provider JWTs) against the simulator over HTTP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandErrorBodySchema } from '#shared/keyfactor/model';
import { startSimulator, type RunningSimulator } from '#shared/simulator/server';
import { syntheticCertificates } from '#shared/simulator/synthetic';
import { startOidcProvider, type RunningOidcProvider } from '#test/support/oidc';

const REQUESTED_WITH = { 'X-Keyfactor-Requested-With': 'APIClient' };
const basic = (account: string, password: string) =>
  `Basic ${Buffer.from(`${account}:${password}`).toString('base64')}`;

async function fetchToken(idp: RunningOidcProvider, clientId: string, clientSecret: string): Promise<string> {
  const response = await fetch(idp.tokenUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: idp.resource }).toString(),
  });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { access_token: string };
  return body.access_token;
}

describe('Basic authentication', () => {
  let sim: RunningSimulator;

  beforeAll(async () => {
    sim = await startSimulator({
      certificates: syntheticCertificates(3),
      auth: {
        basic: [
          { username: 'svc-sensor', password: 'S3cret!pass', domain: 'CORP' },
          { username: 'auditor', password: 'audit', domain: 'CORP', canReadCertificates: false },
        ],
      },
    });
  });

  afterAll(async () => {
    await sim.close();
  });

  const list = (authorization?: string) =>
    fetch(`${sim.url}/Certificates`, {
      headers: { ...REQUESTED_WITH, ...(authorization ? { authorization } : {}) },
    });

  it.each([['CORP\\svc-sensor'], ['svc-sensor@CORP'], ['svc-sensor'], ['corp\\SVC-SENSOR']])(
    'accepts %s with the right password',
    async (account) => {
      const response = await list(basic(account, 'S3cret!pass'));
      expect(response.status).toBe(200);
      expect(sim.requestLog.entries().at(-1)?.principal).toBe('CORP\\svc-sensor');
    },
  );

  it.each([
    ['a wrong password', basic('CORP\\svc-sensor', 's3cret!pass')],
    ['an unknown user', basic('CORP\\nobody', 'S3cret!pass')],
    ['another domain', basic('OTHER\\svc-sensor', 'S3cret!pass')],
    ['a bearer token', 'Bearer abc.def.ghi'],
  ])('answers %s with 401 and a Basic challenge', async (_label, authorization) => {
    const response = await list(authorization);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    CommandErrorBodySchema.parse(await response.json());
    expect(sim.requestLog.entries().at(-1)).toMatchObject({ status: 401, principal: null });
  });

  it('answers a missing Authorization header with 401 before checking other headers', async () => {
    const response = await fetch(`${sim.url}/Certificates`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('Basic');
  });

  it('answers 403 to a user without certificate read permission, on certificate endpoints only', async () => {
    const denied = await list(basic('CORP\\auditor', 'audit'));
    expect(denied.status).toBe(403);
    expect(CommandErrorBodySchema.parse(await denied.json()).Message).toMatch(/permission/);
    const status = await fetch(`${sim.url}/Status/Endpoints`, {
      headers: { ...REQUESTED_WITH, authorization: basic('CORP\\auditor', 'audit') },
    });
    expect(status.status).toBe(200);
  });
});

describe('OAuth2 bearer tokens', () => {
  let idp: RunningOidcProvider;
  let otherIdp: RunningOidcProvider;
  let sim: RunningSimulator;

  beforeAll(async () => {
    idp = await startOidcProvider({ clients: [{ clientId: 'sensor', clientSecret: 'sensor-secret' }] });
    otherIdp = await startOidcProvider({ clients: [{ clientId: 'sensor', clientSecret: 'sensor-secret' }] });
    sim = await startSimulator({
      certificates: syntheticCertificates(3),
      auth: {
        oauth: { issuer: idp.issuer, jwksUri: idp.jwksUri, audience: idp.resource },
        basic: [{ username: 'u', password: 'p' }],
      },
    });
  });

  afterAll(async () => {
    await sim.close();
    await idp.close();
    await otherIdp.close();
  });

  const list = (target: RunningSimulator, token: string) =>
    fetch(`${target.url}/Certificates`, { headers: { ...REQUESTED_WITH, authorization: `Bearer ${token}` } });

  it('accepts a valid JWT and logs the client as principal', async () => {
    const token = await fetchToken(idp, 'sensor', 'sensor-secret');
    const response = await list(sim, token);
    expect(response.status).toBe(200);
    expect(await response.json()).toHaveLength(3);
    expect(sim.requestLog.entries().at(-1)?.principal).toBe('sensor');
  });

  it('offers both schemes in WWW-Authenticate when unauthenticated', async () => {
    const response = await fetch(`${sim.url}/Certificates`, { headers: REQUESTED_WITH });
    expect(response.status).toBe(401);
    const challenges = response.headers.get('www-authenticate') ?? '';
    expect(challenges).toContain('Basic');
    expect(challenges).toContain('Bearer');
  });

  it('rejects garbage and a token signed by another issuer', async () => {
    expect((await list(sim, 'garbage')).status).toBe(401);
    expect((await list(sim, 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.')).status).toBe(401);
    const foreign = await fetchToken(otherIdp, 'sensor', 'sensor-secret');
    expect((await list(sim, foreign)).status).toBe(401);
  });

  it('rejects a token for another audience or issuer', async () => {
    const token = await fetchToken(idp, 'sensor', 'sensor-secret');
    const wrongAudience = await startSimulator({
      auth: { oauth: { issuer: idp.issuer, jwksUri: idp.jwksUri, audience: 'urn:someone-else' } },
    });
    const wrongIssuer = await startSimulator({
      auth: { oauth: { issuer: 'https://idp.example.com', jwksUri: idp.jwksUri, audience: idp.resource } },
    });
    try {
      const audienceResponse = await list(wrongAudience, token);
      expect(audienceResponse.status).toBe(401);
      expect(CommandErrorBodySchema.parse(await audienceResponse.json()).Message).toMatch(/aud/);
      expect((await list(wrongIssuer, token)).status).toBe(401);
    } finally {
      await wrongAudience.close();
      await wrongIssuer.close();
    }
  });

  it('rejects an expired token', async () => {
    const shortLived = await startOidcProvider({
      clients: [{ clientId: 'sensor', clientSecret: 'sensor-secret' }],
      // exp = iat + TTL with iat in whole seconds, so a 2 s token lives at least 1 s: enough to be used once.
      accessTokenTtlSeconds: 2,
    });
    const target = await startSimulator({
      auth: {
        oauth: { issuer: shortLived.issuer, jwksUri: shortLived.jwksUri, audience: shortLived.resource },
      },
    });
    try {
      const token = await fetchToken(shortLived, 'sensor', 'sensor-secret');
      expect((await list(target, token)).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 3100));
      const expired = await list(target, token);
      expect(expired.status).toBe(401);
      expect(CommandErrorBodySchema.parse(await expired.json()).Message).toMatch(/exp/);
    } finally {
      await target.close();
      await shortLived.close();
    }
  });
});
