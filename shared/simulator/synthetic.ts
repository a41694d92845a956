// Cheap, deterministic CommandCertificate objects for tests and load runs where real X.509 content is beside
// the point (the server never parses ContentBytes). For realistic data use the generator.
import type { CommandCertificate } from '#shared/keyfactor/model';
import { CERT_STATE_NAMES } from '#shared/keyfactor/model';

const DAY_MS = 24 * 60 * 60 * 1000;
const ISSUED_AT = Date.parse('2025-01-01T00:00:00Z');

/** Not a certificate: a fixed blob of about the size of a real one's DER in base64. */
const PLACEHOLDER_CONTENT = Buffer.alloc(900, 0x30).toString('base64');

function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Certificate `id`: CN host<id>.example.com, issued 2025-01-01 + id minutes, valid for 2 years, imported
 * `id` seconds after issuance, one PEM location, Metadata { Owner }. Overrides replace fields wholesale.
 */
export function syntheticCertificate(
  id: number,
  overrides: Partial<CommandCertificate> = {},
): CommandCertificate {
  const notBefore = ISSUED_AT + id * 60_000;
  const certState = overrides.CertState ?? 1;
  const hex = id.toString(16).toUpperCase();
  return {
    Id: id,
    Thumbprint: hex.padStart(40, '0'),
    SerialNumber: hex.padStart(16, '0'),
    IssuedDN: `CN=host${id}.example.com, O=Example Corp`,
    IssuedCN: `host${id}.example.com`,
    ImportDate: new Date(notBefore + id * 1000).toISOString(),
    NotBefore: isoSeconds(notBefore),
    NotAfter: isoSeconds(notBefore + 730 * DAY_MS),
    IssuerDN: 'CN=Example Issuing CA R1, O=Example Corp',
    PrincipalId: null,
    TemplateId: 4,
    CertState: certState,
    KeySizeInBits: 2048,
    KeyType: 1,
    RequesterId: 5,
    IssuedOU: null,
    IssuedEmail: null,
    KeyUsage: 160,
    SigningAlgorithm: 'SHA256withRSA',
    CertStateString: `${CERT_STATE_NAMES[certState] ?? 'Unknown'} (${certState})`,
    KeyTypeString: 'RSA',
    RevocationEffDate: null,
    RevocationReason: null,
    RevocationComment: null,
    CertificateAuthorityId: 1,
    CertificateAuthorityName: 'Example Issuing CA R1',
    TemplateName: 'Web Server (1y)',
    ArchivedKey: false,
    HasPrivateKey: id % 2 === 0,
    KeyRecoverable: false,
    PrincipalName: null,
    CertRequestId: id,
    RequesterName: 'CORP\\svc-kf-enroll',
    ContentBytes: PLACEHOLDER_CONTENT,
    ExtendedKeyUsages: [{ Id: 1, Oid: '1.3.6.1.5.5.7.3.1', DisplayName: 'Server Authentication' }],
    SubjectAltNameElements: [{ Id: id, Value: `host${id}.example.com`, Type: 2, ValueHash: null }],
    CRLDistributionPoints: [],
    LocationsCount: [{ Type: 'PEM', Count: 1 }],
    SSLLocations: [],
    Locations: [
      {
        StoreMachine: `web${id % 100}.example.com`,
        StorePath: `/etc/pki/tls/certs/host${id}.pem`,
        StoreType: 2,
        Alias: `host${id}`,
        ChainLevel: 1,
        CertStoreId: null,
      },
    ],
    Metadata: { Owner: `team${id % 7}@example.com` },
    CertificateKeyId: id,
    CARowIndex: id,
    CARecordId: String(id),
    DetailedKeyUsage: null,
    Curve: null,
    ...overrides,
  };
}

/** Ids 1..count. */
export function syntheticCertificates(count: number): CommandCertificate[] {
  return Array.from({ length: count }, (_, index) => syntheticCertificate(index + 1));
}
