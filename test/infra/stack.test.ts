// The per-tenant CDK stack, checked on its synthesized CloudFormation template.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { pathToFileURL } from 'node:url';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wakeResources } from '../../functions/dispatcher/routing.js';
import { builtinControllers } from '../../shared/controllers/index.js';
import { bundleHandler } from '../../infra/bundle.js';
import { parseContextArgs } from '../../infra/context.js';
import {
  KEY_USE_ACTIONS,
  STREAM_READ_ACTIONS,
  TABLE_READ_WRITE_ACTIONS,
  TenantControlPlaneStack,
  WORKER_TIMEOUT,
  type HandlerName,
  type TenantControlPlaneStackProps,
} from '../../infra/stack.js';
import { TABLE_ATTRIBUTE_DEFINITIONS, TABLE_KEY_SCHEMA, TTL_ATTRIBUTE } from '../../shared/store/dynamodb/table.js';

const projectRoot = resolve(import.meta.dirname, '../..');
const execFileP = promisify(execFile);

type Json = any; // CloudFormation template fragments
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: Json;
  Condition?: Json;
}

let dir: string;
let fixture: string;
let stack: TenantControlPlaneStack;
let template: Template;
let cfn: Json;

// Most tests read the customer-managed variant (tenant KMS key + Secrets Manager), which has every
// resource the default aws-managed variant has and more; 'aws-managed keys' checks the difference.
function newStack(tenant: string, entries: Partial<Record<HandlerName, string>>, id = `stratus-${tenant}`, props: Partial<TenantControlPlaneStackProps> = { keys: 'customer-managed' }) {
  const app = new App({ outdir: join(dir, `out-${id}`) });
  return new TenantControlPlaneStack(app, id, { tenant, entries, bundleRoot: join(dir, `bundles-${id}`), ...props });
}

function writeFixture(name: string, source: string): string {
  const file = join(dir, name);
  writeFileSync(file, source);
  return file;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stratus-infra-'));
  fixture = writeFixture('handler.ts', 'export const handler = async (event: unknown) => ({ handled: event });\n');
  stack = newStack('acme', { api: fixture, dispatcher: fixture, worker: fixture });
  template = Template.fromStack(stack);
  cfn = template.toJSON();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

// ---- template helpers ----------------------------------------------------------------------

function logicalId(type: string, match: (props: Json) => boolean = () => true): string {
  const ids = Object.entries(cfn.Resources as Record<string, Json>)
    .filter(([, r]) => r.Type === type && match(r.Properties ?? {}))
    .map(([id]) => id);
  expect(ids, `exactly one ${type}`).toHaveLength(1);
  return ids[0];
}

const functionId = (name: HandlerName) =>
  logicalId('AWS::Lambda::Function', (p) => p.FunctionName === `stratus-acme-${name}`);
const queueId = (queueName: string) => logicalId('AWS::SQS::Queue', (p) => p.QueueName === queueName);
const tableId = () => logicalId('AWS::DynamoDB::Table');
const keyId = () => logicalId('AWS::KMS::Key');
const secretId = () => logicalId('AWS::SecretsManager::Secret');

function asArray<T>(v: T | T[]): T[] {
  return Array.isArray(v) ? v : [v];
}

/** All IAM policy statements attached to the function's execution role. */
function roleStatements(cfnTemplate: Json, fnId: string): Statement[] {
  const roleId = cfnTemplate.Resources[fnId].Properties.Role['Fn::GetAtt'][0];
  return Object.values(cfnTemplate.Resources as Record<string, Json>)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((ref: Json) => ref.Ref === roleId))
    .flatMap((r) => r.Properties.PolicyDocument.Statement as Statement[]);
}

/** Logical IDs a CloudFormation value refers to through Ref or Fn::GetAtt. */
function referencedIds(value: Json): string[] {
  if (value === null || typeof value !== 'object') return [];
  if (Array.isArray(value)) return value.flatMap(referencedIds);
  if ('Ref' in value) return [value.Ref];
  if ('Fn::GetAtt' in value) return [value['Fn::GetAtt'][0]];
  return Object.values(value).flatMap(referencedIds);
}

