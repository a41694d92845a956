// Zod schemas of the scan and schedule routes: the seed's POST /v3/scan/create body, scans and schedules as shown.
// Validation messages never quote a submitted value, so a secret sent in the wrong field is never echoed back.
import { z } from 'zod';
import 'zod-openapi';
import { labelsFromRequest, type Label } from '#shared/findings/index';
import { parseQuery, QueryError } from '#shared/query/index';
import type {
  CommandCredentials,
  Priority,
  Schedule,
  ScanRecord,
  SensorDefinition,
} from '#shared/scan/model';
import { PRIORITIES, SCAN_STATES, TERMINAL_STATES } from '#shared/scan/model';
import type { CreateScanInput, CreateScheduleInput } from '#shared/scan/ports';
import { CertificateParseError, parseCertificate, pemToDers } from '#shared/x509/index';

export const SENSOR_TYPE = 'Keyfactor Command';

export const LIMITS = {
  sensorName: 128,
  url: 2048,
  username: 256,
  /** Passwords and client secrets: generous, but bounded so a huge value costs nothing. */
  secret: 4096,
  clientId: 256,
  scope: 1024,
  audience: 1024,
  queryFilter: 4000,
  caCert: 48 * 1024,
  callbackId: 256,
  labels: 50,
  labelName: 128,
  labelValue: 256,
  /** The core's limit (shared/scan/service.ts). */
  scheduleName: 64,
  expression: 256,
  timezone: 64,
  pageSizeMin: 1,
  pageSizeMax: 5000,
  autoResolutionMin: 1,
  autoResolutionMax: 1000,
} as const;

/** C0/C1 controls and the Unicode line separators: never in a one-line field (they would break log lines). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

function oneLine(max: number, what = 'characters') {
  return z
    .string({ error: 'must be a string' })
    .max(max, { error: `must be at most ${max} ${what}` })
    .refine((s) => !CONTROL_CHARS.test(s), { error: 'must not contain control characters or line breaks' });
}

function nonEmptyLine(max: number) {
  return z
    .string({ error: 'must be a string' })
    .min(1, { error: 'must not be empty' })
    .max(max, { error: `must be at most ${max} characters` })
    .refine((s) => !CONTROL_CHARS.test(s), { error: 'must not contain control characters or line breaks' });
}

/** For objects: a wrong type says so plainly (the default names zod's internal type words). */
const OBJECT = {
  error: (issue: { code?: string }) => (issue.code === 'invalid_type' ? 'must be a JSON object' : undefined),
};

const LOOPBACK_HOSTS = new Set(['localhost', '[::1]']);

function isLoopback(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return LOOPBACK_HOSTS.has(host) || host.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The problem with a Command or token URL, or null. */
export function urlProblem(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'is not an absolute URL (e.g. https://command.example.com/KeyfactorAPI)';
  }
  if (url.protocol === 'http:') {
    if (!isLoopback(url.hostname)) {
      return 'must use https: http is accepted only for loopback hosts (localhost, 127.0.0.1, ::1), since credentials would otherwise cross the network in clear text';
    }
  } else if (url.protocol !== 'https:') {
    return 'must be an https URL';
  }
  // A URL is kept in records and shown in responses: credentials in it would leak.
  if (url.username !== '' || url.password !== '') {
    return 'must not contain credentials (user:password@); send them as username/password or OAuth2 fields';
  }
  if (url.search !== '' || url.hash !== '') return 'must not have a query string or fragment';
  return null;
}

/** A bounded string checked by `problem` (skipped when over the bound, so a huge value costs no parsing). */
function checkedString(max: number, problem: (text: string) => string | null) {
  return z
    .string({ error: 'must be a string' })
    .max(max, { error: `must be at most ${max} characters` })
    .superRefine((text, ctx) => {
      if (text.length > max) return;
      const found = problem(text);
      if (found !== null) ctx.addIssue({ code: 'custom', message: found });
    });
}

function httpsUrl(max: number, emptyMeansAbsent = false) {
  return checkedString(max, (text) => {
    if (text === '') return emptyMeansAbsent ? null : 'must not be empty';
    return urlProblem(text);
  });
}

