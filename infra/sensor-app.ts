// Builds the sensor's CDK app: the stateful and stateless stacks, with cdk-nag's AwsSolutions checks on everything.
import { App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { StatefulStack } from './stacks/stateful-stack.ts';
import { StatelessStack } from './stacks/stateless-stack.ts';

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
    description: 'Keyfactor Command sensor: API-key and audit tables, bootstrap key secret (retained)',
  });
  const stateless = new StatelessStack(app, 'KfSensorStateless', {
    description: 'Keyfactor Command sensor: API and authorizer Lambdas, API Gateway, alarms',
    apiKeysTable: stateful.apiKeysTable,
    auditTable: stateful.auditTable,
    bootstrapKeySecret: stateful.bootstrapKeySecret,
    bundle: options.bundle,
    alarmEmail: stringContext(app, 'alarmEmail'),
  });
  Tags.of(app).add('app', 'keyfactor-command-sensor');
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, stateful, stateless };
}

/** A string from context (`cdk deploy -c alarmEmail=ops@example.com`), or undefined. */
function stringContext(app: App, key: string): string | undefined {
  const value: unknown = app.node.tryGetContext(key);
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
