// The field registry: Command's certificate query fields, their types, and where each reads a CommandCertificate.
import type { CommandCertificate } from '#shared/keyfactor/model';
import { KEY_TYPE_NAMES } from '#shared/keyfactor/model';
import type { Operator } from './ast';
import { parseIntegerLiteral } from './literals';
import { closestName } from './suggest';

export type FieldType = 'string' | 'int' | 'enum-int' | 'date' | 'bool';
export type FieldValue = string | number | boolean | null | undefined;
/** Multi-valued fields (locations, SANs, EKUs, SSL endpoints) return an array; the rest one value. */
export type FieldAccessor = (cert: CommandCertificate) => FieldValue | FieldValue[];

/**
 * How sure we are that Command accepts the name (see shared/reference/command-query-fields.md):
 * 'used' = seen in a working Keyfactor query; 'listed' = only in the v10 field list; 'assumed' = neither.
 */
export type FieldEvidence = 'used' | 'listed' | 'assumed';

export interface BuiltInField {
  /** Command's own name; printed by withCommandFieldNames. */
  readonly name: string;
  /** Other accepted names. They are local conveniences: Command may reject them (NotAfter, Id, ...). */
  readonly aliases: readonly string[];
  readonly type: FieldType;
  /** The CommandCertificate property read, for docs and the field table. */
  readonly reads: string;
  readonly evidence: FieldEvidence;
  /** Absent when Command knows the field but the certificate object does not carry the data to evaluate it. */
  readonly read?: FieldAccessor;
  /** enum-int only: number → name; the names are accepted (any case) in place of the number. */
  readonly enumNames?: Readonly<Record<number, string>>;
}

export type ResolvedField =
  | { readonly kind: 'built-in'; readonly definition: BuiltInField }
  | { readonly kind: 'metadata'; readonly name: string };

const STRING_OPERATORS: readonly Operator[] = [
  '-eq',
  '-ne',
  '-contains',
  '-notcontains',
  '-startswith',
  '-endswith',
];
const ORDERED_OPERATORS: readonly Operator[] = ['-eq', '-ne', '-lt', '-le', '-gt', '-ge'];
const BOOLEAN_OPERATORS: readonly Operator[] = ['-eq', '-ne'];
// Metadata fields have a DataType the query text does not reveal, so every operator is let through.
const METADATA_OPERATORS: readonly Operator[] = [...STRING_OPERATORS, '-lt', '-le', '-gt', '-ge'];

export const OPERATORS_BY_TYPE: Readonly<Record<FieldType | 'metadata', readonly Operator[]>> = {
  string: STRING_OPERATORS,
  int: ORDERED_OPERATORS,
  'enum-int': ORDERED_OPERATORS,
  date: ORDERED_OPERATORS,
  bool: BOOLEAN_OPERATORS,
  metadata: METADATA_OPERATORS,
};

type FieldSpec = Omit<BuiltInField, 'aliases'> & { aliases?: readonly string[] };

function field(spec: FieldSpec): BuiltInField {
  return { aliases: [], ...spec };
}

