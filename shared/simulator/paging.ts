// Command's paging/query parameters: every spelling clients send folded into one shape, plus the page arithmetic.
import { InputError } from '#shared/errors';

/** A query parameter Command would reject during model binding; the server answers 400 with this message. */
export class InvalidParameterError extends InputError {}

export interface ListParams {
  queryString: string;
  /** 1-based. */
  pageReturned: number;
  returnLimit: number;
  /** As the client spelled it; null when not sent. Endpoints map it to a sort key or reject it. */
  sortField: string | null;
  /** true when SortAscending is 0 (Command's enum: 0 = ascending, 1 = descending). */
  sortAscending: boolean;
  includeRevoked: boolean;
  includeExpired: boolean;
  includeLocations: boolean;
  includeMetadata: boolean;
  includeHasPrivateKey: boolean;
  /** 0 = no collection. */
  collectionId: number;
}

export const DEFAULT_PAGE_RETURNED = 1;
export const DEFAULT_RETURN_LIMIT = 50;

/**
 * v10 endpoints prefix their paged-query parameters with the action argument's name (pq., pagedQuery., query.,
 * certificateStoreQuery., sq.); v11+ send them bare. ASP.NET binds either, case-insensitively, so every prefix is
 * accepted on every endpoint.
 */
const PARAMETER_PREFIXES = ['certificatestorequery.', 'pagedquery.', 'query.', 'pq.', 'sq.'];

type ParamName = keyof ListParams;

const CANONICAL_NAMES: Record<string, ParamName> = {
  querystring: 'queryString',
  pagereturned: 'pageReturned',
  returnlimit: 'returnLimit',
  sortfield: 'sortField',
  sortascending: 'sortAscending',
  includerevoked: 'includeRevoked',
  includeexpired: 'includeExpired',
  includelocations: 'includeLocations',
  includemetadata: 'includeMetadata',
  includehasprivatekey: 'includeHasPrivateKey',
  collectionid: 'collectionId',
};

/** Maps a raw parameter name to the field it sets, or null for parameters the simulator ignores (verbose, ...). */
export function canonicalParamName(rawName: string): ParamName | null {
  let name = rawName.toLowerCase();
  const prefix = PARAMETER_PREFIXES.find((p) => name.startsWith(p));
  if (prefix) name = name.slice(prefix.length);
  return CANONICAL_NAMES[name] ?? null;
}

function parseBoolean(name: string, value: string): boolean {
  const lowered = value.toLowerCase();
  if (lowered === 'true') return true;
  if (lowered === 'false') return false;
  throw new InvalidParameterError(`The value '${value}' is not valid for ${name}.`);
}

function parseInteger(name: string, value: string, minimum: number): number {
  if (!/^[+-]?\d+$/.test(value.trim())) {
    throw new InvalidParameterError(`The value '${value}' is not valid for ${name}.`);
  }
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed > 2_147_483_647) {
    throw new InvalidParameterError(`The value '${value}' is not valid for ${name}.`);
  }
  if (parsed < minimum) {
    throw new InvalidParameterError(`${name} must be at least ${minimum}; got ${parsed}.`);
  }
  return parsed;
}

/** SortAscending is an enum in Command's spec, so ASP.NET also binds the member names. */
function parseSortDirection(name: string, value: string): boolean {
  const lowered = value.trim().toLowerCase();
  if (lowered === '0' || lowered === 'ascending') return true;
  if (lowered === '1' || lowered === 'descending') return false;
  throw new InvalidParameterError(
    `The value '${value}' is not valid for ${name}: use 0 (ascending) or 1 (descending).`,
  );
}

/**
 * Folds the query string into ListParams. The first spelling of a parameter wins; empty values count as absent
 * (ASP.NET binds them to null, so the default applies). Unknown names are ignored as Command ignores them.
 */
export function normaliseListParams(search: URLSearchParams): ListParams {
  const params: ListParams = {
    queryString: '',
    pageReturned: DEFAULT_PAGE_RETURNED,
    returnLimit: DEFAULT_RETURN_LIMIT,
    sortField: null,
    sortAscending: true,
    includeRevoked: false,
    includeExpired: false,
    includeLocations: false,
    includeMetadata: false,
    includeHasPrivateKey: false,
    collectionId: 0,
  };
  const assigned = new Set<ParamName>();
  for (const [rawName, value] of search) {
    const name = canonicalParamName(rawName);
    if (name === null || assigned.has(name)) continue;
    assigned.add(name);
    if (name === 'queryString') {
      params.queryString = value.trim();
      continue;
    }
    if (value.trim() === '') continue;
    switch (name) {
      case 'pageReturned':
        params.pageReturned = parseInteger(rawName, value, 1);
        break;
      case 'returnLimit':
        params.returnLimit = parseInteger(rawName, value, 1);
        break;
      case 'collectionId':
        params.collectionId = parseInteger(rawName, value, 0);
        break;
      case 'sortField':
        params.sortField = value.trim();
        break;
      case 'sortAscending':
        params.sortAscending = parseSortDirection(rawName, value);
        break;
      default:
        params[name] = parseBoolean(rawName, value);
    }
  }
  return params;
}

export interface PageWindow {
  /** Inclusive index into the full result. */
  start: number;
  /** Exclusive; equal to start for a page past the end. */
  end: number;
}

/** Which slice of `total` results page `pageReturned` (1-based) of size `returnLimit` covers. */
export function pageWindow(total: number, pageReturned: number, returnLimit: number): PageWindow {
  const start = Math.min(total, (pageReturned - 1) * returnLimit);
  return { start, end: Math.min(total, start + returnLimit) };
}

export function pageOf<T>(
  items: readonly T[],
  params: Pick<ListParams, 'pageReturned' | 'returnLimit'>,
): T[] {
  const { start, end } = pageWindow(items.length, params.pageReturned, params.returnLimit);
  return items.slice(start, end);
}
