// Licensing routes (/v3/license*, /v3/alerts) over the LicenseService. They are never feature-gated: a deployment
// without a valid license must still be able to read its state and install one.
import { ForbiddenError, HttpError } from '#shared/http/errors';
import { defineRoute, type Route } from '#shared/http/router';
import { FeatureDisabledError } from '#shared/license/gates';
import { LicenseRejectedError, type LicenseService } from '#shared/license/service';
import {
  ActionedCertificatesSchema,
  ActionedQuerySchema,
  AlertListSchema,
  AlertsQuerySchema,
  DailyRunResultSchema,
  DEFAULT_ALERT_LIMIT,
  DEFAULT_RUN_HISTORY,
  LicenseFileRequestSchema,
  LicensePreviewSchema,
  LicenseStatusSchema,
} from './license-schemas.ts';

/** A refused license: 422 (the body was well-formed JSON, the license in it is not acceptable). */
export const LICENSE_REFUSED_STATUS = 422;

/** Maps the licensing errors to HTTP: a disabled feature is 403 naming it and the license; a refused license 422. */
export function classifyLicenseError(error: unknown): HttpError | undefined {
  if (error instanceof FeatureDisabledError) return new ForbiddenError(error.message);
  if (error instanceof LicenseRejectedError) return new HttpError(LICENSE_REFUSED_STATUS, error.message);
  return undefined;
}

const TAGS = ['License'];

export function createLicenseRoutes(license: LicenseService): Route[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/v3/license',
      operationId: 'getLicense',
      summary: 'The installed license: validity, features, days to expiry, actioned-certificate allowance',
      description:
        'The license is re-verified on load (signature, instance, dates). Without one, `installed` is false and ' +
        '`instanceId` is the id a license must be issued for.',
      tags: TAGS,
      permission: 'license:read',
      responses: { 200: { description: 'The license state.', schema: LicenseStatusSchema } },
      handle: async () => ({ status: 200, body: await license.status() }),
    }),
    defineRoute({
      method: 'POST',
      path: '/v3/license/preview',
      operationId: 'previewLicense',
      summary: 'Verify a license file and compare it with the installed one, without installing it',
      description:
        'Always 200 for a JSON object: `verification.valid` says whether `PUT /v3/license` would accept it and, ' +
        'if not, `reason` and `message` say why. `comparison` is present whenever the file could be read.',
      tags: TAGS,
      permission: 'license:write',
      body: LicenseFileRequestSchema,
      responses: { 200: { description: 'Verification and comparison.', schema: LicensePreviewSchema } },
      handle: async ({ body }) => ({ status: 200, body: await license.preview(body) }),
    }),
    defineRoute({
      method: 'PUT',
      path: '/v3/license',
      operationId: 'installLicense',
      summary: 'Install a license file (replacing the installed one)',
      description:
        'Verified first; a malformed, tampered, unknown-key, expired, not-yet-valid or wrong-instance license is ' +
        'refused with 422 (`message`: `license refused (<reason>): ...`) and the installed license stays.',
      tags: TAGS,
      permission: 'license:write',
      body: LicenseFileRequestSchema,
      responses: {
        200: { description: 'Installed; the new license state.', schema: LicenseStatusSchema },
        [LICENSE_REFUSED_STATUS]: {
          description: 'Refused: the message names the reason and what to do; nothing changed.',
        },
      },
      handle: async ({ body, caller }) => ({ status: 200, body: await license.install(body, caller.keyId) }),
    }),
    defineRoute({
      method: 'GET',
      path: '/v3/license/actioned-certificates',
      operationId: 'getActionedCertificates',
      summary: 'Actioned-certificate counts: the latest run and the history',
      description: 'Under a Site-License the counts are not limited and show as "N/A".',
      tags: TAGS,
      permission: 'license:read',
      query: ActionedQuerySchema,
      responses: { 200: { description: 'Latest run and history.', schema: ActionedCertificatesSchema } },
      handle: async ({ query }) => ({
        status: 200,
        body: await license.actionedCertificates(query.limit ?? DEFAULT_RUN_HISTORY),
      }),
    }),
    defineRoute({
      method: 'POST',
      path: '/v3/license/actioned-certificates/run',
      operationId: 'runActionedCertificateCount',
      summary: 'Count actioned certificates now (the daily job, on demand)',
      description:
        'Counts from the stored inventory of every sensor, stores the run and raises an over-limit alert when the ' +
        'total exceeds the allowance. Nothing is blocked.',
      tags: TAGS,
      permission: 'license:write',
      responses: { 200: { description: 'The run and the alerts it raised.', schema: DailyRunResultSchema } },
      handle: async () => ({ status: 200, body: await license.runDaily('manual') }),
    }),
    defineRoute({
      method: 'GET',
      path: '/v3/license/usage-log',
      operationId: 'downloadUsageLog',
      summary:
        'The usage log: signed XML with the instance, license, features and actioned-certificate counts',
      description:
        "Signed (XML-DSig, RSA-SHA256) with the instance's own key; `kfsensor license verify-usage-log FILE` " +
        'checks it. Any edit breaks the signature.',
      tags: TAGS,
      permission: 'license:read',
      responses: {
        200: { description: 'The signed usage log, as a download.', contentType: 'application/xml' },
      },
      handle: async () => {
        const xml = await license.usageLog();
        const day = new Date().toISOString().slice(0, 10);
        return {
          status: 200,
          body: xml,
          contentType: 'application/xml',
          headers: { 'content-disposition': `attachment; filename="kfsensor-usage-log-${day}.xml"` },
        };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v3/alerts',
      operationId: 'listAlerts',
      summary: 'Alerts (license expiry, actioned certificates over the allowance), newest first',
      tags: ['Alerts'],
      permission: 'license:read',
      query: AlertsQuerySchema,
      responses: { 200: { description: 'Alerts.', schema: AlertListSchema } },
      handle: async ({ query }) => ({
        status: 200,
        body: { items: await license.listAlerts(query.limit ?? DEFAULT_ALERT_LIMIT) },
      }),
    }),
  ];
}
