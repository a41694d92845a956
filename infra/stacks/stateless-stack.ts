// Stateless stack: the API and authorizer Lambdas behind API Gateway, the bootstrap custom resource and alarms.
import { CustomResource, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import { SensorFunction } from '../constructs/sensor-function.ts';
import { acknowledge } from '../nag.ts';

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

export interface StatelessStackProps extends StackProps {
  apiKeysTable: dynamodb.ITable;
  auditTable: dynamodb.ITable;
  bootstrapKeySecret: secretsmanager.ISecret;
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
  readonly alarmTopic: sns.Topic;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const environment = {
      API_KEYS_TABLE_NAME: props.apiKeysTable.tableName,
      API_KEYS_AUDIT_TABLE_NAME: props.auditTable.tableName,
      LOG_LEVEL: 'info',
    };

    this.apiFunction = new SensorFunction(this, 'ApiFunction', {
      entry: 'functions/api/handler.ts',
      description: 'Sensor REST API (/v3): API keys and audit',
      memorySize: 512,
      // Below API Gateway's 29 s integration timeout, so a slow call is a Lambda timeout the logs explain.
      timeout: Duration.seconds(25),
      environment,
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

    this.bootstrapFunction = this.bootstrap(props, environment);
    this.suppressNagFindings();
  }

  /** Registers the token Secrets Manager generated (stateful stack) as the first Administrator key, hashed. */
  private bootstrap(props: StatelessStackProps, environment: Record<string, string>): SensorFunction {
    const fn = new SensorFunction(this, 'BootstrapKey', {
      entry: 'infra/bootstrap/handler.ts',
      description: 'Deploy time: registers the bootstrap Administrator API key from its secret',
      memorySize: 1024,
      timeout: Duration.seconds(60),
      environment: { ...environment, BOOTSTRAP_SECRET_ARN: props.bootstrapKeySecret.secretArn },
      bundle: props.bundle,
    });
    fn.grantTableActions(props.apiKeysTable, 'dynamodb:PutItem');
    fn.grantTableActions(props.auditTable, 'dynamodb:PutItem');
    props.bootstrapKeySecret.grantRead(fn.role);

    const provider = new cr.Provider(this, 'BootstrapKeyProvider', {
      onEventHandler: fn.function,
      logGroup: new logs.LogGroup(this, 'BootstrapKeyProviderLogs', {
        retention: logs.RetentionDays.ONE_MONTH,
      }),
    });
    new CustomResource(this, 'BootstrapAdminKey', {
      serviceToken: provider.serviceToken,
      // A new secret or table runs the import again; an unchanged one never touches the key.
      properties: { SecretArn: props.bootstrapKeySecret.secretArn, KeysTable: props.apiKeysTable.tableName },
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
    for (const fn of [this.apiFunction, this.authorizerFunction, this.bootstrapFunction]) {
      acknowledge(fn.function, {
        id: 'AwsSolutions-L1',
        reason: 'The design fixes the Lambda runtime at nodejs22.x (the Node line the code is tested on).',
      });
    }
  }
}
