// Zod schemas of the /v3 API: they validate requests, filter responses and, through zod-openapi, are the published spec.
import { z } from 'zod';
import 'zod-openapi';
import {
  DEFAULT_REAUTHENTICATION_TIMEOUT_SECONDS,
  KEY_ID_PATTERN,
  MAX_BULK_IDS,
  MAX_DESCRIPTION_LENGTH,
  MAX_REAUTHENTICATION_TIMEOUT_SECONDS,
  PAGE_SIZES,
  ROLES,
  SORT_FIELDS,
} from '#shared/apikeys/index';

/** Longest token the API accepts in a body; real tokens are at most 113 characters. */
const MAX_TOKEN_INPUT = 256;

export const KeyIdSchema = z
  .string()
  .regex(KEY_ID_PATTERN, { error: 'must be 3–64 characters from A–Z, a–z, 0–9, _ and -' })
  .meta({
    id: 'KeyId',
    description: 'Key ID: 3–64 characters from A–Z, a–z, 0–9, `_` and `-`.',
    example: 'ci-scanner',
  });

export const RoleSchema = z
  .enum(ROLES, { error: (issue) => `unknown role: ${JSON.stringify(issue.input)?.slice(0, 80) ?? 'value'}` })
  .meta({ id: 'Role', description: 'A role; the permissions of each are listed in docs/api.md.' });

const RolesSchema = z
  .array(RoleSchema, { error: 'must be a list of roles' })
  .min(1, { error: 'at least one role is required' })
  .max(ROLES.length * 4, { error: 'too many roles' });

const DescriptionSchema = z
  .string({ error: 'must be a string' })
  .max(MAX_DESCRIPTION_LENGTH, { error: `must be at most ${MAX_DESCRIPTION_LENGTH} characters` })
  .meta({ description: 'Free text, one line, no control characters.' });

const ReauthSchema = z
  .number({ error: 'must be a number of seconds' })
  .int({ error: 'must be a whole number of seconds' })
  .min(0, { error: 'must be at least 0' })
  .max(MAX_REAUTHENTICATION_TIMEOUT_SECONDS, {
    error: `must be at most ${MAX_REAUTHENTICATION_TIMEOUT_SECONDS}`,
  })
  .meta({
    description:
      'How long a successful authentication is reused before the key is checked again; a lock, unlock, ' +
      'delete or role change takes effect within this time. 0 checks on every request.',
    default: DEFAULT_REAUTHENTICATION_TIMEOUT_SECONDS,
  });

// ---- requests

export const CreateApiKeyRequestSchema = z
  .strictObject({
    keyId: KeyIdSchema.optional().meta({ description: 'Chosen Key ID; generated when omitted.' }),
    description: DescriptionSchema.optional(),
    roles: RolesSchema,
    reauthenticationTimeoutSeconds: ReauthSchema.optional(),
  })
  .meta({ id: 'CreateApiKeyRequest' });

export const ImportApiKeyRequestSchema = z
  .strictObject({
    key: z
      .string({ error: 'must be a string' })
      .min(1, { error: 'is required' })
      .max(MAX_TOKEN_INPUT, { error: 'is not an API key' })
      .meta({ description: 'An existing token `kfsk_<keyId>_<secret>`; its Key ID comes from the token.' }),
    description: DescriptionSchema.optional(),
    roles: RolesSchema,
    reauthenticationTimeoutSeconds: ReauthSchema.optional(),
  })
  .meta({ id: 'ImportApiKeyRequest' });

export const EditApiKeyRequestSchema = z
  .strictObject({
    description: DescriptionSchema.optional(),
    roles: RolesSchema.optional(),
    reauthenticationTimeoutSeconds: ReauthSchema.optional(),
  })
  .meta({ id: 'EditApiKeyRequest', description: 'Only these fields can change; any other field is a 400.' });

export const BulkKeyIdsRequestSchema = z
  .strictObject({
    keyIds: z
      .array(z.string({ error: 'must be a string' }).max(256, { error: 'is too long' }), {
        error: 'must be a list of key ids',
      })
      .min(1, { error: 'at least one key id is required' })
      .max(MAX_BULK_IDS, { error: `at most ${MAX_BULK_IDS} key ids at once` }),
  })
  .meta({ id: 'BulkKeyIdsRequest' });

