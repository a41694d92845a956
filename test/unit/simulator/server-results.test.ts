import { describe, expect, it } from 'vitest';
import type { CommandCertificate } from '#shared/keyfactor/model';
import { QueryError } from '#shared/query/index';
import { certificateArrayBytes, certificateJson } from '#shared/simulator/certificate-json';
import {
  CertificateResultCache,
  computeCertificateResult,
  type CertificateResultRequest,
} from '#shared/simulator/certificate-results';
import { SimulatorInventory } from '#shared/simulator/inventory';
import { InvalidParameterError } from '#shared/simulator/paging';
import { syntheticCertificate } from '#shared/simulator/synthetic';

const NOW = new Date('2026-06-01T12:00:00Z');

function request(overrides: Partial<CertificateResultRequest> = {}): CertificateResultRequest {
  return {
    queryString: '',
    collectionQuery: null,
    collectionId: 0,
    sortField: null,
    sortAscending: true,
    includeRevoked: false,
    includeExpired: false,
    metadataFields: () => ['Owner', 'Retired'],
    ...overrides,
  };
}

const ids = (certs: readonly CommandCertificate[]) => certs.map((c) => c.Id);

/** 1 active, 2 revoked, 3 expired, 4 active and expiring tomorrow, 5 revoked and expired. */
function mixedCertificates(): CommandCertificate[] {
  return [
    syntheticCertificate(1, { NotAfter: '2027-01-01T00:00:00Z' }),
    syntheticCertificate(2, { CertState: 2, NotAfter: '2027-01-01T00:00:00Z' }),
    syntheticCertificate(3, { NotAfter: '2026-05-01T00:00:00Z' }),
    syntheticCertificate(4, { NotAfter: '2026-06-02T00:00:00Z' }),
    syntheticCertificate(5, { CertState: 2, NotAfter: '2026-05-01T00:00:00Z' }),
  ];
}

describe('computeCertificateResult', () => {
  it('leaves out revoked and expired certificates unless asked for them', () => {
    const certs = mixedCertificates();
    const run = (flags: Partial<CertificateResultRequest>) =>
      ids(computeCertificateResult(certs, request(flags), NOW).certificates);
    expect(run({})).toEqual([1, 4]);
    expect(run({ includeRevoked: true })).toEqual([1, 2, 4]);
    expect(run({ includeExpired: true })).toEqual([1, 3, 4]);
    expect(run({ includeRevoked: true, includeExpired: true })).toEqual([1, 2, 3, 4, 5]);
  });

  it('applies the collection query and the request query together', () => {
    const certs = mixedCertificates();
    const result = computeCertificateResult(
      certs,
      request({ includeRevoked: true, collectionQuery: 'CertState -eq "1"', queryString: 'CertId -gt 1' }),
      NOW,
    );
    expect(ids(result.certificates)).toEqual([4]);
  });

  it('sorts by the requested field with Id ascending as the tie-breaker in both directions', () => {
    const certs = [
      syntheticCertificate(1, { KeySizeInBits: 4096 }),
      syntheticCertificate(2, { KeySizeInBits: 2048 }),
      syntheticCertificate(3, { KeySizeInBits: 4096 }),
      syntheticCertificate(4, { KeySizeInBits: 2048 }),
    ];
    const sorted = (asc: boolean) =>
      ids(
        computeCertificateResult(certs, request({ sortField: 'keysizeinbits', sortAscending: asc }), NOW)
          .certificates,
      );
    expect(sorted(true)).toEqual([2, 4, 1, 3]);
    expect(sorted(false)).toEqual([1, 3, 2, 4]);
  });

  it('sorts dates as instants and accepts the query-language aliases', () => {
    const certs = [
      syntheticCertificate(1, { NotAfter: '2027-03-01T00:00:00Z' }),
      syntheticCertificate(2, { NotAfter: '2026-12-31T23:59:59Z' }),
      syntheticCertificate(3, { NotAfter: '2027-01-01T00:00:00Z' }),
    ];
    for (const field of ['NotAfter', 'ExpirationDate']) {
      expect(ids(computeCertificateResult(certs, request({ sortField: field }), NOW).certificates)).toEqual([
        2, 3, 1,
      ]);
    }
    expect(
      ids(
        computeCertificateResult(certs, request({ sortField: 'Id', sortAscending: false }), NOW).certificates,
      ),
    ).toEqual([3, 2, 1]);
  });

  it('sorts strings case-insensitively with missing values first', () => {
    const certs = [
      syntheticCertificate(1, { IssuedCN: 'beta' }),
      syntheticCertificate(2, { IssuedCN: 'Alpha' }),
      syntheticCertificate(3, { IssuedCN: null }),
    ];
    expect(
      ids(computeCertificateResult(certs, request({ sortField: 'IssuedCN' }), NOW).certificates),
    ).toEqual([3, 2, 1]);
  });

  it('rejects an unknown sort field and an invalid query with the errors the server maps to 400', () => {
    expect(() => computeCertificateResult([], request({ sortField: 'Colour' }), NOW)).toThrow(
      InvalidParameterError,
    );
    expect(() => computeCertificateResult([], request({ queryString: 'IssuedDate' }), NOW)).toThrow(
      QueryError,
    );
  });
});

