// Daily license job (EventBridge schedule, 02:00 UTC by default): expiry alerts and the actioned-certificate count.
import type { Context, ScheduledEvent } from 'aws-lambda';
import { licenseDepsFromEnv } from '#shared/adapters/aws/license-deps';
import { LicenseService, type DailyRunResult, type LicenseDeps } from '#shared/license/service';

export type LicenseJobHandler = (event: ScheduledEvent, context: Context) => Promise<LicenseJobSummary>;

/** What the invocation returns (and logs): counts and alert ids, never a license text or a key. */
export interface LicenseJobSummary {
  runId: string;
  total: number;
  allowance: number | null;
  overLimit: boolean;
  sensors: number;
  examined: number;
  warnings: number;
  alertsRaised: string[];
}

function summaryOf({ run, alerts }: DailyRunResult): LicenseJobSummary {
  return {
    runId: run.runId,
    total: run.total,
    allowance: run.allowance,
    overLimit: run.overLimit,
    sensors: run.sensors,
    examined: run.examined,
    warnings: run.warnings.length,
    alertsRaised: alerts.map((a) => a.alertId),
  };
}

export function createLicenseJobHandler(deps: LicenseDeps): LicenseJobHandler {
  const service = new LicenseService(deps);
  // A failure throws: EventBridge retries the invocation and the job's error alarm fires.
  return async (event) => {
    const summary = summaryOf(await service.runDaily('schedule'));
    deps.logger.info('license job finished', { eventId: event.id, scheduledAt: event.time, ...summary });
    return summary;
  };
}

let fromEnv: LicenseJobHandler | undefined;

/** Deps (SDK clients, config) are built on a container's first invocation and reused. */
export const handler: LicenseJobHandler = (event, context) =>
  (fromEnv ??= createLicenseJobHandler(licenseDepsFromEnv(process.env, { service: 'license-job' })))(
    event,
    context,
  );
