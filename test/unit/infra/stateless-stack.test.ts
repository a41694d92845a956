// Template assertions for the stateless stack: functions, the authorizer, the stage, alarms and least-privilege IAM.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  REPO_ROOT,
  TABLE_READ_ACTIONS,
  TABLE_WRITE_ACTIONS,
  type SensorFunction,
} from '../../../infra/constructs/sensor-function.ts';
import { buildSensorApp, type SensorApp } from '../../../infra/sensor-app.ts';
import {
  API_KEY_HEADER,
  AUTHORIZER_REFUSAL_MESSAGE,
  METRIC_NAMESPACE,
  THROTTLE,
} from '../../../infra/stacks/stateless-stack.ts';

interface PolicyStatement {
  Action: string | string[];
  Resource: unknown;
}

describe('StatelessStack', () => {
  let sensor: SensorApp;
  let template: Template;

  // Synthesis runs cdk-nag over both stacks: seconds, more on a busy machine.
  beforeAll(() => {
    sensor = buildSensorApp({ bundle: false });
    template = Template.fromStack(sensor.stateless);
  }, 120_000);

  const logicalId = (construct: { node: { defaultChild?: unknown } }): string =>
    sensor.stateless.getLogicalId(construct.node.defaultChild as never);

  const allFunctions = (): SensorFunction[] => {
    const s = sensor.stateless;
    return [
      s.apiFunction,
      s.authorizerFunction,
      s.bootstrapFunction,
      s.collectorFunction,
      s.pageWorkerFunction,
      s.exporterFunction,
      s.licenseJobFunction,
    ];
  };

  /** Statements of the inline policy attached to a SensorFunction's role. */
  function statementsOf(fn: SensorFunction): PolicyStatement[] {
    const roleId = logicalId(fn.role);
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: roleId }] },
    });
    return Object.values(policies).flatMap(
      (p) =>
        (p as { Properties: { PolicyDocument: { Statement: PolicyStatement[] } } }).Properties.PolicyDocument
          .Statement,
    );
  }

  const actionsOf = (s: PolicyStatement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);
  const dynamoStatementsOf = (fn: SensorFunction): PolicyStatement[] =>
    statementsOf(fn).filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
  const tableArnImport = (exportFragment: string) =>
    Match.objectLike({ 'Fn::ImportValue': Match.stringLikeRegexp(exportFragment) });
  // The table ARNs as the stateless stack imports them from the stateful stack.
  const keysArn = { 'Fn::ImportValue': expect.stringMatching(/GetAttApiKeys[0-9A-F]{8}Arn/) as unknown };
  const auditArn = { 'Fn::ImportValue': expect.stringMatching(/GetAttApiKeyAudit[0-9A-F]{8}Arn/) as unknown };

  it('runs every sensor function on nodejs22.x, arm64, with source maps enabled', () => {
    const functions = template.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: { NODE_OPTIONS: '--enable-source-maps' } } },
    });
    expect(Object.keys(functions)).toHaveLength(7);
    for (const fn of Object.values(functions)) {
      expect(fn).toMatchObject({
        Properties: {
          Runtime: 'nodejs22.x',
          Architectures: ['arm64'],
          MemorySize: expect.any(Number) as unknown,
        },
      });
    }
  });

  it('passes the table names the API config schema reads at cold start', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('REST API'),
      Timeout: 25,
      Environment: {
        Variables: Match.objectLike({
          API_KEYS_TABLE_NAME: tableArnImport('ApiKeys'),
          API_KEYS_AUDIT_TABLE_NAME: tableArnImport('ApiKeyAudit'),
          LOG_LEVEL: 'info',
        }),
      },
    });
  });

  it('gives each function a log group with a retention', () => {
    const groups = template.findResources('AWS::Logs::LogGroup');
    for (const group of Object.values(groups)) expect(group).toHaveProperty('Properties.RetentionInDays');
    expect(Object.keys(groups).length).toBeGreaterThanOrEqual(4);
  });

  it('uses a REQUEST authorizer on the isg-api-token header with result caching off', () => {
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'REQUEST',
      IdentitySource: `method.request.header.${API_KEY_HEADER}`,
      AuthorizerResultTtlInSeconds: 0,
    });
  });

  it('answers refusals API Gateway makes itself with the API error shape and the request id', () => {
    for (const [type, status] of [
      ['UNAUTHORIZED', '401'],
      ['ACCESS_DENIED', '403'],
      ['THROTTLED', '429'],
      ['REQUEST_TOO_LARGE', '413'],
    ]) {
      template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: type,
        StatusCode: status,
        ResponseTemplates: {
          'application/json': Match.stringLikeRegexp('"requestId":"\\$context.requestId"'),
        },
        ResponseParameters: Match.objectLike({ 'gatewayresponse.header.x-request-id': 'context.requestId' }),
      });
    }
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', { ResponseType: 'DEFAULT_5XX' });
  });

  it('routes any method under /v3/{proxy+} to the API Lambda through the authorizer', () => {
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'v3' });
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: '{proxy+}' });
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'ANY',
      AuthorizationType: 'CUSTOM',
      AuthorizerId: Match.anyValue(),
      Integration: { Type: 'AWS_PROXY' },
    });
    // No route is reachable without the authorizer.
    const methods = template.findResources('AWS::ApiGateway::Method');
    for (const method of Object.values(methods)) {
      expect(method).toMatchObject({ Properties: { AuthorizationType: 'CUSTOM' } });
    }
  });

  it('throttles the stage and writes JSON access logs naming the calling key', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          ThrottlingRateLimit: THROTTLE.rateLimit,
          ThrottlingBurstLimit: THROTTLE.burstLimit,
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
        }),
      ]),
      AccessLogSetting: {
        DestinationArn: Match.anyValue(),
        Format: Match.stringLikeRegexp('"keyId":"\\$context.authorizer.principalId"'),
      },
    });
  });

  it('alarms on API 5xx and on authorizer errors', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/ApiGateway',
      MetricName: '5XXError',
      Threshold: 1,
    });
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      LogGroupName: { Ref: logicalId(sensor.stateless.authorizerFunction.logGroup) },
      FilterPattern: `{ $.message = "${AUTHORIZER_REFUSAL_MESSAGE}" }`,
      MetricTransformations: [
        { MetricNamespace: METRIC_NAMESPACE, MetricName: 'AuthorizerRefusals', MetricValue: '1' },
      ],
    });
    // Refusals are Lambda errors too (a thrown 'Unauthorized'): the alarm counts only the errors beyond them.
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 1,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'FILL(errors, 0) - FILL(refusals, 0)' }),
        Match.objectLike({
          Id: 'errors',
          MetricStat: Match.objectLike({
            Metric: {
              Namespace: 'AWS/Lambda',
              MetricName: 'Errors',
              Dimensions: [
                {
                  Name: 'FunctionName',
                  Value: { Ref: logicalId(sensor.stateless.authorizerFunction.function) },
                },
              ],
            },
          }),
        }),
        Match.objectLike({
          Id: 'refusals',
          MetricStat: Match.objectLike({
            Metric: { Namespace: METRIC_NAMESPACE, MetricName: 'AuthorizerRefusals' },
          }),
        }),
      ]),
    });
  });

  it('filters on the message the authorizer actually logs before a refusal', () => {
    const source = readFileSync(path.join(REPO_ROOT, 'functions/authorizer/handler.ts'), 'utf8');
    expect(source).toContain(`logger.info('${AUTHORIZER_REFUSAL_MESSAGE}'`);
  });

  it('sends both alarms to an encrypted, TLS-only SNS topic with no subscriber unless one is configured', () => {
    const topicId = logicalId(sensor.stateless.alarmTopic);
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: {
        'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(':alias/aws/sns$')])],
      },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    const alarms = template.findResources('AWS::CloudWatch::Alarm');
    // API 5xx, authorizer errors, per scan queue: DLQ depth and oldest message age, and license job errors.
    expect(Object.keys(alarms)).toHaveLength(2 + 4 * 2 + 1);
    for (const alarm of Object.values(alarms)) {
      expect(alarm).toMatchObject({ Properties: { AlarmActions: [{ Ref: topicId }] } });
    }
  });

  it('scopes the authorizer to GetItem/UpdateItem on the key table and PutItem on the audit table', () => {
    expect(dynamoStatementsOf(sensor.stateless.authorizerFunction)).toEqual([
      { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], Resource: [keysArn] },
      { Effect: 'Allow', Action: 'dynamodb:PutItem', Resource: [auditArn] },
    ]);
  });

  it('lets the API Lambda read and write keys, and only query and append to the audit log', () => {
    const statements = dynamoStatementsOf(sensor.stateless.apiFunction);
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: [...TABLE_READ_ACTIONS, ...TABLE_WRITE_ACTIONS],
      Resource: [keysArn],
    });
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: ['dynamodb:PutItem', 'dynamodb:Query'],
      Resource: [auditArn],
    });
  });

  it('grants no wildcard action and no wildcard resource to any sensor function', () => {
    const s = sensor.stateless;
    // The allowed '*'s: tails of ARN prefixes for resources created at run time: sensor secrets (named
    // <prefix>/sensors/<name> plus a random suffix) and the schedules of the scan schedule group.
    const allowed = [
      `:secret:${s.scanSettings.secretPrefix}/sensors/*`,
      `:schedule/${sensor.stateful.scheduleGroupName}/*`,
    ];
    for (const fn of allFunctions()) {
      for (const statement of statementsOf(fn)) {
        for (const action of actionsOf(statement)) expect(action).not.toContain('*');
        const resource = JSON.stringify(statement.Resource);
        expect(resource).not.toBe('"*"');
        const rest = allowed.reduce((r, pattern) => r.replaceAll(pattern, ''), resource);
        expect(rest, resource).not.toContain('*');
      }
    }
  });

  it('registers the bootstrap key with a custom resource that may read only its secret', () => {
    template.resourceCountIs('AWS::CloudFormation::CustomResource', 1);
    template.hasResourceProperties('AWS::CloudFormation::CustomResource', {
      SecretArn: { 'Fn::ImportValue': Match.stringLikeRegexp('BootstrapAdminKey') },
    });
    const statements = statementsOf(sensor.stateless.bootstrapFunction);
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        Resource: { 'Fn::ImportValue': expect.stringMatching(/BootstrapAdminKey/) as unknown },
      }),
    );
    expect(
      statements.filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:'))).flatMap(actionsOf),
    ).toEqual(['dynamodb:PutItem', 'dynamodb:PutItem']);
    expect(dynamoStatementsOf(sensor.stateless.bootstrapFunction).map((s) => s.Resource)).toEqual([
      [keysArn],
      [auditArn],
    ]);
  });
});