/** Actions of a role grouped by the resources they apply to (as referenced logical IDs). */
function actionsOn(statements: Statement[], service: string): { actions: string[]; resources: string[] }[] {
  return statements
    .filter((s) => asArray(s.Action).some((a) => a.startsWith(`${service}:`)))
    .map((s) => ({ actions: asArray(s.Action), resources: asArray(s.Resource).flatMap(referencedIds) }));
}

function allActions(statements: Statement[], service: string): string[] {
  return [...new Set(actionsOn(statements, service).flatMap((s) => s.actions))].sort();
}

const DATA_SERVICES = ['dynamodb', 'sqs', 'kms', 'secretsmanager'];

/** Every statement in every AWS::IAM::Policy that grants a data action too broadly. */
function dataPermissionViolations(cfnTemplate: Json): string[] {
  const ownIds = new Set(Object.keys(cfnTemplate.Resources));
  const violations: string[] = [];
  for (const [id, r] of Object.entries(cfnTemplate.Resources as Record<string, Json>)) {
    if (r.Type !== 'AWS::IAM::Policy') continue;
    for (const s of r.Properties.PolicyDocument.Statement as Statement[]) {
      const actions = asArray(s.Action);
      const dataActions = actions.filter((a) => a === '*' || DATA_SERVICES.includes(a.split(':')[0]));
      if (dataActions.length === 0) continue;
      for (const a of dataActions) if (a.includes('*')) violations.push(`${id}: wildcard action ${a}`);
      for (const res of asArray(s.Resource)) {
        if (typeof res === 'string') {
          violations.push(`${id}: literal resource ${res} for ${dataActions.join(',')}`);
        } else if (!referencedIds(res).some((ref) => ownIds.has(ref))) {
          violations.push(`${id}: resource ${JSON.stringify(res)} is not one of this stack's resources`);
        }
      }
    }
  }
  return violations;
}

/** An output's value with references written as <LogicalId> / <LogicalId.Attr>. */
function render(value: Json): string {
  if (typeof value === 'string') return value;
  if ('Ref' in value) return `<${value.Ref}>`;
  if ('Fn::GetAtt' in value) return `<${value['Fn::GetAtt'].join('.')}>`;
  if ('Fn::Join' in value) return value['Fn::Join'][1].map(render).join(value['Fn::Join'][0]);
  if ('Fn::Select' in value) {
    const [index, list] = value['Fn::Select'];
    return `<select ${index} of ${render(list['Fn::Split'][1])} split by ${list['Fn::Split'][0]}>`;
  }
  throw new Error(`cannot render ${JSON.stringify(value)}`);
}

// ---- the tests -----------------------------------------------------------------------------

describe('DynamoDB table', () => {
  it('uses the key schema, attribute definitions and TTL attribute the store defines', () => {
    const props = cfn.Resources[tableId()].Properties;
    expect(props.KeySchema).toEqual(TABLE_KEY_SCHEMA);
    expect([...props.AttributeDefinitions].sort((a, b) => a.AttributeName.localeCompare(b.AttributeName))).toEqual(
      [...TABLE_ATTRIBUTE_DEFINITIONS].sort((a, b) => a.AttributeName!.localeCompare(b.AttributeName!)),
    );
    expect(props.TimeToLiveSpecification).toEqual({ AttributeName: TTL_ATTRIBUTE, Enabled: true });
  });

  it('is on-demand with a NEW_AND_OLD_IMAGES stream, PITR, deletion protection and the tenant key', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        TableName: 'stratus-acme',
        BillingMode: 'PAY_PER_REQUEST',
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [keyId(), 'Arn'] } },
      }),
    });
  });
});

describe('KMS key and admin token', () => {
  it('the tenant key rotates and is retained', () => {
    template.hasResource('AWS::KMS::Key', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ EnableKeyRotation: true }),
    });
    template.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/stratus-acme' });
  });

  it('the admin token is a generated secret encrypted with the tenant key', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'stratus-acme/admin-token',
      KmsKeyId: { 'Fn::GetAtt': [keyId(), 'Arn'] },
      GenerateSecretString: Match.objectLike({ PasswordLength: 48, ExcludePunctuation: true }),
    });
  });
});

