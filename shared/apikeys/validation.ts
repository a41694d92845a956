// Schemas for every request the key service accepts: inputs may come straight from an HTTP body, so nothing is trusted.
import { z } from 'zod';
import {
  ApiKeyValidationError,
  MAX_BULK_IDS,
  MAX_DESCRIPTION_LENGTH,
  MAX_REAUTHENTICATION_TIMEOUT_SECONDS,
  PAGE_SIZES,
  ROLES,
  SORT_FIELDS,
} from './model';
import type { ValidationIssue } from './model';
import { KEY_ID_PATTERN, MAX_TOKEN_LENGTH } from './token';

// Control characters (C0, DEL, C1) would corrupt logs and terminals; a description is one line of plain text.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

const keyId = z
  .string({ error: 'must be a string' })
  .regex(KEY_ID_PATTERN, { error: 'must be 3–64 characters from A–Z, a–z, 0–9, _ and -' });

const description = z
  .string({ error: 'must be a string' })
  .max(MAX_DESCRIPTION_LENGTH, { error: `must be at most ${MAX_DESCRIPTION_LENGTH} characters` })
  .refine((s) => !CONTROL.test(s), { error: 'must not contain control characters' });

const role = z.enum(ROLES, {
  error: (issue) => `unknown role: ${JSON.stringify(issue.input)?.slice(0, 80) ?? String(issue.input)}`,
});

const roles = z
  .array(role, { error: 'must be a list of roles' })
  .min(1, { error: 'at least one role is required' })
  .max(ROLES.length * 4, { error: 'too many roles' })
  .transform((list) => [...new Set(list)]);

const reauth = z
  .number({ error: 'must be a number of seconds' })
  .int({ error: 'must be a whole number of seconds' })
  .min(0, { error: 'must be at least 0' })
  .max(MAX_REAUTHENTICATION_TIMEOUT_SECONDS, {
    error: `must be at most ${MAX_REAUTHENTICATION_TIMEOUT_SECONDS}`,
  });

export const CreateSchema = z.strictObject({
  keyId: keyId.optional(),
  description: description.optional(),
  roles,
  reauthenticationTimeoutSeconds: reauth.optional(),
});

export const ImportSchema = z.strictObject({
  key: z
    .string({ error: 'must be a string' })
    .max(MAX_TOKEN_LENGTH, { error: 'is not an API key' })
    .min(1, { error: 'is required' }),
  description: description.optional(),
  roles,
  reauthenticationTimeoutSeconds: reauth.optional(),
});

export const EditSchema = z.strictObject({
  description: description.optional(),
  roles: roles.optional(),
  reauthenticationTimeoutSeconds: reauth.optional(),
});

export const ListSchema = z.strictObject({
  search: z
    .string({ error: 'must be a string' })
    .max(MAX_DESCRIPTION_LENGTH, { error: `must be at most ${MAX_DESCRIPTION_LENGTH} characters` })
    .optional(),
  pageSize: z.union(
    PAGE_SIZES.map((n) => z.literal(n)),
    { error: `must be one of ${PAGE_SIZES.join(', ')}` },
  ),
  sortBy: z.enum(SORT_FIELDS, { error: `must be one of ${SORT_FIELDS.join(', ')}` }),
  order: z.enum(['asc', 'desc'], { error: 'must be asc or desc' }),
  pageToken: z.string({ error: 'must be a string' }).max(512, { error: 'is not a page token' }).optional(),
});

export const BulkIdsSchema = z
  .array(z.string({ error: 'must be a string' }).max(256, { error: 'is too long' }), {
    error: 'must be a list of key ids',
  })
  .min(1, { error: 'at least one key id is required' })
  .max(MAX_BULK_IDS, { error: `at most ${MAX_BULK_IDS} key ids at once` });

export const AuditQuerySchema = z.strictObject({
  keyId: z.string({ error: 'must be a string' }).max(256, { error: 'is too long' }).optional(),
  limit: z
    .number({ error: 'must be a number' })
    .int({ error: 'must be a whole number' })
    .min(1, { error: 'must be at least 1' })
    .max(100, { error: 'must be at most 100' })
    .optional(),
  pageToken: z.string({ error: 'must be a string' }).max(1024, { error: 'is not a page token' }).optional(),
});

function toIssues(error: z.ZodError, prefix: string): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  for (const issue of error.issues) {
    const base = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({ path: [base, key].filter(Boolean).join('.'), message: 'is not a field that can be set' });
      }
    } else {
      out.push({ path: base, message: issue.message });
    }
  }
  return out;
}

/** Parses `input` or throws ApiKeyValidationError naming every offending field. */
export function parseOrThrow<T extends z.ZodType>(schema: T, input: unknown, prefix = ''): z.output<T> {
  const result = schema.safeParse(input);
  if (!result.success)
    throw new ApiKeyValidationError(toIssues(result.error, prefix), { cause: result.error });
  return result.data;
}

/** Stored records are read back through this schema, so a hand-edited or corrupted store fails loudly. */
export const ApiKeyRecordSchema = z.object({
  keyId: z.string().regex(KEY_ID_PATTERN),
  description: z.string(),
  roles: z.array(z.enum(ROLES)),
  reauthenticationTimeoutSeconds: z.number().int().min(0),
  locked: z.boolean(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  createdBy: z.string().nullable(),
  imported: z.boolean(),
  hash: z.object({
    algorithm: z.literal('scrypt'),
    salt: z.string(),
    hash: z.string(),
    // Bounded, so an edited record cannot make one verification take gigabytes or minutes.
    N: z
      .number()
      .int()
      .min(2)
      .max(2 ** 20)
      .refine((n) => (n & (n - 1)) === 0, { error: 'must be a power of two' }),
    r: z.number().int().min(1).max(32),
    p: z.number().int().min(1).max(16),
    keyLength: z.number().int().min(16).max(128),
  }),
  version: z.number().int().min(1),
});

export const AuditRecordSchema = z.object({
  id: z.string(),
  at: z.string(),
  action: z.enum(['create', 'import', 'edit', 'lock', 'unlock', 'delete', 'authenticate']),
  actorKeyId: z.string().nullable(),
  targetKeyId: z.string().nullable(),
  outcome: z.string(),
  reason: z.string().optional(),
});
