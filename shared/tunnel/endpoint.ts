// Where node agents open their tunnel on the API server.
export const TUNNEL_PATH_PREFIX = '/stratus/v1/nodetunnels/';

/** The WebSocket URL of `nodeName`'s tunnel on `server` (https://host:port, or host:port). */
export function tunnelUrl(server: string, nodeName: string): string {
  const url = new URL(/^[a-z]+:\/\//i.test(server) ? server : `https://${server}`);
  url.protocol = url.protocol === 'http:' ? 'ws:' : 'wss:';
  url.pathname = `${TUNNEL_PATH_PREFIX}${encodeURIComponent(nodeName)}`;
  url.search = '';
  return url.toString();
}