export const BUILT_IN_FIELDS: readonly BuiltInField[] = [
  field({ name: 'CertId', aliases: ['Id'], type: 'int', reads: 'Id', evidence: 'listed', read: (c) => c.Id }),
  field({
    name: 'Thumbprint',
    type: 'string',
    reads: 'Thumbprint',
    evidence: 'used',
    read: (c) => c.Thumbprint,
  }),
  field({
    name: 'SerialNumber',
    type: 'string',
    reads: 'SerialNumber',
    evidence: 'used',
    read: (c) => c.SerialNumber,
  }),
  field({ name: 'IssuedCN', type: 'string', reads: 'IssuedCN', evidence: 'used', read: (c) => c.IssuedCN }),
  field({ name: 'IssuedDN', type: 'string', reads: 'IssuedDN', evidence: 'used', read: (c) => c.IssuedDN }),
  field({ name: 'IssuerDN', type: 'string', reads: 'IssuerDN', evidence: 'used', read: (c) => c.IssuerDN }),
  field({ name: 'CN', type: 'string', reads: 'IssuedCN', evidence: 'used', read: (c) => c.IssuedCN }),
  field({
    name: 'CA',
    type: 'string',
    reads: 'CertificateAuthorityName',
    evidence: 'used',
    read: (c) => c.CertificateAuthorityName,
  }),
  field({
    name: 'CertState',
    type: 'enum-int',
    reads: 'CertState',
    evidence: 'used',
    read: (c) => c.CertState,
  }),
  field({
    name: 'CertRequestId',
    type: 'int',
    reads: 'CertRequestId',
    evidence: 'used',
    read: (c) => c.CertRequestId,
  }),
  field({
    name: 'KeySizeInBits',
    aliases: ['KeySize'],
    type: 'int',
    reads: 'KeySizeInBits',
    evidence: 'assumed',
    read: (c) => c.KeySizeInBits,
  }),
  field({
    name: 'KeyType',
    type: 'enum-int',
    reads: 'KeyType',
    evidence: 'assumed',
    read: (c) => c.KeyType,
    enumNames: KEY_TYPE_NAMES,
  }),
  field({
    name: 'SigningAlgorithm',
    type: 'string',
    reads: 'SigningAlgorithm',
    evidence: 'listed',
    read: (c) => c.SigningAlgorithm,
  }),
  field({
    name: 'IssuedDate',
    aliases: ['NotBefore'],
    type: 'date',
    reads: 'NotBefore',
    evidence: 'listed',
    read: (c) => c.NotBefore,
  }),
  field({
    name: 'ExpirationDate',
    aliases: ['NotAfter'],
    type: 'date',
    reads: 'NotAfter',
    evidence: 'used',
    read: (c) => c.NotAfter,
  }),
  field({
    name: 'ImportDate',
    type: 'date',
    reads: 'ImportDate',
    evidence: 'listed',
    read: (c) => c.ImportDate,
  }),
  field({
    name: 'RevocationDate',
    aliases: ['RevocationEffDate'],
    type: 'date',
    reads: 'RevocationEffDate',
    evidence: 'listed',
    read: (c) => c.RevocationEffDate,
  }),
  field({
    name: 'HasPrivateKey',
    type: 'bool',
    reads: 'HasPrivateKey',
    evidence: 'listed',
    read: (c) => c.HasPrivateKey,
  }),
  field({
    name: 'ArchivedKey',
    type: 'bool',
    reads: 'ArchivedKey',
    evidence: 'listed',
    read: (c) => c.ArchivedKey,
  }),
  field({
    name: 'TemplateName',
    aliases: ['Template'],
    type: 'string',
    reads: 'TemplateName',
    evidence: 'assumed',
    read: (c) => c.TemplateName,
  }),
  field({
    name: 'CertStoreFQDN',
    type: 'string',
    reads: 'Locations[].StoreMachine',
    evidence: 'used',
    read: (c) => (c.Locations ?? []).map((location) => location.StoreMachine),
  }),
  field({
    name: 'CertStorePath',
    type: 'string',
    reads: 'Locations[].StorePath',
    evidence: 'used',
    read: (c) => (c.Locations ?? []).map((location) => location.StorePath),
  }),
  // Command compares the store type's short name; the certificate only carries its number, written here as text.
  field({
    name: 'CertStoreType',
    type: 'string',
    reads: 'Locations[].StoreType (the number, as text)',
    evidence: 'used',
    read: (c) => (c.Locations ?? []).map((location) => numberAsText(location.StoreType)),
  }),
  field({
    name: 'SAN',
    type: 'string',
    reads: 'SubjectAltNameElements[].Value',
    evidence: 'listed',
    read: (c) => (c.SubjectAltNameElements ?? []).map((san) => san.Value),
  }),
  field({
    name: 'EKU',
    type: 'string',
    reads: 'ExtendedKeyUsages[].Oid',
    evidence: 'listed',
    read: (c) => (c.ExtendedKeyUsages ?? []).map((eku) => eku.Oid),
  }),
  field({
    name: 'EKUName',
    type: 'string',
    reads: 'ExtendedKeyUsages[].DisplayName',
    evidence: 'listed',
    read: (c) => (c.ExtendedKeyUsages ?? []).map((eku) => eku.DisplayName),
  }),
  field({ name: 'OU', type: 'string', reads: 'IssuedOU', evidence: 'listed', read: (c) => c.IssuedOU }),
  field({
    name: 'IssuedEmail',
    type: 'string',
    reads: 'IssuedEmail',
    evidence: 'assumed',
    read: (c) => c.IssuedEmail,
  }),
  field({
    name: 'NetBIOSRequester',
    type: 'string',
    reads: 'RequesterName',
    evidence: 'listed',
    read: (c) => c.RequesterName,
  }),
  field({
    name: 'NetBIOSPrincipal',
    type: 'string',
    reads: 'PrincipalName',
    evidence: 'listed',
    read: (c) => c.PrincipalName,
  }),
  field({
    name: 'SSLIPAddress',
    type: 'string',
    reads: 'SSLLocations[].IPAddress',
    evidence: 'listed',
    read: (c) => (c.SSLLocations ?? []).map((location) => location.IPAddress),
  }),
  field({
    name: 'SSLPort',
    type: 'int',
    reads: 'SSLLocations[].Port',
    evidence: 'listed',
    read: (c) => (c.SSLLocations ?? []).map((location) => location.Port),
  }),
  field({
    name: 'SSLNetworkName',
    type: 'string',
    reads: 'SSLLocations[].NetworkName',
    evidence: 'listed',
    read: (c) => (c.SSLLocations ?? []).map((location) => location.NetworkName),
  }),
  field({ name: 'Curve', type: 'string', reads: 'Curve', evidence: 'assumed', read: (c) => c.Curve }),
  // Command accepts these names, but the certificate object has nothing to evaluate them against.
  field({ name: 'SSLDNSName', type: 'string', reads: '(not in the certificate object)', evidence: 'listed' }),
  field({ name: 'Revoker', type: 'string', reads: '(not in the certificate object)', evidence: 'listed' }),
  field({ name: 'PublicKey', type: 'string', reads: '(not in the certificate object)', evidence: 'listed' }),
  field({
    name: 'OwnerRoleName',
    type: 'string',
    reads: '(not in the certificate object)',
    evidence: 'used',
  }),
];