describe('CertificateResultCache', () => {
  it('serves the same result set for every page of a query without filtering again', () => {
    const inventory = new SimulatorInventory({ certificates: mixedCertificates() });
    const cache = new CertificateResultCache(inventory);
    const first = cache.resolve(request(), NOW);
    const second = cache.resolve(request(), NOW);
    expect(first.hit).toBe(false);
    expect(second.hit).toBe(true);
    expect(second.certificates).toBe(first.certificates);
  });

  it('keeps separate entries for different flags, sorts and queries', () => {
    const inventory = new SimulatorInventory({ certificates: mixedCertificates() });
    const cache = new CertificateResultCache(inventory);
    cache.resolve(request(), NOW);
    expect(cache.resolve(request({ includeRevoked: true }), NOW).hit).toBe(false);
    expect(cache.resolve(request({ sortAscending: false }), NOW).hit).toBe(false);
    expect(cache.resolve(request({ queryString: 'CertId -gt 0' }), NOW).hit).toBe(false);
    expect(cache.resolve(request({ collectionId: 1, collectionQuery: 'CertId -gt 0' }), NOW).hit).toBe(false);
    // Spellings of the same sort column share one entry.
    cache.resolve(request({ sortField: 'NotAfter' }), NOW);
    expect(cache.resolve(request({ sortField: 'expirationdate' }), NOW).hit).toBe(true);
  });

  it('recomputes after any inventory mutation', () => {
    const inventory = new SimulatorInventory({ certificates: mixedCertificates() });
    const cache = new CertificateResultCache(inventory);
    expect(ids(cache.resolve(request(), NOW).certificates)).toEqual([1, 4]);
    inventory.revoke(1);
    expect(ids(cache.resolve(request(), NOW).certificates)).toEqual([4]);
    inventory.add([syntheticCertificate(9, { NotAfter: '2030-01-01T00:00:00Z' })]);
    expect(ids(cache.resolve(request(), NOW).certificates)).toEqual([4, 9]);
    inventory.updateMetadata(9, { Retired: 'True' });
    expect(ids(cache.resolve(request({ queryString: 'Retired -ne "True"' }), NOW).certificates)).toEqual([4]);
  });

  it('drops a certificate from a cached set the moment it expires', () => {
    const inventory = new SimulatorInventory({ certificates: mixedCertificates() });
    const cache = new CertificateResultCache(inventory);
    expect(ids(cache.resolve(request(), NOW).certificates)).toEqual([1, 4]);
    const afterExpiry = new Date('2026-06-02T00:00:01Z');
    expect(ids(cache.resolve(request(), afterExpiry).certificates)).toEqual([1]);
  });

  it('re-evaluates %TODAY% queries on a new UTC day', () => {
    const inventory = new SimulatorInventory({
      certificates: [syntheticCertificate(1, { NotAfter: '2026-06-03T12:00:00Z' })],
    });
    const cache = new CertificateResultCache(inventory);
    const query = request({ queryString: 'ExpirationDate -le "%TODAY+1%"', includeExpired: true });
    expect(ids(cache.resolve(query, new Date('2026-06-01T23:00:00Z')).certificates)).toEqual([]);
    expect(ids(cache.resolve(query, new Date('2026-06-02T01:00:00Z')).certificates)).toEqual([]);
    expect(ids(cache.resolve(query, new Date('2026-06-03T01:00:00Z')).certificates)).toEqual([1]);
  });

  it('evicts the least recently used entry beyond its capacity', () => {
    const inventory = new SimulatorInventory({ certificates: mixedCertificates() });
    const cache = new CertificateResultCache(inventory, 2);
    cache.resolve(request({ queryString: 'CertId -gt 1' }), NOW);
    cache.resolve(request({ queryString: 'CertId -gt 2' }), NOW);
    cache.resolve(request({ queryString: 'CertId -gt 1' }), NOW);
    cache.resolve(request({ queryString: 'CertId -gt 3' }), NOW);
    expect(cache.stats().entries).toBe(2);
    expect(cache.resolve(request({ queryString: 'CertId -gt 1' }), NOW).hit).toBe(true);
    expect(cache.resolve(request({ queryString: 'CertId -gt 2' }), NOW).hit).toBe(false);
  });
});

