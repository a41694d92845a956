// API-key domain: roles, permissions, the views callers see, and the errors the key service raises.
import { InputError, SensorError } from '#shared/errors';

export const ROLES = ['Administrator', 'ScanManager', 'Auditor'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = [
  'apikeys:read',
  'apikeys:write',
  'scans:create',
  'scans:read',
  'scans:cancel',
  'schedules:read',
  'schedules:write',
  'findings:read',
  'license:read',
  'license:write',
  'audit:read',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/**
 * Roles × permissions (docs/api-keys.md has the table). Auditor may read keys (never secrets) and the audit
 * trail, because reviewing who can do what is an auditor's job; it can change nothing.
 */
export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  Administrator: PERMISSIONS,
  ScanManager: [
    'scans:create',
    'scans:read',
    'scans:cancel',
    'schedules:read',
    'schedules:write',
    'findings:read',
  ],
  Auditor: ['apikeys:read', 'scans:read', 'schedules:read', 'findings:read', 'license:read', 'audit:read'],
};

/** The union of the permissions of `roles`. */
export function permissionsOf(roles: readonly Role[]): Set<Permission> {
  const out = new Set<Permission>();
  for (const role of roles) for (const permission of ROLE_PERMISSIONS[role] ?? []) out.add(permission);
  return out;
}

/** What callers may see of a key: never the token, never its hash. */
export interface ApiKeyView {
  keyId: string;
  description: string;
  roles: Role[];
  reauthenticationTimeoutSeconds: number;
  locked: boolean;
  createdAt: string;
  lastUsedAt: string | null;
  createdBy: string | null;
  imported: boolean;
}

export interface CreateApiKeyInput {
  keyId?: string;
  description?: string;
  roles: Role[];
  reauthenticationTimeoutSeconds?: number;
}

export interface ImportApiKeyInput {
  key: string;
  description?: string;
  roles: Role[];
  reauthenticationTimeoutSeconds?: number;
}

export interface EditApiKeyInput {
  description?: string;
  roles?: Role[];
  reauthenticationTimeoutSeconds?: number;
}

export const PAGE_SIZES = [10, 25, 50] as const;
export const SORT_FIELDS = ['keyId', 'description', 'createdAt', 'lastUsedAt'] as const;

export interface ListApiKeysQuery {
  search?: string;
  pageSize: 10 | 25 | 50;
  sortBy: 'keyId' | 'description' | 'createdAt' | 'lastUsedAt';
  order: 'asc' | 'desc';
  pageToken?: string;
}

export interface ApiKeyPage {
  items: ApiKeyView[];
  nextPageToken: string | null;
  previousPageToken: string | null;
  total: number;
}

export type BulkOutcome = 'locked' | 'unlocked' | 'deleted' | 'unchanged' | 'not-found';

export interface BulkResult {
  results: Array<{ keyId: string; outcome: BulkOutcome }>;
}

export type AuthDecision =
  | { ok: true; keyId: string; roles: Role[]; permissions: Permission[]; cachedUntil: number }
  | { ok: false; reason: AuthRefusal };

export type AuthRefusal = 'missing' | 'malformed' | 'unknown' | 'locked' | 'mismatch';

export const DEFAULT_REAUTHENTICATION_TIMEOUT_SECONDS = 60;
export const MAX_REAUTHENTICATION_TIMEOUT_SECONDS = 86_400;
export const MAX_DESCRIPTION_LENGTH = 256;
export const MAX_BULK_IDS = 100;

export interface ValidationIssue {
  path: string;
  message: string;
}

/** A request to the key service is invalid; `issues` names each offending field. */
export class ApiKeyValidationError extends InputError {
  readonly issues: ValidationIssue[];
  constructor(issues: ValidationIssue[], options?: { cause?: unknown }) {
    super(
      `invalid API key request: ${issues.map((i) => `${i.path || '(body)'}: ${i.message}`).join('; ')}`,
      options,
    );
    this.issues = issues;
  }
}

export class ApiKeyNotFoundError extends InputError {
  readonly keyId: string;
  constructor(keyId: string) {
    super(`API key not found: ${keyId}`);
    this.keyId = keyId;
  }
}

export class DuplicateKeyIdError extends InputError {
  readonly keyId: string;
  constructor(keyId: string) {
    super(`an API key with this id already exists: ${keyId}`);
    this.keyId = keyId;
  }
}

/** Concurrent writers kept changing the same key; the operation gave up rather than overwrite a change. */
export class ApiKeyConflictError extends SensorError {}
