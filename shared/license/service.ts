// The licensing use cases behind /v3/license*, /v3/alerts and the daily job: verify, preview, install, gate, count
// actioned certificates, raise alerts and build the signed usage log. Ports only; no AWS imports.
import { randomUUID } from 'node:crypto';
import { SensorError } from '#shared/errors';
import type { Logger } from '#shared/logging';
import type { Clock, FindingStore } from '#shared/scan/ports';
import { countActionedCertificates, type ActionedSource } from './actioned.ts';
import { expiryAlertFor } from './expiry.ts';
import { requireFeature } from './gates.ts';
import { compareLicenses, verifyLicense, type LicenseComparison } from './license.ts';
import type {
  ActionedAllowance,
  ActionedRun,
  Alert,
  LicenseDocument,
  LicenseFeature,
  LicenseRejectionReason,
  LicenseVerification,
} from './model.ts';
import type {
  ActionedRunStore,
  AlertPublisher,
  AlertStore,
  CommandContextStore,
  InstanceKeySource,
  LicenseStore,
} from './ports.ts';
import { buildUsageLog } from './usage-log.ts';

export interface LicenseServiceConfig {
  /** This deployment's id: a license is valid only for it. */
  instanceId: string;
  /** SPKI PEM public keys whose signatures are trusted (VENDOR_PUBLIC_KEYS in production; the test key in tests). */
  trustedKeys: readonly string[];
  /** Metadata fields whose values do not make a certificate actioned (Command does not expose this flag). */
  excludedMetadataFields: readonly string[];
  sensorVersion: string;
  /** Where it runs, for the usage log (e.g. `aws:<account>/<region>` or a stack name). */
  deployment: string;
}

export interface LicenseDeps {
  licenses: LicenseStore;
  runs: ActionedRunStore;
  alerts: AlertStore;
  contexts: CommandContextStore;
  findings: FindingStore;
  instanceKey: InstanceKeySource;
  publisher: AlertPublisher;
  clock: Clock;
  logger: Logger;
  config: LicenseServiceConfig;
}

/** A license was refused on install; the installed one (if any) stays. `message` says what to do. */
export class LicenseRejectedError extends SensorError {
  constructor(
    readonly reason: LicenseRejectionReason,
    readonly detail: string,
  ) {
    super(`license refused (${reason}): ${detail}`);
  }
}

/** The installed license's state as GET /v3/license shows it. */
export interface LicenseStatus {
  instanceId: string;
  installed: boolean;
  valid: boolean;
  reason?: LicenseRejectionReason;
  message?: string;
  /** The document when it could be read and its signature checked (also for an expired or wrong-instance one). */
  license: LicenseDocument | null;
  /** Enabled features: empty unless the license is valid. */
  features: LicenseFeature[];
  daysToExpiry: number | null;
  actionedCertificates: { type: ActionedAllowance['type']; allowance: number | null } | null;
  installedAt: string | null;
  installedBy: string | null;
  /** Key id of the vendor key that signed a valid license. */
  signedBy: string | null;
}

export interface LicensePreview {
  verification: {
    valid: boolean;
    reason?: LicenseRejectionReason;
    message?: string;
    signedBy?: string;
    daysToExpiry?: number;
  };
  candidate: LicenseDocument | null;
  installed: LicenseDocument | null;
  /** Present whenever the candidate could be read (even if it would be refused), so the two can be compared. */
  comparison: LicenseComparison | null;
}

export interface DailyRunResult {
  run: ActionedRun;
  /** Alerts this run raised for the first time (each was published). */
  alerts: Alert[];
}

/** A count shown as "N/A" when the license is Site-License (the seed's Actioned Certificates tab). */
export type ShownCount = number | 'N/A';

export interface ActionedRunView extends Omit<ActionedRun, 'total' | 'categories' | 'allowance'> {
  total: ShownCount;
  categories: Record<keyof ActionedRun['categories'], ShownCount>;
  allowance: ShownCount | null;
}

export interface ActionedCertificatesView {
  licenseType: ActionedAllowance['type'] | null;
  /** The licensed number; "N/A" for Site-License; null without a valid license. */
  allowance: ShownCount | null;
  latest: ActionedRunView | null;
  history: ActionedRunView[];
}

/** How long a verification of the same stored text is reused; expiry is still checked on each use. */
const VERIFICATION_TTL_MS = 60_000;
/** Runs in the usage log: a year of daily counts. */
const USAGE_LOG_RUNS = 366;

export class LicenseService {
  private cached: { text: string; at: number; verification: LicenseVerification } | null = null;

  constructor(private readonly deps: LicenseDeps) {}

  private verify(text: string, now: Date): LicenseVerification {
    return verifyLicense(text, {
      trustedKeys: this.deps.config.trustedKeys,
      instanceId: this.deps.config.instanceId,
      now,
    });
  }

