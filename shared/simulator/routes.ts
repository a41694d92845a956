// The API routes under the base path: thin handlers that read the inventory through caches and return responses.
import { certificateArrayBytes, certificateJsonBytes } from './certificate-json';
import type { CertificateResultCache } from './certificate-results';
import {
  deriveCertificateStores,
  deriveMetadataFields,
  listRecords,
  type CertificateStore,
  type MetadataFieldDefinition,
  type RecordListOptions,
  type SimulatorExtras,
} from './extras';
import { UnknownCertificateError, type SimulatorInventory } from './inventory';
import { InvalidParameterError, pageOf, type ListParams } from './paging';
import { emptyResponse, errorResponse, listResponse, objectResponse, type ApiResponse } from './responses';

/** Metadata fields and stores are derived from the whole inventory; recompute only when it changed. */
export class DerivedViews {
  private version = -1;
  private metadataFields: MetadataFieldDefinition[] = [];
  private stores: CertificateStore[] = [];
  private metadataNames: string[] = [];

  constructor(private readonly inventory: SimulatorInventory) {}

  private refresh(): void {
    if (this.version === this.inventory.version) return;
    const certificates = this.inventory.list();
    this.metadataFields = deriveMetadataFields(certificates);
    this.metadataNames = this.metadataFields.map((f) => f.Name);
    this.stores = deriveCertificateStores(certificates);
    this.version = this.inventory.version;
  }

  metadataFieldList(): readonly MetadataFieldDefinition[] {
    this.refresh();
    return this.metadataFields;
  }

  metadataFieldNames(): readonly string[] {
    this.refresh();
    return this.metadataNames;
  }

  storeList(): readonly CertificateStore[] {
    this.refresh();
    return this.stores;
  }
}

export interface RouteContext {
  inventory: SimulatorInventory;
  results: CertificateResultCache;
  derived: DerivedViews;
  extras: SimulatorExtras;
  now: Date;
  params: ListParams;
  pathParams: Record<string, string>;
}

export interface Route {
  method: 'GET';
  /** As documented and as the request log's `route` shows it, e.g. '/Certificates/{id}'. */
  pattern: string;
  /** Command's /certificates/collections/read/ permission; without it the answer is 403. */
  requiresCertificateRead: boolean;
  handle(context: RouteContext): ApiResponse;
}

function collectionQueryFor(context: RouteContext): string | null {
  const { collectionId } = context.params;
  if (collectionId === 0) return null;
  const collection = context.extras.collections.find((c) => c.Id === collectionId);
  if (!collection) throw new InvalidParameterError(`Certificate collection ${collectionId} does not exist.`);
  return collection.Content;
}

function listCertificates(context: RouteContext): ApiResponse {
  const { params } = context;
  const { certificates } = context.results.resolve(
    {
      queryString: params.queryString,
      collectionQuery: collectionQueryFor(context),
      collectionId: params.collectionId,
      sortField: params.sortField,
      sortAscending: params.sortAscending,
      includeRevoked: params.includeRevoked,
      includeExpired: params.includeExpired,
      metadataFields: () => context.derived.metadataFieldNames(),
    },
    context.now,
  );
  return listResponse(certificateArrayBytes(pageOf(certificates, params), params), certificates.length);
}

function parseId(raw: string | undefined): number {
  const id = Number(raw);
  if (!Number.isSafeInteger(id)) throw new InvalidParameterError(`The value '${raw}' is not a valid id.`);
  return id;
}

function getCertificate(context: RouteContext): ApiResponse {
  const id = parseId(context.pathParams['id']);
  // By id, Command returns revoked and expired certificates alike; the include flags shape the object only.
  const cert = context.inventory.get(id);
  if (!cert) throw new UnknownCertificateError(id);
  return objectResponse(certificateJsonBytes(cert, context.params));
}

/** The small endpoints: filter, sort and page plain objects. */
function listOf<T extends object>(records: readonly T[], context: RouteContext, options: RecordListOptions) {
  const { page, total } = listRecords(records, context.params, options);
  return listResponse(JSON.stringify(page), total);
}

