// House Lambda construct: every sensor function is Node.js 22 on arm64, bundled by the local esbuild with source maps.
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** The repository root: entry points are given relative to it, whatever directory `cdk` runs from. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export type TableAccess = 'read' | 'write' | 'read-write';

export const TABLE_READ_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:Scan',
];
export const TABLE_WRITE_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
];

export interface SensorFunctionProps {
  /** Entry file relative to the repository root, e.g. `functions/api/handler.ts`. */
  entry: string;
  /** Exported handler name; `handler` unless told. */
  handler?: string;
  description: string;
  memorySize?: number;
  timeout?: Duration;
  environment?: Record<string, string>;
  logRetention?: logs.RetentionDays;
  /**
   * false replaces the esbuild bundle by a one-line inline stub, so unit tests can synthesize the stacks in
   * milliseconds; `cdk synth` and `cdk deploy` always bundle.
   */
  bundle?: boolean;
}

/**
 * NodejsFunction with the house defaults. The role is its own, with no managed policy: it may write only to the
 * function's log group (created here with a retention) and whatever `grantTable` / `grantTableActions` add.
 */
export class SensorFunction extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: SensorFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of: ${props.description}`,
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );

    const common = {
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      description: props.description,
      role: this.role,
      logGroup: this.logGroup,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
    };
    const handler = props.handler ?? 'handler';
    this.function =
      props.bundle === false
        ? new lambda.Function(this, 'Function', {
            ...common,
            handler: `index.${handler}`,
            code: lambda.Code.fromInline(`exports.${handler} = async () => { throw new Error('stub'); };`),
          })
        : new NodejsFunction(this, 'Function', {
            ...common,
            entry: path.join(REPO_ROOT, props.entry),
            handler,
            projectRoot: REPO_ROOT,
            depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
            bundling: {
              forceDockerBundling: false,
              format: OutputFormat.ESM,
              target: 'node22',
              minify: true,
              sourceMap: true,
              sourceMapMode: SourceMapMode.EXTERNAL,
              sourcesContent: false,
              // ESM bundles of CommonJS dependencies (the AWS SDK) need a require().
              banner:
                "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
            },
          });
    // The role must exist with its log permissions before the function can be created and log.
    this.function.node.addDependency(this.role);
  }

  /**
   * Item-level access to a table: read (Get, Query, Scan), write (Put, Update, Delete) or both. Narrower than
   * `grantReadWriteData`, which adds stream, DescribeTable and ConditionCheckItem actions no sensor function uses.
   */
  grantTable(table: ITable, access: TableAccess): void {
    const actions = [
      ...(access === 'write' ? [] : TABLE_READ_ACTIONS),
      ...(access === 'read' ? [] : TABLE_WRITE_ACTIONS),
    ];
    table.grant(this.role, ...actions);
  }

  /** Exactly the named actions on a table, for a function that needs less than a whole read or write grant. */
  grantTableActions(table: ITable, ...actions: `dynamodb:${string}`[]): void {
    table.grant(this.role, ...actions);
  }
}
