// Tenant naming shared by the CDK stack and the CLI (kept free of aws-cdk-lib so the CLI stays light).

const TENANT_NAME = /^[a-z](?:[a-z0-9-]{0,30}[a-z0-9])?$/;

/** The stack parameter holding the admin token's SHA-256 digest (aws-managed keys). */
export const ADMIN_TOKEN_PARAMETER = 'AdminTokenSha256';

export function validateTenantName(tenant: string): void {
  if (!TENANT_NAME.test(tenant)) {
    throw new Error(
      `Invalid tenant name "${tenant}": use 1-32 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen`,
    );
  }
}

/** Where `npx stratus admin-token --tenant T` keeps tenant T's admin token (relative to where it runs). */
export function adminTokenFile(tenant: string): string {
  return `stratus-${tenant}-admin.token`;
}
