// The simulated PKI: three roots and five issuing CAs, fixed for every seed so that appended batches and
// different datasets chain to the same CA certificates. Built once per process; leaves reuse the pre-encoded parts.
import { createHash } from 'node:crypto';
import { SIGNATURE_ALGORITHMS } from './algorithms';
import type { SignatureAlgorithm, SignatureKind } from './algorithms';
import { buildCertificate, serialContent } from './certificate';
import {
  authorityInfoAccessExtension,
  authorityKeyIdentifierExtension,
  basicConstraintsExtension,
  certificatePoliciesExtension,
  crlDistributionPointsExtension,
  keyUsageExtension,
  subjectKeyIdentifierExtension,
} from './extensions';
import type { GeneralName, KeyUsageName } from './extensions';
import { caKey } from './keys';
import type { CaKeySource, KeyMaterial } from './keys';
import type { IssuedSignatureKind } from './mix';
import { encodeName } from './names';
import type { DistinguishedName } from './names';

export interface CertificateFacts {
  der: Buffer;
  /** Serial as DER carries it (INTEGER content octets). */
  serial: Buffer;
  subject: DistinguishedName;
  issuer: DistinguishedName;
  notBefore: Date;
  notAfter: Date;
  key: KeyMaterial;
  signature: SignatureAlgorithm;
  /** null when the certificate has no KeyUsage extension. */
  keyUsages: readonly KeyUsageName[] | null;
  extendedKeyUsages: readonly string[];
  subjectAltNames: readonly GeneralName[];
  crlUrls: readonly string[];
  isCa: boolean;
  pathLength: number | null;
}

export interface CertificateAuthority {
  label: string;
  commonName: string;
  name: DistinguishedName;
  encodedName: Buffer;
  key: KeyMaterial;
  parent: CertificateAuthority | null;
  /** Command's CertificateAuthorityId / CertificateAuthorityName for leaves it issues; null for offline roots. */
  commandId: number | null;
  commandName: string | null;
  crlUrl: string;
  /** Command's CRLDistributionPoints[].Id for crlUrl (simulator-assigned). */
  crlRowId: number;
  ocspUrl: string;
  caIssuersUrl: string;
  /** Policy OIDs it stamps on leaves. */
  leafPolicies: readonly string[];
  /** What it signs leaves with. */
  leafSignature: SignatureAlgorithm | null;
  notBefore: Date;
  notAfter: Date;
  /** Pre-encoded extensions every leaf of this CA carries. */
  leafAuthorityKeyIdentifier: Buffer;
  leafCrlDistributionPoints: Buffer;
  leafAuthorityInfoAccess: Buffer;
  certificate: CertificateFacts;
}

interface CaDefinition {
  label: string;
  commonName: string;
  extraName: DistinguishedName;
  keySource: CaKeySource;
  keyId: number;
  parentLabel: string | null;
  /** Signature on the CA's own certificate (by its parent, or by itself for a root). */
  signedWith: SignatureKind;
  leafSignature: IssuedSignatureKind | null;
  serialHex: string;
  notBefore: string;
  notAfter: string;
  pathLength: number | null;
  commandId: number | null;
  host: string | null;
  leafPolicies: readonly string[];
}

// IANA's documentation enterprise number (RFC 5612), so the private policy arcs cannot collide with a real one.
const POLICY_ARC = '1.3.6.1.4.1.32473.1';
const ANY_POLICY = '2.5.29.32.0';
const CABF_OV = '2.23.140.1.2.2';
const CPS_URL = 'https://pki.example.com/cps';