const BUILT_IN_BY_NAME: ReadonlyMap<string, BuiltInField> = new Map(
  BUILT_IN_FIELDS.flatMap((definition) =>
    [definition.name, ...definition.aliases].map((name) => [name.toLowerCase(), definition] as const),
  ),
);

const BUILT_IN_NAMES: readonly string[] = BUILT_IN_FIELDS.flatMap((definition) => [
  definition.name,
  ...definition.aliases,
]);

function numberAsText(value: number | null | undefined): string | null | undefined {
  return typeof value === 'number' ? String(value) : value;
}

/**
 * Finds what a field name in a query means. Built-in names win over metadata names. Without a list of metadata
 * fields every other name is taken as a metadata field (the caller may not know them); with a list, a name that is
 * in neither is unknown (undefined).
 */
export function resolveField(name: string, metadataFields?: readonly string[]): ResolvedField | undefined {
  const lower = name.toLowerCase();
  const definition = BUILT_IN_BY_NAME.get(lower);
  if (definition !== undefined) return { kind: 'built-in', definition };
  if (metadataFields === undefined) return { kind: 'metadata', name };
  const listed = metadataFields.find((candidate) => candidate.toLowerCase() === lower);
  return listed === undefined ? undefined : { kind: 'metadata', name: listed };
}

export function suggestFieldName(
  misspelt: string,
  metadataFields: readonly string[] = [],
): string | undefined {
  return closestName(misspelt, [...BUILT_IN_NAMES, ...metadataFields]);
}

/** An enum-int literal: the number (quoted or bare) or, where the field has names, a name in any case. */
export function parseEnumLiteral(definition: BuiltInField, text: string): number | null {
  const number = parseIntegerLiteral(text);
  if (number !== null || definition.enumNames === undefined) return number;
  const lower = text.trim().toLowerCase();
  const entry = Object.entries(definition.enumNames).find(([, name]) => name.toLowerCase() === lower);
  return entry === undefined ? null : Number(entry[0]);
}

export function fieldTypeOf(field: ResolvedField): FieldType | 'metadata' {
  return field.kind === 'metadata' ? 'metadata' : field.definition.type;
}

/** Metadata keys are matched case-insensitively, like every other field name. */
export function readMetadata(cert: CommandCertificate, name: string): string | null | undefined {
  const metadata = cert.Metadata;
  if (metadata === undefined) return undefined;
  if (Object.hasOwn(metadata, name)) return metadata[name];
  const lower = name.toLowerCase();
  for (const key of Object.keys(metadata)) {
    if (key.toLowerCase() === lower) return metadata[key];
  }
  return undefined;
}

/** Letters, digits, `_` and `-`, not starting with `-` (that starts an operator). */
const FIELD_NAME = /^[\p{L}\p{N}_][\p{L}\p{M}\p{N}_-]*$/u;
const KEYWORDS = new Set(['and', 'or']);

export function isValidFieldName(name: string): boolean {
  return FIELD_NAME.test(name) && !KEYWORDS.has(name.toLowerCase());
}