/** Problem of a query_filter in Command's query language, as `column N: ...`, or null. */
export function queryFilterProblem(text: string): string | null {
  try {
    parseQuery(text);
    return null;
  } catch (error) {
    if (error instanceof QueryError) {
      const detail = error.message.replace(/^query_filter: /, '');
      return `column ${error.column}: ${detail}`;
    }
    throw error;
  }
}

/** Problem of a ca_cert, or null: it must be PEM holding at least one certificate that parses. */
export function caCertProblem(text: string): string | null {
  if (!text.includes('-----BEGIN ')) return 'must be PEM text (-----BEGIN CERTIFICATE----- ...)';
  let ders: Uint8Array[];
  try {
    ders = pemToDers(text);
  } catch (error) {
    if (error instanceof CertificateParseError) return `is not valid PEM: ${error.detail}`;
    throw error;
  }
  if (ders.length === 0) return 'holds no CERTIFICATE block';
  for (const [i, der] of ders.entries()) {
    try {
      parseCertificate(der);
    } catch (error) {
      if (error instanceof CertificateParseError)
        return `certificate ${i + 1} does not parse: ${error.detail}`;
      throw error;
    }
  }
  return null;
}

// ---- auth methods

const BASIC_FIELDS = ['username', 'password'] as const;
const OAUTH2_FIELDS = ['token_url', 'client_id', 'client_secret', 'scope'] as const;

function given(value: unknown): boolean {
  // An empty string counts as not given: forms often post every field, filled or not.
  return typeof value === 'string' && value.length > 0;
}

export const SensorConfigSchema = z
  .strictObject(
    {
      url: httpsUrl(LIMITS.url).meta({
        description:
          "Command's API root, e.g. `https://command.example.com/KeyfactorAPI`. https only; http is accepted for loopback hosts.",
      }),
      username: oneLine(LIMITS.username)
        .refine((s) => !s.includes(':'), {
          error: "must not contain ':' (Basic authentication cannot carry it)",
        })
        .optional()
        .meta({ description: 'Basic authentication user (with `password`), e.g. `DOMAIN\\user`.' }),
      password: z
        .string({ error: 'must be a string' })
        .max(LIMITS.secret, { error: `must be at most ${LIMITS.secret} characters` })
        .optional()
        .meta({ description: 'Basic authentication password. Stored as a secret, never shown again.' }),
      token_url: httpsUrl(LIMITS.url, true)
        .optional()
        .meta({ description: 'OAuth2 token endpoint (client-credentials grant).' }),
      client_id: oneLine(LIMITS.clientId).optional().meta({ description: 'OAuth2 client id.' }),
      client_secret: z
        .string({ error: 'must be a string' })
        .max(LIMITS.secret, { error: `must be at most ${LIMITS.secret} characters` })
        .optional()
        .meta({ description: 'OAuth2 client secret. Stored as a secret, never shown again.' }),
      scope: oneLine(LIMITS.scope).optional().meta({ description: 'OAuth2 scope, e.g. `api://…/.default`.' }),
      audience: oneLine(LIMITS.audience).optional().meta({ description: 'Optional OAuth2 audience.' }),
      query_filter: checkedString(LIMITS.queryFilter, queryFilterProblem)
        .optional()
        .meta({
          description:
            "Only certificates matching this filter in Command's query language are scanned, e.g. " +
            '`IssuerDN -contains "Example" AND CertState -eq 1`. Empty: every certificate.',
        }),
      ca_cert: checkedString(LIMITS.caCert, caCertProblem)
        .optional()
        .meta({ description: "PEM CA certificate(s) to trust for Command's and the token endpoint's TLS." }),
      page_size: z
        .number({ error: 'must be a number' })
        .int({ error: 'must be a whole number' })
        .min(LIMITS.pageSizeMin, { error: `must be at least ${LIMITS.pageSizeMin}` })
        .max(LIMITS.pageSizeMax, { error: `must be at most ${LIMITS.pageSizeMax}` })
        .optional()
        .meta({ description: 'Certificates per request to Command (default 1000).' }),
      auto_resolution_interval: z
        .number({ error: 'must be a number' })
        .int({ error: 'must be a whole number' })
        .min(LIMITS.autoResolutionMin, { error: `must be at least ${LIMITS.autoResolutionMin}` })
        .max(LIMITS.autoResolutionMax, { error: `must be at most ${LIMITS.autoResolutionMax}` })
        .optional()
        .meta({
          description:
            'Every N-th scan of this sensor is full and resolves findings whose certificates are gone (default 5; 1: every scan is full).',
        }),
    },
    OBJECT,
  )
  .superRefine((config, ctx) => {
    const basic = BASIC_FIELDS.filter((f) => given(config[f]));
    const oauth = [...OAUTH2_FIELDS, 'audience' as const].filter((f) => given(config[f]));
    if (basic.length > 0 && oauth.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: `give one authentication method, not both: Basic (${basic.join(', ')}) and OAuth2 (${oauth.join(', ')}) were both given`,
      });
      return;
    }
    if (basic.length === 0 && oauth.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message:
          'credentials are required: username and password (Basic), or token_url, client_id, client_secret and scope (OAuth2)',
      });
      return;
    }
    const [method, required] =
      basic.length > 0 ? (['Basic', BASIC_FIELDS] as const) : (['OAuth2', OAUTH2_FIELDS] as const);
    const missing = required.filter((f) => !given(config[f]));
    for (const field of missing) {
      ctx.addIssue({
        code: 'custom',
        path: [field],
        message: `is required for ${method} authentication (missing: ${missing.join(', ')})`,
      });
    }
  })
  .meta({
    id: 'SensorConfig',
    description:
      'Where Command is and how to authenticate: exactly one of Basic (`username`, `password`) or OAuth2 ' +
      'client credentials (`token_url`, `client_id`, `client_secret`, `scope`, optional `audience`). Empty strings ' +
      'count as not given. Secrets go to the secret store; no response ever shows them.',
  });

