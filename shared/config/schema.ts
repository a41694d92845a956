// zod schemas of each plugin's plugin_config, with messages that say what to write (never echoing the value).
import { z } from 'zod';
import { SENSOR_TYPE } from '#shared/findings/index';
import { parseQuery, QueryError } from '#shared/query/index';
import { LIMITS, LOCAL_EXPORT_FORMATS } from './types';

type IssueInput = { input?: unknown };

const required =
  (expected: string) =>
  (issue: IssueInput): string =>
    issue.input === undefined ? 'is required' : `must be ${expected}${describe(issue.input)}`;

/** The kind of value found, for "must be text (found a number)"; only the kind, since the value may be a secret. */
function describe(input: unknown): string {
  if (input === null) return ' (found an empty value)';
  if (Array.isArray(input)) return ' (found a list)';
  if (typeof input === 'object') return ' (found a map)';
  if (typeof input === 'number') return ' (found a number; quote it to make it text)';
  if (typeof input === 'boolean') return ' (found true/false; quote it to make it text)';
  if (typeof input === 'string') return ' (found text)';
  return '';
}

export const text = () =>
  z.string({ error: required('text') }).min(1, { error: 'must not be empty', abort: true });

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

export function isLoopbackHost(hostname: string): boolean {
  return (
    LOOPBACK_HOSTS.has(hostname) ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname) ||
    hostname.endsWith('.localhost')
  );
}

/** An https URL; http only to loopback (the simulator, a local test service), where nothing crosses a network. */
export const httpsUrl = () =>
  text().superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a full URL such as https://host/path' });
      return;
    }
    if (url.username || url.password) {
      ctx.addIssue({
        code: 'custom',
        message: 'must not contain a user or password; use the credential keys',
      });
    }
    if (url.protocol === 'https:') return;
    if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return;
    ctx.addIssue({
      code: 'custom',
      message:
        url.protocol === 'http:'
          ? 'must use https (http is allowed only for localhost and 127.0.0.1, where nothing crosses a network)'
          : 'must be an https URL',
    });
  });

/** Integers may also be written as quoted digits, so they can come from ${env:...}. */
const integer = (min: number, max: number) =>
  z.preprocess(
    (v) => (typeof v === 'string' && /^\s*\d{1,9}\s*$/.test(v) ? Number(v) : v),
    z
      .number({ error: required('a whole number') })
      .int({ error: 'must be a whole number' })
      .min(min, { error: `must be at least ${min}` })
      .max(max, { error: `must be at most ${max}` }),
  );

const boolean = () =>
  z.preprocess(
    (v) => (v === 'true' ? true : v === 'false' ? false : v),
    z.boolean({ error: required('true or false') }),
  );

/** A query in Command's language; the error keeps the parser's column inside the filter. */
const queryFilter = () =>
  z.string({ error: required('text (a Command query)') }).superRefine((value, ctx) => {
    try {
      parseQuery(value);
    } catch (err) {
      if (!(err instanceof QueryError)) throw err;
      ctx.addIssue({
        code: 'custom',
        message: err.message.replace(/^query_filter: /, ''),
        params: { filterColumn: err.column },
      });
    }
  });

export const KerberosSchema = z.strictObject(
  {
    upn: text(),
    keytab: text().optional(),
    password: text().optional(),
    spn: text().optional(),
    realm: text().optional(),
    krb5_conf: text().optional(),
  },
  { error: required('a map of kerberos settings (upn, keytab or password, spn, realm, krb5_conf)') },
);

export const KeyfactorSchema = z.strictObject({
  url: httpsUrl(),
  username: text().optional(),
  password: text().optional(),
  token_url: httpsUrl().optional(),
  client_id: text().optional(),
  client_secret: text().optional(),
  scope: text().optional(),
  audience: text().optional(),
  kerberos: KerberosSchema.optional(),
  query_filter: queryFilter().optional(),
  ca_cert: text().optional(),
  insecure_skip_tls_verify: boolean().optional(),
  page_size: integer(LIMITS.pageSize.min, LIMITS.pageSize.max).optional(),
  concurrency: integer(LIMITS.concurrency.min, LIMITS.concurrency.max).optional(),
  auto_resolution_interval: integer(
    LIMITS.autoResolutionInterval.min,
    LIMITS.autoResolutionInterval.max,
  ).optional(),
});
export type KeyfactorInput = z.infer<typeof KeyfactorSchema>;

const labelEntry = z
  .record(
    z.string().min(1, { error: 'label names must not be empty' }),
    z.string({ error: required('text') }),
    {
      error: required('a map of name: value'),
    },
  )
  .refine((entry) => Object.keys(entry).length > 0, { error: 'must hold at least one name: value' });

export const ExportSchema = z.strictObject({
  sensor_name: text().max(256, { error: 'must be at most 256 characters' }),
  sensor_type: z
    .string({ error: required(`"${SENSOR_TYPE}"`) })
    .refine((v) => v === SENSOR_TYPE, {
      error: `must be exactly "${SENSOR_TYPE}" (this value identifies the sensor to AgileSec; do not edit it)`,
    })
    .optional(),
  ran_by: text().max(256, { error: 'must be at most 256 characters' }).optional(),
  url: httpsUrl(),
  token: text(),
  labels: z.array(labelEntry, { error: required('a list of name: value maps') }).optional(),
  ca_cert: text().optional(),
});
export type ExportInput = z.infer<typeof ExportSchema>;

export const LocalExportSchema = z.strictObject({
  output_dir: text().optional(),
  formats: z
    .array(z.enum(LOCAL_EXPORT_FORMATS, { error: `must be one of ${LOCAL_EXPORT_FORMATS.join(', ')}` }), {
      error: required(`a list of formats (${LOCAL_EXPORT_FORMATS.join(', ')})`),
    })
    .min(1, { error: 'must list at least one format' })
    .refine((list) => new Set(list).size === list.length, { error: 'must not list a format twice' })
    .optional(),
  file_prefix: z
    .string({ error: required('text') })
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, {
      error: 'must be 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit',
    })
    .optional(),
});
export type LocalExportInput = z.infer<typeof LocalExportSchema>;

export const PLUGIN_SCHEMAS = {
  keyfactor: KeyfactorSchema,
  export: ExportSchema,
  local_export: LocalExportSchema,
} as const;

/** Keys a strict object at the given position accepts, for "did you mean" suggestions. */
export function knownKeys(plugin: keyof typeof PLUGIN_SCHEMAS, innerPath: readonly PropertyKey[]): string[] {
  if (plugin === 'keyfactor' && innerPath.length === 1 && innerPath[0] === 'kerberos')
    return Object.keys(KerberosSchema.shape);
  return Object.keys(PLUGIN_SCHEMAS[plugin].shape);
}

/** `key:` with nothing after it is null in YAML; for a settings map that means "not set". */
export function withoutNulls(value: object): Record<string, unknown> {
  const out = Object.create(null) as Record<string, unknown>;
  for (const [key, v] of Object.entries(value)) if (v !== null) out[key] = v;
  return out;
}
