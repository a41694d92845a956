// Public surface of the API-key module: roles and permissions, the key service, the authenticator and their ports.
export {
  ApiKeyConflictError,
  ApiKeyNotFoundError,
  ApiKeyValidationError,
  DEFAULT_REAUTHENTICATION_TIMEOUT_SECONDS,
  DuplicateKeyIdError,
  MAX_BULK_IDS,
  MAX_DESCRIPTION_LENGTH,
  MAX_REAUTHENTICATION_TIMEOUT_SECONDS,
  PAGE_SIZES,
  PERMISSIONS,
  ROLE_PERMISSIONS,
  ROLES,
  SORT_FIELDS,
  permissionsOf,
} from './model';
export type {
  ApiKeyPage,
  ApiKeyView,
  AuthDecision,
  AuthRefusal,
  BulkOutcome,
  BulkResult,
  CreateApiKeyInput,
  EditApiKeyInput,
  ImportApiKeyInput,
  ListApiKeysQuery,
  Permission,
  Role,
  ValidationIssue,
} from './model';
export type {
  ApiKeyChanges,
  ApiKeyRecord,
  ApiKeyStore,
  AuditAction,
  AuditLog,
  AuditQuery,
  AuditRecord,
  KeyHasher,
  PutOutcome,
  StoredHash,
  UpdateOutcome,
} from './ports';
export { ApiKeyService, toView } from './service';
export type { ApiKeyServiceDeps } from './service';
export {
  ApiKeyAuthenticator,
  LAST_USED_INTERVAL_MS,
  MAX_CACHE_ENTRIES,
  MAX_NEGATIVE_CACHE_ENTRIES,
  NEGATIVE_CACHE_MS,
} from './authenticator';
export type { ApiKeyAuthenticatorDeps } from './authenticator';
export {
  DEFAULT_SCRYPT,
  KEY_ID_PATTERN,
  ScryptKeyHasher,
  TOKEN_PATTERN,
  TOKEN_PREFIX,
  TOKEN_SCAN_PATTERN,
  formatToken,
  parseToken,
} from './token';
export type { ScryptParameters } from './token';
