// Template assertions for licensing: the daily 02:00 UTC job, its rule and permissions, the license table, the
// instance key secret and the variables the license code reads.
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SensorFunction } from '../../../infra/constructs/sensor-function.ts';
import { buildSensorApp, type SensorApp } from '../../../infra/sensor-app.ts';
import { INSTANCE_KEY_PLACEHOLDER } from '../../../infra/stacks/stateful-stack.ts';

interface Statement {
  Action: string | string[];
  Resource: unknown;
}

const SYNTH_TIMEOUT_MS = 120_000;

describe('licensing resources', () => {
  let sensor: SensorApp;
  let stateless: Template;
  let stateful: Template;

  beforeAll(() => {
    sensor = buildSensorApp({ bundle: false });
    stateless = Template.fromStack(sensor.stateless);
    stateful = Template.fromStack(sensor.stateful);
  }, SYNTH_TIMEOUT_MS);

  const id = (construct: { node: { defaultChild?: unknown } }): string =>
    sensor.stateless.getLogicalId(construct.node.defaultChild as never);
  const statementsOf = (fn: SensorFunction): Statement[] =>
    Object.values(
      stateless.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: id(fn.role) }] } }),
    ).flatMap(
      (p) =>
        (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument
          .Statement,
    );
  const actions = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);
  /** Which stateful export a statement's resource names ('License', 'Findings', ...). */
  const targets = (s: Statement): string[] =>
    [...JSON.stringify(s.Resource).matchAll(/ExportsOutput(?:FnGetAtt|Ref)([A-Za-z]+?)[0-9A-F]{8}/g)].map(
      (m) => m[1] ?? '',
    );
  const actionsOn = (fn: SensorFunction, target: string): string[] =>
    statementsOf(fn)
      .filter((s) => targets(s).includes(target))
      .flatMap(actions)
      .sort();

  it('runs the license job daily at 02:00 UTC through an EventBridge rule', () => {
    stateless.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(0 2 * * ? *)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [id(sensor.stateless.licenseJobFunction.function), 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 2 },
        }),
      ],
    });
    // EventBridge may invoke the job, and only through this rule.
    stateless.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [id(sensor.stateless.licenseJobFunction.function), 'Arn'] },
      SourceArn: { 'Fn::GetAtt': [id(sensor.stateless.actionedCountRule), 'Arn'] },
    });
  });

  it(
    'takes another schedule from context and refuses a malformed one',
    () => {
      const custom = buildSensorApp({
        bundle: false,
        appProps: { context: { actionedCountSchedule: 'cron(30 4 * * ? *)' } },
      });
      Template.fromStack(custom.stateless).hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'cron(30 4 * * ? *)',
      });
      expect(() =>
        buildSensorApp({ bundle: false, appProps: { context: { actionedCountSchedule: '0 2 * * *' } } }),
      ).toThrow(/actionedCountSchedule must be cron\(...\) or rate\(...\)/);
    },
    SYNTH_TIMEOUT_MS,
  );

  it('gives the job, the API and the collector the license variables', () => {
    const s = sensor.stateless;
    for (const fn of [s.licenseJobFunction, s.apiFunction, s.collectorFunction]) {
      const resources = (stateless.toJSON() as { Resources: Record<string, unknown> }).Resources;
      const resource = resources[id(fn.function)] as {
        Properties: { Environment: { Variables: Record<string, unknown> } };
      };
      const vars = resource.Properties.Environment.Variables;
      expect(Object.keys(vars)).toEqual(
        expect.arrayContaining([
          'LICENSE_TABLE_NAME',
          'INSTANCE_ID',
          'INSTANCE_KEY_SECRET_ARN',
          'LICENSE_EXCLUDED_METADATA_FIELDS',
          'FINDINGS_TABLE_NAME',
          'SCAN_EVENT_BUS_NAME',
        ]),
      );
      // account:region:stack of the stateful stack, resolved by CloudFormation.
      expect(JSON.stringify(vars.INSTANCE_ID)).toMatch(/aws:.*AWS::AccountId.*AWS::Region.*KfSensorStateful/);
    }
  });

  it('lets the job read findings (no writes), read and write the license table, read the instance key', () => {
    const job = sensor.stateless.licenseJobFunction;
    const findings = actionsOn(job, 'Findings');
    expect(findings).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query']));
    expect(findings.filter((a) => /Put|Update|Delete|Write/.test(a))).toEqual([]);
    expect(actionsOn(job, 'License')).toEqual(
      expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:GetItem']),
    );
    const secretActions = actionsOn(job, 'InstanceKey');
    expect(secretActions).toEqual(expect.arrayContaining(['secretsmanager:GetSecretValue']));
    expect(secretActions.filter((a) => /Put|Update|Delete|Create/.test(a))).toEqual([]);
    // Over-limit and expiry alerts go to the scan event bus.
    expect(statementsOf(job).flatMap(actions)).toContain('events:PutEvents');
    // Nothing about queues, sensor credentials or API keys.
    const all = statementsOf(job).flatMap(actions);
    expect(all.filter((a) => a.startsWith('sqs:') || a.startsWith('scheduler:'))).toEqual([]);
    expect(statementsOf(job).flatMap(targets)).not.toContain('ApiKeys');
  });

  it('lets the collector only put Command context snapshots in the license table', () => {
    expect(actionsOn(sensor.stateless.collectorFunction, 'License')).toEqual(['dynamodb:PutItem']);
    expect(actionsOn(sensor.stateless.pageWorkerFunction, 'License')).toEqual([]);
    expect(actionsOn(sensor.stateless.exporterFunction, 'License')).toEqual([]);
    expect(actionsOn(sensor.stateless.authorizerFunction, 'License')).toEqual([]);
  });

  it('lets only the bootstrap resource write the instance key; the API may read it', () => {
    const s = sensor.stateless;
    expect(actionsOn(s.bootstrapFunction, 'InstanceKey')).toEqual(
      expect.arrayContaining(['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue']),
    );
    const api = actionsOn(s.apiFunction, 'InstanceKey');
    expect(api).toContain('secretsmanager:GetSecretValue');
    expect(api.filter((a) => /Put|Update|Delete|Create/.test(a))).toEqual([]);
    stateless.hasResourceProperties('AWS::CloudFormation::CustomResource', {
      InstanceKeySecretArn: Match.anyValue(),
    });
  });

  it('keeps the license table and instance key in the stateful stack, retained, with a placeholder key', () => {
    stateful.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
      }),
    });
    stateful.hasResource('AWS::SecretsManager::Secret', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ SecretString: INSTANCE_KEY_PLACEHOLDER }),
    });
    expect(INSTANCE_KEY_PLACEHOLDER).not.toMatch(/PRIVATE KEY/);
    stateful.hasOutput('InstanceId', { Value: Match.anyValue() });
  });
});
