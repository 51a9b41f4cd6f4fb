// One process running the whole control plane on the embedded store: HTTPS API server with a
// generated CA, admin kubeconfig, the default namespaces, and the controllers and scheduler
// (in-process driver). Issue #5 adds a local node here.
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { resolve } from 'node:path';
import { serve } from '@hono/node-server';
import { builtinRegistry } from '../shared/api/registry.js';
import { bootstrapCluster } from '../shared/apiserver/bootstrap.js';
import { openStore } from '../shared/store/index.js';
import { createLogger, type Logger } from '../shared/apiserver/logger.js';
import { createApiServer } from '../functions/apiserver/app.js';
import { staticTokenAuthenticator } from '../functions/apiserver/auth.js';
import { NodeTunnels, type NodeDialer } from '../functions/apiserver/tunnel-registry.js';
import { builtinControllersWith, rootCaPublisher } from '../shared/controllers/index.js';
import { ControllerManager } from '../shared/controllers/runtime/manager.js';
import type { ControllerDef } from '../shared/controllers/runtime/types.js';
import { ensurePki } from './pki.js';
import { publishClusterInfo } from '../shared/apiserver/cluster-info.js';
import { ensureAdminToken, writeKubeconfig } from './kubeconfig.js';

export interface ControlPlaneOptions {
  dataDir: string;
  port: number;
  /** Address the kubeconfig and cluster-info name (default 127.0.0.1). */
  host?: string;
  /** Address to listen on (default: `host`); 0.0.0.0 lets nodes on other machines join. */
  bindAddress?: string;
  log?: Logger;
  /** Controllers and scheduler to run in this process (default: all built-in ones). */
  controllers?: readonly ControllerDef[];
  /** Heartbeat silence after which a node turns NotReady (default 50 s). */
  nodeMonitorGracePeriodMs?: number;
}

export interface ControlPlane {
  url: string;
  kubeconfig: string;
  token: string;
  caCert: string;
  /** Byte streams to node agents over their tunnels (agents connect with connectTunnel to `url`); absent on the Lambda-shaped path. */
  nodes?: NodeDialer;
  close(): Promise<void>;
}


export async function startControlPlane(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const log = opts.log ?? createLogger();
  const host = opts.host ?? '127.0.0.1';
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const pki = await ensurePki(dataDir);
  const token = ensureAdminToken(dataDir);
  const store = await openStore({ backend: 'sqlite', dataDir });
  const registry = builtinRegistry();
  const url = `https://${host}:${opts.port}`;
  const tunnels = new NodeTunnels();
  const { app, rest, namespaces, upgrade } = createApiServer({
    store,
    registry,
    log,
    serverAddress: `${host}:${opts.port}`,
    tunnels,
    authenticator: staticTokenAuthenticator({ [token]: { username: 'admin', uid: 'admin', groups: ['system:masters', 'system:authenticated'] } }),
  });

  await bootstrapCluster(rest, registry, opts.port);
  await publishClusterInfo(rest, pki.caCert, url);
  await namespaces.start();
  await namespaces.resumePending();
  // Leader election lets several processes share one store; the identity is stable per data
  // directory, so a restarted process takes its own Lease back at once instead of waiting it out.
  const identity = `${hostname()}_${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`;
  const manager = new ControllerManager({ store, registry, rest, namespaces, log, leaderElection: { identity }, controllers: opts.controllers ?? [...builtinControllersWith({ nodeMonitorGracePeriodMs: opts.nodeMonitorGracePeriodMs }), rootCaPublisher(pki.caCert)] });
  await manager.start();

  const server = await new Promise<Server>((resolveServer, reject) => {
    const s = serve(
      {
        fetch: app.fetch,
        port: opts.port,
        hostname: opts.bindAddress ?? host,
        createServer: createHttpsServer,
        serverOptions: { key: pki.key, cert: pki.cert, keepAliveTimeout: 120_000 },
      },
      () => resolveServer(s as Server),
    ) as Server;
    s.once('error', reject);
  });
  server.requestTimeout = 0; // watches and long lists are bounded by their own timeouts
  if (upgrade) server.on('upgrade', upgrade);
  const kubeconfig = writeKubeconfig(dataDir, url, pki.caCert, token);
  log.info({ url, kubeconfig, dataDir, backend: store.backend }, 'stratus control plane ready');

  return {
    url,
    kubeconfig,
    token,
    caCert: pki.caCert,
    nodes: tunnels,
    async close() {
      tunnels.closeAll();
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections?.();
      });
      await manager.stop();
      namespaces.stop();
      await store.close();
    },
  };
}

/** The objects every cluster starts with: the system namespaces and the `kubernetes` Service. Idempotent. */