// ---- labels

const LabelNameSchema = nonEmptyLine(LIMITS.labelName);
const LabelValueSchema = oneLine(LIMITS.labelValue);

const LabelSchema = z
  .strictObject({ name: LabelNameSchema, value: LabelValueSchema })
  .meta({ id: 'Label', description: 'A label as a name/value pair.' });

const LABEL_SHAPE =
  'must be a single-entry object {"<name>": "<value>"} or {"name": "<name>", "value": "<value>"}';

/**
 * Turns the seed's single-entry objects (`{"env": "prod"}`) into `{name, value}` before validation, reading the raw
 * JSON's own keys (a record schema would drop a `__proto__` key silently). Other shapes are reported here.
 */
function normalizeLabels(raw: unknown, ctx: z.RefinementCtx): unknown {
  if (!Array.isArray(raw)) return raw;
  return raw.map((entry: unknown, i) => {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      ctx.addIssue({ code: 'custom', path: [i], message: LABEL_SHAPE });
      return entry;
    }
    const keys = Object.keys(entry);
    if (keys.length === 2 && keys.includes('name') && keys.includes('value')) return entry;
    if (keys.length !== 1) {
      ctx.addIssue({ code: 'custom', path: [i], message: LABEL_SHAPE });
      return entry;
    }
    const name = keys[0] as string;
    const value = (entry as Record<string, unknown>)[name];
    if (typeof value !== 'string') return { name, value };
    return labelsFromRequest([{ [name]: value }])[0];
  });
}

export const LabelsSchema = z
  .preprocess(
    normalizeLabels,
    z
      .array(LabelSchema, { error: 'must be a list of labels' })
      .max(LIMITS.labels, { error: `at most ${LIMITS.labels} labels` })
      .superRefine((labels, ctx) => {
        const seen = new Set<string>();
        for (const [i, label] of labels.entries()) {
          if (seen.has(label.name))
            ctx.addIssue({ code: 'custom', path: [i], message: 'duplicate label name' });
          seen.add(label.name);
        }
      }),
  )
  .meta({
    id: 'Labels',
    description:
      'Labels attached to every finding: single-entry objects `[{"env": "prod"}]` (as the AgileSec API takes ' +
      'them) or `{"name": "env", "value": "prod"}` objects. Names are unique.',
    override: {
      type: 'array',
      maxItems: LIMITS.labels,
      items: {
        anyOf: [
          {
            type: 'object',
            minProperties: 1,
            maxProperties: 1,
            additionalProperties: { type: 'string', maxLength: LIMITS.labelValue },
          },
          {
            type: 'object',
            properties: {
              name: { type: 'string', minLength: 1, maxLength: LIMITS.labelName },
              value: { type: 'string', maxLength: LIMITS.labelValue },
            },
            required: ['name', 'value'],
            additionalProperties: false,
          },
        ],
      },
    },
  });