const CA_DEFINITIONS: readonly CaDefinition[] = [
  {
    label: 'root-r1',
    commonName: 'Example Corp Root CA R1',
    extraName: [
      { type: 'C', value: 'US' },
      { type: 'O', value: 'Example Corp' },
    ],
    keySource: { type: 'rsa-file', fileName: 'ca-root-r1.pem' },
    keyId: 101,
    parentLabel: null,
    signedWith: 'SHA-256withRSA',
    leafSignature: null,
    serialHex: '1f6c2a9e40b3d57c8e21a4f90d3b6c7e5a18f203',
    notBefore: '2016-06-01T00:00:00Z',
    notAfter: '2046-06-01T00:00:00Z',
    pathLength: null,
    commandId: null,
    host: null,
    leafPolicies: [],
  },
  {
    label: 'root-e1',
    commonName: 'Example Corp Root CA E1',
    extraName: [
      { type: 'C', value: 'US' },
      { type: 'O', value: 'Example Corp' },
    ],
    keySource: { type: 'ec', curve: 'P-384' },
    keyId: 102,
    parentLabel: null,
    signedWith: 'SHA-384withECDSA',
    leafSignature: null,
    serialHex: '4a0e7d93c2b15f6e08a3d7c41b9e2f5d60c8a713',
    notBefore: '2019-03-01T00:00:00Z',
    notAfter: '2049-03-01T00:00:00Z',
    pathLength: null,
    commandId: null,
    host: null,
    leafPolicies: [],
  },
  {
    label: 'legacy-root',
    commonName: 'Example Legacy Root CA 2008',
    extraName: [
      { type: 'C', value: 'US' },
      { type: 'O', value: 'Example Corp' },
      { type: 'OU', value: 'PKI' },
    ],
    keySource: { type: 'rsa-file', fileName: 'ca-legacy-root.pem' },
    keyId: 103,
    parentLabel: null,
    signedWith: 'SHA-1withRSA',
    leafSignature: null,
    serialHex: '3c9d1e',
    notBefore: '2008-01-15T00:00:00Z',
    notAfter: '2038-01-15T00:00:00Z',
    pathLength: null,
    commandId: null,
    host: null,
    leafPolicies: [],
  },
  {
    label: 'issuing-r1',
    commonName: 'Example Corp Issuing CA R1',
    extraName: [
      { type: 'C', value: 'US' },
      { type: 'O', value: 'Example Corp' },
    ],
    keySource: { type: 'rsa-file', fileName: 'ca-issuing-r1.pem' },
    keyId: 104,
    parentLabel: 'root-r1',
    signedWith: 'SHA-256withRSA',
    leafSignature: 'SHA-256withRSA',
    serialHex: '61000000024f8ab1c9e3d20a7b00000000000002',
    notBefore: '2016-07-01T00:00:00Z',
    notAfter: '2036-07-01T00:00:00Z',
    pathLength: 0,
    commandId: 1,
    host: 'pki-ca01.corp.example.com',
    leafPolicies: [`${POLICY_ARC}.1`, CABF_OV],
  },
  {
    label: 'issuing-e1',
    commonName: 'Example Corp Issuing CA E1',
    extraName: [
      { type: 'C', value: 'US' },
      { type: 'O', value: 'Example Corp' },
    ],
    keySource: { type: 'ec', curve: 'P-256' },
    keyId: 105,
    parentLabel: 'root-e1',
    signedWith: 'SHA-384withECDSA',
    leafSignature: 'SHA-256withECDSA',
    serialHex: '2d7f0c5ab8e3194c66d0f2a1e7b3c58d9a04e6f1',
    notBefore: '2019-04-01T00:00:00Z',
    notAfter: '2039-04-01T00:00:00Z',
    pathLength: 0,
    commandId: 2,
    host: 'ejbca.corp.example.com',
    leafPolicies: [`${POLICY_ARC}.2`],
  },
  {
    label: 'issuing-e2',
    commonName: 'Example Corp Issuing CA E2',
    extraName: [
      { type: 'C', value: 'US' },
      { type: 'O', value: 'Example Corp' },
    ],
    keySource: { type: 'ec', curve: 'P-384' },
    keyId: 106,
    parentLabel: 'root-e1',
    signedWith: 'SHA-384withECDSA',
    leafSignature: 'SHA-384withECDSA',
    serialHex: '5b19e6d04c7a28f3b1e09d6c4a7f2e8b13d5c960',
    notBefore: '2019-04-01T00:00:00Z',
    notAfter: '2039-04-01T00:00:00Z',
    pathLength: 0,
    commandId: 3,
    host: 'ejbca.corp.example.com',
    leafPolicies: [`${POLICY_ARC}.3`],
  },
  {
    label: 'issuing-ed1',
    commonName: 'Example Corp Device CA Ed1',
    extraName: [
      { type: 'C', value: 'US' },
      { type: 'O', value: 'Example Corp' },
      { type: 'OU', value: 'Devices' },
    ],
    keySource: { type: 'ed25519' },
    keyId: 107,
    parentLabel: 'root-e1',
    signedWith: 'SHA-384withECDSA',
    leafSignature: 'Ed25519',
    serialHex: '0e83b5c2f17d49a6',
    notBefore: '2023-01-01T00:00:00Z',
    notAfter: '2043-01-01T00:00:00Z',
    pathLength: 0,
    commandId: 4,
    host: 'ejbca.corp.example.com',
    leafPolicies: [`${POLICY_ARC}.4`],
  },
  {
    label: 'legacy-issuing',
    commonName: 'Example Legacy Issuing CA',
    extraName: [
      { type: 'C', value: 'US' },
      { type: 'O', value: 'Example Corp' },
      { type: 'OU', value: 'PKI' },
    ],
    keySource: { type: 'rsa-file', fileName: 'ca-legacy-issuing.pem' },
    keyId: 108,
    parentLabel: 'legacy-root',
    signedWith: 'SHA-1withRSA',
    leafSignature: 'SHA-1withRSA',
    serialHex: '1a2b3c4d0000000000000007',
    notBefore: '2008-02-01T00:00:00Z',
    notAfter: '2038-01-01T00:00:00Z',
    pathLength: 0,
    commandId: 5,
    host: 'legacy-ca.corp.example.com',
    leafPolicies: [],
  },
];

/** CertificateAuthorityId → the CA's CRL row id; small stable numbers like Command's own table. */
const CRL_ROW_ID_BASE = 100;