export const KeyIdParamsSchema = z.object({ keyId: z.string().max(256).meta({ description: 'Key ID.' }) });

const PAGE_SIZE_VALUES = PAGE_SIZES.map(String) as ['10', '25', '50'];

export const ListApiKeysQuerySchema = z.strictObject({
  search: z
    .string()
    .max(MAX_DESCRIPTION_LENGTH)
    .optional()
    .meta({ description: 'Case-insensitive substring of the Key ID or description.' }),
  pageSize: z
    .enum(PAGE_SIZE_VALUES, { error: `must be one of ${PAGE_SIZES.join(', ')}` })
    .default('25')
    .transform((v) => Number(v) as (typeof PAGE_SIZES)[number]),
  sortBy: z.enum(SORT_FIELDS, { error: `must be one of ${SORT_FIELDS.join(', ')}` }).default('createdAt'),
  order: z.enum(['asc', 'desc'], { error: 'must be asc or desc' }).default('desc'),
  pageToken: z
    .string()
    .max(512)
    .optional()
    .meta({ description: '`nextPageToken` or `previousPageToken` of a previous page of the same query.' }),
});

export const AuditQuerySchema = z.strictObject({
  keyId: z.string().max(256).optional().meta({ description: 'Only records about this key.' }),
  limit: z
    .string()
    .regex(/^\d{1,3}$/, { error: 'must be a whole number from 1 to 100' })
    .transform(Number)
    .pipe(z.number().int().min(1, { error: 'must be at least 1' }).max(100, { error: 'must be at most 100' }))
    .optional()
    .meta({ description: 'Records per page, 1–100.' }),
  pageToken: z.string().max(1024).optional(),
});

// ---- responses

export const ApiKeySchema = z
  .object({
    keyId: z.string(),
    description: z.string(),
    roles: z.array(RoleSchema),
    reauthenticationTimeoutSeconds: z.number().int(),
    locked: z.boolean(),
    createdAt: z.string().meta({ format: 'date-time' }),
    lastUsedAt: z.string().nullable().meta({ description: 'Updated at most once a minute.' }),
    createdBy: z.string().nullable().meta({ description: 'Key ID that created or imported this key.' }),
    imported: z.boolean(),
  })
  .meta({ id: 'ApiKey', description: 'A key as callers see it: never the token, never its hash.' });

export const CreatedApiKeySchema = z
  .object({
    apiKey: ApiKeySchema,
    secret: z.string().meta({
      description: 'The whole token to send in `isg-api-token`. Shown only in this response; store it now.',
    }),
  })
  .meta({ id: 'CreatedApiKey' });

export const ApiKeyPageSchema = z
  .object({
    items: z.array(ApiKeySchema),
    nextPageToken: z.string().nullable(),
    previousPageToken: z.string().nullable(),
    total: z.number().int().meta({ description: 'Keys matching the search, across all pages.' }),
  })
  .meta({ id: 'ApiKeyPage' });

export const BulkResultSchema = z
  .object({
    results: z.array(
      z.object({
        keyId: z.string(),
        outcome: z.enum(['locked', 'unlocked', 'deleted', 'unchanged', 'not-found']),
      }),
    ),
  })
  .meta({ id: 'BulkResult', description: 'One result per distinct Key ID, in request order.' });

export const AuditRecordSchema = z
  .object({
    id: z.string(),
    at: z.string().meta({ format: 'date-time' }),
    action: z.enum(['create', 'import', 'edit', 'lock', 'unlock', 'delete', 'authenticate']),
    actorKeyId: z.string().nullable(),
    targetKeyId: z.string().nullable(),
    outcome: z.string(),
    reason: z.string().optional(),
  })
  .meta({ id: 'AuditRecord' });

export const AuditPageSchema = z
  .object({ items: z.array(AuditRecordSchema), nextPageToken: z.string().nullable() })
  .meta({ id: 'AuditPage' });

export const OpenApiDocumentSchema = z
  .looseObject({ openapi: z.string(), info: z.looseObject({}), paths: z.looseObject({}) })
  .meta({ description: 'An OpenAPI 3.1 document.' });
