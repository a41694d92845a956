// Template assertions for the stateful stack: retained, recoverable, encrypted tables, secrets, the scan queues with
// their DLQs, the scan event bus, the schedule group and the scheduler role.
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_TTL_ATTRIBUTE } from '#shared/adapters/aws/apikey-store';
import { FINDINGS_TABLE, OUTBOX_TABLE, SCANS_TABLE } from '#shared/adapters/aws/scan-stores';
import { INGESTION_TOKEN_PLACEHOLDER } from '#shared/adapters/aws/secrets';
import { buildSensorApp, type SensorApp } from '../../../infra/sensor-app.ts';
import {
  BOOTSTRAP_KEY_ID,
  MAX_RECEIVES,
  SCAN_FUNCTION_TIMEOUTS,
} from '../../../infra/stacks/stateful-stack.ts';

/** Synthesis runs cdk-nag over both stacks: seconds, more on a busy machine. */
const SYNTH_TIMEOUT_MS = 120_000;

describe('StatefulStack', () => {
  let template: Template;
  let sensor: SensorApp;

  beforeAll(() => {
    sensor = buildSensorApp({ bundle: false });
    template = Template.fromStack(sensor.stateful);
  }, SYNTH_TIMEOUT_MS);

  const logicalId = (construct: { node: { defaultChild?: unknown } }): string =>
    sensor.stateful.getLogicalId(construct.node.defaultChild as never);

  it('creates the key table with the adapter key schema, on demand, with PITR and AWS-managed KMS encryption', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'keyId', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      DeletionProtectionEnabled: true,
    });
  });

  it('creates the audit table keyed by stream and sk, on demand, with PITR, AWS-managed KMS encryption and TTL', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TimeToLiveSpecification: { AttributeName: AUDIT_TTL_ATTRIBUTE, Enabled: true },
      KeySchema: [
        { AttributeName: 'stream', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
  });

  it('retains all six tables and gives them no physical name', () => {
    const tables = template.findResources('AWS::DynamoDB::Table');
    expect(Object.keys(tables)).toHaveLength(6);
    for (const table of Object.values(tables)) {
      expect(table).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
      expect(table).not.toHaveProperty('Properties.TableName');
    }
  });

  it('generates the bootstrap secret in the token alphabet and retains it', () => {
    template.hasResource('AWS::SecretsManager::Secret', {
      DeletionPolicy: 'Retain',
      Properties: {
        GenerateSecretString: {
          SecretStringTemplate: JSON.stringify({ keyId: BOOTSTRAP_KEY_ID }),
          GenerateStringKey: 'secret',
          PasswordLength: 43,
          ExcludePunctuation: true,
          IncludeSpace: false,
        },
        Name: Match.absent(),
      },
    });
  });

  it('outputs the bootstrap secret ARN for the retrieval command', () => {
    template.hasOutput('BootstrapKeySecretArn', {
      Value: { Ref: Match.stringLikeRegexp('^BootstrapAdminKey') },
    });
  });

  const common = {
    BillingMode: 'PAY_PER_REQUEST',
    PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    SSESpecification: { SSEEnabled: true },
    DeletionProtectionEnabled: true,
  };

  it('creates the scans table (pk/sk, TTL expiresAt, byCreated index projecting everything)', () => {
    expect(SCANS_TABLE).toMatchObject({ partitionKey: 'pk', sortKey: 'sk', ttlAttribute: 'expiresAt' });
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: {
        ...common,
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        GlobalSecondaryIndexes: [
          {
            IndexName: 'byCreated',
            KeySchema: [
              { AttributeName: 'gsi1pk', KeyType: 'HASH' },
              { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      },
    });
  });

  it('creates the findings table (sensorKey/findingId, sparse openByLastSeen index) and the outbox (batchId, TTL expiresAt)', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      ...common,
      KeySchema: [
        { AttributeName: FINDINGS_TABLE.partitionKey, KeyType: 'HASH' },
        { AttributeName: FINDINGS_TABLE.sortKey, KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: Match.absent(),
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: 'openSensorKey', AttributeType: 'S' },
        { AttributeName: 'lastSeenScanId', AttributeType: 'S' },
      ]),
      // The adapter's resolveUnseen queries this index by these names and reads certificateId from it.
      GlobalSecondaryIndexes: [
        {
          IndexName: 'openByLastSeen',
          KeySchema: [
            { AttributeName: 'openSensorKey', KeyType: 'HASH' },
            { AttributeName: 'lastSeenScanId', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['certificateId'] },
        },
      ],
    });
    expect(FINDINGS_TABLE).toMatchObject({
      partitionKey: 'sensorKey',
      sortKey: 'findingId',
      openIndex: 'openByLastSeen',
      openIndexPartitionKey: 'openSensorKey',
      openIndexSortKey: 'lastSeenScanId',
    });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      ...common,
      KeySchema: [{ AttributeName: OUTBOX_TABLE.partitionKey, KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    expect(OUTBOX_TABLE.partitionKey).toBe('batchId');
  });

  it('creates the ingestion-token secret with the placeholder the exporter refuses, and outputs its ARN', () => {
    template.hasResource('AWS::SecretsManager::Secret', {
      DeletionPolicy: 'Retain',
      Properties: { SecretString: INGESTION_TOKEN_PLACEHOLDER, Name: Match.absent() },
    });
    template.hasOutput('IngestionTokenSecretArn', {
      Value: { Ref: logicalId(sensor.stateful.ingestionTokenSecret) },
    });
  });

  it('creates four SSE, TLS-only queues, each with its own DLQ and the documented receive counts', () => {
    const s = sensor.stateful;
    const cases: Array<[typeof s.startQueue, number, number]> = [
      [s.startQueue, MAX_RECEIVES.start, SCAN_FUNCTION_TIMEOUTS.collector.toSeconds()],
      [s.pageHighQueue, 3, SCAN_FUNCTION_TIMEOUTS.pageWorker.toSeconds()],
      [s.pageNormalQueue, 3, SCAN_FUNCTION_TIMEOUTS.pageWorker.toSeconds()],
      [s.exportQueue, 5, SCAN_FUNCTION_TIMEOUTS.exporter.toSeconds()],
    ];
    const dlqs = new Set<string>();
    for (const [{ queue, deadLetterQueue }, maxReceiveCount, consumerTimeout] of cases) {
      const { Resources } = template.toJSON() as {
        Resources: Record<string, { Properties: Record<string, unknown> } | undefined>;
      };
      const resource = Resources[logicalId(queue)];
      if (!resource) throw new Error('queue not in the template');
      expect(resource.Properties).toMatchObject({
        SqsManagedSseEnabled: true,
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(deadLetterQueue), 'Arn'] },
          maxReceiveCount,
        },
      });
      // Lambda's guidance: a queue's visibility timeout at least six times its consumer's timeout.
      expect(resource.Properties.VisibilityTimeout as number).toBeGreaterThanOrEqual(6 * consumerTimeout);
      dlqs.add(logicalId(deadLetterQueue));
    }
    expect(dlqs.size).toBe(4);
    template.resourceCountIs('AWS::SQS::Queue', 8);
    for (const queue of Object.values(template.findResources('AWS::SQS::Queue')))
      expect(queue).toHaveProperty('Properties.SqsManagedSseEnabled', true);
    const policies = template.findResources('AWS::SQS::QueuePolicy');
    expect(Object.keys(policies)).toHaveLength(8);
    for (const policy of Object.values(policies)) {
      expect(policy).toMatchObject({
        Properties: {
          PolicyDocument: {
            Statement: expect.arrayContaining([
              expect.objectContaining({
                Effect: 'Deny',
                Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              }),
            ]) as unknown,
          },
        },
      });
    }
  });

  it('keeps page and export attempts equal to what the handlers are told', () => {
    expect(MAX_RECEIVES).toEqual({ start: 3, page: 3, export: 5 });
  });

  it('creates the scan event bus and a retained schedule group', () => {
    template.resourceCountIs('AWS::Events::EventBus', 1);
    template.hasResource('AWS::Scheduler::ScheduleGroup', { DeletionPolicy: 'Retain' });
  });

  it('lets Scheduler (this account, this group) assume a role that may only SendMessage to the start queue', () => {
    const roleId = logicalId(sensor.stateful.schedulerRole);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: {
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              ArnLike: { 'aws:SourceArn': Match.anyValue() },
            },
          }),
        ],
      },
    });
    const policies = Object.values(
      template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } }),
    ) as { Properties: { PolicyDocument: { Statement: unknown[] } } }[];
    expect(policies.flatMap((p) => p.Properties.PolicyDocument.Statement)).toEqual([
      {
        Effect: 'Allow',
        Action: 'sqs:SendMessage',
        Resource: { 'Fn::GetAtt': [logicalId(sensor.stateful.startQueue.queue), 'Arn'] },
      },
    ]);
  });
});
