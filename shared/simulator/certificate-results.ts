// GET /Certificates result sets: filter (flags, collection, query) + sort, cached so paging never re-filters.
import type { CommandCertificate } from '#shared/keyfactor/model';
import { CertState } from '#shared/keyfactor/model';
import { compileCertificateFilter } from '#shared/query/index';
import type { SimulatorInventory } from './inventory';
import { InvalidParameterError } from './paging';

type SortKeyName =
  'id' | 'importMs' | 'notBeforeMs' | 'notAfterMs' | 'issuedCn' | 'serial' | 'thumbprint' | 'keySize';

/**
 * Sortable columns, by the names clients send (case-insensitive). Command's list is undocumented: these are the
 * response field names plus the query-language aliases (CertId, IssuedDate, ExpirationDate) for the same columns.
 */
const SORT_FIELDS: Record<string, SortKeyName> = {
  id: 'id',
  certid: 'id',
  importdate: 'importMs',
  notbefore: 'notBeforeMs',
  issueddate: 'notBeforeMs',
  notafter: 'notAfterMs',
  expirationdate: 'notAfterMs',
  issuedcn: 'issuedCn',
  serialnumber: 'serial',
  thumbprint: 'thumbprint',
  keysizeinbits: 'keySize',
  keysize: 'keySize',
};

export const CERTIFICATE_SORT_FIELD_NAMES = [
  'Id',
  'CertId',
  'ImportDate',
  'NotBefore',
  'IssuedDate',
  'NotAfter',
  'ExpirationDate',
  'IssuedCN',
  'SerialNumber',
  'Thumbprint',
  'KeySizeInBits',
];

/** Resolves SortField (null = the default, Id) or throws the 400 Command gives for a column it cannot sort on. */
export function certificateSortKey(sortField: string | null): SortKeyName {
  if (sortField === null) return 'id';
  const key = SORT_FIELDS[sortField.toLowerCase()];
  if (!key) {
    throw new InvalidParameterError(
      `'${sortField}' is not a valid sort field for certificates. Valid fields: ${CERTIFICATE_SORT_FIELD_NAMES.join(', ')}.`,
    );
  }
  return key;
}

interface SortKeys {
  id: number;
  importMs: number;
  notBeforeMs: number;
  notAfterMs: number;
  // SQL Server's default collation compares case-insensitively; nulls sort first, like '' here.
  issuedCn: string;
  serial: string;
  thumbprint: string;
  keySize: number;
}

// Keyed by object identity: the inventory swaps objects on mutation, so a stale entry is simply never looked up.
const sortKeyCache = new WeakMap<CommandCertificate, SortKeys>();

function sortKeysOf(cert: CommandCertificate): SortKeys {
  let keys = sortKeyCache.get(cert);
  if (!keys) {
    keys = {
      id: cert.Id,
      importMs: Date.parse(cert.ImportDate),
      notBeforeMs: Date.parse(cert.NotBefore),
      notAfterMs: Date.parse(cert.NotAfter),
      issuedCn: (cert.IssuedCN ?? '').toLowerCase(),
      serial: cert.SerialNumber.toLowerCase(),
      thumbprint: cert.Thumbprint.toLowerCase(),
      keySize: cert.KeySizeInBits,
    };
    sortKeyCache.set(cert, keys);
  }
  return keys;
}

/** Parses the dates ahead of the first request; the first filter then only evaluates the query. */
export function warmSortKeys(cert: CommandCertificate): void {
  sortKeysOf(cert);
}

export interface CertificateResultRequest {
  queryString: string;
  /** The selected collection's Content (its query), or null when collectionId is 0. */
  collectionQuery: string | null;
  collectionId: number;
  sortField: string | null;
  sortAscending: boolean;
  includeRevoked: boolean;
  includeExpired: boolean;
  /**
   * Metadata field names Command knows (derived from the inventory). A query naming a field that is neither built
   * in nor listed is a 400, as Command rejects unknown fields. Changes only with the inventory version; a
   * function because deriving it walks the whole inventory, which a query-less listing should not pay for.
   */
  metadataFields: () => readonly string[];
}

