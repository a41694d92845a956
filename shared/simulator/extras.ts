// The non-certificate objects the sensor reads: collections, metadata fields, expiration alerts, workflow
// definitions and certificate stores; configured or derived from the inventory, with generic filter/sort/page.
import { createHash } from 'node:crypto';
import type { CommandCertificate } from '#shared/keyfactor/model';
import type { QueryNode } from '#shared/query/ast';
import { parseQuery } from '#shared/query/index';
import { InvalidParameterError, pageOf, type ListParams } from './paging';

export interface CertificateCollection {
  Id: number;
  Name: string;
  Description: string;
  Automated: boolean;
  /** The collection's query; `collectionId` filters /Certificates with it. */
  Content: string;
  /** 0 = None; other values' meanings are unconfirmed. */
  DuplicationField: number;
  ShowOnDashboard: boolean;
  Favorite: boolean;
}

export interface ExpirationAlert {
  Id: number;
  DisplayName: string;
  Subject: string;
  Message: string;
  ExpirationWarningDays: number;
  Recipients: string[];
  /** The collection the alert watches. */
  CertificateQuery: { Id: number; Name: string } | null;
  RegisteredEventHandler: { Id: number; DisplayName: string } | null;
  EventHandlerParameters: Array<{ Id: number; Key: string; DefaultValue: string; ParameterType: string }>;
}

export interface WorkflowDefinition {
  Id: string;
  DisplayName: string;
  Description: string;
  /** Collection id for collection-triggered types, template id for Enrollment; '' when unused. */
  Key: string;
  KeyDisplayName: string;
  WorkflowType: string;
  DraftVersion: number;
  PublishedVersion: number | null;
}

export interface MetadataFieldDefinition {
  Id: number;
  Name: string;
  Description: string;
  DataType: number;
  Hint: string;
  Validation: string | null;
  Enrollment: number;
  Message: string | null;
  Options: string | null;
  DefaultValue: string | null;
  DisplayOrder: number;
  AllowAPI: boolean;
  ExplicitUpdate: boolean;
}

export interface CertificateStore {
  Id: string;
  ContainerId: number | null;
  ContainerName: string | null;
  ClientMachine: string;
  StorePath: string;
  CertStoreInventoryJobId: string | null;
  CertStoreType: number;
  Approved: boolean;
  CreateIfMissing: boolean;
  /** A JSON string, as Command sends it. */
  Properties: string;
  AgentId: string;
  AgentAssigned: boolean;
  DisplayName: string;
  InventorySchedule: { Interval: { Minutes: number } } | null;
  ReenrollmentStatus: { Data: boolean; AgentId: string | null; Message: string | null; JobProperties: null };
  SetNewPasswordAllowed: boolean;
}

/** Objects configured rather than derived: what `startSimulator({ extras })` may override. */
export interface SimulatorExtras {
  collections: CertificateCollection[];
  expirationAlerts: ExpirationAlert[];
  workflowDefinitions: WorkflowDefinition[];
}

/**
 * Command's metadata DataType numbers as in the v10 docs' table: 1 String, 2 Integer, 3 Date, 4 Boolean,
 * 5 Multiple Choice, 6 Big Text, 7 Email. The mapping is unconfirmed (see docs/simulator.md).
 */
export const MetadataDataType = {
  String: 1,
  Integer: 2,
  Date: 3,
  Boolean: 4,
  MultipleChoice: 5,
  BigText: 6,
  Email: 7,
} as const;