describe('Lambda functions', () => {
  it('all three run Node.js 22 or later on arm64 from an esbuild bundle', () => {
    for (const name of ['api', 'dispatcher', 'worker'] as const) {
      const props = cfn.Resources[functionId(name)].Properties;
      expect(props.Runtime).toMatch(/^nodejs(2[2-9]|[3-9]\d)\.x$/);
      expect(props.Architectures).toEqual(['arm64']);
      expect(props.Handler).toBe('index.handler');
      expect(props.Environment.Variables).toMatchObject({
        NODE_OPTIONS: '--enable-source-maps',
        STRATUS_TENANT: 'acme',
        TABLE_NAME: { Ref: tableId() },
      });
    }
  });

  it('the bundle is an ESM file with a createRequire banner that runs', async () => {
    const index = join(stack.bundles.api.dir, 'index.mjs');
    expect(readFileSync(index, 'utf8')).toMatch(/^import\{createRequire as __stratusCreateRequire\}|^import \{ createRequire as __stratusCreateRequire \}/);
    expect(existsSync(`${index}.map`)).toBe(true);
    const mod = await import(pathToFileURL(index).href);
    await expect(mod.handler({ ping: 1 })).resolves.toEqual({ handled: { ping: 1 } });
  });

  it('bundled CommonJS code can require Node built-ins through the banner', async () => {
    mkdirSync(join(dir, 'cjs'), { recursive: true });
    writeFileSync(join(dir, 'cjs', 'dep.cjs'), "const os = require('node:os');\nmodule.exports = () => os.EOL.length;\n");
    const entry = writeFixture('cjs/handler.ts', "import eol from './dep.cjs';\nexport const handler = async () => eol();\n");
    const bundle = bundleHandler({ entry, outDir: join(dir, 'cjs-bundle') });
    const mod = await import(pathToFileURL(join(bundle.dir, 'index.mjs')).href);
    await expect(mod.handler()).resolves.toBe(1);
  });

  it('the API function has 1024 MB, 15 minutes, the admin token ARN and the key', () => {
    const props = cfn.Resources[functionId('api')].Properties;
    expect(props.MemorySize).toBe(1024);
    expect(props.Timeout).toBe(900);
    expect(props.Environment.Variables.ADMIN_TOKEN_SECRET_ARN).toEqual({ Ref: secretId() });
    expect(props.Environment.Variables.KMS_KEY_ARN).toEqual({ 'Fn::GetAtt': [keyId(), 'Arn'] });
  });

  it('the dispatcher and worker know their queues; the dispatcher forwards only what controllers watch', () => {
    const url = { Ref: queueId('stratus-acme-work.fifo') };
    const dispatcherEnv = cfn.Resources[functionId('dispatcher')].Properties.Environment.Variables;
    expect(dispatcherEnv.WORK_QUEUE_URL).toEqual(url);
    expect(dispatcherEnv.WORK_QUEUE_RESOURCES).toBe(wakeResources(builtinControllers).join(','));
    // Watch mappings read the store.
    expect(dispatcherEnv.TABLE_NAME).toEqual({ Ref: tableId() });
    expect(dispatcherEnv.WORK_QUEUE_RESOURCES).not.toBe('');
    const workerEnv = cfn.Resources[functionId('worker')].Properties.Environment.Variables;
    expect(workerEnv.WORK_QUEUE_URL).toEqual(url);
    expect(workerEnv.REQUEUE_QUEUE_URL).toEqual({ Ref: queueId('stratus-acme-requeue') });
  });

  it('the API is served by a public function URL with response streaming', () => {
    template.resourceCountIs('AWS::Lambda::Url', 1);
    template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'NONE',
      InvokeMode: 'RESPONSE_STREAM',
      TargetFunctionArn: { 'Fn::GetAtt': [functionId('api'), 'Arn'] },
    });
  });

  it('each function logs to its own log group with a retention', () => {
    for (const name of ['api', 'dispatcher', 'worker'] as const) {
      const groupRef = cfn.Resources[functionId(name)].Properties.LoggingConfig.LogGroup;
      const group = cfn.Resources[groupRef.Ref];
      expect(group.Type).toBe('AWS::Logs::LogGroup');
      expect(group.Properties).toMatchObject({ LogGroupName: `/aws/lambda/stratus-acme-${name}`, RetentionInDays: 30 });
    }
  });
});

