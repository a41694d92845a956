// The Command certificate object (Models.CertificateRetrievalResponse) as the list and by-id endpoints return it.
// Schemas are tolerant of extra fields (newer Command versions add some) and strict about what the sensor needs.
import { z } from 'zod';

const nullableString = z.string().nullable().optional();
const nullableInt = z.number().int().nullable().optional();

export const ExtendedKeyUsageSchema = z.looseObject({
  Id: z.number().int().optional(),
  Oid: z.string(),
  DisplayName: z.string().nullable().optional(),
});

export const SubjectAltNameElementSchema = z.looseObject({
  Id: z.number().int().optional(),
  Value: z.string(),
  Type: z.number().int(),
  ValueHash: z.string().nullable().optional(),
});

export const CrlDistributionPointSchema = z.looseObject({
  Id: z.number().int().optional(),
  Url: z.string(),
  UrlHash: z.string().nullable().optional(),
});

export const LocationsCountSchema = z.looseObject({ Type: z.string(), Count: z.number().int() });

export const SslLocationSchema = z.looseObject({
  StorePath: nullableString,
  AgentPool: nullableString,
  IPAddress: nullableString,
  Port: nullableInt,
  NetworkName: nullableString,
});

export const StoreLocationSchema = z.looseObject({
  StoreMachine: nullableString,
  StorePath: nullableString,
  StoreType: nullableInt,
  Alias: nullableString,
  ChainLevel: nullableInt,
  CertStoreId: nullableString,
});

export const DetailedKeyUsageSchema = z.looseObject({
  CrlSign: z.boolean(),
  DataEncipherment: z.boolean(),
  DecipherOnly: z.boolean(),
  DigitalSignature: z.boolean(),
  EncipherOnly: z.boolean(),
  KeyAgreement: z.boolean(),
  KeyCertSign: z.boolean(),
  KeyEncipherment: z.boolean(),
  NonRepudiation: z.boolean(),
  HexCode: z.string(),
});

/** Fields the sensor cannot work without are required; everything else may be absent or null. */
export const CommandCertificateSchema = z.looseObject({
  Id: z.number().int().nonnegative(),
  ContentBytes: z.string().min(1),
  Thumbprint: z.string(),
  SerialNumber: z.string(),
  IssuedDN: nullableString,
  IssuedCN: nullableString,
  ImportDate: z.string(),
  NotBefore: z.string(),
  NotAfter: z.string(),
  IssuerDN: nullableString,
  PrincipalId: z.unknown().optional(),
  TemplateId: nullableInt,
  CertState: z.number().int(),
  KeySizeInBits: z.number().int(),
  KeyType: z.number().int(),
  RequesterId: nullableInt,
  IssuedOU: nullableString,
  IssuedEmail: nullableString,
  KeyUsage: nullableInt,
  SigningAlgorithm: z.string(),
  CertStateString: nullableString,
  KeyTypeString: nullableString,
  RevocationEffDate: nullableString,
  RevocationReason: nullableInt,
  RevocationComment: nullableString,
  CertificateAuthorityId: nullableInt,
  CertificateAuthorityName: nullableString,
  TemplateName: nullableString,
  ArchivedKey: z.boolean().optional(),
  HasPrivateKey: z.boolean().optional(),
  KeyRecoverable: z.boolean().optional(),
  PrincipalName: nullableString,
  CertRequestId: nullableInt,
  RequesterName: nullableString,
  ExtendedKeyUsages: z.array(ExtendedKeyUsageSchema).optional(),
  SubjectAltNameElements: z.array(SubjectAltNameElementSchema).optional(),
  CRLDistributionPoints: z.array(CrlDistributionPointSchema).optional(),
  LocationsCount: z.array(LocationsCountSchema).optional(),
  SSLLocations: z.array(SslLocationSchema).optional(),
  Locations: z.array(StoreLocationSchema).optional(),
  Metadata: z.record(z.string(), z.string().nullable()).optional(),
  CertificateKeyId: nullableInt,
  CARowIndex: nullableInt,
  CARecordId: nullableString,
  DetailedKeyUsage: DetailedKeyUsageSchema.nullable().optional(),
  Curve: nullableString,
});

export type CommandCertificate = z.infer<typeof CommandCertificateSchema>;
export type SubjectAltNameElement = z.infer<typeof SubjectAltNameElementSchema>;
export type SslLocation = z.infer<typeof SslLocationSchema>;
export type StoreLocation = z.infer<typeof StoreLocationSchema>;

/** Command's certificate states. Only 1 (Active), 2 (Revoked) and 6 (CA) are confirmed; see docs/command-assumptions.md. */
export const CertState = {
  Unknown: 0,
  Active: 1,
  Revoked: 2,
  Denied: 3,
  Failed: 4,
  Pending: 5,
  CertificateAuthority: 6,
  ParentCertificateAuthority: 7,
  ExternalValidation: 8,
} as const;

export const CERT_STATE_NAMES: Record<number, string> = {
  0: 'Unknown',
  1: 'Active',
  2: 'Revoked',
  3: 'Denied',
  4: 'Failed',
  5: 'Pending',
  6: 'Certificate Authority',
  7: 'Parent Certificate Authority',
  8: 'External Validation',
};

/** Command's KeyType numbers: 1 RSA, 3 ECC, 5 Ed448, 6 Ed25519 are confirmed (25.4.1); 2 DSA and 4 DH are assumed. */
export const KeyType = { Unknown: 0, RSA: 1, DSA: 2, ECC: 3, DH: 4, Ed448: 5, Ed25519: 6 } as const;

export const KEY_TYPE_NAMES: Record<number, string> = {
  0: 'Unknown',
  1: 'RSA',
  2: 'DSA',
  3: 'ECC',
  4: 'DH',
  5: 'Ed448',
  6: 'Ed25519',
};

/** SubjectAltNameElements[].Type: RFC 5280 GeneralName tags, plus Microsoft's UPN (100) and GUID (101). */
export const SanType = {
  OtherName: 0,
  Email: 1,
  DNS: 2,
  X400: 3,
  DirectoryName: 4,
  EdiParty: 5,
  URI: 6,
  IPAddress: 7,
  RegisteredId: 8,
  UPN: 100,
  GUID: 101,
} as const;

/** The error body Command returns for 4xx/5xx responses. */
export const CommandErrorBodySchema = z.looseObject({
  ErrorCode: z.string().optional(),
  Message: z.string(),
});
