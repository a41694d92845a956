// Evaluator: truth tables over hand-built certificates with a fixed clock (2025-06-15T12:00:00Z).
import { describe, expect, it } from 'vitest';
import type { CommandCertificate } from '#shared/keyfactor/model';
import { QueryError, and, clause, compileCertificateFilter, or, parseQuery } from '#shared/query/index';

const now = new Date('2025-06-15T12:00:00Z');

function certificate(overrides: Partial<CommandCertificate> = {}): CommandCertificate {
  return {
    Id: 1000,
    ContentBytes: 'MIIB',
    Thumbprint: '54E29764D0E2B780A05CDA073562FBF81616A93D',
    SerialNumber: '2733EA5FDDD3',
    IssuedDN: 'CN=web.example.com, O=Demo Corp',
    IssuedCN: 'web.example.com',
    ImportDate: '2025-06-01T08:00:00.123Z',
    NotBefore: '2025-01-01T00:00:00Z',
    NotAfter: '2026-01-01T00:00:00Z',
    IssuerDN: 'CN=Sectigo RSA CA',
    CertState: 1,
    KeySizeInBits: 2048,
    KeyType: 1,
    SigningAlgorithm: 'SHA-256withRSA',
    RevocationEffDate: null,
    CertificateAuthorityName: 'keyfactor-KFTRAIN-CA',
    TemplateName: 'WebServer',
    HasPrivateKey: false,
    ArchivedKey: false,
    CertRequestId: 5,
    IssuedOU: 'IT',
    IssuedEmail: null,
    RequesterName: 'DOMAIN\\alice',
    PrincipalName: null,
    Curve: null,
    Locations: [],
    SSLLocations: [],
    SubjectAltNameElements: [],
    ExtendedKeyUsages: [],
    Metadata: {},
    ...overrides,
  };
}

function matches(query: string, cert: CommandCertificate, metadataFields?: string[]): boolean {
  return compileCertificateFilter(query, { now, metadataFields })(cert);
}

type Row = [query: string, overrides: Partial<CommandCertificate>, expected: boolean];

function truthTable(rows: Row[]): void {
  it.each(rows)('%s on %j is %s', (query, overrides, expected) => {
    expect(matches(query, certificate(overrides))).toBe(expected);
  });
}

function locations(...machines: (string | null)[]): Partial<CommandCertificate> {
  return {
    Locations: machines.map((StoreMachine) => ({ StoreMachine, StorePath: '/certs', StoreType: 105 })),
  };
}