/** Filters and sorts the inventory. Throws QueryError for a bad query and InvalidParameterError for a bad sort. */
export function computeCertificateResult(
  certificates: readonly CommandCertificate[],
  request: CertificateResultRequest,
  now: Date,
): { certificates: CommandCertificate[]; validUntilMs: number } {
  const sortKey = certificateSortKey(request.sortField);
  const compile = (query: string) =>
    compileCertificateFilter(query, { now, metadataFields: request.metadataFields() });
  const collectionFilter = request.collectionQuery === null ? null : compile(request.collectionQuery);
  const queryFilter = request.queryString === '' ? null : compile(request.queryString);
  const nowMs = now.getTime();
  // Without IncludeExpired the set changes when its first member expires; the cache entry must end there.
  let validUntilMs = Number.POSITIVE_INFINITY;
  const matched: CommandCertificate[] = [];
  for (const cert of certificates) {
    if (!request.includeRevoked && cert.CertState === CertState.Revoked) continue;
    if (!request.includeExpired) {
      const notAfterMs = sortKeysOf(cert).notAfterMs;
      if (notAfterMs < nowMs) continue;
      if (notAfterMs < validUntilMs) validUntilMs = notAfterMs;
    }
    if (collectionFilter && !collectionFilter(cert)) continue;
    if (queryFilter && !queryFilter(cert)) continue;
    matched.push(cert);
  }
  // The inventory lists in Id order, so the default sort is already done.
  if (!(sortKey === 'id' && request.sortAscending)) {
    const direction = request.sortAscending ? 1 : -1;
    matched.sort((a, b) => {
      const ka = sortKeysOf(a);
      const kb = sortKeysOf(b);
      const va: number | string = ka[sortKey];
      const vb: number | string = kb[sortKey];
      if (va < vb) return -direction;
      if (va > vb) return direction;
      // Id ascending breaks ties whatever the direction, so equal keys page in a stable order.
      return ka.id - kb.id;
    });
  }
  return { certificates: matched, validUntilMs };
}

interface CachedResult {
  certificates: readonly CommandCertificate[];
  validUntilMs: number;
}

export interface ResultCacheStats {
  entries: number;
  hits: number;
  misses: number;
}

/**
 * Remembers recent result sets. The key holds everything that changes the set: query, collection query, sort,
 * the two include flags, the inventory version, and the UTC day (what %TODAY% resolves against).
 */
export class CertificateResultCache {
  private readonly entries = new Map<string, CachedResult>();
  private cachedVersion = -1;
  private hits = 0;
  private misses = 0;

  constructor(
    private readonly inventory: SimulatorInventory,
    private readonly maxEntries = 16,
  ) {}

  resolve(
    request: CertificateResultRequest,
    now: Date,
  ): { certificates: readonly CommandCertificate[]; hit: boolean } {
    if (this.inventory.version !== this.cachedVersion) {
      this.entries.clear();
      this.cachedVersion = this.inventory.version;
    }
    const key = JSON.stringify([
      request.queryString,
      request.collectionId,
      request.collectionQuery,
      certificateSortKey(request.sortField),
      request.sortAscending,
      request.includeRevoked,
      request.includeExpired,
      now.toISOString().slice(0, 10),
    ]);
    const cached = this.entries.get(key);
    if (cached && now.getTime() <= cached.validUntilMs) {
      // Re-insert so the Map's insertion order doubles as least-recently-used order.
      this.entries.delete(key);
      this.entries.set(key, cached);
      this.hits++;
      return { certificates: cached.certificates, hit: true };
    }
    this.misses++;
    const computed = computeCertificateResult(this.inventory.list(), request, now);
    this.entries.delete(key);
    this.entries.set(key, computed);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
    return { certificates: computed.certificates, hit: false };
  }

  stats(): ResultCacheStats {
    return { entries: this.entries.size, hits: this.hits, misses: this.misses };
  }
}
