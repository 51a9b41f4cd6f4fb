// /openapi/v2 (JSON or gnostic protobuf for kubectl <= 1.28) and /openapi/v3 (index plus one
// immutable, hash-addressed document per group-version).
import { Hono } from 'hono';
import type { Registry } from '../../shared/api/registry.js';
import { buildOpenApiV3 } from '../../shared/api/openapi/v3.js';
import { buildOpenApiV2 } from '../../shared/api/openapi/v2.js';
import { encodeOpenApiV2Protobuf, OPENAPI_V2_PROTOBUF_ACCEPT, OPENAPI_V2_PROTOBUF_CONTENT_TYPE } from '../../shared/api/openapi/gnostic.js';
import { errors } from '../../shared/apiserver/errors.js';

export function openApiRoutes(registry: Registry): Hono {
  const app = new Hono();
  let v3: ReturnType<typeof buildOpenApiV3> | undefined;
  let v2: { json: string; protobuf: Uint8Array; etag: string } | undefined;
  const getV3 = () => (v3 ??= buildOpenApiV3([...registry.kinds]));
  const getV2 = () => {
    if (!v2) {
      const doc = buildOpenApiV2([...registry.kinds]);
      const json = JSON.stringify(doc);
      v2 = { json, protobuf: encodeOpenApiV2Protobuf(doc), etag: `"${json.length.toString(16)}"` };
    }
    return v2;
  };

  app.get('/v2', (c) => {
    const doc = getV2();
    const accept = c.req.header('accept') ?? '';
    if (accept.includes(OPENAPI_V2_PROTOBUF_ACCEPT)) {
      return c.body(doc.protobuf as unknown as ArrayBuffer, 200, { 'Content-Type': OPENAPI_V2_PROTOBUF_CONTENT_TYPE, Etag: doc.etag });
    }
    return c.body(doc.json, 200, { 'Content-Type': 'application/json', Etag: doc.etag });
  });

  app.get('/v3', (c) => c.json(getV3().index));
  app.get('/v3/*', (c) => {
    const gv = c.req.path.replace(/^\/openapi\/v3\//, '');
    const doc = getV3().documents.get(gv);
    if (!doc) throw errors.pathNotFound();
    const hashed = c.req.query('hash') === doc.hash;
    return c.body(doc.json, 200, {
      'Content-Type': 'application/json',
      Etag: `"${doc.hash}"`,
      'Cache-Control': hashed ? 'public, immutable' : 'no-cache, private',
      ...(hashed ? { Expires: new Date(Date.now() + 365 * 24 * 3600 * 1000).toUTCString() } : {}),
    });
  });
  return app;
}