describe('compileCertificateFilter', () => {
  describe('text fields compare case-insensitively', () => {
    truthTable([
      ['IssuedCN -eq "WEB.example.COM"', {}, true],
      ['IssuedCN -eq "web.example"', {}, false],
      ['IssuedCN -ne "WEB.EXAMPLE.COM"', {}, false],
      ['IssuedCN -ne "other"', {}, true],
      ['IssuedDN -contains "demo"', {}, true],
      ['IssuerDN -contains "Sectigo"', {}, true],
      ['IssuerDN -contains "digicert"', {}, false],
      ['CN -startswith "WEB."', {}, true],
      ['CN -startswith "example"', {}, false],
      ['CN -endswith ".COM"', {}, true],
      ['CN -endswith "web"', {}, false],
      ['CN -notcontains "keyother"', {}, true],
      ['CN -notcontains "keyother"', { IssuedCN: 'keyOTHER.example.com' }, false],
      ['CA -eq "keyfactor-kftrain-ca"', {}, true],
      ['Thumbprint -eq "54e29764d0e2b780a05cda073562fbf81616a93d"', {}, true],
      ['SerialNumber -eq "2733ea5fddd3"', {}, true],
      ['SigningAlgorithm -eq "sha-256withrsa"', {}, true],
      ['TemplateName -eq "webserver"', {}, true],
      ['Template -eq "Other"', {}, false],
      ['OU -eq "it"', {}, true],
      ['NetBIOSRequester -eq "domain\\\\ALICE"', {}, true],
      ['Curve -eq "P-256"', { Curve: 'p-256' }, true],
    ]);
  });

  describe('a missing text value', () => {
    truthTable([
      ['IssuedEmail -eq "a@example.com"', {}, false],
      ['IssuedEmail -ne "a@example.com"', {}, true],
      ['IssuedEmail -contains ""', {}, false],
      ['IssuedEmail -notcontains "x"', {}, true],
      ['IssuedEmail -eq NULL', {}, true],
      ['IssuedEmail -ne NULL', {}, false],
      ['IssuedEmail -eq NULL', { IssuedEmail: '' }, false],
      ['NetBIOSPrincipal -eq NULL', { PrincipalName: undefined }, true],
    ]);
  });

  describe('integer and enum fields compare numerically, quoted or bare', () => {
    truthTable([
      ['CertState -ne "2"', { CertState: 1 }, true],
      ['CertState -ne "2"', { CertState: 2 }, false],
      ['CertState -eq 1', { CertState: 1 }, true],
      ['CertState -eq "6"', { CertState: 1 }, false],
      ['CertId -gt 1234', { Id: 1234 }, false],
      ['CertId -gt 1234', { Id: 1235 }, true],
      ['Id -le "1234"', { Id: 1234 }, true],
      ['CertId -lt 900', { Id: 1000 }, false],
      ['CertId -ge 1000', { Id: 1000 }, true],
      ['CertRequestId -eq 5', {}, true],
      ['CertRequestId -eq NULL', { CertRequestId: null }, true],
      ['CertRequestId -gt 0', { CertRequestId: null }, false],
      ['KeySizeInBits -ge 2048', { KeySizeInBits: 2048 }, true],
      ['KeySize -ge 3072', { KeySizeInBits: 2048 }, false],
      ['KeyType -eq "RSA"', { KeyType: 1 }, true],
      ['KeyType -eq "rsa"', { KeyType: 3 }, false],
      ['KeyType -eq "ecc"', { KeyType: 3 }, true],
      ['KeyType -ne "Ed25519"', { KeyType: 6 }, false],
      ['KeyType -eq 5', { KeyType: 5 }, true],
    ]);
  });

  describe('booleans', () => {
    truthTable([
      ['HasPrivateKey -eq True', { HasPrivateKey: true }, true],
      ['HasPrivateKey -eq "true"', { HasPrivateKey: false }, false],
      ['HasPrivateKey -eq "1"', { HasPrivateKey: true }, true],
      ['HasPrivateKey -eq 0', { HasPrivateKey: false }, true],
      ['HasPrivateKey -ne TRUE', { HasPrivateKey: false }, true],
      ['HasPrivateKey -eq True', { HasPrivateKey: undefined }, false],
      ['HasPrivateKey -ne True', { HasPrivateKey: undefined }, true],
      ['ArchivedKey -eq False', { ArchivedKey: false }, true],
    ]);
  });

  describe('dates: %TODAY% is midnight UTC, ordering compares instants, -eq compares UTC days', () => {
    truthTable([
      ["IssuedDate -gt '2025-01-01'", { NotBefore: '2025-01-01T00:00:00Z' }, false],
      ["IssuedDate -gt '2025-01-01'", { NotBefore: '2025-01-01T00:00:01Z' }, true],
      ["IssuedDate -gt '2025-01-01'", { NotBefore: '2024-12-31T23:59:59Z' }, false],
      ['NotBefore -ge "2025-01-01"', { NotBefore: '2025-01-01T00:00:00Z' }, true],
      ['ExpirationDate -ge "%TODAY%"', { NotAfter: '2025-06-14T23:59:59Z' }, false],
      ['ExpirationDate -ge "%TODAY%"', { NotAfter: '2025-06-15T00:00:00Z' }, true],
      ['ExpirationDate -le "%TODAY+7%"', { NotAfter: '2025-06-22T00:00:00Z' }, true],
      ['ExpirationDate -le "%TODAY+7%"', { NotAfter: '2025-06-22T00:00:01Z' }, false],
      ['ExpirationDate -lt %today-1%', { NotAfter: '2025-06-13T23:59:59Z' }, true],
      ['ExpirationDate -lt %TODAY-1%', { NotAfter: '2025-06-14T00:00:00Z' }, false],
      ['ExpirationDate -eq "2025-06-20"', { NotAfter: '2025-06-20T23:59:59Z' }, true],
      ['ExpirationDate -eq "2025-06-20"', { NotAfter: '2025-06-21T00:00:00Z' }, false],
      ['ExpirationDate -eq "2025-06-20T15:30:00Z"', { NotAfter: '2025-06-20T01:00:00Z' }, true],
      ['ExpirationDate -ne "%TODAY+5%"', { NotAfter: '2025-06-20T08:00:00Z' }, false],
      ['ExpirationDate -ne "%TODAY+5%"', { NotAfter: '2025-06-21T08:00:00Z' }, true],
      ['NotAfter -lt "2025-01-31T01:00:00+01:00"', { NotAfter: '2025-01-30T23:59:59Z' }, true],
      ['NotAfter -lt "2025-01-31T01:00:00+01:00"', { NotAfter: '2025-01-31T00:00:00Z' }, false],
      ['ExpirationDate -lt "2025-01-31T00:00:00Z"', { NotAfter: '2025-01-30T12:00:00Z' }, true],
      ['ImportDate -ge "%TODAY-14%"', { ImportDate: '2025-06-01T00:00:00.000Z' }, true],
      ['ImportDate -ge "%TODAY-14%"', { ImportDate: '2025-05-31T23:59:59.999Z' }, false],
      ['ImportDate -gt "2025-06-01T08:00:00.1Z"', { ImportDate: '2025-06-01T08:00:00.123Z' }, true],
      ['ImportDate -lt "2025-06-02"', { ImportDate: '2025-06-01T08:00:00' }, true],
      ['RevocationDate -eq NULL', { RevocationEffDate: null }, true],
      ['RevocationDate -ne NULL', { RevocationEffDate: '2025-03-01T00:00:00Z' }, true],
      ['RevocationDate -gt "2000-01-01"', { RevocationEffDate: null }, false],
      ['RevocationEffDate -le "%TODAY%"', { RevocationEffDate: '2025-03-01T00:00:00Z' }, true],
      ['IssuedDate -gt "2000-01-01"', { NotBefore: 'not a date' }, false],
    ]);
  });

  describe('multi-valued fields: positive operators match any value, -ne/-notcontains match no value', () => {
    truthTable([
      ['CertStoreFQDN -ne NULL', locations(), false],
      ['CertStoreFQDN -ne NULL', locations(null), false],
      ['CertStoreFQDN -ne NULL', locations('iis01.example.com'), true],
      ['CertStoreFQDN -eq NULL', locations(), true],
      ['CertStoreFQDN -eq NULL', {}, true],
      ['CertStoreFQDN -eq NULL', { Locations: undefined }, true],
      ['CertStoreFQDN -eq NULL', locations('a'), false],
      ['CertStoreFQDN -contains "PROD"', locations('test01', 'prod02.example.com'), true],
      ['CertStoreFQDN -contains "prod"', locations('test01'), false],
      ['CertStoreFQDN -eq "b"', locations('a', 'B'), true],
      ['CertStoreFQDN -ne "b"', locations('a', 'B'), false],
      ['CertStoreFQDN -ne "b"', locations('a', 'c'), true],
      ['CertStoreFQDN -ne "b"', locations(), true],
      ['CertStoreFQDN -notcontains "prod"', locations('test', 'prod1'), false],
      ['CertStoreFQDN -notcontains "prod"', locations('test'), true],
      ['CertStorePath -eq "/CERTS"', locations('a'), true],
      ['CertStoreType -eq "105"', locations('a'), true],
      ['CertStoreType -eq "Akamai"', locations('a'), false],
      [
        'SAN -contains "example.org"',
        {
          SubjectAltNameElements: [
            { Value: 'www.example.com', Type: 2 },
            { Value: 'api.example.org', Type: 2 },
          ],
        },
        true,
      ],
      [
        'SAN -notcontains "example.org"',
        { SubjectAltNameElements: [{ Value: 'www.example.com', Type: 2 }] },
        true,
      ],
      [
        'EKU -eq "1.3.6.1.5.5.7.3.1"',
        { ExtendedKeyUsages: [{ Oid: '1.3.6.1.5.5.7.3.1', DisplayName: 'Server Authentication' }] },
        true,
      ],
      [
        'EKUName -eq "server authentication"',
        { ExtendedKeyUsages: [{ Oid: '1.3.6.1.5.5.7.3.2', DisplayName: 'Client Authentication' }] },
        false,
      ],
      ['SSLPort -eq 443', { SSLLocations: [{ Port: 8443 }, { Port: 443 }] }, true],
      ['SSLPort -gt 8000', { SSLLocations: [{ Port: 443 }] }, false],
      ['SSLPort -ne 443', { SSLLocations: [{ Port: 443 }] }, false],
      ['SSLIPAddress -startswith "10."', { SSLLocations: [{ IPAddress: '10.0.0.5' }] }, true],
      ['SSLNetworkName -eq "dmz"', { SSLLocations: [{ NetworkName: 'DMZ' }] }, true],
    ]);
  });

  describe('metadata fields', () => {
    truthTable([
      ['Retired -ne True', { Metadata: { Retired: 'True' } }, false],
      ['Retired -ne True', { Metadata: { Retired: 'true' } }, false],
      ['Retired -ne True', { Metadata: { Retired: 'False' } }, true],
      ['Retired -ne True', { Metadata: {} }, true],
      ['Retired -ne True', { Metadata: undefined }, true],
      ['retired -eq "TRUE"', { Metadata: { Retired: 'true' } }, true],
      ['Retired -eq NULL', { Metadata: { Retired: null } }, true],
      ['Retired -ne NULL', { Metadata: { Retired: 'False' } }, true],
      ['Cost -gt 9', { Metadata: { Cost: '10' } }, true],
      ['Cost -gt "9"', { Metadata: { Cost: 'abc' } }, true],
      ['Cost -eq 10', { Metadata: { Cost: '10.0' } }, true],
      ['Owner -gt "m"', { Metadata: { Owner: 'Zed' } }, true],
      ['Owner -contains "TEAM"', { Metadata: { Owner: 'app-team' } }, true],
      ['Owner -startswith "web"', { Metadata: { Owner: 'app-team' } }, false],
      ['ReviewDate -le "%TODAY%"', { Metadata: { ReviewDate: '2025-06-01' } }, true],
      ['ReviewDate -le "%TODAY%"', { Metadata: { ReviewDate: '2025-07-01' } }, false],
      ['ReviewDate -eq "%TODAY+1%"', { Metadata: { ReviewDate: '2025-06-16T10:00:00Z' } }, true],
      ['ReviewDate -le "%TODAY%"', { Metadata: { ReviewDate: 'soon' } }, false],
      ['toString -eq NULL', { Metadata: {} }, true],
    ]);

    it('uses the spelling from metadataFields to read the certificate', () => {
      const cert = certificate({ Metadata: { AppOwner: 'alice' } });
      expect(matches('APPOWNER -eq "Alice"', cert, ['AppOwner'])).toBe(true);
    });
  });

  describe('AND / OR', () => {
    const cert = certificate({ IssuedCN: 'a', CertState: 1, KeySizeInBits: 2048 });

    truthTable([
      ['CN -eq "a" AND CertState -eq 1', { IssuedCN: 'a' }, true],
      ['CN -eq "a" AND CertState -eq 2', { IssuedCN: 'a' }, false],
      ['CN -eq "z" OR CertState -eq 1', {}, true],
      ['CN -eq "z" or CertState -eq 2', {}, false],
      // a OR (b AND c): b alone is not enough.
      ['CN -eq "z" OR CertState -eq 1 AND KeySize -eq 4096', {}, false],
      ['(CN -eq "z" OR CertState -eq 1) AND KeySize -eq 2048', {}, true],
      ['(CN -eq "z" OR CertState -eq 1)AND KeySize -eq 4096', {}, false],
    ]);

    it('compiles builder-made ASTs to the same predicate as their text', () => {
      const tree = and(
        or(clause('CN', '-eq', 'z'), clause('CertState', '-eq', 1)),
        clause('KeySize', '-eq', 2048),
      );
      expect(compileCertificateFilter(tree, { now })(cert)).toBe(true);
      expect(compileCertificateFilter(parseQuery('CN -eq "a" AND CertState -eq 2'), { now })(cert)).toBe(
        false,
      );
    });
  });

  it('matches every certificate for an empty query or null', () => {
    const cert = certificate();
    expect(compileCertificateFilter('', { now })(cert)).toBe(true);
    expect(compileCertificateFilter('  ', { now })(cert)).toBe(true);
    expect(compileCertificateFilter(null)(cert)).toBe(true);
  });

  it('reads the clock once, at compile time, and defaults to the current time', () => {
    const filter = compileCertificateFilter('ExpirationDate -ge "%TODAY%"');
    const today = new Date().toISOString().slice(0, 10);
    expect(filter(certificate({ NotAfter: `${today}T00:00:00Z` }))).toBe(true);
    expect(filter(certificate({ NotAfter: '2001-01-01T00:00:00Z' }))).toBe(false);
  });

  it('rejects fields Command knows but the certificate object does not carry', () => {
    expect(() => compileCertificateFilter('SSLDNSName -eq "x"')).toThrow(
      'query_filter: field "SSLDNSName" cannot be evaluated against certificate data at column 1; the certificate object does not carry it',
    );
    expect(() => compileCertificateFilter('CN -eq "a" OR OwnerRoleName -eq "App Team"')).toThrow(QueryError);
  });

  it('checks ASTs like text, with columns in the printed query', () => {
    const tree = and(clause('CN', '-eq', 'a'), clause('CertId', '-gt', 'abc'));
    try {
      compileCertificateFilter(tree, { now });
      expect.unreachable('an int field with a non-numeric value must be rejected');
    } catch (error) {
      expect(error).toBeInstanceOf(QueryError);
      expect((error as QueryError).message).toBe(
        'query_filter: invalid integer "abc" for "CertId" at column 27',
      );
    }
    expect(() => compileCertificateFilter(clause('Nope', '-eq', 1), { metadataFields: [] })).toThrow(
      /unknown field "Nope"/,
    );
  });

  it('evaluates many certificates with one compiled filter', () => {
    const filter = compileCertificateFilter('CertId -gt 500 AND CN -contains "7"', { now });
    const certs = Array.from({ length: 1000 }, (_, index) =>
      certificate({ Id: index, IssuedCN: `host${index}` }),
    );
    const expected = certs.filter((cert) => cert.Id > 500 && String(cert.Id).includes('7')).length;
    expect(certs.filter(filter)).toHaveLength(expected);
  });
});
