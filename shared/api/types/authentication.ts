// authentication.k8s.io/v1 TokenRequest, the body of POST serviceaccounts/<name>/token. Protobuf
// numbers follow k8s.io/api/authentication/v1/generated.proto. Not a stored kind: only the token
// subresource decodes it (kubectl 1.33 sends it as protobuf).
import { field, int64, list, ref, str, struct, time, type StructType } from '../schema/dsl.js';
import { typeMeta } from './core-reference.js';
import { ObjectMeta } from './meta.js';

const AUTHENTICATION = 'io.k8s.api.authentication.v1';

export const BoundObjectReference: StructType = struct(`${AUTHENTICATION}.BoundObjectReference`, 'The object a token is bound to; the token dies with it.', {
  kind: field(str(), 1, 'Kind of the object: Pod or Secret.'),
  apiVersion: field(str(), 2, 'API version of the object.'),
  name: field(str(), 3, 'Name of the object.'),
  uid: field(str(), 4, 'UID of the object.'),
});

export const TokenRequestSpec: StructType = struct(`${AUTHENTICATION}.TokenRequestSpec`, 'What the client asks of the token.', {
  audiences: field(list(str()), 1, 'Recipients the token is meant for; empty means the API server.'),
  expirationSeconds: field(int64(), 4, 'Requested lifetime in seconds.'),
  boundObjectRef: field(ref(() => BoundObjectReference), 3, 'Object whose deletion invalidates the token.'),
});

export const TokenRequestStatus: StructType = struct(`${AUTHENTICATION}.TokenRequestStatus`, 'The issued token.', {
  token: field(str(), 1, 'The signed token.'),
  expirationTimestamp: field(time(), 2, 'When the token stops being valid.'),
});

export const TokenRequest: StructType = struct(
  `${AUTHENTICATION}.TokenRequest`,
  'A request for a service account token.',
  {
    ...typeMeta,
    metadata: field(ref(() => ObjectMeta), 1, 'Standard object metadata.'),
    spec: field(ref(() => TokenRequestSpec), 2, 'The parameters of the token.'),
    status: field(ref(() => TokenRequestStatus), 3, 'The issued token.'),
  },
  { gvk: [{ group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' }] },
);