describe('certificateJson', () => {
  const cert = syntheticCertificate(2, { PrincipalId: 17 as unknown as null, HasPrivateKey: true });
  const none = { includeLocations: false, includeMetadata: false, includeHasPrivateKey: false };
  const all = { includeLocations: true, includeMetadata: true, includeHasPrivateKey: true };

  it('keeps excluded parts present but empty, as the reference documents', () => {
    const parsed = JSON.parse(certificateJson(cert, none)) as Record<string, unknown>;
    expect(parsed['Locations']).toEqual([]);
    expect(parsed['LocationsCount']).toEqual([]);
    expect(parsed['Metadata']).toEqual({});
    expect(parsed['HasPrivateKey']).toBe(false);
  });

  it('includes each part only under its own flag', () => {
    const parsed = JSON.parse(certificateJson(cert, { ...none, includeMetadata: true })) as Record<
      string,
      unknown
    >;
    expect(parsed['Metadata']).toEqual(cert.Metadata);
    expect(parsed['Locations']).toEqual([]);
    const full = JSON.parse(certificateJson(cert, all)) as Record<string, unknown>;
    expect(full['Locations']).toEqual(cert.Locations);
    expect(full['LocationsCount']).toEqual(cert.LocationsCount);
    expect(full['HasPrivateKey']).toBe(true);
  });

  it('always sends PrincipalId as null and every other field unchanged', () => {
    const full = JSON.parse(certificateJson(cert, all)) as Record<string, unknown>;
    expect(full).toEqual({ ...cert, PrincipalId: null });
  });

  it('never reports a private key the certificate does not have', () => {
    const withoutKey = syntheticCertificate(3, { HasPrivateKey: false });
    expect((JSON.parse(certificateJson(withoutKey, all)) as { HasPrivateKey: boolean }).HasPrivateKey).toBe(
      false,
    );
  });

  it('reflects a mutation made through the inventory', () => {
    const inventory = new SimulatorInventory({ certificates: [syntheticCertificate(1)] });
    const before = certificateJson(inventory.get(1)!, all);
    inventory.updateMetadata(1, { Owner: 'changed@example.com' });
    const after = certificateJson(inventory.get(1)!, all);
    expect(before).toContain('team1@example.com');
    expect(after).toContain('changed@example.com');
  });

  it('joins a page into one JSON array', () => {
    const page = [syntheticCertificate(1), syntheticCertificate(2)];
    expect((JSON.parse(certificateArrayBytes(page, all).toString()) as unknown[]).length).toBe(2);
    expect(certificateArrayBytes([], all).toString()).toBe('[]');
  });
});