function buildAuthority(
  definition: CaDefinition,
  parent: CertificateAuthority | null,
  index: number,
): CertificateAuthority {
  const key = caKey(definition.label, definition.keySource, definition.keyId);
  const name: DistinguishedName = [...definition.extraName, { type: 'CN', value: definition.commonName }];
  const encodedName = encodeName(name);
  const crlUrl = `http://pki.example.com/crl/${definition.label}.crl`;
  const caIssuersUrl = `http://pki.example.com/aia/${definition.label}.crt`;
  const ocspUrl = 'http://ocsp.example.com';
  const signer = parent ? parent.key : key;
  const keyUsages: KeyUsageName[] = ['digitalSignature', 'keyCertSign', 'cRLSign'];
  const extensions: Buffer[] = [
    basicConstraintsExtension(true, definition.pathLength, true),
    keyUsageExtension(keyUsages),
    subjectKeyIdentifierExtension(key.subjectKeyIdentifier),
  ];
  const crlUrls: string[] = [];
  if (parent) {
    extensions.push(
      authorityKeyIdentifierExtension(parent.key.subjectKeyIdentifier),
      crlDistributionPointsExtension([parent.crlUrl]),
      authorityInfoAccessExtension(parent.ocspUrl, parent.caIssuersUrl),
      certificatePoliciesExtension([ANY_POLICY], CPS_URL),
    );
    crlUrls.push(parent.crlUrl);
  }
  const signature = SIGNATURE_ALGORITHMS[definition.signedWith];
  const notBefore = new Date(definition.notBefore);
  const notAfter = new Date(definition.notAfter);
  const serial = Buffer.from(definition.serialHex, 'hex');
  const der = buildCertificate({
    serial,
    signature,
    issuer: parent ? parent.encodedName : encodedName,
    notBefore,
    notAfter,
    subject: encodedName,
    subjectPublicKeyInfo: key.subjectPublicKeyInfo,
    extensions,
    signer,
  });
  return {
    label: definition.label,
    commonName: definition.commonName,
    name,
    encodedName,
    key,
    parent,
    commandId: definition.commandId,
    commandName: definition.host ? `${definition.host}\\${definition.commonName}` : null,
    crlUrl,
    crlRowId: CRL_ROW_ID_BASE + index,
    ocspUrl,
    caIssuersUrl,
    leafPolicies: definition.leafPolicies,
    leafSignature: definition.leafSignature ? SIGNATURE_ALGORITHMS[definition.leafSignature] : null,
    notBefore,
    notAfter,
    leafAuthorityKeyIdentifier: authorityKeyIdentifierExtension(key.subjectKeyIdentifier),
    leafCrlDistributionPoints: crlDistributionPointsExtension([crlUrl]),
    leafAuthorityInfoAccess: authorityInfoAccessExtension(ocspUrl, caIssuersUrl),
    certificate: {
      der,
      serial: serialContent(serial),
      subject: name,
      issuer: parent ? parent.name : name,
      notBefore,
      notAfter,
      key,
      signature,
      keyUsages,
      extendedKeyUsages: [],
      subjectAltNames: [],
      crlUrls,
      isCa: true,
      pathLength: definition.pathLength,
    },
  };
}

export interface Hierarchy {
  /** Roots first, then issuing CAs: the order they are imported into the inventory. */
  authorities: readonly CertificateAuthority[];
  /** The issuing CA for each leaf signature. */
  issuerFor: Readonly<Record<IssuedSignatureKind, CertificateAuthority>>;
  /** Fingerprint of the whole hierarchy, handy to tell whether two datasets share CAs. */
  fingerprint: string;
}

let hierarchy: Hierarchy | undefined;

export function getHierarchy(): Hierarchy {
  if (hierarchy) return hierarchy;
  const byLabel = new Map<string, CertificateAuthority>();
  const authorities: CertificateAuthority[] = [];
  CA_DEFINITIONS.forEach((definition, index) => {
    const parent = definition.parentLabel ? byLabel.get(definition.parentLabel) : null;
    if (parent === undefined) throw new Error(`CA ${definition.label} is defined before its parent`);
    const authority = buildAuthority(definition, parent, index);
    byLabel.set(definition.label, authority);
    authorities.push(authority);
  });
  const issuerFor = {} as Record<IssuedSignatureKind, CertificateAuthority>;
  for (const authority of authorities) {
    const kind = authority.leafSignature?.kind;
    if (kind) {
      issuerFor[kind as IssuedSignatureKind] = authority;
    }
  }
  // SHA-384withRSA comes from the same RSA issuing CA as SHA-256withRSA (a template setting, not another CA).
  const rsaIssuer = byLabel.get('issuing-r1');
  if (!rsaIssuer) throw new Error('issuing-r1 missing');
  issuerFor['SHA-384withRSA'] = rsaIssuer;
  const fingerprint = createHash('sha256')
    .update(Buffer.concat(authorities.map((authority) => authority.certificate.der)))
    .digest('hex');
  hierarchy = { authorities, issuerFor, fingerprint };
  return hierarchy;
}
