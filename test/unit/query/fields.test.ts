// Field registry: each built-in field reads the property the docs say, names resolve case-insensitively.
import { describe, expect, it } from 'vitest';
import type { CommandCertificate } from '#shared/keyfactor/model';
import { BUILT_IN_FIELDS, resolveField } from '#shared/query/index';
import { levenshtein } from '#shared/query/suggest';

const cert: CommandCertificate = {
  Id: 42,
  ContentBytes: 'MIIB',
  Thumbprint: 'TP',
  SerialNumber: 'SN',
  IssuedDN: 'CN=subject',
  IssuedCN: 'subject',
  ImportDate: '2025-06-01T00:00:00Z',
  NotBefore: '2025-01-01T00:00:00Z',
  NotAfter: '2026-01-01T00:00:00Z',
  IssuerDN: 'CN=issuer',
  CertState: 1,
  KeySizeInBits: 256,
  KeyType: 3,
  SigningAlgorithm: 'SHA256withECDSA',
  RevocationEffDate: '2025-03-01T00:00:00Z',
  CertificateAuthorityName: 'ca-name',
  TemplateName: 'tmpl',
  HasPrivateKey: true,
  ArchivedKey: false,
  CertRequestId: 7,
  IssuedOU: 'ou',
  IssuedEmail: 'e@x',
  RequesterName: 'req',
  PrincipalName: 'prin',
  Curve: 'P-256',
  Locations: [{ StoreMachine: 'host', StorePath: '/path', StoreType: 105 }],
  SSLLocations: [{ IPAddress: '10.0.0.1', Port: 443, NetworkName: 'net' }],
  SubjectAltNameElements: [{ Value: 'san.example', Type: 2 }],
  ExtendedKeyUsages: [{ Oid: '1.3.6.1.5.5.7.3.1', DisplayName: 'Server Authentication' }],
  Metadata: { Retired: 'False' },
};

const expectedValues: Record<string, unknown> = {
  CertId: 42,
  Thumbprint: 'TP',
  SerialNumber: 'SN',
  IssuedCN: 'subject',
  IssuedDN: 'CN=subject',
  IssuerDN: 'CN=issuer',
  CN: 'subject',
  CA: 'ca-name',
  CertState: 1,
  CertRequestId: 7,
  KeySizeInBits: 256,
  KeyType: 3,
  SigningAlgorithm: 'SHA256withECDSA',
  IssuedDate: '2025-01-01T00:00:00Z',
  ExpirationDate: '2026-01-01T00:00:00Z',
  ImportDate: '2025-06-01T00:00:00Z',
  RevocationDate: '2025-03-01T00:00:00Z',
  HasPrivateKey: true,
  ArchivedKey: false,
  TemplateName: 'tmpl',
  CertStoreFQDN: ['host'],
  CertStorePath: ['/path'],
  CertStoreType: ['105'],
  SAN: ['san.example'],
  EKU: ['1.3.6.1.5.5.7.3.1'],
  EKUName: ['Server Authentication'],
  OU: 'ou',
  IssuedEmail: 'e@x',
  NetBIOSRequester: 'req',
  NetBIOSPrincipal: 'prin',
  SSLIPAddress: ['10.0.0.1'],
  SSLPort: [443],
  SSLNetworkName: ['net'],
  Curve: 'P-256',
};

describe('BUILT_IN_FIELDS', () => {
  it.each(Object.entries(expectedValues))('%s reads its certificate property', (name, expected) => {
    const definition = BUILT_IN_FIELDS.find((field) => field.name === name);
    expect(definition?.read?.(cert)).toEqual(expected);
  });

  it('lists exactly the evaluable fields above, plus the ones the certificate cannot answer', () => {
    const evaluable = BUILT_IN_FIELDS.filter((field) => field.read !== undefined).map((field) => field.name);
    const unreadable = BUILT_IN_FIELDS.filter((field) => field.read === undefined).map((field) => field.name);
    expect(evaluable.sort()).toEqual(Object.keys(expectedValues).sort());
    expect(unreadable.sort()).toEqual(['OwnerRoleName', 'PublicKey', 'Revoker', 'SSLDNSName']);
  });

  it('has no name or alias twice, case-insensitively', () => {
    const names = BUILT_IN_FIELDS.flatMap((field) => [field.name, ...field.aliases]).map((name) =>
      name.toLowerCase(),
    );
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('resolveField', () => {
  it('resolves names and aliases in any case to the built-in definition', () => {
    expect(resolveField('notafter')).toMatchObject({
      kind: 'built-in',
      definition: { name: 'ExpirationDate' },
    });
    expect(resolveField('ID')).toMatchObject({ kind: 'built-in', definition: { name: 'CertId' } });
    expect(resolveField('keysize')).toMatchObject({
      kind: 'built-in',
      definition: { name: 'KeySizeInBits' },
    });
    expect(resolveField('RevocationEffDate')).toMatchObject({ definition: { name: 'RevocationDate' } });
  });

  it('takes other names as metadata fields unless a metadata list says otherwise', () => {
    expect(resolveField('Retired')).toEqual({ kind: 'metadata', name: 'Retired' });
    expect(resolveField('retired', ['Retired'])).toEqual({ kind: 'metadata', name: 'Retired' });
    expect(resolveField('Retired', ['Owner'])).toBeUndefined();
  });

  it('lets built-in names win over metadata names', () => {
    expect(resolveField('CN', ['CN'])).toMatchObject({ kind: 'built-in' });
  });
});

describe('levenshtein', () => {
  it.each([
    ['', '', 0],
    ['abc', '', 3],
    ['kitten', 'sitting', 3],
    ['issueddat', 'issueddate', 1],
    ['flaw', 'lawn', 2],
  ])('distance(%s, %s) = %i', (a, b, distance) => {
    expect(levenshtein(a, b)).toBe(distance);
    expect(levenshtein(b, a)).toBe(distance);
  });
});
