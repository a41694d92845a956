// The user guide's OAuth2 config, config/sample-configs/keyfactor.yml, run UNCHANGED by the real CLI: its fixed
// hosts (command.example.com, login.microsoftonline.com) are routed to the simulator (HTTPS, OAuth2 bearer tokens)
// and to oidc-provider's token endpoint behind an HTTPS front at the guide's path, by a test-only preload that acts
// as /etc/hosts plus a port forward; the certificates are checked against those host names with a test CA.
import { request as httpRequest } from 'node:http';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateInventory } from '#shared/simulator/generator/index';
import { startIngestionReceiver, type IngestionReceiver } from '#shared/simulator/ingestion-receiver';
import { startSimulator, type RunningSimulator } from '#shared/simulator/server';
import { createSelfSignedCertificate } from '#shared/simulator/tls';
import { startOidcProvider, type RunningOidcProvider } from '#test/support/oidc';
import { SENSOR_TOKEN, runCli, tempDir } from './support';

const SAMPLE = path.resolve(import.meta.dirname, '../../../config/sample-configs/keyfactor.yml');
const PRELOAD = path.resolve(import.meta.dirname, 'host-map.mjs');
// The sample's values, as the guide writes them.
const TOKEN_PATH = '/xxxxxxxxxxx/oauth2/v2.0/token';
const CLIENT = {
  clientId: 'xxxxxxxxxxxxxx',
  clientSecret: 'xxxxxxxxxxxx',
  scope: 'api://xxxxxxxxxx/.default',
};

let idp: RunningOidcProvider;
let front: Server;
let sim: RunningSimulator;
let receiver: IngestionReceiver;
let env: Record<string, string>;
let distinct = 0;

beforeAll(async () => {
  const commandTls = createSelfSignedCertificate({ dnsNames: ['command.example.com'], ipAddresses: [] });
  const loginTls = createSelfSignedCertificate({ dnsNames: ['login.microsoftonline.com'], ipAddresses: [] });
  const dir = tempDir('kfsensor-sample-');
  const caFile = path.join(dir, 'test-ca.pem');
  writeFileSync(caFile, commandTls.caCertPem + loginTls.caCertPem);

  idp = await startOidcProvider({ clients: [CLIENT], scopes: [CLIENT.scope] });
  // The guide's token URL path, served over HTTPS, forwarded to oidc-provider's /token.
  const issuer = new URL(idp.issuer);
  front = createHttpsServer({ cert: loginTls.cert, key: loginTls.key }, (req, res) => {
    if (req.url !== TOKEN_PATH) {
      res.writeHead(404).end();
      return;
    }
    const upstream = httpRequest(
      {
        host: issuer.hostname,
        port: issuer.port,
        path: '/token',
        method: req.method,
        headers: { ...req.headers, host: issuer.host },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));

  const inventory = generateInventory({ seed: 5, count: 120, now: new Date('2026-01-01T00:00:00Z') });
  distinct = new Set(inventory.map((c) => c.ContentBytes)).size;
  sim = await startSimulator({
    certificates: inventory,
    tls: { cert: commandTls.cert, key: commandTls.key },
    auth: { oauth: { issuer: idp.issuer, jwksUri: idp.jwksUri, audience: idp.resource } },
    prewarm: false,
  });
  receiver = await startIngestionReceiver({ token: SENSOR_TOKEN });
  env = {
    USER: 'sample-user',
    INGESTION_URL: receiver.url,
    SENSOR_TOKEN,
    NODE_EXTRA_CA_CERTS: caFile,
    KFSENSOR_TEST_HOST_MAP: `command.example.com=${sim.port},login.microsoftonline.com=${(front.address() as AddressInfo).port}`,
  };
});

afterAll(async () => {
  await Promise.all([
    sim?.close(),
    receiver?.stop(),
    idp?.close(),
    new Promise<void>((resolve) => (front ? front.close(() => resolve()) : resolve())),
  ]);
});

describe('the sample config, unchanged', () => {
  it('scans the simulator over OAuth2 and ships every certificate to the ingestion URL', async () => {
    const run = await runCli(['-c', SAMPLE, '--state-dir', path.join(tempDir(), 'state')], {
      env,
      nodeArgs: ['--import', PRELOAD],
    });
    expect(run.code, run.err).toBe(0);
    expect(run.out).toMatch(/COMPLETED \(full\)/);
    // The guide's example configures local_export without listing it: a warning, and no reports written.
    expect(run.err).toMatch(/local_export.*not listed/);
    expect(receiver.findings.size).toBe(distinct);
    const batch = [...receiver.batches.values()][0]!;
    expect(batch.sensor).toMatchObject({ name: 'Remote Keyfactor Scan', ranBy: 'sample-user' });
    expect(batch.labels).toEqual([{ name: 'scan', value: 'remote' }]);
    // Command saw bearer tokens for the sample's client, over the host name the sample names.
    const principals = new Set(sim.requestLog.entries().map((e) => e.principal));
    expect([...principals].every((p) => p !== null)).toBe(true);
    expect(run.out + run.err).not.toContain(CLIENT.clientSecret);
  });

  it('--dry-run with the sample authenticates and reports the count', async () => {
    const run = await runCli(['-c', SAMPLE, '--dry-run'], { env, nodeArgs: ['--import', PRELOAD] });
    expect(run.code, run.err).toBe(0);
    expect(run.out).toContain('authenticated (oauth2)');
    expect(run.out).toMatch(/Matching certificates: \d+/);
  });
});
