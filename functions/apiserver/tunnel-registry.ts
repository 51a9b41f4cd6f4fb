// The node tunnels currently connected to this API server, by node name. The most recent tunnel
// of a node serves its streams; an older one stays as a fallback until it closes, so two agents
// claiming one name do not knock each other off in a loop.
import type { Duplex } from 'node:stream';
import { ApiError, type Status } from '../../shared/apiserver/errors.js';
import type { TunnelSession } from '../../shared/tunnel/session.js';

export interface NodeDialer {
  /** A fresh byte stream to the node's agent (its kubelet API); 503 ApiError when it has no tunnel. */
  dial(nodeName: string): Promise<Duplex>;
  /** Whether the node has a tunnel now. */
  connected(nodeName: string): boolean;
}

export function serviceUnavailable(message: string): ApiError {
  const status: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'ServiceUnavailable', code: 503 };
  return new ApiError(status);
}

export const noTunnelError = (nodeName: string) => serviceUnavailable(`no tunnel to node "${nodeName}": its agent is not connected`);

export class NodeTunnels implements NodeDialer {
  private readonly byNode = new Map<string, TunnelSession[]>();

  /** Add `session` as the node's newest tunnel; the returned function removes it again. */
  register(nodeName: string, session: TunnelSession): () => void {
    const list = this.byNode.get(nodeName) ?? [];
    list.push(session);
    this.byNode.set(nodeName, list);
    return () => {
      const current = this.byNode.get(nodeName);
      if (!current) return;
      const rest = current.filter((s) => s !== session);
      if (rest.length) this.byNode.set(nodeName, rest);
      else this.byNode.delete(nodeName);
    };
  }

  connected(nodeName: string): boolean {
    return this.session(nodeName) !== undefined;
  }

  /** Names of the nodes with a tunnel. */
  nodes(): string[] {
    return [...this.byNode.keys()].filter((n) => this.connected(n));
  }

  async dial(nodeName: string): Promise<Duplex> {
    const session = this.session(nodeName);
    if (!session) throw noTunnelError(nodeName);
    return session.open();
  }

  /** Close every tunnel (server shutdown). */
  closeAll(reason = 'API server shutting down'): void {
    for (const list of this.byNode.values()) for (const s of list) s.close(reason, 1001);
    this.byNode.clear();
  }

  private session(nodeName: string): TunnelSession | undefined {
    const list = this.byNode.get(nodeName) ?? [];
    for (let i = list.length - 1; i >= 0; i--) if (!list[i].closed) return list[i];
    return undefined;
  }
}
