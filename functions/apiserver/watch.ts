// Watch responses: a chunked stream of JSON lines {"type":...,"object":...}, headers flushed at
// once; Tables for `kubectl get -w`; BOOKMARKs when asked for; an ERROR event (410 Expired)
// when the requested revision is gone.
import type { Context } from 'hono';
import type { KubeObject } from '../../shared/api/kind.js';
import { errors, type Status } from '../../shared/apiserver/errors.js';
import { negotiate } from '../../shared/apiserver/media.js';
import { apiVersion, type RestStorage, type Scope } from '../../shared/apiserver/rest.js';
import { parseIncludeObject, partialMetadata, table } from '../../shared/apiserver/table.js';

/** A slow reader that falls this far behind is disconnected (it will relist), as kube-apiserver does. */
const MAX_BUFFERED_BYTES = 32 * 1024 * 1024;
const BOOKMARK_INTERVAL_MS = 5_000;

export async function serveWatch(c: Context, rest: RestStorage, scope: Scope): Promise<Response> {
  const form = negotiate(c.req.header('accept'));
  const include = parseIncludeObject(c.req.query('includeObject'));
  const timeoutRaw = c.req.query('timeoutSeconds');
  const timeoutSeconds = timeoutRaw === undefined ? 1800 + Math.floor(Math.random() * 1800) : Number(timeoutRaw);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds < 0) throw errors.badRequest(`invalid timeoutSeconds: ${timeoutRaw}`);
  const def = scope.def;
  const encoder = new TextEncoder();

  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let closed = false;
  let stop: () => void = () => {};
  let timer: NodeJS.Timeout | undefined;
  let columnsSent = false;
  let lastRv = '';
  let lastBookmark = 0;

  const finish = () => {
    if (closed) return;
    closed = true;
    if (timer) clearTimeout(timer);
    stop();
    try {
      controller.close();
    } catch {
      /* already closed by the client */
    }
  };
  const write = (line: string) => {
    if (closed) return;
    controller.enqueue(encoder.encode(line));
    if ((controller.desiredSize ?? 0) < -MAX_BUFFERED_BYTES) finish();
  };
  const render = (obj: KubeObject): unknown => {
    if (form === 'table') {
      const t = table(def, [obj], { include, withColumns: !columnsSent, resourceVersion: obj.metadata.resourceVersion });
      columnsSent = true;
      return t;
    }
    if (form === 'partial') return partialMetadata(obj);
    return obj;
  };

  const stream = new ReadableStream<Uint8Array>(
    {
      start(ctrl) {
        controller = ctrl;
      },
      cancel() {
        finish();
      },
    },
    { highWaterMark: 0 },
  );

  stop = await rest.watch(
    scope,
    {
      resourceVersion: c.req.query('resourceVersion'),
      labelSelector: c.req.query('labelSelector'),
      fieldSelector: c.req.query('fieldSelector'),
      allowWatchBookmarks: c.req.query('allowWatchBookmarks') === 'true',
    },
    {
      event(type, obj) {
        lastRv = obj.metadata.resourceVersion ?? lastRv;
        write(`{"type":"${type}","object":${JSON.stringify(render(obj))}}\n`);
      },
      bookmark(rev) {
        const now = Date.now();
        if (now - lastBookmark < BOOKMARK_INTERVAL_MS || String(rev) === lastRv) return;
        lastBookmark = now;
        lastRv = String(rev);
        const object = { kind: def.kind, apiVersion: apiVersion(def), metadata: { resourceVersion: String(rev) } };
        write(`{"type":"BOOKMARK","object":${JSON.stringify(object)}}\n`);
      },
      error(status: Status) {
        write(`{"type":"ERROR","object":${JSON.stringify(status)}}\n`);
        finish();
      },
    },
  );
  if (closed) stop();
  timer = setTimeout(finish, timeoutSeconds * 1000);
  c.req.raw.signal?.addEventListener?.('abort', finish);

  return new Response(stream, {
    status: 200,
    headers: { 'Content-Type': form === 'yaml' ? 'application/json' : 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' },
  });
}