  /** The installed license, re-verified (cached ≤ 60 s per stored text; a license that expired meanwhile is not reused). */
  private async current(): Promise<{
    installed: { text: string; installedAt: string; installedBy: string | null } | null;
    verification: LicenseVerification | null;
  }> {
    const installed = await this.deps.licenses.getInstalled();
    if (!installed) return { installed: null, verification: null };
    const now = this.deps.clock.now();
    const c = this.cached;
    if (
      c &&
      c.text === installed.text &&
      now.getTime() - c.at >= 0 &&
      now.getTime() - c.at < VERIFICATION_TTL_MS &&
      (!c.verification.valid || Date.parse(c.verification.license.expiresAt) > now.getTime())
    ) {
      return { installed, verification: c.verification };
    }
    const verification = this.verify(installed.text, now);
    this.cached = { text: installed.text, at: now.getTime(), verification };
    return { installed, verification };
  }

  async status(): Promise<LicenseStatus> {
    const { installed, verification } = await this.current();
    const base = {
      instanceId: this.deps.config.instanceId,
      installed: installed !== null,
      installedAt: installed?.installedAt ?? null,
      installedBy: installed?.installedBy ?? null,
    };
    if (!verification) {
      return {
        ...base,
        valid: false,
        message: `no license is installed; install one for instance ${this.deps.config.instanceId} (PUT /v3/license)`,
        license: null,
        features: [],
        daysToExpiry: null,
        actionedCertificates: null,
        signedBy: null,
      };
    }
    const license = verification.license;
    const allowance = license ? allowanceView(license.actionedCertificates) : null;
    if (!verification.valid) {
      return {
        ...base,
        valid: false,
        reason: verification.reason,
        message: verification.message,
        license,
        features: [],
        daysToExpiry: license ? daysBetween(this.deps.clock.now(), license.expiresAt) : null,
        actionedCertificates: allowance,
        signedBy: null,
      };
    }
    return {
      ...base,
      valid: true,
      license: verification.license,
      features: [...verification.license.features],
      daysToExpiry: verification.daysToExpiry,
      actionedCertificates: allowance,
      signedBy: verification.signedBy,
    };
  }

  /** What installing `body` would do: its verification and a comparison with the installed license. */
  async preview(body: unknown): Promise<LicensePreview> {
    const candidate = this.verify(licenseText(body), this.deps.clock.now());
    const { verification } = await this.current();
    // Only an authentic installed document is compared against (a tampered one's content means nothing).
    const installed = verification?.license ?? null;
    return {
      verification: candidate.valid
        ? { valid: true, signedBy: candidate.signedBy, daysToExpiry: candidate.daysToExpiry }
        : { valid: false, reason: candidate.reason, message: candidate.message },
      candidate: candidate.license,
      installed,
      comparison: candidate.license ? compareLicenses(installed, candidate.license) : null,
    };
  }

  /** Verifies and installs `body`; a refused license throws LicenseRejectedError and changes nothing. */
  async install(body: unknown, by: string | null): Promise<LicenseStatus> {
    const text = licenseText(body);
    const now = this.deps.clock.now();
    const verification = this.verify(text, now);
    if (!verification.valid) {
      this.deps.logger.warn('license refused', {
        reason: verification.reason,
        licenseId: verification.license?.licenseId ?? null,
        by,
      });
      throw new LicenseRejectedError(verification.reason, verification.message);
    }
    await this.deps.licenses.putInstalled({ text, installedAt: now.toISOString(), installedBy: by });
    this.cached = { text, at: now.getTime(), verification };
    this.deps.logger.info('license installed', {
      licenseId: verification.license.licenseId,
      licensee: verification.license.licensee,
      expiresAt: verification.license.expiresAt,
      features: verification.license.features,
      by,
    });
    return this.status();
  }

  /** Throws FeatureDisabledError unless the installed license is valid and enables `feature`. */
  async checkFeature(feature: LicenseFeature): Promise<void> {
    requireFeature((await this.current()).verification, feature);
  }

