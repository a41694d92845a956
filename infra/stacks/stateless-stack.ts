// Stateless stack: the API and authorizer Lambdas behind API Gateway, the scan pipeline's functions (collector, page
// worker, exporter) on their queues, the bootstrap custom resource and alarms.
import { ArnFormat, CustomResource, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventsTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import { LICENSE_ENV } from '#shared/adapters/aws/license-deps';
import { SCAN_ENV, type ScanEnvName } from '#shared/adapters/aws/scan-deps';
import { FINDINGS_TABLE, SCANS_TABLE } from '#shared/adapters/aws/scan-stores';
import { SensorFunction, TABLE_READ_ACTIONS, TABLE_WRITE_ACTIONS } from '../constructs/sensor-function.ts';
import { acknowledge } from '../nag.ts';
import { MAX_RECEIVES, SCAN_FUNCTION_TIMEOUTS, type ScanQueue } from './stateful-stack.ts';

/** The header API Gateway hands to the authorizer (shared/api/routes.ts API_KEY_HEADER). */
export const API_KEY_HEADER = 'isg-api-token';
/** How cdk-nag names a finding about an AWS managed service-role policy. */
const managedPolicy = (name: string): string =>
  `Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/${name}`;

export const STAGE_NAME = 'prod';
/** The message functions/authorizer/handler.ts logs (JSON, `message` field) before refusing a token. */
export const AUTHORIZER_REFUSAL_MESSAGE = 'authentication refused';
export const METRIC_NAMESPACE = 'KeyfactorCommandSensor';
export const THROTTLE = { rateLimit: 50, burstLimit: 100 } as const;

/** The stateful scan resources the functions use (StatefulStack). */
export interface ScanResources {
  scansTable: dynamodb.ITable;
  findingsTable: dynamodb.ITable;
  outboxTable: dynamodb.ITable;
  ingestionTokenSecret: secretsmanager.ISecret;
  scanEventBus: events.IEventBus;
  startQueue: ScanQueue;
  pageHighQueue: ScanQueue;
  pageNormalQueue: ScanQueue;
  exportQueue: ScanQueue;
  /** The schedule group's fixed name (StatefulStack.scheduleGroupName). */
  scheduleGroupName: string;
  schedulerRole: iam.IRole;
}

/** Scan pipeline settings (cdk context, see infra/README.md). */
export interface ScanSettings {
  /** Page-worker invocations at once on the normal queue: with hostConcurrency, what protects Command. */
  pageConcurrency: number;
  /** Page-worker invocations at once on the high-priority queue (its own budget, so high scans never wait). */
  pageHighConcurrency: number;
  exporterConcurrency: number;
  /** Empty: findings stay in the outbox until an ingestion URL is configured. */
  ingestionUrl: string;
  /** Sensor credential secrets are `<secretPrefix>/sensors/<name>`; the API may create and delete only those. */
  secretPrefix: string;
  /** When the daily actioned-certificate count runs (EventBridge expression, UTC). */
  actionedCountSchedule: string;
  /** Metadata fields whose values do not make a certificate actioned (comma-separated names). */
  excludedMetadataFields: string;
}

export const DEFAULT_SCAN_SETTINGS: ScanSettings = {
  pageConcurrency: 5,
  pageHighConcurrency: 2,
  exporterConcurrency: 5,
  ingestionUrl: '',
  secretPrefix: 'keyfactor-command-sensor',
  // 02:00 UTC daily, as Keyfactor Command counts by default.
  actionedCountSchedule: 'cron(0 2 * * ? *)',
  excludedMetadataFields: '',
};

/** Records per invocation: one page task is up to a thousand certificates, so one per invocation. */
export const BATCH_SIZES = { collector: 1, pageWorker: 1, exporter: 5 } as const;

/** Alarm when the oldest message of a queue is older than this: work is stuck or consumers are too few. */
export const OLDEST_MESSAGE_ALARM = {
  start: Duration.minutes(15),
  pageHigh: Duration.minutes(30),
  pageNormal: Duration.hours(3),
  export: Duration.hours(1),
} as const;

/** The stateful licensing resources (StatefulStack). */
export interface LicenseResources {
  licenseTable: dynamodb.ITable;
  instanceKeySecret: secretsmanager.ISecret;
  instanceId: string;
}

export interface StatelessStackProps extends StackProps {
  apiKeysTable: dynamodb.ITable;
  auditTable: dynamodb.ITable;
  bootstrapKeySecret: secretsmanager.ISecret;
  scan: ScanResources;
  license: LicenseResources;
  scanSettings?: Partial<ScanSettings>;
  /** false: inline stub code instead of esbuild bundles (unit tests); `cdk synth` always bundles. */
  bundle?: boolean;
  /** Subscribed by email to the alarm topic when given (context `alarmEmail`); confirm the subscription mail. */
  alarmEmail?: string;
}

const F = apigw.AccessLogField;
/** One JSON line per request, with the API key (the authorizer's principal) that made it; never the token. */
export const ACCESS_LOG_FORMAT = apigw.AccessLogFormat.custom(
  JSON.stringify({
    requestId: F.contextRequestId(),
    requestTime: F.contextRequestTime(),
    sourceIp: F.contextIdentitySourceIp(),
    userAgent: F.contextIdentityUserAgent(),
    httpMethod: F.contextHttpMethod(),
    path: F.contextPath(),
    status: F.contextStatus(),
    responseLength: F.contextResponseLength(),
    responseLatency: F.contextResponseLatency(),
    keyId: F.contextAuthorizerPrincipalId(),
    authorizerStatus: F.contextAuthorizerStatus(),
    authorizerLatency: F.contextAuthorizerIntegrationLatency(),
    authorizerError: F.contextAuthorizerError(),
    integrationError: F.contextIntegrationErrorMessage(),
  }),
);

export class StatelessStack extends Stack {
  readonly api: apigw.RestApi;
  readonly apiFunction: SensorFunction;
  readonly authorizerFunction: SensorFunction;
  readonly bootstrapFunction: SensorFunction;
  readonly collectorFunction: SensorFunction;
  readonly pageWorkerFunction: SensorFunction;
  readonly exporterFunction: SensorFunction;
  readonly licenseJobFunction: SensorFunction;
  readonly actionedCountRule: events.Rule;
  readonly alarmTopic: sns.Topic;
  readonly scanSettings: ScanSettings;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const environment = {
      API_KEYS_TABLE_NAME: props.apiKeysTable.tableName,
      API_KEYS_AUDIT_TABLE_NAME: props.auditTable.tableName,
      LOG_LEVEL: 'info',
    };

    this.scanSettings = { ...DEFAULT_SCAN_SETTINGS, ...props.scanSettings };
    const scanEnvironment = {
      ...environment,
      ...this.scanEnvironment(props.scan),
      ...this.licenseEnvironment(props.license),
    };

    this.apiFunction = new SensorFunction(this, 'ApiFunction', {
      entry: 'functions/api/handler.ts',
      description: 'Sensor REST API (/v3): API keys, audit, scans and schedules',
      memorySize: 512,
      // Below API Gateway's 29 s integration timeout, so a slow call is a Lambda timeout the logs explain.
      timeout: Duration.seconds(25),
      environment: scanEnvironment,
      bundle: props.bundle,
    });
    this.apiFunction.grantTable(props.apiKeysTable, 'read-write');
    // The audit log is append-only: the API lists it (Query) and appends to it, and can neither edit nor delete.
    this.apiFunction.grantTableActions(props.auditTable, 'dynamodb:PutItem', 'dynamodb:Query');

    this.authorizerFunction = new SensorFunction(this, 'AuthorizerFunction', {
      entry: 'functions/authorizer/handler.ts',
      description: 'API Gateway REQUEST authorizer: checks the isg-api-token header',
      // scrypt (N=2^14, 16 MiB) on an uncached token: more memory is more CPU, and a faster refusal or acceptance.
      memorySize: 1024,
      timeout: Duration.seconds(10),
      environment,
      bundle: props.bundle,
    });
    // Looks keys up and marks them used (lastUsedAt); appends authentication events to the audit log.
    this.authorizerFunction.grantTableActions(props.apiKeysTable, 'dynamodb:GetItem', 'dynamodb:UpdateItem');
    this.authorizerFunction.grantTableActions(props.auditTable, 'dynamodb:PutItem');

    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', {
      retention: logs.RetentionDays.THREE_MONTHS,
    });
    this.api = new apigw.RestApi(this, 'RestApi', {
      description: 'Keyfactor Command sensor API',
      endpointTypes: [apigw.EndpointType.REGIONAL],
      // Access and execution logging need the account-level API Gateway CloudWatch role.
      cloudWatchRole: true,
      deployOptions: {
        stageName: STAGE_NAME,
        throttlingRateLimit: THROTTLE.rateLimit,
        throttlingBurstLimit: THROTTLE.burstLimit,
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
        accessLogFormat: ACCESS_LOG_FORMAT,
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
      },
    });

    const authorizer = new apigw.RequestAuthorizer(this, 'ApiKeyAuthorizer', {
      handler: this.authorizerFunction.function,
      identitySources: [apigw.IdentitySource.header(API_KEY_HEADER)],
      // Off: the authorizer caches each key for its own reauthentication timeout, so a lock takes effect in time.
      resultsCacheTtl: Duration.seconds(0),
    });
    // API Gateway answers some requests itself (no or refused key, throttling, its own errors); give those the
    // same JSON error shape and headers as the API Lambda, with API Gateway's request id.
    const gatewayErrors: Array<[string, apigw.ResponseType, string, string]> = [
      [
        'Unauthorized',
        apigw.ResponseType.UNAUTHORIZED,
        '401',
        'missing, unknown or locked API key in isg-api-token',
      ],
      ['AccessDenied', apigw.ResponseType.ACCESS_DENIED, '403', 'this API key may not call this operation'],
      ['Throttled', apigw.ResponseType.THROTTLED, '429', 'too many requests; retry later'],
      ['TooLarge', apigw.ResponseType.REQUEST_TOO_LARGE, '413', 'request body too large'],
      ['Default4xx', apigw.ResponseType.DEFAULT_4XX, '', 'bad request'],
      ['Default5xx', apigw.ResponseType.DEFAULT_5XX, '', 'internal error'],
    ];
    for (const [id, type, statusCode, message] of gatewayErrors) {
      this.api.addGatewayResponse(`GatewayResponse${id}`, {
        type,
        ...(statusCode ? { statusCode } : {}),
        responseHeaders: {
          'Content-Type': "'application/json'",
          'Cache-Control': "'no-store'",
          'X-Content-Type-Options': "'nosniff'",
          'x-request-id': 'context.requestId',
        },
        templates: {
          'application/json': JSON.stringify({ message, requestId: '$context.requestId' }),
        },
      });
    }

    this.api.root.addResource('v3').addProxy({
      anyMethod: true,
      defaultIntegration: new apigw.LambdaIntegration(this.apiFunction.function),
      defaultMethodOptions: { authorizer, authorizationType: apigw.AuthorizationType.CUSTOM },
    });

    // Encrypted with the AWS-managed SNS key: CloudWatch alarms may publish to it without a key policy of ours.
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'Keyfactor Command sensor alarms',
      enforceSSL: true,
      masterKey: kms.Alias.fromAliasName(this, 'AwsManagedSnsKey', 'alias/aws/sns'),
    });
    if (props.alarmEmail)
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    const alarmAction = new cloudwatchActions.SnsAction(this.alarmTopic);

    const api5xx = new cloudwatch.Alarm(this, 'Api5xxAlarm', {
      alarmDescription: 'The sensor API answered 5xx (API Lambda failures or integration errors)',
      metric: this.api.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    // A refusal is a thrown 'Unauthorized' (API Gateway's 401), which Lambda counts as a function error too; the
    // authorizer logs each one as JSON first, so crashes are the errors that are not refusals.
    const refusals = new logs.MetricFilter(this, 'AuthorizerRefusals', {
      logGroup: this.authorizerFunction.logGroup,
      filterPattern: logs.FilterPattern.stringValue('$.message', '=', AUTHORIZER_REFUSAL_MESSAGE),
      metricNamespace: METRIC_NAMESPACE,
      metricName: 'AuthorizerRefusals',
      metricValue: '1',
    });
    const period = Duration.minutes(5);
    const authorizerErrors = new cloudwatch.Alarm(this, 'AuthorizerErrorsAlarm', {
      alarmDescription: 'The API-key authorizer Lambda failed for another reason than refusing a token',
      metric: new cloudwatch.MathExpression({
        expression: 'FILL(errors, 0) - FILL(refusals, 0)',
        usingMetrics: {
          errors: this.authorizerFunction.function.metricErrors({ period, statistic: 'Sum' }),
          refusals: refusals.metric({ period, statistic: 'Sum' }),
        },
        period,
        label: 'Authorizer errors that are not refusals',
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    for (const alarm of [api5xx, authorizerErrors]) alarm.addAlarmAction(alarmAction);

    const { collector, pageWorker, exporter } = this.scanFunctions(props, scanEnvironment);
    this.collectorFunction = collector;
    this.pageWorkerFunction = pageWorker;
    this.exporterFunction = exporter;
    this.grantScanApi(props.scan);
    this.queueAlarms(props.scan, alarmAction);
    const { job, rule } = this.licenseFunctions(props, scanEnvironment, alarmAction);
    this.licenseJobFunction = job;
    this.actionedCountRule = rule;

    this.bootstrapFunction = this.bootstrap(props, environment);
    this.suppressNagFindings();
    this.suppressScanNagFindings(props.scan);
  }

  /** Every variable scanDepsFromEnv reads (typed by the names it exports, so none can be missed or misspelt). */
  private scanEnvironment(scan: ScanResources): Record<ScanEnvName, string> {
    const settings = this.scanSettings;
    return {
      [SCAN_ENV.scansTable]: scan.scansTable.tableName,
      [SCAN_ENV.findingsTable]: scan.findingsTable.tableName,
      [SCAN_ENV.outboxTable]: scan.outboxTable.tableName,
      [SCAN_ENV.startQueueUrl]: scan.startQueue.queue.queueUrl,
      [SCAN_ENV.startQueueArn]: scan.startQueue.queue.queueArn,
      [SCAN_ENV.pageHighQueueUrl]: scan.pageHighQueue.queue.queueUrl,
      [SCAN_ENV.pageNormalQueueUrl]: scan.pageNormalQueue.queue.queueUrl,
      [SCAN_ENV.exportQueueUrl]: scan.exportQueue.queue.queueUrl,
      [SCAN_ENV.eventBusName]: scan.scanEventBus.eventBusName,
      [SCAN_ENV.scheduleGroup]: scan.scheduleGroupName,
      [SCAN_ENV.schedulerRoleArn]: scan.schedulerRole.roleArn,
      [SCAN_ENV.ingestionUrl]: settings.ingestionUrl,
      [SCAN_ENV.ingestionTokenSecretArn]: scan.ingestionTokenSecret.secretArn,
      [SCAN_ENV.secretPrefix]: settings.secretPrefix,
      [SCAN_ENV.ranBy]: this.stackName,
      [SCAN_ENV.logLevel]: 'info',
      [SCAN_ENV.pageMaxAttempts]: String(MAX_RECEIVES.page),
      [SCAN_ENV.exportMaxAttempts]: String(MAX_RECEIVES.export),
    };
  }

  /** ARN pattern of the schedules in the scan schedule group (their names are schedule ids, made at run time). */
  private schedulesArn(groupName: string): string {
    return this.formatArn({ service: 'scheduler', resource: 'schedule', resourceName: `${groupName}/*` });
  }

  /** ARN pattern of the sensors' credential secrets (Secrets Manager appends a random suffix to each name). */
  private sensorSecretsArn(): string {
    return this.formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${this.scanSettings.secretPrefix}/sensors/*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }

  /** The API starts scans and manages schedules: scan table, start queue, sensor secrets, scheduler, events. */
  private grantScanApi(scan: ScanResources): void {
    const api = this.apiFunction;
    grantScansTable(api, scan.scansTable, { listIndex: true });
    scan.startQueue.queue.grantSendMessages(api.role);
    scan.scanEventBus.grantPutEventsTo(api.role);
    api.role.addToPolicy(
      new iam.PolicyStatement({
        // Create and replace a sensor's credentials (restoring one deleted earlier), delete them; never read them.
        actions: [
          'secretsmanager:CreateSecret',
          'secretsmanager:PutSecretValue',
          'secretsmanager:DescribeSecret',
          'secretsmanager:RestoreSecret',
          'secretsmanager:DeleteSecret',
        ],
        resources: [this.sensorSecretsArn()],
      }),
    );
    // Schedules of the group only; UpdateSchedule makes a retried create idempotent.
    api.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:DeleteSchedule'],
        resources: [this.schedulesArn(scan.scheduleGroupName)],
      }),
    );
    // Scheduler needs to be handed the role its schedules assume; only that role, only to Scheduler.
    api.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [scan.schedulerRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      }),
    );
  }

  /** Collector, page worker and exporter, each on its queue(s) with partial batch failures. */
  private scanFunctions(
    props: StatelessStackProps,
    environment: Record<string, string>,
  ): { collector: SensorFunction; pageWorker: SensorFunction; exporter: SensorFunction } {
    const scan = props.scan;
    const settings = this.scanSettings;
    const readSensorSecrets = new iam.PolicyStatement({
      actions: ['secretsmanager:GetSecretValue'],
      resources: [this.sensorSecretsArn()],
    });

    const collector = new SensorFunction(this, 'CollectorFunction', {
      entry: 'functions/collector/handler.ts',
      description: 'Scan collector: plans a scan (mode, query, CertId ranges) and queues its page tasks',
      memorySize: 512,
      timeout: SCAN_FUNCTION_TIMEOUTS.collector,
      environment,
      bundle: props.bundle,
    });
    // Planning reads and writes the scan, cursor, schedules and host leases (all in the scans table); a plan with
    // nothing to fetch finalizes at once, which resolves findings and queues their export.
    grantScansTable(collector, scan.scansTable);
    grantFindingsTable(collector, scan.findingsTable);
    collector.grantTable(scan.outboxTable, 'read-write');
    collector.role.addToPolicy(readSensorSecrets);
    scan.pageHighQueue.queue.grantSendMessages(collector.role);
    scan.pageNormalQueue.queue.grantSendMessages(collector.role);
    scan.exportQueue.queue.grantSendMessages(collector.role);
    scan.scanEventBus.grantPutEventsTo(collector.role);
    collector.function.addEventSource(
      new SqsEventSource(scan.startQueue.queue, {
        batchSize: BATCH_SIZES.collector,
        reportBatchItemFailures: true,
        maxConcurrency: 2,
      }),
    );

    const pageWorker = new SensorFunction(this, 'PageWorkerFunction', {
      entry: 'functions/page-worker/handler.ts',
      description: 'Scan page worker: fetches one CertId range, analyses, upserts findings, queues exports',
      // Parsing a thousand certificates is CPU-bound: memory buys CPU.
      memorySize: 1024,
      timeout: SCAN_FUNCTION_TIMEOUTS.pageWorker,
      environment,
      bundle: props.bundle,
    });
    grantScansTable(pageWorker, scan.scansTable);
    grantFindingsTable(pageWorker, scan.findingsTable);
    pageWorker.grantTable(scan.outboxTable, 'read-write');
    pageWorker.role.addToPolicy(readSensorSecrets);
    scan.exportQueue.queue.grantSendMessages(pageWorker.role);
    scan.scanEventBus.grantPutEventsTo(pageWorker.role);
    // Two mappings with separate concurrency budgets: a high-priority scan never waits behind a large normal one.
    pageWorker.function.addEventSource(
      new SqsEventSource(scan.pageHighQueue.queue, {
        batchSize: BATCH_SIZES.pageWorker,
        reportBatchItemFailures: true,
        maxConcurrency: settings.pageHighConcurrency,
      }),
    );
    pageWorker.function.addEventSource(
      new SqsEventSource(scan.pageNormalQueue.queue, {
        batchSize: BATCH_SIZES.pageWorker,
        reportBatchItemFailures: true,
        maxConcurrency: settings.pageConcurrency,
      }),
    );

    const exporter = new SensorFunction(this, 'ExporterFunction', {
      entry: 'functions/exporter/handler.ts',
      description: 'Scan exporter: ships outbox batches to the ingestion endpoint',
      memorySize: 512,
      timeout: SCAN_FUNCTION_TIMEOUTS.exporter,
      environment,
      bundle: props.bundle,
    });
    exporter.grantTable(scan.outboxTable, 'read-write');
    // Counts and errors on the scan record; the last batch may finish the scan.
    grantScansTable(exporter, scan.scansTable);
    scan.ingestionTokenSecret.grantRead(exporter.role);
    scan.scanEventBus.grantPutEventsTo(exporter.role);
    exporter.function.addEventSource(
      new SqsEventSource(scan.exportQueue.queue, {
        batchSize: BATCH_SIZES.exporter,
        reportBatchItemFailures: true,
        maxConcurrency: settings.exporterConcurrency,
      }),
    );
    return { collector, pageWorker, exporter };
  }

  /** Every variable licenseDepsFromEnv reads (shared/adapters/aws/license-deps.ts). */
  private licenseEnvironment(license: LicenseResources): Record<string, string> {
    return {
      [LICENSE_ENV.licenseTable]: license.licenseTable.tableName,
      [LICENSE_ENV.instanceId]: license.instanceId,
      [LICENSE_ENV.instanceKeySecretArn]: license.instanceKeySecret.secretArn,
      [LICENSE_ENV.excludedMetadataFields]: this.scanSettings.excludedMetadataFields,
      [LICENSE_ENV.deployment]: this.stackName,
    };
  }

  /**
   * Licensing: the API reads and installs licenses and serves the usage log; the collector stores each sensor's
   * Command context; the daily job counts actioned certificates on an EventBridge schedule (02:00 UTC by default).
   */
  private licenseFunctions(
    props: StatelessStackProps,
    environment: Record<string, string>,
    alarmAction: cloudwatch.IAlarmAction,
  ): { job: SensorFunction; rule: events.Rule } {
    const { licenseTable, instanceKeySecret } = props.license;
    const scan = props.scan;
    this.apiFunction.grantTable(licenseTable, 'read-write');
    instanceKeySecret.grantRead(this.apiFunction.role);
    // An Administrator's on-demand count reads the findings (base table only).
    grantFindingsRead(this.apiFunction, scan.findingsTable);
    // One snapshot per sensor and scan: collections, expiration alerts and workflow definitions.
    this.collectorFunction.grantTableActions(licenseTable, 'dynamodb:PutItem');

    const job = new SensorFunction(this, 'LicenseJobFunction', {
      entry: 'functions/license-job/handler.ts',
      description: 'Daily license job: license expiry alerts and the actioned-certificate count',
      memorySize: 1024,
      // Reads every open finding of every sensor: minutes for millions of certificates.
      timeout: Duration.minutes(15),
      environment,
      bundle: props.bundle,
    });
    job.grantTable(licenseTable, 'read-write');
    grantFindingsRead(job, scan.findingsTable);
    instanceKeySecret.grantRead(job.role);
    scan.scanEventBus.grantPutEventsTo(job.role);

    const rule = new events.Rule(this, 'ActionedCertificateCount', {
      description: 'Counts actioned certificates and checks license expiry (daily, 02:00 UTC by default)',
      schedule: events.Schedule.expression(this.scanSettings.actionedCountSchedule),
    });
    rule.addTarget(new eventsTargets.LambdaFunction(job.function, { retryAttempts: 2 }));

    const jobErrors = new cloudwatch.Alarm(this, 'LicenseJobErrorsAlarm', {
      alarmDescription: 'The daily license job (actioned-certificate count, expiry alerts) failed',
      metric: job.function.metricErrors({ period: Duration.hours(1), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    jobErrors.addAlarmAction(alarmAction);
    return { job, rule };
  }

  /** Any message in a DLQ, and work waiting too long in a queue, alarm into the topic. */
  private queueAlarms(scan: ScanResources, action: cloudwatch.IAlarmAction): void {
    const queues: Array<[string, ScanQueue, Duration]> = [
      ['Start', scan.startQueue, OLDEST_MESSAGE_ALARM.start],
      ['PageHigh', scan.pageHighQueue, OLDEST_MESSAGE_ALARM.pageHigh],
      ['PageNormal', scan.pageNormalQueue, OLDEST_MESSAGE_ALARM.pageNormal],
      ['Export', scan.exportQueue, OLDEST_MESSAGE_ALARM.export],
    ];
    for (const [name, { queue, deadLetterQueue }, maxAge] of queues) {
      const dlq = new cloudwatch.Alarm(this, `${name}DlqAlarm`, {
        alarmDescription: `Messages in the ${name} dead-letter queue: work failed after every retry (docs/deploy.md)`,
        metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(1),
          statistic: 'Maximum',
        }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      const age = new cloudwatch.Alarm(this, `${name}OldestMessageAlarm`, {
        alarmDescription: `The ${name} queue's oldest message waited over ${maxAge.toHumanString()}`,
        metric: queue.metricApproximateAgeOfOldestMessage({
          period: Duration.minutes(5),
          statistic: 'Maximum',
        }),
        threshold: maxAge.toSeconds(),
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      for (const alarm of [dlq, age]) alarm.addAlarmAction(action);
    }
  }

  /** Registers the token Secrets Manager generated (stateful stack) as the first Administrator key, hashed. */
  private bootstrap(props: StatelessStackProps, environment: Record<string, string>): SensorFunction {
    const fn = new SensorFunction(this, 'BootstrapKey', {
      entry: 'infra/bootstrap/handler.ts',
      description: 'Deploy time: registers the bootstrap Administrator API key from its secret',
      memorySize: 1024,
      timeout: Duration.seconds(60),
      environment: {
        ...environment,
        BOOTSTRAP_SECRET_ARN: props.bootstrapKeySecret.secretArn,
        INSTANCE_KEY_SECRET_ARN: props.license.instanceKeySecret.secretArn,
      },
      bundle: props.bundle,
    });
    fn.grantTableActions(props.apiKeysTable, 'dynamodb:PutItem');
    fn.grantTableActions(props.auditTable, 'dynamodb:PutItem');
    props.bootstrapKeySecret.grantRead(fn.role);
    // Generates the usage-log key in place when the secret still holds the placeholder; never reads other secrets.
    props.license.instanceKeySecret.grantRead(fn.role);
    props.license.instanceKeySecret.grantWrite(fn.role);

    const provider = new cr.Provider(this, 'BootstrapKeyProvider', {
      onEventHandler: fn.function,
      logGroup: new logs.LogGroup(this, 'BootstrapKeyProviderLogs', {
        retention: logs.RetentionDays.ONE_MONTH,
      }),
    });
    new CustomResource(this, 'BootstrapAdminKey', {
      serviceToken: provider.serviceToken,
      // A new secret or table runs the import again; an unchanged one never touches the key.
      properties: {
        SecretArn: props.bootstrapKeySecret.secretArn,
        KeysTable: props.apiKeysTable.tableName,
        InstanceKeySecretArn: props.license.instanceKeySecret.secretArn,
      },
    });
    acknowledge(
      provider,
      {
        id: `AwsSolutions-IAM4[${managedPolicy('AWSLambdaBasicExecutionRole')}]`,
        reason:
          'The cdk custom-resource Provider framework function uses AWSLambdaBasicExecutionRole for its logs; ' +
          'it runs only during deployments and touches no data.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::<BootstrapKeyFunction8EC13D85.Arn>:*]',
        reason:
          'The Provider framework may invoke any version of the one bootstrap function (<arn>:*), nothing else.',
      },
      {
        id: 'AwsSolutions-L1',
        reason: 'The Provider framework function runtime is chosen by aws-cdk-lib, not by this app.',
      },
    );
    return fn;
  }

  private suppressNagFindings(): void {
    acknowledge(
      this.api,
      {
        id: 'AwsSolutions-APIG2',
        reason:
          'Bodies are validated by the API Lambda with zod schemas (shared/api/schemas.ts), which also gives ' +
          'field-level 400 messages that API Gateway request validation cannot.',
      },
      {
        id: 'AwsSolutions-APIG3',
        reason:
          'No WAF yet: every route needs an API key checked by the authorizer and the stage is throttled; a web ' +
          'ACL costs at least USD 5 a month plus rules and is left to deployments that want one (docs/deploy.md).',
      },
      {
        id: 'AwsSolutions-COG4',
        reason:
          'Callers are machines with sensor API keys (isg-api-token), checked by the Lambda authorizer.',
      },
      {
        id: `AwsSolutions-IAM4[${managedPolicy('AmazonAPIGatewayPushToCloudWatchLogs')}]`,
        reason:
          'The account-level API Gateway CloudWatch role uses the AWS managed policy ' +
          'AmazonAPIGatewayPushToCloudWatchLogs, which is what API Gateway requires for access logging.',
      },
    );
    for (const fn of [
      this.apiFunction,
      this.authorizerFunction,
      this.bootstrapFunction,
      this.collectorFunction,
      this.pageWorkerFunction,
      this.exporterFunction,
      this.licenseJobFunction,
    ]) {
      acknowledge(fn.function, {
        id: 'AwsSolutions-L1',
        reason: 'The design fixes the Lambda runtime at nodejs22.x (the Node line the code is tested on).',
      });
    }
  }

  /** The wildcards the scan functions need: sensors' secrets by name prefix, schedules of one group. */
  private suppressScanNagFindings(scan: ScanResources): void {
    acknowledge(this.apiFunction.role, {
      id:
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/' +
        `${scan.scheduleGroupName}/*]`,
      reason:
        'Schedules are created at run time, one per sensor schedule, named by schedule id; the pattern is limited ' +
        'to the scan schedule group of this deployment, in this account and region.',
    });
    const secretsAck = {
      id:
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:' +
        `${this.scanSettings.secretPrefix}/sensors/*]`,
      reason:
        'Sensor credential secrets are created at run time, one per sensor, named <prefix>/sensors/<name> with a ' +
        'random suffix Secrets Manager appends; the pattern is limited to that prefix in this account and region.',
    };
    for (const fn of [this.apiFunction, this.collectorFunction, this.pageWorkerFunction])
      acknowledge(fn.role, secretsAck);
  }
}

/**
 * Item access to the findings table without `grantTable` (which adds `<table>/index/*`), plus Query on the one index a
 * full scan's finalizer reads (openByLastSeen, in resolveUnseen); both functions may finalize a scan.
 */
function grantFindingsTable(fn: SensorFunction, table: dynamodb.ITable): void {
  fn.role.addToPolicy(
    new iam.PolicyStatement({
      actions: [...TABLE_READ_ACTIONS, ...TABLE_WRITE_ACTIONS],
      resources: [table.tableArn],
    }),
  );
  fn.role.addToPolicy(
    new iam.PolicyStatement({
      actions: ['dynamodb:Query'],
      resources: [`${table.tableArn}/index/${FINDINGS_TABLE.openIndex}`],
    }),
  );
}

/** Reads of the findings table's items (the license job lists each sensor's open findings); no index, no writes. */
function grantFindingsRead(fn: SensorFunction, table: dynamodb.ITable): void {
  fn.role.addToPolicy(
    new iam.PolicyStatement({ actions: [...TABLE_READ_ACTIONS], resources: [table.tableArn] }),
  );
}

/**
 * Item access to the scans table without `grantTable`, whose grant adds `<table>/index/*` for a table with indexes:
 * only the API lists scans, and it gets Query on the one index by name.
 */
function grantScansTable(
  fn: SensorFunction,
  table: dynamodb.ITable,
  options: { listIndex?: boolean } = {},
): void {
  fn.role.addToPolicy(
    new iam.PolicyStatement({
      actions: [...TABLE_READ_ACTIONS, ...TABLE_WRITE_ACTIONS],
      resources: [table.tableArn],
    }),
  );
  if (options.listIndex)
    fn.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: [`${table.tableArn}/index/${SCANS_TABLE.createdIndex}`],
      }),
    );
}
