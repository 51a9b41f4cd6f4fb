// One tenant's control plane on AWS: the DynamoDB store with its stream, the API server behind a
// streaming function URL, the stream dispatcher and the controller worker with their SQS queues
// (FIFO work queue, standard delay queue for requeues, dead-letter queues), the table's encryption
// key and the admin credential (see TenantKeys), and least-privilege roles for each function.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Aws, CfnOutput, CfnParameter, Duration, Fn, RemovalPolicy, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { wakeResources } from '../functions/dispatcher/routing.js';
import { builtinControllers } from '../shared/controllers/index.js';
import { bundleHandler, type Bundle } from './bundle.js';
import { ADMIN_TOKEN_PARAMETER, adminTokenFile, validateTenantName } from './tenant.js';

export { ADMIN_TOKEN_PARAMETER, adminTokenFile, validateTenantName };
import { tableBillingMode, tableKeyProps, tableStreamViewType, TABLE_TTL_ATTRIBUTE } from './table-definition.js';

export type HandlerName = 'api' | 'dispatcher' | 'worker';

/** Handler sources, relative to the project root. Each exports `handler`. */
export const HANDLER_ENTRIES: Record<HandlerName, string> = {
  api: 'functions/apiserver/lambda.ts',
  dispatcher: 'functions/dispatcher/handler.ts',
  worker: 'functions/worker/handler.ts',
};

/**
 * What the store (shared/store/dynamodb) does on the table, for the API, dispatcher and worker functions.
 * TransactWriteItems has no IAM action of its own: each Put/Update/Delete in it is authorised as
 * PutItem/UpdateItem/DeleteItem. Table management (ensureTable) is CloudFormation's job.
 */
export const TABLE_READ_WRITE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
];

/** What Lambda's event source mapping needs to poll the table's stream. */
export const STREAM_READ_ACTIONS = [
  'dynamodb:DescribeStream',
  'dynamodb:GetRecords',
  'dynamodb:GetShardIterator',
  'dynamodb:ListStreams',
];

/** Direct use of the tenant key: envelope encryption of Kubernetes Secrets and the CMK-encrypted table. */
export const KEY_USE_ACTIONS = ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'];

export const WORKER_TIMEOUT = Duration.minutes(1);
export const HISTORY_WINDOW = Duration.days(1);

/**
 * Where the tenant's keys live.
 * - "aws-managed" (default, no monthly fee): the table is encrypted with the AWS managed KMS key
 *   aws/dynamodb, and the admin credential is only the SHA-256 digest of a token the operator
 *   keeps (stack parameter AdminTokenSha256; `npx stratus admin-token` makes one).
 * - "customer-managed": a tenant KMS key (rotated yearly, $1/month) encrypts the table and a
 *   generated admin token kept in Secrets Manager ($0.40/month), for tenants that must own and
 *   audit their key.
 */
export type TenantKeys = 'aws-managed' | 'customer-managed';