/** A small, plausible configuration so a fresh simulator has something behind every endpoint. */
export function defaultExtras(): SimulatorExtras {
  const collections: CertificateCollection[] = [
    {
      Id: 1,
      Name: 'Active Certificates',
      Description: 'Every active certificate',
      Automated: false,
      Content: 'CertState -eq "1"',
      DuplicationField: 0,
      ShowOnDashboard: true,
      Favorite: false,
    },
    {
      Id: 2,
      Name: 'Expiring in 30 Days',
      Description: 'Certificates that expire within the next 30 days',
      Automated: false,
      Content: 'ExpirationDate -ge "%TODAY%" AND ExpirationDate -le "%TODAY+30%"',
      DuplicationField: 1,
      ShowOnDashboard: true,
      Favorite: true,
    },
    {
      Id: 3,
      Name: 'Revoked Certificates',
      Description: 'Revoked certificates (list with IncludeRevoked=true)',
      Automated: false,
      Content: 'CertState -eq "2"',
      DuplicationField: 0,
      ShowOnDashboard: false,
      Favorite: false,
    },
  ];
  return {
    collections,
    expirationAlerts: [
      {
        Id: 1,
        DisplayName: 'Expiring within 30 days',
        Subject: 'Certificates expiring within 30 days',
        Message: 'The following certificates expire soon: {certificates}',
        ExpirationWarningDays: 30,
        Recipients: ['pki-team@example.com'],
        CertificateQuery: { Id: 2, Name: 'Expiring in 30 Days' },
        RegisteredEventHandler: null,
        EventHandlerParameters: [],
      },
    ],
    workflowDefinitions: [
      {
        Id: '3f8e9a52-2b1c-4d7e-9a61-0c5d2e7b4f10',
        DisplayName: 'Notify owners of expiring certificates',
        Description: 'Runs for each certificate entering the expiring collection',
        Key: '2',
        KeyDisplayName: 'Expiring in 30 Days',
        WorkflowType: 'CertificateEnteredCollection',
        DraftVersion: 2,
        PublishedVersion: 2,
      },
      {
        Id: '8c1d7f04-6e3a-4b95-b2d8-51a9e0c3f7a2',
        DisplayName: 'Revocation approval',
        Description: 'Requires approval before a certificate is revoked',
        Key: '',
        KeyDisplayName: '',
        WorkflowType: 'Revocation',
        DraftVersion: 1,
        PublishedVersion: 1,
      },
    ],
  };
}

const INTEGER = /^[+-]?\d+$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const BOOLEAN = /^(true|false)$/i;

function inferDataType(values: readonly string[]): { dataType: number; options: string | null } {
  if (values.length === 0) return { dataType: MetadataDataType.String, options: null };
  if (values.every((v) => BOOLEAN.test(v))) return { dataType: MetadataDataType.Boolean, options: null };
  if (values.every((v) => INTEGER.test(v))) return { dataType: MetadataDataType.Integer, options: null };
  if (values.every((v) => ISO_DATE.test(v))) return { dataType: MetadataDataType.Date, options: null };
  if (values.every((v) => EMAIL.test(v))) return { dataType: MetadataDataType.Email, options: null };
  if (values.some((v) => v.length > 500)) return { dataType: MetadataDataType.BigText, options: null };
  // A handful of values used over and over looks like a pick list in the portal.
  const distinct = [...new Set(values)].sort();
  if (distinct.length <= 10 && values.length >= 5 * distinct.length) {
    return { dataType: MetadataDataType.MultipleChoice, options: distinct.join(',') };
  }
  return { dataType: MetadataDataType.String, options: null };
}

/** Metadata field definitions for every name used in the inventory; Ids and DisplayOrder follow the name order. */
export function deriveMetadataFields(certificates: readonly CommandCertificate[]): MetadataFieldDefinition[] {
  const valuesByName = new Map<string, string[]>();
  for (const cert of certificates) {
    for (const [name, value] of Object.entries(cert.Metadata ?? {})) {
      let values = valuesByName.get(name);
      if (!values) {
        values = [];
        valuesByName.set(name, values);
      }
      if (value !== null && value !== '') values.push(value);
    }
  }
  return [...valuesByName.keys()]
    .sort((a, b) => a.localeCompare(b))
    .map((name, index) => {
      const { dataType, options } = inferDataType(valuesByName.get(name) ?? []);
      return {
        Id: index + 1,
        Name: name,
        Description: `${name} (derived by the simulator from certificate metadata)`,
        DataType: dataType,
        Hint: '',
        Validation: null,
        Enrollment: 0,
        Message: null,
        Options: options,
        DefaultValue: dataType === MetadataDataType.Boolean ? 'False' : null,
        DisplayOrder: index + 1,
        AllowAPI: true,
        ExplicitUpdate: false,
      };
    });
}

