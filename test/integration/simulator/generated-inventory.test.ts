// The simulator serving the generator's real X.509 inventory: what a first-time `kfsensor simulator` user sees.
import { createHash, X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertState, CommandCertificateSchema, type CommandCertificate } from '#shared/keyfactor/model';
import { generateInventory } from '#shared/simulator/generator/index';
import { startSimulator, type RunningSimulator } from '#shared/simulator/server';

const NOW = new Date('2026-01-01T00:00:00Z');
const HEADERS = { 'X-Keyfactor-Requested-With': 'APIClient' };
const inventory = generateInventory({ seed: 3, count: 300, now: NOW });

let sim: RunningSimulator;

async function listAll(query: string): Promise<{ certs: CommandCertificate[]; total: number }> {
  const certs: CommandCertificate[] = [];
  let total = Number.NaN;
  for (let page = 1; ; page++) {
    const response = await fetch(`${sim.url}/Certificates?PageReturned=${page}&ReturnLimit=64&${query}`, {
      headers: HEADERS,
    });
    expect(response.status).toBe(200);
    total = Number(response.headers.get('x-total-count'));
    const batch = (await response.json()) as unknown[];
    if (batch.length === 0) break;
    certs.push(...batch.map((c) => CommandCertificateSchema.parse(c)));
  }
  return { certs, total };
}

beforeAll(async () => {
  sim = await startSimulator({ certificates: inventory, now: () => NOW });
});

afterAll(async () => {
  await sim.close();
});

describe('a generated inventory behind the simulator', () => {
  it('serves every certificate with real DER whose SHA-1 is the Thumbprint', async () => {
    const { certs, total } = await listAll(
      'IncludeRevoked=true&IncludeExpired=true&includeLocations=true&includeMetadata=true&includeHasPrivateKey=true',
    );
    expect(total).toBe(inventory.length);
    expect(certs.map((c) => c.Id)).toEqual(inventory.map((c) => c.Id));
    for (const cert of certs) {
      const der = Buffer.from(cert.ContentBytes, 'base64');
      // Node drops the DER INTEGER's leading zero octets; Command keeps the serial as stored.
      expect(new X509Certificate(der).serialNumber).toBe(cert.SerialNumber.replace(/^(00)+(?=.)/, ''));
      expect(createHash('sha1').update(der).digest('hex').toUpperCase()).toBe(cert.Thumbprint);
    }
    const source = new Map(inventory.map((c) => [c.Id, c]));
    for (const cert of certs) expect(cert).toEqual({ ...source.get(cert.Id), PrincipalId: null });
  });

  it('leaves revoked and expired certificates out by default', async () => {
    const { certs, total } = await listAll('');
    const expected = inventory.filter(
      (c) => c.CertState !== CertState.Revoked && Date.parse(c.NotAfter) >= NOW.getTime(),
    );
    expect(total).toBe(expected.length);
    expect(total).toBeLessThan(inventory.length);
    expect(certs.map((c) => c.Id)).toEqual(expected.map((c) => c.Id));
  });

  it('answers queries on store locations and metadata the generator fills', async () => {
    const { certs, total } = await listAll(
      `IncludeExpired=true&includeLocations=true&QueryString=${encodeURIComponent('CertStoreFQDN -ne NULL')}`,
    );
    // IncludeRevoked is not set, so revoked certificates stay out even when they have locations.
    expect(total).toBe(inventory.filter((c) => (c.Locations ?? []).length > 0 && c.CertState !== 2).length);
    expect(certs.every((c) => (c.Locations ?? []).length > 0)).toBe(true);
    const retired = await listAll(
      `IncludeExpired=true&IncludeRevoked=true&includeMetadata=true&QueryString=${encodeURIComponent('Retired -eq True')}`,
    );
    expect(retired.certs.every((c) => c.Metadata?.['Retired'] === 'True')).toBe(true);
  });

  it('derives the metadata fields and stores the portal would show', async () => {
    const fields = (await (await fetch(`${sim.url}/MetadataFields`, { headers: HEADERS })).json()) as Array<{
      Name: string;
      DataType: number;
    }>;
    expect(fields.map((f) => f.Name).sort()).toEqual([
      'AppName',
      'CostCenter',
      'Environment',
      'Owner',
      'Retired',
    ]);
    expect(fields.find((f) => f.Name === 'Retired')?.DataType).toBe(4);
    const stores = await fetch(`${sim.url}/CertificateStores?certificateStoreQuery.returnLimit=1`, {
      headers: HEADERS,
    });
    expect(Number(stores.headers.get('x-total-count'))).toBeGreaterThan(5);
  });

  it('filters by the default "Active Certificates" collection', async () => {
    const { certs } = await listAll('collectionId=1&IncludeExpired=true');
    expect(certs.length).toBeGreaterThan(0);
    expect(certs.every((c) => c.CertState === CertState.Active)).toBe(true);
  });
});