describe('event source mappings', () => {
  it('the table stream feeds the dispatcher with partial batch failures and a failure queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [tableId(), 'StreamArn'] },
      FunctionName: { Ref: functionId('dispatcher') },
      StartingPosition: 'TRIM_HORIZON',
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: false,
      MaximumRetryAttempts: Match.anyValue(),
      MaximumRecordAgeInSeconds: 86400,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [queueId('stratus-acme-stream-failures'), 'Arn'] } },
      },
    });
  });

  it('the work queue feeds the worker in batches of 10 with partial batch failures', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queueId('stratus-acme-work.fifo'), 'Arn'] },
      FunctionName: { Ref: functionId('worker') },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('the requeue delay queue feeds the worker too', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queueId('stratus-acme-requeue'), 'Arn'] },
      FunctionName: { Ref: functionId('worker') },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 3);
  });

  it('each mapping is created after its function role may read the source', () => {
    for (const name of ['dispatcher', 'worker'] as const) {
      const fn = cfn.Resources[functionId(name)];
      const roleId = fn.Properties.Role['Fn::GetAtt'][0];
      const policyIds = Object.entries(cfn.Resources as Record<string, Json>)
        .filter(([, r]) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((x: Json) => x.Ref === roleId))
        .map(([id]) => id);
      expect(policyIds.length).toBeGreaterThan(0);
      expect(fn.DependsOn).toEqual(expect.arrayContaining(policyIds));
    }
  });
});

describe('SQS queues', () => {
  it('the work queue is FIFO without content-based dedup, redriving to a FIFO DLQ after 5 receives', () => {
    const dlq = queueId('stratus-acme-work-dlq.fifo');
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'stratus-acme-work.fifo',
      FifoQueue: true,
      ContentBasedDeduplication: false,
      DeduplicationScope: 'messageGroup',
      FifoThroughputLimit: 'perMessageGroupId',
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] }, maxReceiveCount: 5 },
    });
    expect(cfn.Resources[dlq].Properties.FifoQueue).toBe(true);
  });

  it('requeues wait on a standard queue (FIFO refuses per-message delays) with its own dead-letter queue', () => {
    const dlq = queueId('stratus-acme-requeue-dlq');
    const props = cfn.Resources[queueId('stratus-acme-requeue')].Properties;
    expect(props.FifoQueue).toBeUndefined();
    expect(props.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] }, maxReceiveCount: 5 });
  });

  it("the worker's queues have a visibility timeout of at least six worker timeouts", () => {
    const workerTimeout = cfn.Resources[functionId('worker')].Properties.Timeout;
    expect(workerTimeout).toBe(WORKER_TIMEOUT.toSeconds());
    for (const name of ['stratus-acme-work.fifo', 'stratus-acme-requeue']) {
      expect(cfn.Resources[queueId(name)].Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * workerTimeout);
    }
  });

  it('queues are encrypted and refuse plain HTTP', () => {
    const names = ['work.fifo', 'work-dlq.fifo', 'requeue', 'requeue-dlq', 'stream-failures'].map((n) => `stratus-acme-${n}`);
    for (const name of names) expect(cfn.Resources[queueId(name)].Properties.SqsManagedSseEnabled).toBe(true);
    template.resourceCountIs('AWS::SQS::Queue', names.length);
    for (const policy of Object.values(cfn.Resources as Record<string, Json>).filter((r) => r.Type === 'AWS::SQS::QueuePolicy')) {
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    }
    template.resourceCountIs('AWS::SQS::QueuePolicy', names.length);
  });
});

