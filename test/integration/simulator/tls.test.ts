// HTTPS with the generated self-signed certificate: trusted through its PEM, refused without it.
import { X509Certificate } from 'node:crypto';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSelfSignedCertificate, startSimulator, type RunningSimulator } from '#shared/simulator/server';
import { syntheticCertificates } from '#shared/simulator/synthetic';

const HEADERS = { 'X-Keyfactor-Requested-With': 'APIClient' };

describe('TLS', () => {
  let sim: RunningSimulator;

  beforeAll(async () => {
    sim = await startSimulator({ certificates: syntheticCertificates(3), tls: 'self-signed' });
  });

  afterAll(async () => {
    await sim.close();
  });

  it('serves https and hands out the PEM to trust', () => {
    expect(sim.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/KeyfactorAPI$/);
    expect(sim.caCertPem).toMatch(/^-----BEGIN CERTIFICATE-----/);
  });

  it('is reachable when the client trusts the PEM, by IP and by localhost', async () => {
    const dispatcher = new Agent({ connect: { ca: sim.caCertPem } });
    try {
      const byIp = await undiciFetch(`${sim.url}/Certificates`, { headers: HEADERS, dispatcher });
      expect(byIp.status).toBe(200);
      expect(await byIp.json()).toHaveLength(3);
      const byName = await undiciFetch(`${sim.url.replace('127.0.0.1', 'localhost')}/Status/Endpoints`, {
        headers: HEADERS,
        dispatcher,
      });
      expect(byName.status).toBe(200);
    } finally {
      await dispatcher.close();
    }
  });

  it('is refused by a client that does not trust it', async () => {
    const error = await fetch(`${sim.url}/Certificates`, { headers: HEADERS }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(String((error as Error).cause)).toMatch(/self[- ]signed/i);
  });

  it('is refused when the client trusts a different certificate', async () => {
    const other = createSelfSignedCertificate();
    const dispatcher = new Agent({ connect: { ca: other.caCertPem } });
    try {
      await expect(
        undiciFetch(`${sim.url}/Certificates`, { headers: HEADERS, dispatcher }),
      ).rejects.toThrow();
    } finally {
      await dispatcher.close();
    }
  });
});

describe('createSelfSignedCertificate', () => {
  it('covers localhost, 127.0.0.1 and ::1 for server authentication', () => {
    const { cert, key } = createSelfSignedCertificate();
    const parsed = new X509Certificate(cert);
    expect(parsed.checkHost('localhost')).toBe('localhost');
    expect(parsed.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(parsed.checkIP('::1')).toBe('::1');
    expect(parsed.ca).toBe(true);
    expect(parsed.verify(parsed.publicKey)).toBe(true);
    expect(parsed.keyUsage ?? []).toContain('1.3.6.1.5.5.7.3.1');
    expect(key).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it('accepts other names and a validity period', () => {
    const now = new Date('2026-03-01T00:00:00Z');
    const { cert } = createSelfSignedCertificate({
      dnsNames: ['sim.test'],
      ipAddresses: [],
      validityDays: 2,
      now,
    });
    const parsed = new X509Certificate(cert);
    expect(parsed.checkHost('sim.test')).toBe('sim.test');
    expect(parsed.checkHost('localhost')).toBeUndefined();
    expect(Date.parse(parsed.validTo) - now.getTime()).toBe(2 * 24 * 60 * 60 * 1000);
  });
});
