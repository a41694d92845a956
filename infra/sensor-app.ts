// Builds the sensor's CDK app: the stateful and stateless stacks, with cdk-nag's AwsSolutions checks on everything.
import { App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { StatefulStack } from './stacks/stateful-stack.ts';
import { StatelessStack, type ScanSettings } from './stacks/stateless-stack.ts';

export interface SensorAppOptions {
  /** false: inline stub code instead of esbuild bundles, for fast unit tests. `infra/app.ts` always bundles. */
  bundle?: boolean;
  /** Passed to App, e.g. `{ outdir }` in tests. */
  appProps?: ConstructorParameters<typeof App>[0];
}

export interface SensorApp {
  app: App;
  stateful: StatefulStack;
  stateless: StatelessStack;
}

/** Environment-agnostic stacks (no account, region or lookups), so `cdk synth` works offline. */
export function buildSensorApp(options: SensorAppOptions = {}): SensorApp {
  const app = new App({
    ...options.appProps,
    // Explicit, so cdk does not warn: the stateful stack's exports are protected while the stateless stack uses them.
    context: { '@aws-cdk/core:defaultCrossStackReferences': 'strong', ...options.appProps?.context },
  });
  const stateful = new StatefulStack(app, 'KfSensorStateful', {
    description:
      'Keyfactor Command sensor: API-key, audit and scan tables, secrets, scan queues, event bus, schedule group (retained)',
  });
  const stateless = new StatelessStack(app, 'KfSensorStateless', {
    description: 'Keyfactor Command sensor: API, authorizer and scan Lambdas, API Gateway, alarms',
    apiKeysTable: stateful.apiKeysTable,
    auditTable: stateful.auditTable,
    bootstrapKeySecret: stateful.bootstrapKeySecret,
    scan: {
      scansTable: stateful.scansTable,
      findingsTable: stateful.findingsTable,
      outboxTable: stateful.outboxTable,
      ingestionTokenSecret: stateful.ingestionTokenSecret,
      scanEventBus: stateful.scanEventBus,
      startQueue: stateful.startQueue,
      pageHighQueue: stateful.pageHighQueue,
      pageNormalQueue: stateful.pageNormalQueue,
      exportQueue: stateful.exportQueue,
      scheduleGroupName: stateful.scheduleGroupName,
      schedulerRole: stateful.schedulerRole,
    },
    license: {
      licenseTable: stateful.licenseTable,
      instanceKeySecret: stateful.instanceKeySecret,
      instanceId: stateful.instanceId,
    },
    scanSettings: scanSettingsFromContext(app),
    bundle: options.bundle,
    alarmEmail: stringContext(app, 'alarmEmail'),
  });
  Tags.of(app).add('app', 'keyfactor-command-sensor');
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, stateful, stateless };
}

/** Scan settings from context (`-c pageConcurrency=10 -c ingestionUrl=https://...`); unset ones keep defaults. */
function scanSettingsFromContext(app: App): Partial<ScanSettings> {
  const settings: Partial<ScanSettings> = {};
  for (const key of ['pageConcurrency', 'pageHighConcurrency', 'exporterConcurrency'] as const) {
    const value = numberContext(app, key);
    if (value !== undefined) settings[key] = value;
  }
  const ingestionUrl = stringContext(app, 'ingestionUrl');
  if (ingestionUrl !== undefined) settings.ingestionUrl = ingestionUrl;
  const secretPrefix = stringContext(app, 'secretPrefix');
  if (secretPrefix !== undefined) settings.secretPrefix = secretPrefix;
  const actionedCountSchedule = stringContext(app, 'actionedCountSchedule');
  if (actionedCountSchedule !== undefined) {
    if (!/^(cron|rate)\(.+\)$/.test(actionedCountSchedule))
      throw new Error(
        `context actionedCountSchedule must be cron(...) or rate(...), got ${actionedCountSchedule}`,
      );
    settings.actionedCountSchedule = actionedCountSchedule;
  }
  const excludedMetadataFields = stringContext(app, 'excludedMetadataFields');
  if (excludedMetadataFields !== undefined) settings.excludedMetadataFields = excludedMetadataFields;
  return settings;
}

/** A concurrency from context; SQS event source mappings accept 2 to 1000. */
function numberContext(app: App, key: string): number | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined) return undefined;
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 2 || n > 1000)
    throw new Error(`context ${key} must be a whole number from 2 to 1000, got ${JSON.stringify(value)}`);
  return n;
}

/** A string from context (`cdk deploy -c alarmEmail=ops@example.com`), or undefined. */
function stringContext(app: App, key: string): string | undefined {
  const value: unknown = app.node.tryGetContext(key);
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
