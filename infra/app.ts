// The per-tenant CDK app. Runs either under the CDK CLI (cdk.json: `npx tsx infra/app.ts`) or on
// its own (`npm run synth -- -c tenant=NAME`), in which case it writes the cloud assembly itself.
import { relative, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { parseContextArgs, readCdkJson } from './context.js';
import { ADMIN_TOKEN_PARAMETER, adminTokenFile, TenantControlPlaneStack, type TenantKeys } from './stack.js';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const underCdkCli = process.env.CDK_OUTDIR !== undefined;

function main(): void {
  const cdkJson = readCdkJson(projectRoot);
  // Under the CLI, cdk.json and -c arrive through CDK_CONTEXT_JSON, which App reads itself.
  const context = underCdkCli ? {} : { ...cdkJson.context, ...parseContextArgs(process.argv.slice(2)) };
  const outdir = underCdkCli ? undefined : resolve(projectRoot, cdkJson.output ?? 'cdk.out');
  const app = new App({ outdir, context });

  const tenant = String(app.node.tryGetContext('tenant') ?? 'default');
  const adminTokenSha256 = app.node.tryGetContext('adminTokenSha256') as string | undefined;
  const stack = new TenantControlPlaneStack(app, `stratus-${tenant}`, {
    tenant,
    keys: (app.node.tryGetContext('keys') as TenantKeys | undefined) ?? 'aws-managed',
    adminTokenSha256,
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  const assembly = app.synth();
  if (underCdkCli) return;

  const show = (p: string) => relative(process.cwd(), p) || '.';
  const template = assembly.getStackByName(stack.stackName).templateFullPath;
  const sizes = Object.entries(stack.bundles).map(([name, b]) => `${name} ${(b.bytes / 1024).toFixed(0)} KiB`);
  process.stdout.write(
    [
      `Synthesized tenant "${tenant}" as stack ${stack.stackName}.`,
      `  template: ${show(template)}`,
      `  assembly: ${show(assembly.directory)}/ (template, asset manifest, bundled Lambda code)`,
      `  bundles:  ${sizes.join(', ')}`,
      '',
      `  keys:     ${stack.keys}${stack.keys === 'aws-managed' ? ' (AWS managed table key, admin token digest as a parameter; -c keys=customer-managed for a tenant KMS key + Secrets Manager)' : ''}`,
      '',
      'Next steps (needs the AWS CDK CLI, e.g. `npx aws-cdk@2`, and AWS credentials):',
      '  npx aws-cdk@2 bootstrap                      # once per account and region',
      ...(stack.keys === 'aws-managed' && !adminTokenSha256
        ? [
            `  npx stratus admin-token --tenant ${tenant}     # writes ${adminTokenFile(tenant)}, prints its digest`,
            `  npx aws-cdk@2 deploy --app ${show(assembly.directory)} ${stack.stackName} --parameters ${ADMIN_TOKEN_PARAMETER}=<digest>`,
          ]
        : [`  npx aws-cdk@2 deploy --app ${show(assembly.directory)} ${stack.stackName}`]),
      'Then run the stack output KubeconfigCommand to add a kubectl context for the tenant.',
      '',
    ].join('\n'),
  );
}

try {
  main();
} catch (err) {
  process.stderr.write(`synth failed: ${(err as Error).message}\n`);
  process.exit(1);
}