/** A stable GUID from a name, so a store or agent keeps its Id across restarts of the same dataset. */
export function stableGuid(name: string): string {
  const hex = createHash('sha1').update(name).digest('hex');
  // Shaped like an RFC 4122 name-based (v5) UUID: version nibble 5, variant bits 10.
  const variant = ((parseInt(hex.slice(16, 18), 16) & 0x3f) | 0x80).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(18, 20)}-${hex.slice(20, 32)}`;
}

/** One store per distinct location (by CertStoreId, else machine + path + type). */
export function deriveCertificateStores(certificates: readonly CommandCertificate[]): CertificateStore[] {
  const stores = new Map<string, CertificateStore>();
  for (const cert of certificates) {
    for (const location of cert.Locations ?? []) {
      const machine = location.StoreMachine ?? '';
      const path = location.StorePath ?? '';
      const type = location.StoreType ?? 0;
      const id = location.CertStoreId ?? stableGuid(`store|${machine}|${path}|${type}`);
      if (stores.has(id)) continue;
      stores.set(id, {
        Id: id,
        ContainerId: null,
        ContainerName: null,
        ClientMachine: machine,
        StorePath: path,
        CertStoreInventoryJobId: null,
        CertStoreType: type,
        Approved: true,
        CreateIfMissing: false,
        Properties: '{}',
        AgentId: stableGuid(`agent|${machine}`),
        AgentAssigned: true,
        DisplayName: `${machine}: ${path}`,
        InventorySchedule: { Interval: { Minutes: 720 } },
        ReenrollmentStatus: { Data: false, AgentId: null, Message: null, JobProperties: null },
        SetNewPasswordAllowed: false,
      });
    }
  }
  return [...stores.values()];
}

type FieldValue = string | number | boolean | null | undefined | object;

function fieldOf(record: object, field: string): { found: boolean; value: FieldValue } {
  const lowered = field.toLowerCase();
  for (const [key, value] of Object.entries(record)) {
    if (key.toLowerCase() === lowered) return { found: true, value: value as FieldValue };
  }
  return { found: false, value: undefined };
}

function compareScalars(a: FieldValue, b: FieldValue): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  // Nested objects (an alert's CertificateQuery) order by their JSON: stable, if not meaningful.
  const text = (v: FieldValue) => (typeof v === 'object' ? JSON.stringify(v) : String(v)).toLowerCase();
  const sa = text(a);
  const sb = text(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** Evaluates a parsed query against a plain object: field names and string values compare case-insensitively. */
function recordMatches(record: object, node: QueryNode): boolean {
  if (node.type === 'and') return node.children.every((child) => recordMatches(record, child));
  if (node.type === 'or') return node.children.some((child) => recordMatches(record, child));
  const { found, value } = fieldOf(record, node.field);
  if (!found) throw new InvalidParameterError(`Unknown query field '${node.field}'.`);
  if (node.value === null) {
    const isNull = value === null || value === undefined || value === '';
    if (node.operator === '-eq') return isNull;
    if (node.operator === '-ne') return !isNull;
    throw new InvalidParameterError(`NULL can only be compared with -eq or -ne.`);
  }
  const actual = value === null || value === undefined ? '' : typeof value === 'object' ? '' : String(value);
  const expected = node.value;
  const numeric = typeof value === 'number' && INTEGER.test(expected.trim());
  const order = numeric ? value - Number(expected) : compareScalars(actual, expected);
  const a = actual.toLowerCase();
  const e = expected.toLowerCase();
  switch (node.operator) {
    case '-eq':
      return order === 0;
    case '-ne':
      return order !== 0;
    case '-contains':
      return a.includes(e);
    case '-notcontains':
      return !a.includes(e);
    case '-startswith':
      return a.startsWith(e);
    case '-endswith':
      return a.endsWith(e);
    case '-lt':
      return order < 0;
    case '-le':
      return order <= 0;
    case '-gt':
      return order > 0;
    case '-ge':
      return order >= 0;
  }
}

export interface RecordListOptions {
  /** Sort used when SortField is absent; Command documents per-endpoint defaults (e.g. DisplayOrder). */
  defaultSortField: string;
}

/**
 * Filter, sort and page for the small endpoints. The query uses Command's grammar; any top-level field of the
 * object can be tested. Sorting accepts any top-level field name, case-insensitively.
 */
export function listRecords<T extends object>(
  records: readonly T[],
  params: ListParams,
  options: RecordListOptions,
): { page: T[]; total: number } {
  const tree = params.queryString === '' ? null : parseQuery(params.queryString);
  const matched = tree ? records.filter((r) => recordMatches(r, tree)) : [...records];
  const sortField = params.sortField ?? options.defaultSortField;
  const sample = records[0];
  if (params.sortField !== null && sample !== undefined && !fieldOf(sample, sortField).found) {
    throw new InvalidParameterError(`'${sortField}' is not a valid sort field.`);
  }
  const direction = params.sortAscending ? 1 : -1;
  // Array.prototype.sort is stable, so equal keys keep the configured order.
  matched.sort(
    (a, b) => direction * compareScalars(fieldOf(a, sortField).value, fieldOf(b, sortField).value),
  );
  return { page: pageOf(matched, params), total: matched.length };
}