export interface TenantControlPlaneStackProps extends StackProps {
  /** Lowercase letters, digits and hyphens; prefixes every physical name. */
  tenant: string;
  /** Default "aws-managed". */
  keys?: TenantKeys;
  /** Default value of the AdminTokenSha256 parameter (aws-managed keys only). */
  adminTokenSha256?: string;
  /** Where handler sources are resolved from. Defaults to the repository root. */
  projectRoot?: string;
  /** Replace handler sources (absolute paths), e.g. with a tiny fixture in tests. */
  entries?: Partial<Record<HandlerName, string>>;
  /** Where bundles are written. Defaults to <projectRoot>/.tmp/lambda-bundles/<tenant>. */
  bundleRoot?: string;
}

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export class TenantControlPlaneStack extends Stack {
  readonly tenant: string;
  readonly keys: TenantKeys;
  /** The tenant key; undefined with aws-managed keys. */
  readonly key?: kms.Key;
  readonly table: dynamodb.Table;
  readonly workQueue: sqs.Queue;
  readonly workDeadLetterQueue: sqs.Queue;
  readonly requeueQueue: sqs.Queue;
  readonly requeueDeadLetterQueue: sqs.Queue;
  readonly streamFailureQueue: sqs.Queue;
  /** The generated admin token (customer-managed keys), or the parameter holding its digest. */
  readonly adminToken: secretsmanager.Secret | CfnParameter;
  readonly functions: Record<HandlerName, lambda.Function>;
  readonly functionUrl: lambda.FunctionUrl;
  readonly bundles: Record<HandlerName, Bundle>;

  constructor(scope: Construct, id: string, props: TenantControlPlaneStackProps) {
    validateTenantName(props.tenant);
    super(scope, id, { description: `stratus control plane for tenant ${props.tenant}`, ...props });
    const tenant = (this.tenant = props.tenant);
    const prefix = `stratus-${tenant}`;
    Tags.of(this).add('stratus:tenant', tenant);

    const projectRoot = props.projectRoot ?? REPO_ROOT;
    const bundleRoot = props.bundleRoot ?? join(projectRoot, '.tmp', 'lambda-bundles', tenant);
    // Bundle first so a missing or broken handler fails synth before anything else is built.
    const bundle = (name: HandlerName) =>
      bundleHandler({ entry: props.entries?.[name] ?? join(projectRoot, HANDLER_ENTRIES[name]), outDir: join(bundleRoot, name) });
    this.bundles = { api: bundle('api'), dispatcher: bundle('dispatcher'), worker: bundle('worker') };

    const keys = (this.keys = props.keys ?? 'aws-managed');
    if (keys !== 'aws-managed' && keys !== 'customer-managed') throw new Error(`keys must be "aws-managed" or "customer-managed", not "${String(keys)}"`);
    if (props.adminTokenSha256 !== undefined && !/^[0-9a-f]{64}$/.test(props.adminTokenSha256)) {
      throw new Error('adminTokenSha256 must be a hex SHA-256 digest (64 lowercase hex characters): `npx stratus admin-token` prints one');
    }
    if (keys === 'customer-managed') {
      this.key = new kms.Key(this, 'Key', {
        alias: `alias/${prefix}`,
        description: `stratus ${tenant}: store table and admin token`,
        enableKeyRotation: true,
        removalPolicy: RemovalPolicy.RETAIN,
      });
    }

    this.table = new dynamodb.Table(this, 'Table', {
      tableName: prefix,
      ...tableKeyProps(),
      billingMode: tableBillingMode(),
      stream: tableStreamViewType(),
      timeToLiveAttribute: TABLE_TTL_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      ...(this.key
        ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey: this.key }
        : { encryption: dynamodb.TableEncryption.AWS_MANAGED }),
    });

    this.workDeadLetterQueue = new sqs.Queue(this, 'WorkDeadLetterQueue', {
      queueName: `${prefix}-work-dlq.fifo`,
      fifo: true,
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.workQueue = new sqs.Queue(this, 'WorkQueue', {
      queueName: `${prefix}-work.fifo`,
      fifo: true,
      // The dispatcher sets MessageDeduplicationId from the change that caused the message.
      contentBasedDeduplication: false,
      // High-throughput FIFO: ordering and dedup per object key (message group), not per queue,
      // so the queue is not capped at 300 messages/s.
      deduplicationScope: sqs.DeduplicationScope.MESSAGE_GROUP,
      fifoThroughputLimit: sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
      // Lambda's guidance for SQS sources: at least six times the function timeout.
      visibilityTimeout: Duration.seconds(WORKER_TIMEOUT.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.workDeadLetterQueue, maxReceiveCount: 5 },
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    // SQS FIFO queues refuse per-message DelaySeconds, so the worker parks requeues (reconcile again
    // after N seconds) on this standard queue and forwards them into the FIFO queue when due.
    this.requeueDeadLetterQueue = new sqs.Queue(this, 'RequeueDeadLetterQueue', {
      queueName: `${prefix}-requeue-dlq`,
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.requeueQueue = new sqs.Queue(this, 'RequeueQueue', {
      queueName: `${prefix}-requeue`,
      visibilityTimeout: Duration.seconds(WORKER_TIMEOUT.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.requeueDeadLetterQueue, maxReceiveCount: 5 },
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    // Stream records the dispatcher gave up on (metadata only; Lambda requires a standard queue here).
    this.streamFailureQueue = new sqs.Queue(this, 'StreamFailureQueue', {
      queueName: `${prefix}-stream-failures`,
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });

    let adminEnv: Record<string, string>;
    if (this.key) {
      const secret = new secretsmanager.Secret(this, 'AdminToken', {
        secretName: `${prefix}/admin-token`,
        description: `stratus ${tenant}: bearer token of the cluster-admin user`,
        encryptionKey: this.key,
        generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false },
        removalPolicy: RemovalPolicy.RETAIN,
      });
      this.adminToken = secret;
      adminEnv = { ADMIN_TOKEN_SECRET_ARN: secret.secretArn, KMS_KEY_ARN: this.key.keyArn };
    } else {
      const parameter = new CfnParameter(this, ADMIN_TOKEN_PARAMETER, {
        type: 'String',
        description: `stratus ${tenant}: SHA-256 digest (hex) of the cluster-admin bearer token; \`npx stratus admin-token\` makes a token and prints its digest`,
        allowedPattern: '^[0-9a-f]{64}$',
        constraintDescription: 'a hex SHA-256 digest: 64 lowercase hex characters',
        default: props.adminTokenSha256,
      });
      this.adminToken = parameter;
      adminEnv = { ADMIN_TOKEN_SHA256: parameter.valueAsString };
    }

    const common = { STRATUS_TENANT: tenant, TABLE_NAME: this.table.tableName, NODE_OPTIONS: '--enable-source-maps' };
    const api = this.handlerFunction('api', {
      description: `stratus ${tenant}: Kubernetes API server`,
      // Watches and log streams stay open up to the function URL's streaming limit.
      timeout: Duration.minutes(15),
      memorySize: 1024,
      environment: { ...common, ...adminEnv },
    });
    const dispatcher = this.handlerFunction('dispatcher', {
      description: `stratus ${tenant}: turns table stream records into controller work`,
      timeout: Duration.minutes(1),
      memorySize: 512,
      environment: {
        ...common,
        WORK_QUEUE_URL: this.workQueue.queueUrl,
        // Only changes of resources that wake some controller (as primary or watched) are routed
        // (each message costs an SQS send).
        WORK_QUEUE_RESOURCES: wakeResources(builtinControllers).join(','),
      },
    });
    const worker = this.handlerFunction('worker', {
      description: `stratus ${tenant}: controllers and scheduler`,
      timeout: WORKER_TIMEOUT,
      memorySize: 1024,
      environment: {
        ...common,
        WORK_QUEUE_URL: this.workQueue.queueUrl,
        REQUEUE_QUEUE_URL: this.requeueQueue.queueUrl,
        ...(this.key ? { KMS_KEY_ARN: this.key.keyArn } : {}),
      },
    });
    this.functions = { api, dispatcher, worker };

    // kubectl speaks to the function URL directly. Its IAM auth (SigV4) is something kubectl cannot
    // do, so the URL is public and the API server itself rejects requests without a valid
    // Kubernetes bearer token (401), exactly as kube-apiserver does with anonymous auth off.
    // Response streaming lets watches and logs stream for up to 15 minutes.
    this.functionUrl = api.addFunctionUrl({
      authType: lambda.FunctionUrlAuthType.NONE,
      invokeMode: lambda.InvokeMode.RESPONSE_STREAM,
    });

    this.grantTableReadWrite(api);
    this.grantKeyUse(api);
    if (this.adminToken instanceof secretsmanager.Secret) {
      api.addToRolePolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [this.adminToken.secretArn] }));
    }

    dispatcher.addToRolePolicy(
      new iam.PolicyStatement({ actions: STREAM_READ_ACTIONS, resources: [this.table.tableStreamArn!] }),
    );
    // Watch mappings read the store (a store reader may fill a revision hole and records how far
    // it resolved, so it needs the store's actions); with customer-managed keys, stream records and
    // items are encrypted with the tenant key.
    this.grantTableReadWrite(dispatcher);
    this.grantKeyUse(dispatcher);
    dispatcher.addToRolePolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.workQueue.queueArn] }));
    dispatcher.addEventSourceMapping('TableStream', {
      eventSourceArn: this.table.tableStreamArn!,
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: 100,
      // The handler reports the first record it could not process; Lambda retries from there, in
      // order, instead of splitting the batch.
      bisectBatchOnError: false,
      reportBatchItemFailures: true,
      // A poison record blocks its shard, so give up after a bounded number of tries (it lands in
      // the failure queue; controllers are level-triggered and catch up on their next resync)
      // rather than stalling every key in the shard for the stream's whole 24 h retention.
      retryAttempts: 10,
      maxRecordAge: HISTORY_WINDOW,
      onFailure: new SqsDlq(this.streamFailureQueue),
    });

    this.grantTableReadWrite(worker);
    this.grantKeyUse(worker);
    // Requeues go to the delay queue; due ones are forwarded into the work queue.
    worker.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.workQueue.queueArn, this.requeueQueue.queueArn] }),
    );
    worker.addEventSource(new SqsEventSource(this.workQueue, { batchSize: 10, reportBatchItemFailures: true }));
    worker.addEventSource(new SqsEventSource(this.requeueQueue, { batchSize: 10, reportBatchItemFailures: true }));

    this.outputs(tenant);
  }

  private handlerFunction(
    name: HandlerName,
    opts: Pick<lambda.FunctionProps, 'description' | 'timeout' | 'memorySize' | 'environment'>,
  ): lambda.Function {
    const functionName = `stratus-${this.tenant}-${name}`;
    const logGroup = new logs.LogGroup(this, `${capitalize(name)}Logs`, {
      logGroupName: `/aws/lambda/${functionName}`,
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // An own role instead of the default one, which carries AWSLambdaBasicExecutionRole (logs on "*").
    const role = new iam.Role(this, `${capitalize(name)}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `stratus ${this.tenant}: ${name} function`,
    });
    role.addToPolicy(
      new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }),
    );
    const bundle = this.bundles[name];
    return new lambda.Function(this, capitalize(name), {
      functionName,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      code: lambda.Code.fromAsset(bundle.dir),
      handler: bundle.handler,
      role,
      logGroup,
      ...opts,
    });
  }

  private grantTableReadWrite(fn: lambda.Function): void {
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: TABLE_READ_WRITE_ACTIONS, resources: [this.table.tableArn] }));
  }

  /** With aws-managed keys DynamoDB uses its own key on the functions' behalf: nothing to grant. */
  private grantKeyUse(fn: lambda.Function): void {
    if (this.key) fn.addToRolePolicy(new iam.PolicyStatement({ actions: KEY_USE_ACTIONS, resources: [this.key.keyArn] }));
  }

  private outputs(tenant: string): void {
    // Function URLs end in "/"; kubeconfig servers are written without it.
    const server = `https://${Fn.select(2, Fn.split('/', this.functionUrl.url))}`;
    const cluster = `stratus-${tenant}`;
    const user = `${cluster}-admin`;
    new CfnOutput(this, 'ApiEndpoint', { value: this.functionUrl.url, description: 'Kubernetes API endpoint (function URL)' });
    new CfnOutput(this, 'ApiServer', { value: server, description: 'server for kubeconfig' });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    new CfnOutput(this, 'WorkQueueUrl', { value: this.workQueue.queueUrl });
    new CfnOutput(this, 'WorkDeadLetterQueueUrl', { value: this.workDeadLetterQueue.queueUrl });
    new CfnOutput(this, 'RequeueQueueUrl', { value: this.requeueQueue.queueUrl });
    new CfnOutput(this, 'RequeueDeadLetterQueueUrl', { value: this.requeueDeadLetterQueue.queueUrl });
    new CfnOutput(this, 'StreamFailureQueueUrl', { value: this.streamFailureQueue.queueUrl });
    let readToken: string;
    if (this.adminToken instanceof secretsmanager.Secret) {
      new CfnOutput(this, 'AdminTokenSecretArn', { value: this.adminToken.secretArn });
      readToken = `TOKEN=$(aws secretsmanager get-secret-value --region ${Aws.REGION} --secret-id ${this.adminToken.secretArn} --query SecretString --output text)`;
    } else {
      readToken = `TOKEN=$(cat ${adminTokenFile(tenant)})`;
    }
    new CfnOutput(this, 'KubeconfigCommand', {
      description: this.key
        ? 'adds a context for this tenant to your kubeconfig, using the admin token from Secrets Manager'
        : `adds a context for this tenant to your kubeconfig, using the admin token file \`npx stratus admin-token --tenant ${tenant}\` wrote`,
      value: [
        readToken,
        `kubectl config set-cluster ${cluster} --server=${server}`,
        `kubectl config set-credentials ${user} --token="$TOKEN"`,
        `kubectl config set-context ${cluster} --cluster=${cluster} --user=${user}`,
        `kubectl config use-context ${cluster}`,
      ].join(' && '),
    });
  }
}

function capitalize(s: string): string {
  return s[0].toUpperCase() + s.slice(1);
}
