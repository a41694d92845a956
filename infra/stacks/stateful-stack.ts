// Stateful stack: what outlives a redeploy: the API-key, audit and scan tables, secrets, the scan queues (they hold
// work in flight), the scan event bus, the schedule group and the role its schedules use (stored schedules point at
// them, so they must not change when the functions are redeployed).
import { CfnOutput, Duration, RemovalPolicy, SecretValue, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { AUDIT_TTL_ATTRIBUTE } from '#shared/adapters/aws/apikey-store';
import { FINDINGS_TABLE, OUTBOX_TABLE, SCANS_TABLE } from '#shared/adapters/aws/scan-stores';
import { INGESTION_TOKEN_PLACEHOLDER } from '#shared/adapters/aws/secrets';
import { acknowledge } from '../nag.ts';

/** Lambda timeouts of the scan functions; each queue's visibility timeout is 6x its consumer's (AWS guidance). */
export const SCAN_FUNCTION_TIMEOUTS = {
  collector: Duration.minutes(5),
  pageWorker: Duration.minutes(3),
  exporter: Duration.minutes(2),
} as const;
export const VISIBILITY_FACTOR = 6;

/** Receives before SQS moves a message to its DLQ; the handlers get the same numbers (PAGE/EXPORT_MAX_ATTEMPTS). */
export const MAX_RECEIVES = { start: 3, page: 3, export: 5 } as const;

export interface ScanQueue {
  queue: sqs.Queue;
  deadLetterQueue: sqs.Queue;
}

/** Not a key: ensureInstanceKey (shared/adapters/aws/instance-key.ts) replaces anything that is not a key pair. */
export const INSTANCE_KEY_PLACEHOLDER = JSON.stringify({
  placeholder: 'generated at deploy by the bootstrap resource',
});

/** The key id of the first Administrator key; its token is `kfsk_bootstrap-admin_<secret>`. */
export const BOOTSTRAP_KEY_ID = 'bootstrap-admin';

export class StatefulStack extends Stack {
  readonly apiKeysTable: dynamodb.Table;
  readonly auditTable: dynamodb.Table;
  readonly bootstrapKeySecret: secretsmanager.Secret;
  readonly scansTable: dynamodb.Table;
  readonly findingsTable: dynamodb.Table;
  readonly outboxTable: dynamodb.Table;
  readonly ingestionTokenSecret: secretsmanager.Secret;
  readonly scanEventBus: events.EventBus;
  readonly startQueue: ScanQueue;
  readonly pageHighQueue: ScanQueue;
  readonly pageNormalQueue: ScanQueue;
  readonly exportQueue: ScanQueue;
  readonly scheduleGroup: scheduler.ScheduleGroup;
  /**
   * A fixed name (not a reference): the API's IAM policy and the SCHEDULE_GROUP_NAME variable use it as a plain string,
   * so the schedule ARN pattern reads the same in the template, in cdk-nag's findings and in the console.
   */
  readonly scheduleGroupName: string;
  /** Assumed by EventBridge Scheduler to send a schedule's start message: sqs:SendMessage on the start queue only. */
  readonly schedulerRole: iam.Role;
  /** The installed license, actioned-certificate runs, alerts and each sensor's Command context (pk/sk). */
  readonly licenseTable: dynamodb.Table;
  /** The instance's own RSA key that signs the usage log; the deploy-time custom resource fills it. */
  readonly instanceKeySecret: secretsmanager.Secret;
  /** What licenses name as this deployment: `aws:<account>:<region>:<stateful stack name>` (resolved at deploy). */
  readonly instanceId: string;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    const common = {
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.RETAIN,
      deletionProtection: true,
    };
    // Key schemas as in shared/adapters/aws/apikey-store.ts (createApiKeyTables).
    this.apiKeysTable = new dynamodb.Table(this, 'ApiKeys', {
      ...common,
      partitionKey: { name: 'keyId', type: dynamodb.AttributeType.STRING },
    });
    // TTL on the attribute the audit adapter sets when a retention is configured; items without it never expire.
    this.auditTable = new dynamodb.Table(this, 'ApiKeyAudit', {
      ...common,
      timeToLiveAttribute: AUDIT_TTL_ATTRIBUTE,
      partitionKey: { name: 'stream', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
    });

    // Secrets Manager generates the secret part (43 alphanumerics, ~256 bits, inside the token's base64url alphabet),
    // so the token never passes through CloudFormation; the bootstrap custom resource registers it, hashed.
    this.bootstrapKeySecret = new secretsmanager.Secret(this, 'BootstrapAdminKey', {
      description: `First Administrator API key of the sensor: the token is kfsk_<keyId>_<secret>`,
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ keyId: BOOTSTRAP_KEY_ID }),
        generateStringKey: 'secret',
        passwordLength: 43,
        excludePunctuation: true,
        includeSpace: false,
      },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    new CfnOutput(this, 'BootstrapKeySecretArn', {
      description: 'Secret holding the bootstrap Administrator key as { keyId, secret } (docs/deploy.md)',
      value: this.bootstrapKeySecret.secretArn,
    });
    acknowledge(this.bootstrapKeySecret, {
      id: 'AwsSolutions-SMG4',
      reason:
        'The bootstrap key is rotated by replacing it, not in place: an Administrator creates personal keys through ' +
        'the API and then locks or deletes bootstrap-admin; a rotated secret would no longer match the stored hash.',
    });

    const str = dynamodb.AttributeType.STRING;
    // Scan records, schedules, cursors, task completions and host leases: one table, told apart by pk.
    this.scansTable = new dynamodb.Table(this, 'Scans', {
      ...common,
      partitionKey: { name: SCANS_TABLE.partitionKey, type: str },
      sortKey: { name: SCANS_TABLE.sortKey, type: str },
      timeToLiveAttribute: SCANS_TABLE.ttlAttribute,
    });
    // Lists scans newest first (GET /v3/scans) without a table scan.
    this.scansTable.addGlobalSecondaryIndex({
      indexName: SCANS_TABLE.createdIndex,
      partitionKey: { name: SCANS_TABLE.createdIndexPartitionKey, type: str },
      sortKey: { name: SCANS_TABLE.createdIndexSortKey, type: str },
      projectionType: dynamodb.ProjectionType.ALL,
    });
    this.findingsTable = new dynamodb.Table(this, 'Findings', {
      ...common,
      partitionKey: { name: FINDINGS_TABLE.partitionKey, type: str },
      sortKey: { name: FINDINGS_TABLE.sortKey, type: str },
    });
    // Sparse (only open findings carry openSensorKey): a full scan's finalizer reads just the findings it did not see.
    this.findingsTable.addGlobalSecondaryIndex({
      indexName: FINDINGS_TABLE.openIndex,
      partitionKey: { name: FINDINGS_TABLE.openIndexPartitionKey, type: str },
      sortKey: { name: FINDINGS_TABLE.openIndexSortKey, type: str },
      projectionType: dynamodb.ProjectionType.INCLUDE,
      nonKeyAttributes: [...FINDINGS_TABLE.openIndexProjection],
    });
    // Sent batches expire; pending and failed ones are kept until sent or handled.
    this.outboxTable = new dynamodb.Table(this, 'ExportOutbox', {
      ...common,
      partitionKey: { name: OUTBOX_TABLE.partitionKey, type: str },
      timeToLiveAttribute: OUTBOX_TABLE.ttlAttribute,
    });

    // The operator puts the sensor's ingestion token here after deploying (docs/deploy.md); until then the exporter
    // fails with a message saying so. The placeholder is not a secret, so writing it through the template is safe.
    this.ingestionTokenSecret = new secretsmanager.Secret(this, 'IngestionToken', {
      description:
        'Token the exporter sends to the ingestion endpoint (set it after deploying; see docs/deploy.md)',
      secretStringValue: SecretValue.unsafePlainText(INGESTION_TOKEN_PLACEHOLDER),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    new CfnOutput(this, 'IngestionTokenSecretArn', {
      description: 'Put the ingestion token in this secret (docs/deploy.md)',
      value: this.ingestionTokenSecret.secretArn,
    });
    acknowledge(this.ingestionTokenSecret, {
      id: 'AwsSolutions-SMG4',
      reason:
        'The ingestion token is issued by the ingestion service, not generated here: it is rotated by putting the ' +
        'new token in the secret (the exporter re-reads it within five minutes); no rotation Lambda can mint one.',
    });

    this.scanEventBus = new events.EventBus(this, 'ScanEvents', {
      description: 'Keyfactor Command sensor scan events (ScanStarted, ScanFinished with the callbackId)',
    });
    new CfnOutput(this, 'ScanEventBusName', {
      description: 'Subscribe rules to this bus for scan events (source keyfactor-command-sensor)',
      value: this.scanEventBus.eventBusName,
    });

    const timeouts = SCAN_FUNCTION_TIMEOUTS;
    this.startQueue = this.scanQueue('StartQueue', timeouts.collector, MAX_RECEIVES.start);
    this.pageHighQueue = this.scanQueue('PageHighQueue', timeouts.pageWorker, MAX_RECEIVES.page);
    this.pageNormalQueue = this.scanQueue('PageNormalQueue', timeouts.pageWorker, MAX_RECEIVES.page);
    this.exportQueue = this.scanQueue('ExportQueue', timeouts.exporter, MAX_RECEIVES.export);

    // Retained: deleting a group deletes its schedules, which the schedule records still describe.
    this.scheduleGroupName = `${this.stackName}-scans`;
    this.scheduleGroup = new scheduler.ScheduleGroup(this, 'ScanSchedules', {
      scheduleGroupName: this.scheduleGroupName,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.schedulerRole = new iam.Role(this, 'SchedulerRole', {
      description: 'Assumed by EventBridge Scheduler to send scheduled scans to the start queue',
      // Only schedules of this account's group may use the role (confused-deputy protection).
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': this.account },
          ArnLike: {
            'aws:SourceArn': this.formatArn({
              service: 'scheduler',
              resource: 'schedule',
              resourceName: `${this.scheduleGroupName}/*`,
            }),
          },
        },
      }),
    });
    // Exactly one action on one queue (grantSendMessages would add GetQueueAttributes and GetQueueUrl).
    this.schedulerRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.startQueue.queue.queueArn] }),
    );

    // Licensing (docs/licensing.md): one table told apart by pk, as in shared/adapters/aws/license-stores.ts.
    this.licenseTable = new dynamodb.Table(this, 'License', {
      ...common,
      partitionKey: { name: 'pk', type: str },
      sortKey: { name: 'sk', type: str },
    });
    // Stable for the life of the deployment and known before the first deploy, so the vendor can issue a license.
    this.instanceId = `aws:${this.account}:${this.region}:${this.stackName}`;
    new CfnOutput(this, 'InstanceId', {
      description: "This deployment's instance id: licenses are issued for it (docs/licensing.md)",
      value: this.instanceId,
    });
    // A placeholder until the deploy-time custom resource generates the key in place (CloudFormation cannot make
    // an RSA key, and the private key must never pass through a template).
    this.instanceKeySecret = new secretsmanager.Secret(this, 'InstanceKey', {
      description: 'RSA key that signs the usage log (XML-DSig); generated at deploy (docs/usage-log.md)',
      secretStringValue: SecretValue.unsafePlainText(INSTANCE_KEY_PLACEHOLDER),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(this.instanceKeySecret, {
      id: 'AwsSolutions-SMG4',
      reason:
        'The instance key identifies this deployment to the vendor through signed usage logs; rotating it in place ' +
        'would invalidate the pinned public key, so it is replaced deliberately (docs/usage-log.md), not on a timer.',
    });
  }

  /** A queue with its own DLQ: SSE (SQS-managed), TLS only, visibility 6x its consumer's timeout. */
  private scanQueue(id: string, consumerTimeout: Duration, maxReceiveCount: number): ScanQueue {
    const common = { encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true };
    const deadLetterQueue = new sqs.Queue(this, `${id}Dlq`, {
      ...common,
      retentionPeriod: Duration.days(14),
    });
    const queue = new sqs.Queue(this, id, {
      ...common,
      visibilityTimeout: Duration.seconds(consumerTimeout.toSeconds() * VISIBILITY_FACTOR),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount },
    });
    return { queue, deadLetterQueue };
  }
}
