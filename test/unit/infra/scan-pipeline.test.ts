// Template assertions for the scan pipeline in the stateless stack: event source mappings, the environment the
// handlers read, each function's permissions, and the queue alarms.
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { SCAN_ENV } from '#shared/adapters/aws/scan-deps';
import type { SensorFunction } from '../../../infra/constructs/sensor-function.ts';
import { buildSensorApp, type SensorApp } from '../../../infra/sensor-app.ts';
import { MAX_RECEIVES } from '../../../infra/stacks/stateful-stack.ts';
import {
  BATCH_SIZES,
  DEFAULT_SCAN_SETTINGS,
  OLDEST_MESSAGE_ALARM,
} from '../../../infra/stacks/stateless-stack.ts';

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

/** Synthesis runs cdk-nag over both stacks: seconds, more on a busy machine. */
const SYNTH_TIMEOUT_MS = 120_000;

describe('scan pipeline (stateless stack)', () => {
  let sensor: SensorApp;
  let template: Template;

  beforeAll(() => {
    sensor = buildSensorApp({ bundle: false });
    template = Template.fromStack(sensor.stateless);
  }, SYNTH_TIMEOUT_MS);

  const id = (construct: { node: { defaultChild?: unknown } }): string =>
    sensor.stateless.getLogicalId(construct.node.defaultChild as never);
  const statementsOf = (fn: SensorFunction): Statement[] =>
    Object.values(
      template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: id(fn.role) }] } }),
    ).flatMap(
      (p) =>
        (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument
          .Statement,
    );
  const actionsOf = (fn: SensorFunction): string[] =>
    statementsOf(fn).flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
  /** Which stateful export a resource refers to (e.g. 'StartQueue', 'Scans'), for readable assertions. */
  const importsIn = (value: unknown): string[] =>
    [...JSON.stringify(value).matchAll(/ExportsOutput(?:FnGetAtt|Ref)([A-Za-z]+?)[0-9A-F]{8}/g)].map(
      (m) => m[1] ?? '',
    );
  const resourcesFor = (fn: SensorFunction, action: string): string[] =>
    statementsOf(fn)
      .filter((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]).includes(action))
      .flatMap((s) => importsIn(s.Resource));

  it('maps the start queue to the collector and the export queue to the exporter, with partial batch failures', () => {
    const s = sensor.stateless;
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: id(s.collectorFunction.function) },
      EventSourceArn: { 'Fn::ImportValue': Match.stringLikeRegexp('StartQueue[0-9A-F]{8}Arn') },
      BatchSize: BATCH_SIZES.collector,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: id(s.exporterFunction.function) },
      EventSourceArn: { 'Fn::ImportValue': Match.stringLikeRegexp('ExportQueue[0-9A-F]{8}Arn') },
      BatchSize: BATCH_SIZES.exporter,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: DEFAULT_SCAN_SETTINGS.exporterConcurrency },
    });
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 4);
  });

  it('gives the page worker one mapping per page queue, each with its own concurrency budget', () => {
    const worker = { Ref: id(sensor.stateless.pageWorkerFunction.function) };
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: worker,
      EventSourceArn: { 'Fn::ImportValue': Match.stringLikeRegexp('PageHighQueue[0-9A-F]{8}Arn') },
      BatchSize: BATCH_SIZES.pageWorker,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: DEFAULT_SCAN_SETTINGS.pageHighConcurrency },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: worker,
      EventSourceArn: { 'Fn::ImportValue': Match.stringLikeRegexp('PageNormalQueue[0-9A-F]{8}Arn') },
      BatchSize: BATCH_SIZES.pageWorker,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: DEFAULT_SCAN_SETTINGS.pageConcurrency },
    });
  });

  it(
    'takes concurrencies, the ingestion URL and the secret prefix from context, and rejects a bad concurrency',
    () => {
      const custom = buildSensorApp({
        bundle: false,
        appProps: {
          context: {
            pageConcurrency: '12',
            pageHighConcurrency: 4,
            ingestionUrl: 'https://ingest.example.com/v1/findings',
            secretPrefix: 'acme-sensor',
          },
        },
      });
      const t = Template.fromStack(custom.stateless);
      t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        ScalingConfig: { MaximumConcurrency: 12 },
      });
      t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        ScalingConfig: { MaximumConcurrency: 4 },
      });
      t.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: Match.objectLike({
            [SCAN_ENV.ingestionUrl]: 'https://ingest.example.com/v1/findings',
            [SCAN_ENV.secretPrefix]: 'acme-sensor',
          }),
        },
      });
      expect(() =>
        buildSensorApp({ bundle: false, appProps: { context: { pageConcurrency: '1' } } }),
      ).toThrow(/pageConcurrency must be a whole number from 2 to 1000/);
    },
    SYNTH_TIMEOUT_MS,
  );

  it('passes every variable scanDepsFromEnv reads to the API and the three scan functions', () => {
    const s = sensor.stateless;
    for (const fn of [s.apiFunction, s.collectorFunction, s.pageWorkerFunction, s.exporterFunction]) {
      const resource = template.toJSON() as {
        Resources: Record<string, { Properties: { Environment: { Variables: Record<string, unknown> } } }>;
      };
      const variables = resource.Resources[id(fn.function)]?.Properties.Environment.Variables ?? {};
      for (const name of Object.values(SCAN_ENV))
        expect(variables, `${name} on ${fn.node.id}`).toHaveProperty(name);
      expect(variables).toMatchObject({
        [SCAN_ENV.pageMaxAttempts]: String(MAX_RECEIVES.page),
        [SCAN_ENV.exportMaxAttempts]: String(MAX_RECEIVES.export),
        [SCAN_ENV.secretPrefix]: DEFAULT_SCAN_SETTINGS.secretPrefix,
        [SCAN_ENV.ingestionUrl]: '',
      });
      expect(importsIn(variables[SCAN_ENV.startQueueUrl])).toEqual(['StartQueue']);
      expect(importsIn(variables[SCAN_ENV.pageHighQueueUrl])).toEqual(['PageHighQueue']);
      expect(importsIn(variables[SCAN_ENV.scansTable])).toEqual(['Scans']);
      expect(importsIn(variables[SCAN_ENV.schedulerRoleArn])).toEqual(['SchedulerRole']);
      expect(variables[SCAN_ENV.scheduleGroup]).toBe(sensor.stateful.scheduleGroupName);
    }
    // The authorizer and bootstrap functions have no business with scans.
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('authorizer'),
      Environment: { Variables: Match.not(Match.objectLike({ [SCAN_ENV.scansTable]: Match.anyValue() })) },
    });
  });

  it('lets the API start scans, manage sensor secrets by prefix and schedules in its group, and pass only the scheduler role', () => {
    const api = sensor.stateless.apiFunction;
    expect(resourcesFor(api, 'sqs:SendMessage')).toEqual(['StartQueue']);
    expect(resourcesFor(api, 'dynamodb:UpdateItem')).toContain('Scans');
    expect(resourcesFor(api, 'dynamodb:UpdateItem')).not.toContain('Findings');
    const secrets = statementsOf(api).find((s) => JSON.stringify(s.Action).includes('secretsmanager:'));
    expect(secrets?.Action).toEqual([
      'secretsmanager:CreateSecret',
      'secretsmanager:PutSecretValue',
      'secretsmanager:DescribeSecret',
      'secretsmanager:RestoreSecret',
      'secretsmanager:DeleteSecret',
    ]);
    expect(JSON.stringify(secrets?.Resource)).toContain(
      `:secret:${DEFAULT_SCAN_SETTINGS.secretPrefix}/sensors/*`,
    );
    // It never reads sensor credentials; the one secret it reads is the usage-log key (licensing).
    expect(resourcesFor(api, 'secretsmanager:GetSecretValue')).toEqual(['InstanceKey']);
    // Only the byCreated index, named: no <table>/index/* pattern.
    expect(JSON.stringify(statementsOf(api))).toContain('/index/byCreated');
    expect(JSON.stringify(statementsOf(api))).not.toContain('/index/*');

    const schedules = statementsOf(api).find((s) => JSON.stringify(s.Action).includes('scheduler:'));
    expect(schedules?.Action).toEqual([
      'scheduler:CreateSchedule',
      'scheduler:UpdateSchedule',
      'scheduler:DeleteSchedule',
    ]);
    expect(schedules?.Resource).toEqual({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':scheduler:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          `:schedule/${sensor.stateful.scheduleGroupName}/*`,
        ],
      ],
    });
    expect(statementsOf(api).find((s) => s.Action === 'iam:PassRole')).toEqual({
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: { 'Fn::ImportValue': expect.stringMatching(/SchedulerRole[0-9A-F]{8}Arn/) as unknown },
      Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    });
  });

  it('lets the collector send page and export tasks and read sensor secrets, but not the ingestion token', () => {
    const collector = sensor.stateless.collectorFunction;
    expect(resourcesFor(collector, 'sqs:SendMessage').sort()).toEqual([
      'ExportQueue',
      'PageHighQueue',
      'PageNormalQueue',
    ]);
    expect(resourcesFor(collector, 'sqs:ReceiveMessage')).toEqual(['StartQueue']);
    expect(JSON.stringify(statementsOf(collector))).not.toContain('IngestionToken');
    expect(actionsOf(collector)).not.toContain('secretsmanager:CreateSecret');
    expect(actionsOf(collector)).not.toContain('scheduler:CreateSchedule');
  });

  it('lets the page worker consume both page queues and send only exports', () => {
    const worker = sensor.stateless.pageWorkerFunction;
    expect(resourcesFor(worker, 'sqs:ReceiveMessage').sort()).toEqual(['PageHighQueue', 'PageNormalQueue']);
    expect(resourcesFor(worker, 'sqs:SendMessage')).toEqual(['ExportQueue']);
    expect(resourcesFor(worker, 'dynamodb:BatchWriteItem').sort()).toEqual([
      'ExportOutbox',
      'Findings',
      'Scans',
    ]);
  });

  it('lets both finalizing functions Query the findings table’s openByLastSeen index by name, no <table>/index/*', () => {
    for (const fn of [sensor.stateless.collectorFunction, sensor.stateless.pageWorkerFunction]) {
      const text = JSON.stringify(statementsOf(fn));
      expect(text).toContain('/index/openByLastSeen');
      expect(text).not.toContain('/index/*');
    }
  });

  it('lets the exporter read the ingestion token (no sensor credentials) and touch no findings', () => {
    const exporter = sensor.stateless.exporterFunction;
    expect(resourcesFor(exporter, 'secretsmanager:GetSecretValue')).toEqual(['IngestionToken']);
    const token = statementsOf(exporter).find((s) =>
      JSON.stringify(s.Action).includes('secretsmanager:GetSecretValue'),
    );
    expect(JSON.stringify(token?.Resource)).toMatch(/IngestionToken/);
    expect(JSON.stringify(statementsOf(exporter))).not.toContain('/sensors/');
    expect(JSON.stringify(statementsOf(exporter))).not.toMatch(/Findings/);
    expect(resourcesFor(exporter, 'sqs:SendMessage')).toEqual([]);
  });

  it('lets every scan function publish to the scan bus and nothing else on EventBridge', () => {
    const s = sensor.stateless;
    for (const fn of [s.apiFunction, s.collectorFunction, s.pageWorkerFunction, s.exporterFunction]) {
      const put = statementsOf(fn).filter((st) => JSON.stringify(st.Action).includes('events:'));
      expect(put).toHaveLength(1);
      expect(put[0]?.Action).toBe('events:PutEvents');
      expect(importsIn(put[0]?.Resource)).toEqual(['ScanEvents']);
    }
  });

  it('alarms on any message in a DLQ and on old messages in each queue, into the alarm topic', () => {
    const topic = { Ref: id(sensor.stateless.alarmTopic) };
    for (const queue of ['StartQueueDlq', 'PageHighQueueDlq', 'PageNormalQueueDlq', 'ExportQueueDlq']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Namespace: 'AWS/SQS',
        Dimensions: [
          {
            Name: 'QueueName',
            Value: { 'Fn::ImportValue': Match.stringLikeRegexp(`${queue}[0-9A-F]{8}QueueName`) },
          },
        ],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: [topic],
      });
    }
    for (const [queue, age] of [
      ['StartQueue', OLDEST_MESSAGE_ALARM.start],
      ['PageHighQueue', OLDEST_MESSAGE_ALARM.pageHigh],
      ['PageNormalQueue', OLDEST_MESSAGE_ALARM.pageNormal],
      ['ExportQueue', OLDEST_MESSAGE_ALARM.export],
    ] as const) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateAgeOfOldestMessage',
        Dimensions: [
          {
            Name: 'QueueName',
            Value: { 'Fn::ImportValue': Match.stringLikeRegexp(`${queue}[0-9A-F]{8}QueueName`) },
          },
        ],
        Threshold: age.toSeconds(),
        AlarmActions: [topic],
      });
    }
  });
});