// ---- scan requests

export const PrioritySchema = z
  .preprocess(
    (v) => (typeof v === 'string' ? v.toLowerCase() : v),
    z.enum(PRIORITIES, { error: `must be one of ${PRIORITIES.join(', ')}` }),
  )
  .meta({
    id: 'Priority',
    description: 'Case-insensitive. A high-priority scan is not queued behind normal ones.',
    default: 'normal',
  });

export const CreateScanRequestSchema = z
  .strictObject(
    {
      sensorName: nonEmptyLine(LIMITS.sensorName).meta({
        description: 'Name of the sensor; findings and exports carry it.',
      }),
      sensorType: z
        .unknown()
        .refine((v) => v === SENSOR_TYPE, {
          error: `must be exactly "${SENSOR_TYPE}" (the only sensor type this API runs)`,
        })
        .transform(() => SENSOR_TYPE)
        .meta({ override: { type: 'string', const: SENSOR_TYPE } }),
      sensorConfig: SensorConfigSchema,
      callbackId: oneLine(LIMITS.callbackId)
        .optional()
        .meta({
          description:
            'Echoed in the scan and its completion event; a repeated callbackId within the de-duplication window ' +
            'returns the existing scan (`duplicate: true`) instead of starting another. Empty: none.',
        }),
      labels: LabelsSchema.optional(),
      priority: PrioritySchema.optional(),
    },
    OBJECT,
  )
  .meta({ id: 'CreateScanRequest', description: 'The body of POST /v3/scan/create.' });

export type CreateScanRequest = z.output<typeof CreateScanRequestSchema>;

/** The validated request as the scan core takes it: secrets split into `credentials`. */
export function toCreateScanInput(request: CreateScanRequest): CreateScanInput {
  const c = request.sensorConfig;
  const credentials: CommandCredentials = {};
  if (given(c.username)) {
    credentials.username = c.username;
    credentials.password = c.password;
  } else {
    credentials.token_url = c.token_url;
    credentials.client_id = c.client_id;
    credentials.client_secret = c.client_secret;
    credentials.scope = c.scope;
    if (given(c.audience)) credentials.audience = c.audience;
  }
  if (c.ca_cert !== undefined) credentials.ca_cert = c.ca_cert;
  const queryFilter = c.query_filter?.trim() ?? '';
  const input: CreateScanInput = {
    sensorName: request.sensorName,
    url: c.url,
    queryFilter: queryFilter === '' ? null : queryFilter,
    credentials,
    callbackId: given(request.callbackId) ? (request.callbackId as string) : null,
    labels: (request.labels ?? []) satisfies Label[],
    priority: request.priority ?? 'normal',
  };
  if (c.auto_resolution_interval !== undefined) input.autoResolutionInterval = c.auto_resolution_interval;
  if (c.page_size !== undefined) input.pageSize = c.page_size;
  return input;
}

// ---- schedules

const RATE_UNITS = ['minute', 'minutes', 'hour', 'hours', 'day', 'days'];

