// `stratus admin-token --tenant T`: make the cluster-admin bearer token of an AWS tenant deployed
// with aws-managed keys. The token stays on this machine (a 0600 file); only its SHA-256 digest
// goes to AWS, as the stack's AdminTokenSha256 parameter.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { ADMIN_TOKEN_PARAMETER, adminTokenFile, validateTenantName } from '../infra/tenant.js';

const sha256Hex = (s: string) => createHash('sha256').update(s).digest('hex');

export interface AdminToken {
  file: string;
  digest: string;
  created: boolean;
}

/** Read the tenant's token file, or write a new random token there. */
export function ensureAdminTokenFile(tenant: string, dir: string): AdminToken {
  validateTenantName(tenant);
  const file = resolve(dir, adminTokenFile(tenant));
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim();
    if (token.length < 32) throw new Error(`${file} holds no usable token (under 32 characters): remove it to make a new one`);
    return { file, digest: sha256Hex(token), created: false };
  }
  const token = randomBytes(32).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  return { file, digest: sha256Hex(token), created: true };
}

export function adminTokenCommand(): Command {
  return new Command('admin-token')
    .description('Make (or reuse) the admin token of an AWS tenant deployed with aws-managed keys and print the digest the stack takes.')
    .option('--tenant <name>', 'tenant name, as in `npm run synth -- -c tenant=NAME`', 'default')
    .option('--dir <dir>', 'where the token file is kept', process.cwd())
    .action((opts: { tenant: string; dir: string }) => {
      let result: AdminToken;
      try {
        result = ensureAdminTokenFile(opts.tenant, opts.dir);
      } catch (e) {
        process.stderr.write(`stratus admin-token: ${(e as Error).message}\n`);
        process.exit(1);
      }
      process.stdout.write(
        [
          `${result.created ? 'Wrote a new' : 'Using the existing'} admin token: ${result.file} (keep it private; it is the cluster-admin credential)`,
          `digest: ${result.digest}`,
          'Deploy with:',
          `  npx aws-cdk@2 deploy --app cdk.out stratus-${opts.tenant} --parameters ${ADMIN_TOKEN_PARAMETER}=${result.digest}`,
          `or synthesize it in: npm run synth -- -c tenant=${opts.tenant} -c adminTokenSha256=${result.digest}`,
          '',
        ].join('\n'),
      );
    });
}