  /**
   * The daily job (and its on-demand run): expiry alerts, the actioned-certificate count over every sensor with a
   * captured Command context, and the over-limit alert. Nothing is blocked; counts are kept even without a license.
   */
  async runDaily(trigger: 'schedule' | 'manual'): Promise<DailyRunResult> {
    const { logger, clock } = this.deps;
    const startedAt = clock.now();
    const raised: Alert[] = [];
    const { verification } = await this.current();

    if (!verification) logger.warn('no license is installed; counting actioned certificates anyway');
    else if (!verification.valid)
      logger.warn('the installed license is not valid', {
        reason: verification.reason,
        message: verification.message,
      });
    // Expiry alerts only for an authentic license for this instance: valid, or valid but for its dates.
    const authentic =
      verification?.valid === true ||
      verification?.reason === 'expired' ||
      verification?.reason === 'not-yet-valid';
    if (authentic && verification.license) {
      const alert = expiryAlertFor(verification.license, startedAt);
      if (alert && (await this.raise(alert))) raised.push(alert);
    }

    const contexts = await this.deps.contexts.listContexts();
    const findings = this.deps.findings;
    const sources = (function* (): Generator<ActionedSource> {
      for (const context of contexts)
        yield { context, findings: findings.listFindings(context.sensorKey, { status: 'open' }) };
    })();
    const count = await countActionedCertificates(sources, {
      now: startedAt,
      excludedMetadataFields: this.deps.config.excludedMetadataFields,
    });
    const license = verification?.valid ? verification.license : null;
    const allowance =
      license?.actionedCertificates.type === 'Limited' ? license.actionedCertificates.allowance : null;
    const finishedAt = clock.now();
    const run: ActionedRun = {
      runId: `${startedAt.toISOString()}-${trigger}-${randomUUID().slice(0, 8)}`,
      trigger,
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      total: count.total,
      categories: count.categories,
      examined: count.examined,
      sensors: contexts.length,
      allowance,
      overLimit: allowance !== null && count.total > allowance,
      warnings: count.warnings,
    };
    await this.deps.runs.putRun(run);

    if (run.overLimit && license && allowance !== null) {
      const day = run.startedAt.slice(0, 10);
      const alert: Alert = {
        alertId: `actioned-over-limit:${day}`,
        kind: 'actioned-over-limit',
        severity: 'warning',
        message:
          `${run.total} actioned certificates exceed the ${allowance} licensed by ${license.licenseId} ` +
          `(${license.licensee}) on ${day}. Nothing is blocked; ask the vendor for a larger allowance.`,
        createdAt: run.finishedAt,
        details: {
          runId: run.runId,
          total: run.total,
          allowance,
          licenseId: license.licenseId,
          categories: run.categories,
        },
      };
      if (await this.raise(alert)) raised.push(alert);
    }

    logger.info('actioned-certificate count finished', {
      runId: run.runId,
      trigger,
      total: run.total,
      examined: run.examined,
      sensors: run.sensors,
      allowance: run.allowance,
      overLimit: run.overLimit,
      warnings: run.warnings.length,
      alertsRaised: raised.map((a) => a.alertId),
    });
    return { run, alerts: raised };
  }

  /** Stores the alert; publishes it only when new. A failed publish is logged: the alert stays listed. */
  private async raise(alert: Alert): Promise<boolean> {
    if (!(await this.deps.alerts.raise(alert))) return false;
    try {
      await this.deps.publisher.publishAlert(alert);
    } catch (error) {
      this.deps.logger.error('alert stored but not published', {
        alertId: alert.alertId,
        error: error instanceof Error ? error.message : String(error),
      });
    }
    return true;
  }

  async actionedCertificates(limit: number): Promise<ActionedCertificatesView> {
    const { verification } = await this.current();
    const runs = await this.deps.runs.listRuns(limit);
    const allowance = verification?.valid ? verification.license.actionedCertificates : null;
    // Site-License: counts are not limited and show as N/A (the seed's Actioned Certificates tab).
    const na = allowance?.type === 'Site-License';
    const view = (run: ActionedRun): ActionedRunView =>
      na
        ? {
            ...run,
            total: 'N/A',
            categories: Object.fromEntries(
              Object.keys(run.categories).map((k) => [k, 'N/A']),
            ) as ActionedRunView['categories'],
            allowance: 'N/A',
            overLimit: false,
          }
        : run;
    const views = runs.map(view);
    return {
      licenseType: allowance?.type ?? null,
      allowance: allowance === null ? null : allowance.type === 'Site-License' ? 'N/A' : allowance.allowance,
      latest: views[0] ?? null,
      history: views,
    };
  }

  async listAlerts(limit: number): Promise<Alert[]> {
    return this.deps.alerts.list(limit);
  }

  /** The signed XML usage log: instance, license and features, and the actioned-certificate counts. */
  async usageLog(): Promise<string> {
    const { installed, verification } = await this.current();
    const runs = await this.deps.runs.listRuns(USAGE_LOG_RUNS);
    const { config } = this.deps;
    return buildUsageLog(
      {
        instance: {
          instanceId: config.instanceId,
          deployment: config.deployment,
          sensorVersion: config.sensorVersion,
        },
        generatedAt: this.deps.clock.now().toISOString(),
        license: verification?.license ?? null,
        licenseStatus: !installed ? 'none' : verification?.valid ? 'valid' : (verification?.reason ?? 'none'),
        runs,
      },
      await this.deps.instanceKey.getKeyPair(),
    );
  }
}

/** The license file as text: a string as is, a parsed JSON object (the API body) re-serialised. */
function licenseText(body: unknown): string {
  if (typeof body === 'string') return body;
  return JSON.stringify(body) ?? '';
}

function allowanceView(a: ActionedAllowance): { type: ActionedAllowance['type']; allowance: number | null } {
  return a.type === 'Limited'
    ? { type: 'Limited', allowance: a.allowance }
    : { type: 'Site-License', allowance: null };
}

function daysBetween(now: Date, iso: string): number {
  return Math.floor((Date.parse(iso) - now.getTime()) / 86_400_000);
}