interface CronField {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
  /** `?` allowed (day-of-month, day-of-week). */
  question?: boolean;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const CRON_FIELDS: readonly CronField[] = [
  { name: 'minutes', min: 0, max: 59 },
  { name: 'hours', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31, question: true },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day-of-week', min: 1, max: 7, names: DAYS, question: true },
  { name: 'year', min: 1970, max: 2199 },
];

function cronValue(text: string, field: CronField): number | null {
  if (/^\d{1,4}$/.test(text)) {
    const n = Number(text);
    return n >= field.min && n <= field.max ? n : null;
  }
  const index = field.names?.indexOf(text.toUpperCase()) ?? -1;
  return index >= 0 ? index + field.min : null;
}

/** Problem of one cron field (EventBridge syntax), or null. */
function cronFieldProblem(text: string, field: CronField): string | null {
  const range = `${field.min}-${field.max}${field.names ? ` or ${field.names[0]}-${field.names.at(-1)}` : ''}`;
  if (text === '?') return field.question ? null : `${field.name} cannot be '?'`;
  if (field.name === 'day-of-month' && (text === 'L' || /^(L|\d{1,2})W$/.test(text))) {
    const day = text.slice(0, -1);
    return text === 'L' || day === 'L' || cronValue(day, field) !== null
      ? null
      : `${field.name} '${text}' is out of range`;
  }
  if (field.name === 'day-of-week') {
    const hash = /^(\w{1,3})#(\d)$/.exec(text);
    if (hash) {
      return cronValue(hash[1] as string, field) !== null && Number(hash[2]) >= 1 && Number(hash[2]) <= 5
        ? null
        : `${field.name} '${text}' must be <day>#<1-5>`;
    }
    const last = /^(\w{1,3})L$/.exec(text);
    if (text === 'L') return null;
    if (last)
      return cronValue(last[1] as string, field) !== null ? null : `${field.name} '${text}' is out of range`;
  }
  for (const part of text.split(',')) {
    const [base = '', step, extra] = part.split('/');
    if (extra !== undefined) return `${field.name} '${part}' has more than one '/'`;
    if (step !== undefined && !(/^\d{1,4}$/.test(step) && Number(step) >= 1)) {
      return `${field.name} step '${step}' must be a positive whole number`;
    }
    if (base === '*') continue;
    const bounds = base.split('-');
    if (bounds.length > 2) return `${field.name} '${part}' is not a value or range`;
    const values = bounds.map((b) => cronValue(b, field));
    if (values.some((v) => v === null)) return `${field.name} '${part}' is not in ${range}`;
  }
  return null;
}

/**
 * Problem of an EventBridge Scheduler expression (`cron(min hour dom month dow year)` or `rate(N unit)`), or null.
 * Messages quote only the offending piece, never more than the field.
 */
export function scheduleExpressionProblem(expression: string): string | null {
  const rate = /^rate\((.*)\)$/.exec(expression);
  if (rate) {
    const m = /^(\d{1,6}) ([a-z]+)$/.exec(rate[1] as string);
    if (!m) return 'rate(...) must be rate(<positive whole number> <minute|minutes|hour|hours|day|days>)';
    const value = Number(m[1]);
    const unit = m[2] as string;
    if (!RATE_UNITS.includes(unit)) return `rate unit must be one of ${RATE_UNITS.join(', ')}`;
    if (value < 1) return 'rate value must be at least 1';
    if (value === 1 && unit.endsWith('s'))
      return `rate(1 ${unit}) must be singular: rate(1 ${unit.slice(0, -1)})`;
    if (value > 1 && !unit.endsWith('s'))
      return `rate(${value} ${unit}) must be plural: rate(${value} ${unit}s)`;
    return null;
  }
  const cron = /^cron\((.*)\)$/.exec(expression);
  if (cron) {
    const fields = (cron[1] as string).trim().split(/\s+/);
    if (fields.length !== 6) {
      return `cron(...) needs 6 fields (minutes hours day-of-month month day-of-week year), got ${fields.length}`;
    }
    for (const [i, spec] of CRON_FIELDS.entries()) {
      const problem = cronFieldProblem(fields[i] as string, spec);
      if (problem !== null) return problem;
    }
    const [dom, dow] = [fields[2], fields[4]];
    if ((dom === '?') === (dow === '?')) {
      return "exactly one of day-of-month and day-of-week must be '?' (e.g. cron(0 2 * * ? *))";
    }
    return null;
  }
  if (expression.startsWith('at('))
    return 'one-time at(...) schedules are not supported; use cron(...) or rate(...)';
  return 'must be cron(<6 fields>) or rate(<value> <unit>), e.g. cron(0 2 * * ? *) or rate(12 hours)';
}

export function timezoneProblem(timezone: string): string | null {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return null;
  } catch {
    return 'is not an IANA time zone (e.g. UTC, Europe/Berlin)';
  }
}

export const CreateScheduleRequestSchema = z
  .strictObject(
    {
      name: nonEmptyLine(LIMITS.scheduleName).meta({ description: 'A name for people.' }),
      expression: checkedString(LIMITS.expression, scheduleExpressionProblem).meta({
        description:
          'EventBridge Scheduler expression: `cron(minutes hours day-of-month month day-of-week year)` or ' +
          '`rate(N minute|minutes|hour|hours|day|days)`, e.g. `cron(0 2 * * ? *)`, `rate(12 hours)`.',
        example: 'cron(0 2 * * ? *)',
      }),
      timezone: nonEmptyLine(LIMITS.timezone)
        .superRefine((text, ctx) => {
          const problem = timezoneProblem(text);
          if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
        })
        .optional()
        .meta({ description: 'IANA time zone cron expressions are evaluated in.', default: 'UTC' }),
      scan: CreateScanRequestSchema,
    },
    OBJECT,
  )
  .meta({ id: 'CreateScheduleRequest' });

