// Configuration of the Lambda handlers from environment variables, the way a function is
// configured on AWS. The local runner builds the same variables and passes them explicitly.

export type Env = Readonly<Record<string, string | undefined>>;

export function requiredEnv(env: Env, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`environment variable ${name} is required`);
  return value;
}

export interface AwsClientConfig {
  region: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/**
 * Client settings for one AWS service. On AWS only the region is set and the SDK finds the
 * function's credentials itself; an endpoint override (AWS_ENDPOINT_URL_<SERVICE>, the SDK's own
 * variable name) points the client at a local emulator with the credentials from `env`.
 */
export function awsClientConfig(env: Env, service: 'DYNAMODB' | 'SQS'): AwsClientConfig {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const endpoint = env[`AWS_ENDPOINT_URL_${service}`] ?? env.AWS_ENDPOINT_URL;
  if (!endpoint) return { region };
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  const credentials = accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) } : undefined;
  return { region, endpoint, ...(credentials ? { credentials } : {}) };
}

/**
 * A value built on first use and shared by later invocations of the same execution environment.
 * A failed build is not cached, so the next invocation tries again.
 */
export function initOnce<T>(build: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= build().catch((err: unknown) => {
      pending = undefined;
      throw err;
    });
    return pending;
  };
}

/** The queue name at the end of an SQS queue URL or ARN. */
export function queueName(urlOrArn: string): string {
  return urlOrArn.slice(Math.max(urlOrArn.lastIndexOf('/'), urlOrArn.lastIndexOf(':')) + 1);
}
