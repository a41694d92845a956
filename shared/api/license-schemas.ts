// Zod schemas of the licensing routes (/v3/license*, /v3/alerts): request checks, response allow-lists, OpenAPI.
import { z } from 'zod';
import 'zod-openapi';
import {
  ACTIONED_CATEGORIES,
  LICENSE_FEATURES,
  type ActionedCategory,
  type LicenseRejectionReason,
} from '#shared/license/model';

const REJECTION_REASONS = [
  'malformed',
  'unknown-key',
  'bad-signature',
  'expired',
  'not-yet-valid',
  'wrong-instance',
] as const satisfies readonly LicenseRejectionReason[];

const Timestamp = z.string().meta({ format: 'date-time' });

// ---- requests

/**
 * The license file exactly as the vendor sent it (`{ license, signature }`). Only "a JSON object" is checked here:
 * everything else is the verifier's job, so a bad file gets its reason (`malformed`, `bad-signature`...) instead of
 * a generic 400.
 */
export const LicenseFileRequestSchema = z
  .record(z.string(), z.unknown(), {
    error: 'must be the license file: a JSON object { license, signature }',
  })
  .meta({
    id: 'LicenseFile',
    description:
      'The license file as received from the vendor: a JSON object `{ license, signature }`. The signature covers ' +
      'the canonical JSON of `license`, so re-serialising the file is harmless; changing any value is not.',
  });

function limitQuery(max: number, fallback: number, what: string) {
  return z
    .string()
    .regex(/^\d{1,4}$/, { error: `must be a whole number from 1 to ${max}` })
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(1, { error: 'must be at least 1' })
        .max(max, { error: `must be at most ${max}` }),
    )
    .optional()
    .meta({ description: `${what}, 1–${max} (default ${fallback}).` });
}

export const DEFAULT_RUN_HISTORY = 30;
export const DEFAULT_ALERT_LIMIT = 50;

export const ActionedQuerySchema = z.strictObject({
  limit: limitQuery(366, DEFAULT_RUN_HISTORY, 'Runs in the history, newest first'),
});

export const AlertsQuerySchema = z.strictObject({
  limit: limitQuery(500, DEFAULT_ALERT_LIMIT, 'Alerts, newest first'),
});

// ---- responses

const FeatureSchema = z.enum(LICENSE_FEATURES).meta({ id: 'LicenseFeature' });
const ReasonSchema = z.enum(REJECTION_REASONS).meta({
  id: 'LicenseRejectionReason',
  description: 'Why a license is not valid; `message` says what to do about it.',
});

const AllowanceSchema = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('Limited'), allowance: z.number().int() }),
    z.object({ type: z.literal('Site-License') }),
  ])
  .meta({
    id: 'ActionedAllowance',
    description: 'A licensed number of actioned certificates, or Site-License.',
  });

export const LicenseDocumentSchema = z
  .object({
    format: z.literal('kfsensor-license/1'),
    licenseId: z.string(),
    licensee: z.string(),
    instanceId: z.string(),
    issuedAt: Timestamp,
    expiresAt: Timestamp,
    features: z.array(FeatureSchema),
    actionedCertificates: AllowanceSchema,
  })
  .meta({ id: 'License', description: 'The signed content of a license.' });

export const LicenseStatusSchema = z
  .object({
    instanceId: z.string().meta({ description: "This deployment's instance id (a license must name it)." }),
    installed: z.boolean(),
    valid: z.boolean(),
    reason: ReasonSchema.optional(),
    message: z.string().optional(),
    license: LicenseDocumentSchema.nullable(),
    features: z
      .array(FeatureSchema)
      .meta({ description: 'Enabled features; empty unless the license is valid.' }),
    daysToExpiry: z.number().int().nullable(),
    actionedCertificates: z
      .object({
        type: z.enum(['Limited', 'Site-License']),
        allowance: z.number().int().nullable().meta({ description: 'null for Site-License (unlimited).' }),
      })
      .nullable(),
    installedAt: Timestamp.nullable(),
    installedBy: z.string().nullable().meta({ description: 'Key ID of the API key that installed it.' }),
    signedBy: z
      .string()
      .nullable()
      .meta({ description: 'Key id of the vendor key that signed a valid license.' }),
  })
  .meta({ id: 'LicenseStatus' });