export function toCreateScheduleInput(
  request: z.output<typeof CreateScheduleRequestSchema>,
): CreateScheduleInput {
  return {
    name: request.name,
    expression: request.expression,
    ...(request.timezone !== undefined ? { timezone: request.timezone } : {}),
    scan: toCreateScanInput(request.scan),
  };
}

// ---- path and query parameters

/** Scan ids are ULIDs: 26 Crockford base-32 characters (shared/scan/keys.ts newScanId). */
export const SCAN_ID_PATTERN = /^[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{26}$/;

export const ScanIdParamsSchema = z.object({
  scanId: z
    .string()
    .regex(SCAN_ID_PATTERN, {
      error: 'is not a scan id (26 letters and digits, as returned by POST /v3/scan/create)',
    })
    .transform((id) => id.toUpperCase())
    .meta({ description: 'The scan id (a ULID).', example: '01JDQ3Z6W8K4N2V7R5T9B1C3XH' }),
});

/** Schedule ids are ULIDs too. */
export const ScheduleIdParamsSchema = z.object({
  scheduleId: z
    .string()
    .regex(SCAN_ID_PATTERN, {
      error: 'is not a schedule id (26 letters and digits, as returned by POST /v3/schedules)',
    })
    .transform((id) => id.toUpperCase())
    .meta({ description: 'The schedule id (a ULID).', example: '01JDQ40D3N6Q8S1V4X7Z9B2D5F' }),
});

export const ListScansQuerySchema = z.strictObject({
  state: z
    .preprocess(
      (v) => (typeof v === 'string' ? v.toUpperCase() : v),
      z.enum(SCAN_STATES, { error: `must be one of ${SCAN_STATES.join(', ')}` }),
    )
    .optional()
    .meta({ description: 'Only scans in this state (case-insensitive).' }),
  sensorName: nonEmptyLine(LIMITS.sensorName).optional().meta({ description: 'Only scans of this sensor.' }),
  limit: z
    .string()
    .regex(/^\d{1,3}$/, { error: 'must be a whole number from 1 to 100' })
    .transform(Number)
    .pipe(z.number().int().min(1, { error: 'must be at least 1' }).max(100, { error: 'must be at most 100' }))
    .optional()
    .meta({ description: 'Scans per page, 1–100 (default 25).' }),
  nextToken: z
    .string()
    .max(2048, { error: 'is not a token this API issued' })
    .optional()
    .meta({ description: '`nextToken` of the previous page of the same query.' }),
});

// ---- responses

const Timestamp = z.string().meta({ format: 'date-time' });

export const SensorViewSchema = z
  .object({
    sensorName: z.string(),
    url: z.string(),
    queryFilter: z.string().nullable(),
    authMethod: z.enum(['basic', 'oauth2', 'kerberos']),
    labels: z.array(z.object({ name: z.string(), value: z.string() })),
    priority: z.enum(PRIORITIES),
    autoResolutionInterval: z.number().int(),
    pageSize: z.number().int(),
  })
  .meta({
    id: 'SensorView',
    description: 'The sensor a scan or schedule runs: never its credentials nor where they are stored.',
  });

export const ScanCountsSchema = z
  .object({
    plannedCertificates: z.number().int(),
    fetchedCertificates: z.number().int(),
    analysedCertificates: z.number().int(),
    rejectedCertificates: z.number().int(),
    failedCertificates: z.number().int(),
    changedFindings: z.number().int(),
    resolvedFindings: z.number().int(),
    exportedFindings: z.number().int(),
    exportedResolutions: z.number().int(),
    exportBatchesPlanned: z.number().int(),
    exportBatchesSent: z.number().int(),
    exportBatchesFailed: z.number().int(),
    pagesPlanned: z.number().int(),
    pagesDone: z.number().int(),
    pagesFailed: z.number().int(),
  })
  .meta({ id: 'ScanCounts' });

export const ScanSchema = z
  .object({
    scanId: z.string(),
    state: z.enum(SCAN_STATES),
    terminal: z.boolean().meta({ description: 'True once the scan can no longer change state.' }),
    mode: z
      .enum(['full', 'incremental'])
      .nullable()
      .meta({ description: 'Decided when the scan is planned; null before.' }),
    trigger: z.enum(['api', 'schedule', 'cli']),
    scheduleId: z.string().nullable(),
    callbackId: z.string().nullable(),
    sensor: SensorViewSchema,
    effectiveQuery: z
      .string()
      .nullable()
      .meta({ description: 'The query sent to Command (filter AND incremental condition).' }),
    timing: z.object({
      createdAt: Timestamp,
      startedAt: Timestamp.nullable(),
      finishedAt: Timestamp.nullable(),
      durationSeconds: z
        .number()
        .nullable()
        .meta({ description: 'From start (or creation) to finish; null until the scan finishes.' }),
    }),
    counts: ScanCountsSchema,
    errors: z
      .array(z.object({ where: z.string(), message: z.string(), at: Timestamp }))
      .meta({ description: 'The newest 50 errors; `errorCount` has the total.' }),
    errorCount: z.number().int(),
  })
  .meta({ id: 'Scan' });

export const CreatedScanSchema = ScanSchema.extend({
  duplicate: z.boolean().meta({
    description:
      'True when a scan with this callbackId was created within the window and is returned instead.',
  }),
}).meta({ id: 'CreatedScan' });

export const ScanPageSchema = z
  .object({ items: z.array(ScanSchema), nextToken: z.string().nullable() })
  .meta({ id: 'ScanPage', description: 'Newest first.' });

export const ScheduleSchema = z
  .object({
    scheduleId: z.string(),
    name: z.string(),
    expression: z.string(),
    timezone: z.string(),
    enabled: z.boolean(),
    createdAt: Timestamp,
    createdBy: z.string().meta({ description: 'Key ID that created the schedule.' }),
    sensor: SensorViewSchema,
  })
  .meta({ id: 'Schedule' });

export const ScheduleListSchema = z.object({ items: z.array(ScheduleSchema) }).meta({ id: 'ScheduleList' });

// ---- views: records as shown, built field by field so nothing secret can ride along

export function sensorView(sensor: SensorDefinition): z.output<typeof SensorViewSchema> {
  return {
    sensorName: sensor.sensorName,
    url: sensor.url,
    queryFilter: sensor.queryFilter,
    authMethod: sensor.authMethod,
    labels: sensor.labels.map((l) => ({ name: l.name, value: l.value })),
    priority: sensor.priority satisfies Priority,
    autoResolutionInterval: sensor.autoResolutionInterval,
    pageSize: sensor.pageSize,
  };
}

export function scanView(scan: ScanRecord): z.output<typeof ScanSchema> {
  const end = scan.finishedAt === null ? null : Date.parse(scan.finishedAt);
  const start = Date.parse(scan.startedAt ?? scan.createdAt);
  return {
    scanId: scan.scanId,
    state: scan.state,
    terminal: TERMINAL_STATES.includes(scan.state),
    mode: scan.mode,
    trigger: scan.trigger,
    scheduleId: scan.scheduleId,
    callbackId: scan.callbackId,
    sensor: sensorView(scan.sensor),
    effectiveQuery: scan.effectiveQuery,
    timing: {
      createdAt: scan.createdAt,
      startedAt: scan.startedAt,
      finishedAt: scan.finishedAt,
      durationSeconds: end === null ? null : Math.max(0, (end - start) / 1000),
    },
    counts: { ...scan.counts },
    errors: scan.errors.map((e) => ({ where: e.where, message: e.message, at: e.at })),
    errorCount: scan.errorCount,
  };
}

export function scheduleView(schedule: Schedule): z.output<typeof ScheduleSchema> {
  return {
    scheduleId: schedule.scheduleId,
    name: schedule.name,
    expression: schedule.expression,
    timezone: schedule.timezone,
    enabled: schedule.enabled,
    createdAt: schedule.createdAt,
    createdBy: schedule.createdBy,
    sensor: sensorView(schedule.sensor),
  };
}
