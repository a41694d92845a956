// Fixed vocabularies the generator draws from: names, EKUs, templates, store types. Only documentation domains
// (RFC 2606 example.*) and documentation address ranges (RFC 5737, RFC 3849) are used.
import type { ProfileKind } from './mix';

export interface EkuEntry {
  /** Command's EKU row id. Only Any Purpose = 24 was seen on a real Command (25.4.1); the rest are simulator ids. */
  id: number;
  oid: string;
  /** The .NET friendly name Command displays. */
  displayName: string;
}

export const EKU = {
  serverAuth: { id: 1, oid: '1.3.6.1.5.5.7.3.1', displayName: 'Server Authentication' },
  clientAuth: { id: 2, oid: '1.3.6.1.5.5.7.3.2', displayName: 'Client Authentication' },
  codeSigning: { id: 3, oid: '1.3.6.1.5.5.7.3.3', displayName: 'Code Signing' },
  emailProtection: { id: 4, oid: '1.3.6.1.5.5.7.3.4', displayName: 'Secure Email' },
  timeStamping: { id: 8, oid: '1.3.6.1.5.5.7.3.8', displayName: 'Time Stamping' },
  ocspSigning: { id: 9, oid: '1.3.6.1.5.5.7.3.9', displayName: 'OCSP Signing' },
  ipsecIke: { id: 17, oid: '1.3.6.1.5.5.7.3.17', displayName: 'IP security IKE intermediate' },
  anyPurpose: { id: 24, oid: '2.5.29.37.0', displayName: 'Any Purpose' },
  smartcardLogon: { id: 31, oid: '1.3.6.1.4.1.311.20.2.2', displayName: 'Smart Card Logon' },
  documentSigning: { id: 32, oid: '1.3.6.1.4.1.311.10.3.12', displayName: 'Document Signing' },
} as const satisfies Record<string, EkuEntry>;

export const EKU_BY_OID: ReadonlyMap<string, EkuEntry> = new Map(
  Object.values(EKU).map((entry): [string, EkuEntry] => [entry.oid, entry]),
);

export interface Organisation {
  name: string;
  locality: string;
  state: string | null;
  country: string;
}

/** Includes a comma (RFC 4514 escaping) and non-ASCII text (UTF8String) on purpose. */
export const ORGANISATIONS: readonly Organisation[] = [
  { name: 'Example Corp', locality: 'Springfield', state: 'Illinois', country: 'US' },
  { name: 'Example Corp', locality: 'Austin', state: 'Texas', country: 'US' },
  { name: 'Example Corp, Inc.', locality: 'Seattle', state: 'Washington', country: 'US' },
  { name: 'Exämple GmbH', locality: 'München', state: 'Bayern', country: 'DE' },
  { name: 'Example Labs Ltd', locality: 'London', state: null, country: 'GB' },
  { name: 'Example Canada Inc.', locality: 'Toronto', state: 'Ontario', country: 'CA' },
  { name: 'Example Pty Ltd', locality: 'Sydney', state: 'New South Wales', country: 'AU' },
];

export const ORGANISATIONAL_UNITS = [
  'IT',
  'Infrastructure',
  'Platform Engineering',
  'Security',
  'Finance IT',
  'R&D',
];

export const DOMAINS = ['example.com', 'example.net', 'example.org', 'corp.example.com', 'cloud.example.net'];
export const ENVIRONMENTS = ['prod', 'stg', 'dev', 'qa', 'uat'] as const;
export const ENVIRONMENT_NAMES: Record<(typeof ENVIRONMENTS)[number], string> = {
  prod: 'Production',
  stg: 'Staging',
  dev: 'Development',
  qa: 'QA',
  uat: 'UAT',
};

export const APPLICATIONS = [
  'payments',
  'billing',
  'portal',
  'api',
  'auth',
  'mail',
  'vpn',
  'intranet',
  'crm',
  'erp',
  'grafana',
  'jenkins',
  'gitlab',
  'kafka',
  'ldap',
  'sso',
  'www',
  'shop',
  'files',
  'wiki',
  'hr',
  'pos',
  'telemetry',
  'search',
];

export const KUBERNETES_NAMESPACES = ['payments', 'checkout', 'identity', 'observability', 'ingress', 'data'];