describe('IAM', () => {
  it('the API role reads and writes only this table, uses only the tenant key and reads only the admin token', () => {
    const statements = roleStatements(cfn, functionId('api'));
    expect(actionsOn(statements, 'dynamodb')).toEqual([{ actions: TABLE_READ_WRITE_ACTIONS, resources: [tableId()] }]);
    expect(actionsOn(statements, 'kms')).toEqual([{ actions: KEY_USE_ACTIONS, resources: [keyId()] }]);
    expect(actionsOn(statements, 'secretsmanager')).toEqual([
      { actions: ['secretsmanager:GetSecretValue'], resources: [secretId()] },
    ]);
    expect(actionsOn(statements, 'sqs')).toEqual([]);
  });

  it('the table actions granted are exactly those the DynamoDB store issues', () => {
    // Scans the store's sources for the commands it sends; transaction parts are authorised as
    // their single-item actions. table.ts (ensureTable) is excluded: CloudFormation owns the table.
    const dir = join(projectRoot, 'shared', 'store', 'dynamodb');
    const transactionPart: Record<string, string> = { Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', ConditionCheck: 'ConditionCheckItem' };
    const used = new Set<string>();
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'table.ts')) {
      const source = readFileSync(join(dir, file), 'utf8');
      for (const [, command] of source.matchAll(/new (\w+)Command\(/g)) {
        if (command === 'TransactGetItems') used.add('dynamodb:GetItem');
        else if (command !== 'TransactWriteItems') used.add(`dynamodb:${command}`);
      }
      for (const [, part] of source.matchAll(/\b(Put|Update|Delete|ConditionCheck): \{/g)) used.add(`dynamodb:${transactionPart[part]}`);
    }
    expect(used.size).toBeGreaterThan(0);
    expect([...TABLE_READ_WRITE_ACTIONS].sort()).toEqual([...used].sort());
  });

  it('the dispatcher reads the stream and this table (watch mappings) and sends to the work queue', () => {
    const statements = roleStatements(cfn, functionId('dispatcher'));
    expect(allActions(statements, 'dynamodb')).toEqual([...new Set([...STREAM_READ_ACTIONS, ...TABLE_READ_WRITE_ACTIONS])].sort());
    for (const s of actionsOn(statements, 'dynamodb')) expect(s.resources).toEqual([tableId()]);
    expect(actionsOn(statements, 'dynamodb')).toContainEqual({ actions: TABLE_READ_WRITE_ACTIONS, resources: [tableId()] });
    const streamStatement = statements.find((s) => asArray(s.Action).includes('dynamodb:GetRecords'))!;
    expect(streamStatement.Resource).toEqual({ 'Fn::GetAtt': [tableId(), 'StreamArn'] });
    expect(allActions(statements, 'sqs')).toEqual(['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage']);
    const queues = new Set(actionsOn(statements, 'sqs').flatMap((s) => s.resources));
    expect(queues).toEqual(new Set([queueId('stratus-acme-work.fifo'), queueId('stratus-acme-stream-failures')]));
    expect(actionsOn(statements, 'kms')).toEqual([{ actions: KEY_USE_ACTIONS, resources: [keyId()] }]);
    expect(actionsOn(statements, 'secretsmanager')).toEqual([]);
  });

  it('the worker reads and writes this table and consumes and sends only on its work and requeue queues', () => {
    const statements = roleStatements(cfn, functionId('worker'));
    expect(actionsOn(statements, 'dynamodb')).toEqual([{ actions: TABLE_READ_WRITE_ACTIONS, resources: [tableId()] }]);
    expect(allActions(statements, 'sqs')).toEqual(
      ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage', 'sqs:SendMessage'],
    );
    const own = [queueId('stratus-acme-work.fifo'), queueId('stratus-acme-requeue')];
    for (const s of actionsOn(statements, 'sqs')) for (const r of s.resources) expect(own).toContain(r);
    const receivers = actionsOn(statements, 'sqs').filter((s) => s.actions.includes('sqs:ReceiveMessage'));
    expect(new Set(receivers.flatMap((s) => s.resources))).toEqual(new Set(own));
    const senders = actionsOn(statements, 'sqs').filter((s) => s.actions.includes('sqs:SendMessage'));
    expect(new Set(senders.flatMap((s) => s.resources))).toEqual(new Set(own));
    expect(actionsOn(statements, 'kms')).toEqual([{ actions: KEY_USE_ACTIONS, resources: [keyId()] }]);
    expect(actionsOn(statements, 'secretsmanager')).toEqual([]);
  });

  it('roles carry no managed policies and may only write to their own log group', () => {
    for (const name of ['api', 'dispatcher', 'worker'] as const) {
      const fn = cfn.Resources[functionId(name)];
      const role = cfn.Resources[fn.Properties.Role['Fn::GetAtt'][0]];
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      const logs = actionsOn(roleStatements(cfn, functionId(name)), 'logs');
      expect(logs).toEqual([{ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [fn.Properties.LoggingConfig.LogGroup.Ref] }]);
    }
  });

  it('no policy statement anywhere grants a wildcard data action or a data action on "*"', () => {
    const policies = Object.values(cfn.Resources as Record<string, Json>).filter((r) => r.Type === 'AWS::IAM::Policy');
    expect(policies.length).toBeGreaterThanOrEqual(3);
    expect(dataPermissionViolations(cfn)).toEqual([]);
  });

  it('the wildcard check catches broad statements', () => {
    const broken = structuredClone(cfn);
    const policy = Object.values(broken.Resources as Record<string, Json>).find((r) => r.Type === 'AWS::IAM::Policy');
    policy.Properties.PolicyDocument.Statement.push(
      { Effect: 'Allow', Action: 'dynamodb:*', Resource: { 'Fn::GetAtt': [tableId(), 'Arn'] } },
      { Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: '*' },
      { Effect: 'Allow', Action: 'kms:Decrypt', Resource: 'arn:aws:kms:us-east-1:111122223333:key/other' },
    );
    expect(dataPermissionViolations(broken)).toHaveLength(3);
  });
});

describe('outputs', () => {
  it('include the endpoint, the table, the queues and the admin token', () => {
    const outputs = cfn.Outputs as Record<string, Json>;
    expect(outputs.ApiEndpoint.Value).toEqual({ 'Fn::GetAtt': [logicalId('AWS::Lambda::Url'), 'FunctionUrl'] });
    expect(outputs.TableName.Value).toEqual({ Ref: tableId() });
    expect(outputs.WorkQueueUrl.Value).toEqual({ Ref: queueId('stratus-acme-work.fifo') });
    expect(outputs.WorkDeadLetterQueueUrl.Value).toEqual({ Ref: queueId('stratus-acme-work-dlq.fifo') });
    expect(outputs.RequeueQueueUrl.Value).toEqual({ Ref: queueId('stratus-acme-requeue') });
    expect(outputs.RequeueDeadLetterQueueUrl.Value).toEqual({ Ref: queueId('stratus-acme-requeue-dlq') });
    expect(outputs.StreamFailureQueueUrl.Value).toEqual({ Ref: queueId('stratus-acme-stream-failures') });
    expect(outputs.AdminTokenSecretArn.Value).toEqual({ Ref: secretId() });
  });

  it('KubeconfigCommand reads the token from Secrets Manager and points kubectl at the function URL', () => {
    const url = logicalId('AWS::Lambda::Url');
    const command = render(cfn.Outputs.KubeconfigCommand.Value);
    const server = `https://<select 2 of <${url}.FunctionUrl> split by />`;
    expect(command).toBe(
      [
        `TOKEN=$(aws secretsmanager get-secret-value --region <AWS::Region> --secret-id <${secretId()}> --query SecretString --output text)`,
        `kubectl config set-cluster stratus-acme --server=${server}`,
        'kubectl config set-credentials stratus-acme-admin --token="$TOKEN"',
        'kubectl config set-context stratus-acme --cluster=stratus-acme --user=stratus-acme-admin',
        'kubectl config use-context stratus-acme',
      ].join(' && '),
    );
    expect(render(cfn.Outputs.ApiServer.Value)).toBe(server);
  });
});

describe('aws-managed keys (the default): no monthly key or secret fee', () => {
  const DIGEST = 'a'.repeat(64);
  let plain: Json;
  beforeAll(() => {
    plain = Template.fromStack(newStack('acme', { api: fixture, dispatcher: fixture, worker: fixture }, 'stratus-acme-plain', {})).toJSON();
  });
  const resourcesOf = (type: string) => Object.entries(plain.Resources as Record<string, Json>).filter(([, r]) => r.Type === type);
  const plainFunction = (name: HandlerName) => resourcesOf('AWS::Lambda::Function').find(([, r]) => r.Properties.FunctionName === `stratus-acme-${name}`)!;

  it('has no KMS key and no Secrets Manager secret; the table uses the AWS managed key', () => {
    expect(resourcesOf('AWS::KMS::Key')).toEqual([]);
    expect(resourcesOf('AWS::SecretsManager::Secret')).toEqual([]);
    const [[, table]] = resourcesOf('AWS::DynamoDB::Table');
    // SSEEnabled without a key id is KMS encryption with the AWS managed key aws/dynamodb.
    expect(table.Properties.SSESpecification).toEqual({ SSEEnabled: true });
  });

  it('takes the admin token digest as a validated parameter and hands only the digest to the API', () => {
    expect(plain.Parameters.AdminTokenSha256).toMatchObject({ Type: 'String', AllowedPattern: '^[0-9a-f]{64}$' });
    const env = plainFunction('api')[1].Properties.Environment.Variables;
    expect(env.ADMIN_TOKEN_SHA256).toEqual({ Ref: 'AdminTokenSha256' });
    expect(env.ADMIN_TOKEN_SECRET_ARN).toBeUndefined();
    expect(env.KMS_KEY_ARN).toBeUndefined();
    const withDefault = Template.fromStack(newStack('acme', { api: fixture, dispatcher: fixture, worker: fixture }, 'stratus-acme-digest', { adminTokenSha256: DIGEST })).toJSON();
    expect(withDefault.Parameters.AdminTokenSha256.Default).toBe(DIGEST);
  });

  it('refuses a digest that is not 64 hex characters and an unknown key mode', () => {
    expect(() => newStack('acme', { api: fixture, dispatcher: fixture, worker: fixture }, 'stratus-acme-bad', { adminTokenSha256: 'abc' })).toThrow(/hex SHA-256 digest/);
    expect(() => newStack('acme', { api: fixture, dispatcher: fixture, worker: fixture }, 'stratus-acme-bad2', { keys: 'mine' as never })).toThrow(/aws-managed/);
  });

  it('grants no KMS or Secrets Manager actions and still no wildcard data permissions', () => {
    for (const name of ['api', 'dispatcher', 'worker'] as const) {
      const statements = roleStatements(plain, plainFunction(name)[0]);
      expect(actionsOn(statements, 'kms')).toEqual([]);
      expect(actionsOn(statements, 'secretsmanager')).toEqual([]);
    }
    expect(dataPermissionViolations(plain)).toEqual([]);
  });

  it('KubeconfigCommand reads the token from the file `stratus admin-token` wrote', () => {
    expect(plain.Outputs.AdminTokenSecretArn).toBeUndefined();
    expect(render(plain.Outputs.KubeconfigCommand.Value)).toMatch(/^TOKEN=\$\(cat stratus-acme-admin\.token\) && kubectl config set-cluster stratus-acme --server=https:/);
  });
});

describe('tenant', () => {
  it('prefixes every physical name and tags every taggable resource', () => {
    for (const name of ['api', 'dispatcher', 'worker'] as const) functionId(name);
    for (const [id, r] of Object.entries(cfn.Resources as Record<string, Json>)) {
      const name = r.Properties?.TableName ?? r.Properties?.QueueName ?? r.Properties?.FunctionName ?? r.Properties?.Name;
      if (typeof name === 'string') expect(name, id).toMatch(/^stratus-acme[-/]|^stratus-acme$/);
      const tags = r.Properties?.Tags;
      if (Array.isArray(tags)) expect(tags, id).toContainEqual({ Key: 'stratus:tenant', Value: 'acme' });
    }
    for (const type of ['AWS::DynamoDB::Table', 'AWS::SQS::Queue', 'AWS::Lambda::Function', 'AWS::KMS::Key', 'AWS::SecretsManager::Secret']) {
      template.hasResourceProperties(type, { Tags: Match.arrayWith([{ Key: 'stratus:tenant', Value: 'acme' }]) });
    }
  });

  it('two tenants get disjoint names', () => {
    const other = Template.fromStack(newStack('beta', { api: fixture, dispatcher: fixture, worker: fixture })).toJSON();
    const names = (t: Json) =>
      Object.values(t.Resources as Record<string, Json>).flatMap((r) =>
        [r.Properties?.TableName, r.Properties?.QueueName, r.Properties?.FunctionName].filter((n) => typeof n === 'string'),
      );
    const acme = new Set(names(cfn));
    expect(names(other).length).toBe(acme.size);
    for (const n of names(other)) expect(acme.has(n)).toBe(false);
  });

  it('rejects tenant names that cannot be used in resource names', () => {
    for (const bad of ['Acme', 'a_b', '-x', 'x-', 'a'.repeat(33), '']) {
      expect(() => newStack(bad, { api: fixture, dispatcher: fixture, worker: fixture }, `bad-${bad.length}`)).toThrow(/Invalid tenant name/);
    }
  });
});

describe('synth failures', () => {
  it('a missing handler source fails synth with its path', () => {
    const missing = join(dir, 'functions', 'nowhere', 'lambda.ts');
    expect(() => newStack('missing', { api: missing, dispatcher: fixture, worker: fixture })).toThrow(
      `Lambda handler source not found: ${missing}`,
    );
  });

  it('a handler source without a `handler` export fails synth', () => {
    const noExport = writeFixture('no-export.ts', 'export const main = async () => 1;\n');
    expect(() => newStack('noexport', { api: fixture, dispatcher: noExport, worker: fixture })).toThrow(
      /does not export `handler`/,
    );
  });
});

describe('the app', () => {
  it('parses -c / --context key=value arguments and rejects others', () => {
    expect(parseContextArgs(['-c', 'tenant=acme'])).toEqual({ tenant: 'acme' });
    expect(parseContextArgs(['--context', 'tenant=a', '--context=x=y=z'])).toEqual({ tenant: 'a', x: 'y=z' });
    expect(() => parseContextArgs(['-c'])).toThrow(/needs a key=value/);
    expect(() => parseContextArgs(['-c', 'tenant'])).toThrow(/not key=value/);
    expect(() => parseContextArgs(['--tenant', 'x'])).toThrow(/unexpected argument/);
  });

  it('synthesizes the real handlers under the CDK CLI contract (CDK_OUTDIR, CDK_CONTEXT_JSON)', async () => {
    const outdir = join(dir, 'cli-out');
    await execFileP(join(projectRoot, 'node_modules', '.bin', 'tsx'), ['infra/app.ts'], {
      cwd: projectRoot,
      env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify({ tenant: 'ci-synth' }) },
    }).catch((err) => {
      throw new Error(`synth failed: ${String(err.stderr).slice(-1500)}`);
    });
    const files = readdirSync(outdir);
    expect(files).toContain('stratus-ci-synth.template.json');
    expect(files).toContain('manifest.json');
    const synthesized = JSON.parse(readFileSync(join(outdir, 'stratus-ci-synth.template.json'), 'utf8'));
    expect(dataPermissionViolations(synthesized)).toEqual([]);
    const assets = files.filter((f) => f.startsWith('asset.'));
    expect(assets).toHaveLength(3);
    for (const a of assets) expect(readdirSync(join(outdir, a)).sort()).toEqual(['index.mjs', 'index.mjs.map']);

    // Each real bundle initializes in Node and exports a handler function, as Lambda's init needs.
    // The runtime defines the `awslambda` global (response streaming) before loading a handler, so
    // the check does too. Bundles sit under the project, so the external @aws-sdk/* resolve as the
    // runtime's own copies would.
    const runtimeGlobal =
      'globalThis.awslambda = { streamifyResponse: (h) => h, HttpResponseStream: { from: (s) => s } };';
    for (const name of ['api', 'dispatcher', 'worker']) {
      const bundle = join(projectRoot, '.tmp', 'lambda-bundles', 'ci-synth', name, 'index.mjs');
      const script = `${runtimeGlobal} const m = await import(${JSON.stringify(pathToFileURL(bundle).href)}); process.stdout.write(typeof m.handler);`;
      const { stdout } = await execFileP(process.execPath, ['--input-type=module', '-e', script]).catch((err) => {
        throw new Error(`${name} bundle failed to load: ${String(err.stderr).slice(-600)}`);
      });
      expect(stdout, name).toBe('function');
    }
  });
});
