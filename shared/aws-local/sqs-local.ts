// The SQS emulator for local runs and tests: fauxqs (an in-memory SQS that speaks the AWS SDK v3
// JSON protocol, FIFO queues included) listening on a loopback port only. fauxqs' own startFauxqs()
// binds every interface, so this builds its app and listens on 127.0.0.1 itself.
import { buildApp } from 'fauxqs';

export interface SqsLocal {
  /** Endpoint for SQSClient({ endpoint }). */
  endpoint: string;
  port: number;
  /** Region the emulator puts into queue ARNs and URLs when a request does not name one. */
  region: string;
  stop(): Promise<void>;
}

export interface SqsLocalOptions {
  /** Port on 127.0.0.1; 0 or absent picks a free one. */
  port?: number;
  region?: string;
}

/** Credentials the emulator accepts (it never checks them); SigV4 still needs some. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'stratuslocal', secretAccessKey: 'stratuslocal' } as const;

export async function startSqsLocal(opts: SqsLocalOptions = {}): Promise<SqsLocal> {
  const region = opts.region ?? 'us-east-1';
  const app = buildApp({ logger: false, defaultRegion: region });
  await app.listen({ port: opts.port ?? 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('fauxqs did not report a TCP address');
  let stopped = false;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    port: address.port,
    region,
    async stop() {
      if (stopped) return;
      stopped = true;
      await app.close();
    },
  };
}