export const FIRST_NAMES = [
  'Alice',
  'Bob',
  'Chloé',
  'Dmitri',
  'Emma',
  'Farid',
  'Grace',
  'Hiro',
  'Ines',
  'Jonas',
];
export const LAST_NAMES = [
  'Anderson',
  'Brown',
  'Müller',
  'Nakamura',
  'Okafor',
  'Petrov',
  'Rossi',
  'Smith',
  'Zhang',
];

/** RFC 5737 / RFC 1918 IPv4 prefixes and the RFC 3849 IPv6 documentation prefix. */
export const IPV4_PREFIXES = ['192.0.2', '198.51.100', '203.0.113', '10.20.30', '172.16.5'];
export const IPV6_PREFIX = '2001:db8';

export interface TemplateEntry {
  id: number;
  /** "Full template display name" as Command reports TemplateName. */
  name: string;
}

export const TEMPLATES: Record<ProfileKind, TemplateEntry> = {
  tlsServer: { id: 4, name: 'Web Server (1y)' },
  tlsServerNoSan: { id: 5, name: 'Web Server Legacy' },
  tlsClient: { id: 6, name: 'Computer' },
  serviceMesh: { id: 7, name: 'Service Mesh Workload' },
  email: { id: 8, name: 'User Secure Email' },
  user: { id: 9, name: 'Smartcard User' },
  codeSigning: { id: 10, name: 'Code Signing' },
  infrastructure: { id: 11, name: 'Infrastructure Service' },
};

export const REQUESTERS = [
  { id: 5, name: 'CORP\\svc-kf-enroll' },
  { id: 7, name: 'CORP\\jdoe' },
  { id: 12, name: 'CORP\\asmith' },
  { id: 15, name: 'CORP\\svc-ansible' },
  { id: 21, name: 'CORP\\pki-admin' },
];

export const OWNER_ROLES = [
  { id: 3, name: 'App Team Payments' },
  { id: 4, name: 'App Team Portal' },
  { id: 6, name: 'Platform Engineering' },
  { id: 8, name: 'Network Operations' },
  { id: 11, name: 'Identity Team' },
];

export const COST_CENTERS = ['CC-1010', 'CC-2040', 'CC-3300', 'CC-4711', 'CC-5120'];

export interface StoreTypeEntry {
  /** Simulator store-type id (Command's numbers for built-in types are not documented publicly). */
  id: number;
  /** Short name, reported as LocationsCount[].Type and used by the CertStoreType query field. */
  shortName: string;
  storePath(host: string, app: string): string;
}

export const STORE_TYPES: readonly StoreTypeEntry[] = [
  { id: 1, shortName: 'JKS', storePath: (_host, app) => `/opt/${app}/conf/keystore.jks` },
  { id: 2, shortName: 'PEM', storePath: (host) => `/etc/pki/tls/certs/${host}.pem` },
  { id: 3, shortName: 'IIS', storePath: () => 'IIS Personal' },
  { id: 4, shortName: 'F5-SL-REST', storePath: () => 'Common' },
  { id: 5, shortName: 'AKV', storePath: (_host, app) => `https://kv-${app}.vault.azure.net/` },
  { id: 6, shortName: 'K8SSecret', storePath: (_host, app) => `${app}/tls-${app}` },
];

export const AGENT_POOLS = ['Default Agent Pool', 'DMZ Orchestrators', 'Datacenter East'];
export const SSL_NETWORKS = ['DMZ', 'Internal-East', 'Internal-West', 'Cloud-VPC'];

/** RFC 5280 CRLReason values Command accepts when revoking (no 7, no hold removal). */
export const REVOCATION_REASONS: readonly { reason: number; comments: readonly string[] }[] = [
  { reason: 0, comments: ['Revoked by administrator', 'Decommissioned'] },
  { reason: 1, comments: ['Private key exposed in a public repository', 'Server compromised'] },
  { reason: 3, comments: ['Application moved to another business unit'] },
  { reason: 4, comments: ['Replaced by renewed certificate', 'Superseded after re-key'] },
  { reason: 5, comments: ['Service retired', 'Host decommissioned'] },
  { reason: 6, comments: ['Pending investigation'] },
];