function getCollection(context: RouteContext): ApiResponse {
  const id = parseId(context.pathParams['id']);
  const collection = context.extras.collections.find((c) => c.Id === id);
  if (!collection) return errorResponse(404, `Certificate collection with ID ${id} could not be found.`);
  return objectResponse(JSON.stringify(collection));
}

const ROUTE_TABLE: Route[] = [
  {
    method: 'GET',
    pattern: '/Status/Endpoints',
    requiresCertificateRead: false,
    handle: () => objectResponse(JSON.stringify(ROUTE_TABLE.map((r) => `${r.method} ${r.pattern}`))),
  },
  {
    method: 'GET',
    pattern: '/Status/HealthCheck',
    requiresCertificateRead: false,
    handle: () => emptyResponse(204),
  },
  { method: 'GET', pattern: '/Certificates', requiresCertificateRead: true, handle: listCertificates },
  { method: 'GET', pattern: '/Certificates/{id}', requiresCertificateRead: true, handle: getCertificate },
  {
    method: 'GET',
    pattern: '/CertificateCollections',
    requiresCertificateRead: false,
    handle: (c) => listOf(c.extras.collections, c, { defaultSortField: 'Id' }),
  },
  {
    method: 'GET',
    pattern: '/CertificateCollections/{id}',
    requiresCertificateRead: false,
    handle: getCollection,
  },
  {
    method: 'GET',
    pattern: '/MetadataFields',
    requiresCertificateRead: false,
    handle: (c) => listOf(c.derived.metadataFieldList(), c, { defaultSortField: 'DisplayOrder' }),
  },
  {
    method: 'GET',
    pattern: '/Alerts/Expiration',
    requiresCertificateRead: false,
    handle: (c) => listOf(c.extras.expirationAlerts, c, { defaultSortField: 'Id' }),
  },
  {
    method: 'GET',
    pattern: '/Workflow/Definitions',
    requiresCertificateRead: false,
    handle: (c) => listOf(c.extras.workflowDefinitions, c, { defaultSortField: 'DisplayName' }),
  },
  {
    method: 'GET',
    pattern: '/CertificateStores',
    requiresCertificateRead: false,
    handle: (c) => listOf(c.derived.storeList(), c, { defaultSortField: 'ClientMachine' }),
  },
];

interface CompiledRoute {
  route: Route;
  regex: RegExp;
  names: string[];
}

// {id} segments accept digits only, like ASP.NET's {id:int}: /Certificates/abc is no route at all (404).
const COMPILED: CompiledRoute[] = ROUTE_TABLE.map((route) => {
  const names: string[] = [];
  const source = route.pattern.replace(/\{(\w+)\}/g, (_m, name: string) => {
    names.push(name);
    return '(\\d+)';
  });
  return { route, regex: new RegExp(`^${source}/?$`, 'i'), names };
});

export const ROUTES: readonly Route[] = ROUTE_TABLE;

export type RouteMatch =
  | { kind: 'found'; route: Route; pathParams: Record<string, string> }
  | { kind: 'method-not-allowed'; pattern: string; allowed: string[] }
  | { kind: 'not-found' };

export function matchRoute(method: string, path: string): RouteMatch {
  const candidates = COMPILED.flatMap((c) => {
    const found = c.regex.exec(path);
    return found ? [{ compiled: c, found }] : [];
  });
  const exact = candidates.find((c) => c.compiled.route.method === method);
  if (exact) {
    const pathParams: Record<string, string> = {};
    exact.compiled.names.forEach((name, index) => {
      pathParams[name] = exact.found[index + 1] ?? '';
    });
    return { kind: 'found', route: exact.compiled.route, pathParams };
  }
  const first = candidates[0];
  if (first) {
    return {
      kind: 'method-not-allowed',
      pattern: first.compiled.route.pattern,
      allowed: candidates.map((c) => c.compiled.route.method),
    };
  }
  return { kind: 'not-found' };
}