const ValueChangeSchema = z.object({
  installed: z.string().nullable(),
  candidate: z.string(),
  changed: z.boolean(),
});
const DateChangeSchema = z.object({
  installed: Timestamp.nullable(),
  candidate: Timestamp,
  changeDays: z.number().nullable().meta({ description: 'candidate − installed, in days.' }),
});

export const LicenseComparisonSchema = z
  .object({
    licenseId: ValueChangeSchema,
    licensee: ValueChangeSchema,
    instanceId: ValueChangeSchema,
    issuedAt: DateChangeSchema,
    expiresAt: DateChangeSchema,
    features: z.object({
      gained: z.array(FeatureSchema),
      lost: z.array(FeatureSchema),
      kept: z.array(FeatureSchema),
    }),
    actionedCertificates: z.object({
      installed: AllowanceSchema.nullable(),
      candidate: AllowanceSchema,
      change: z.enum([
        'none-installed',
        'unchanged',
        'increased',
        'decreased',
        'to-site-license',
        'from-site-license',
      ]),
      difference: z.number().int().nullable(),
    }),
  })
  .meta({ id: 'LicenseComparison', description: 'Installed and candidate side by side.' });

export const LicensePreviewSchema = z
  .object({
    verification: z.object({
      valid: z.boolean(),
      reason: ReasonSchema.optional(),
      message: z.string().optional(),
      signedBy: z.string().optional(),
      daysToExpiry: z.number().int().optional(),
    }),
    candidate: LicenseDocumentSchema.nullable().meta({
      description: 'The candidate when it could be read and its signature checked.',
    }),
    installed: LicenseDocumentSchema.nullable(),
    comparison: LicenseComparisonSchema.nullable(),
  })
  .meta({ id: 'LicensePreview' });

const NA = z.literal('N/A');
const CountSchema = z.union([z.number().int(), NA]);

export const ActionedRunSchema = z
  .object({
    runId: z.string(),
    trigger: z.enum(['schedule', 'manual']),
    startedAt: Timestamp,
    finishedAt: Timestamp,
    total: CountSchema.meta({ description: 'Distinct actioned certificates; "N/A" under a Site-License.' }),
    categories: z.object(
      Object.fromEntries(ACTIONED_CATEGORIES.map((c) => [c, CountSchema])) as Record<
        ActionedCategory,
        typeof CountSchema
      >,
    ),
    examined: z.number().int(),
    sensors: z.number().int(),
    allowance: CountSchema.nullable(),
    overLimit: z.boolean(),
    warnings: z.array(z.string()),
  })
  .meta({ id: 'ActionedRun' });

export const ActionedCertificatesSchema = z
  .object({
    licenseType: z.enum(['Limited', 'Site-License']).nullable(),
    allowance: CountSchema.nullable().meta({
      description: 'The licensed number; "N/A" for Site-License; null without a valid license.',
    }),
    latest: ActionedRunSchema.nullable(),
    history: z.array(ActionedRunSchema),
  })
  .meta({ id: 'ActionedCertificates' });

export const AlertSchema = z
  .object({
    alertId: z.string(),
    kind: z.enum(['license-expiry', 'license-expired', 'actioned-over-limit']),
    severity: z.enum(['info', 'warning', 'critical']),
    message: z.string(),
    createdAt: Timestamp,
    details: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'Alert' });

export const AlertListSchema = z.object({ items: z.array(AlertSchema) }).meta({ id: 'AlertList' });

export const DailyRunResultSchema = z
  .object({ run: ActionedRunSchema, alerts: z.array(AlertSchema) })
  .meta({ id: 'ActionedRunResult', description: 'The run and the alerts it raised for the first time.' });
