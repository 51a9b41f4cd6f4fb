import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { ProtobufDecodeError, decodeKubernetesProtobuf } from '../../../shared/api/protobuf/decode.js';
import {
  any,
  bool,
  bytes,
  double,
  field,
  int32,
  int64,
  intOrString,
  list,
  map,
  microTime,
  quantity,
  ref,
  str,
  struct,
  time,
  type StructType,
} from '../../../shared/api/schema/dsl.js';
import { LabelSelector, ObjectMeta } from '../../../shared/api/types/meta.js';

// ---- a tiny protobuf writer for hand-made messages ----------------------------------------------

type Part =
  | { n: number; s: string }
  | { n: number; b: Uint8Array }
  | { n: number; v: number }
  | { n: number; big: string }
  | { n: number; d: number }
  | { n: number; f32: number }
  | { n: number; f64: number };

function message(parts: Part[]): Uint8Array {
  const w = protobuf.Writer.create();
  for (const p of parts) {
    if ('s' in p) w.uint32((p.n << 3) | 2).string(p.s);
    else if ('b' in p) w.uint32((p.n << 3) | 2).bytes(p.b);
    else if ('v' in p) w.uint32(p.n << 3).int64(p.v);
    else if ('big' in p) w.uint32(p.n << 3).int64(p.big);
    else if ('d' in p) w.uint32((p.n << 3) | 1).double(p.d);
    else if ('f32' in p) w.uint32((p.n << 3) | 5).fixed32(p.f32);
    else w.uint32((p.n << 3) | 1).fixed64(p.f64);
  }
  return w.finish();
}
const s = (n: number, value: string): Part => ({ n, s: value });
const m = (n: number, parts: Part[]): Part => ({ n, b: message(parts) });
const v = (n: number, value: number): Part => ({ n, v: value });
const entry = (n: number, key: string, value: Part[]): Part => m(n, [s(1, key), ...value]);

/** k8s\0 + runtime.Unknown{typeMeta, raw}. */
function envelope(apiVersion: string, kind: string, raw: Uint8Array, extra: Part[] = []): Uint8Array {
  const unknown = message([m(1, [s(1, apiVersion), s(2, kind)]), { n: 2, b: raw }, ...extra]);
  return new Uint8Array([0x6b, 0x38, 0x73, 0x00, ...unknown]);
}

/** What gogo writes for an ObjectMeta with only name/labels set: every non-pointer field, zero or not. */
function wireObjectMeta(name: string, labels: Record<string, string> = {}): Part[] {
  return [
    s(1, name),
    s(2, ''),
    s(3, ''),
    s(4, ''),
    s(5, ''),
    s(6, ''),
    v(7, 0),
    m(8, []),
    ...Object.entries(labels).map(([k, val]) => entry(11, k, [s(2, val)])),
  ];
}

const typeMeta = { apiVersion: field(str(), undefined, 'Version.'), kind: field(str(), undefined, 'Kind.') };

// ---- schemas (small stand-ins for the real ones) -------------------------------------------------

const ResourceAttributes = struct('t.ResourceAttributes', 'Resource being asked about.', {
  namespace: field(str(), 1, 'Namespace.'),
  verb: field(str(), 2, 'Verb.'),
  group: field(str(), 3, 'Group.'),
  version: field(str(), 4, 'Version.'),
  resource: field(str(), 5, 'Resource.'),
  subresource: field(str(), 6, 'Subresource.'),
  name: field(str(), 7, 'Name.'),
});
const SelfSubjectAccessReview = struct('t.SelfSubjectAccessReview', 'Can I?', {
  ...typeMeta,
  metadata: field(ref(() => ObjectMeta), 1, 'Metadata.'),
  spec: field(
    ref(() => struct('t.SSARSpec', 'Question.', { resourceAttributes: field(ref(() => ResourceAttributes), 1, 'Resource.') })),
    2,
    'Question.',
    { required: true },
  ),
  status: field(
    ref(() =>
      struct('t.SARStatus', 'Answer.', {
        allowed: field(bool(), 1, 'Allowed.', { required: true }),
        reason: field(str(), 2, 'Reason.'),
        evaluationError: field(str(), 3, 'Error.'),
        denied: field(bool(), 4, 'Denied.'),
      }),
    ),
    3,
    'Answer.',
  ),
});

const Container = struct('t.Container', 'Container.', {
  name: field(str(), 1, 'Name.', { required: true }),
  image: field(str(), 2, 'Image.'),
  command: field(list(str()), 3, 'Command.'),
  resources: field(ref(() => struct('t.ResourceRequirements', 'Resources.', { limits: field(map(quantity()), 1, 'Limits.') })), 8, 'Resources.'),
  terminationMessagePath: field(str(), 13, 'Path.'),
  imagePullPolicy: field(str(), 14, 'Policy.'),
  stdin: field(bool(), 16, 'Stdin.'),
});
const PodSpec = struct('t.PodSpec', 'Pod spec.', {
  containers: field(list(ref(() => Container)), 2, 'Containers.', { required: true }),
  restartPolicy: field(str(), 3, 'Restart policy.', { default: 'Always' }),
  automountServiceAccountToken: field(bool(), 21, 'Mount token.'),
});
const DeploymentSpec = struct('t.DeploymentSpec', 'Deployment spec.', {
  replicas: field(int32(), 1, 'Replicas.', { default: 1 }),
  selector: field(ref(() => LabelSelector), 2, 'Selector.', { required: true }),
  template: field(
    ref(() => struct('t.PodTemplateSpec', 'Template.', { metadata: field(ref(() => ObjectMeta), 1, 'Metadata.'), spec: field(ref(() => PodSpec), 2, 'Spec.') })),
    3,
    'Template.',
    { required: true },
  ),
  strategy: field(ref(() => struct('t.DeploymentStrategy', 'Strategy.', { type: field(str(), 1, 'Type.') })), 4, 'Strategy.'),
  minReadySeconds: field(int32(), 5, 'Min ready.'),
  paused: field(bool(), 7, 'Paused.'),
});
const Deployment = struct('t.Deployment', 'Deployment.', {
  ...typeMeta,
  metadata: field(ref(() => ObjectMeta), 1, 'Metadata.'),
  spec: field(ref(() => DeploymentSpec), 2, 'Spec.'),
  status: field(
    ref(() => struct('t.DeploymentStatus', 'Status.', { observedGeneration: field(int64(), 1, 'Observed.'), replicas: field(int32(), 2, 'Replicas.') })),
    3,
    'Status.',
  ),
});

const ConfigMap = struct('t.ConfigMap', 'ConfigMap.', {
  ...typeMeta,
  metadata: field(ref(() => ObjectMeta), 1, 'Metadata.'),
  data: field(map(str()), 2, 'Data.'),
  binaryData: field(map(bytes()), 3, 'Binary data.'),
  immutable: field(bool(), 4, 'Immutable.'),
});
const Secret = struct('t.Secret', 'Secret.', {
  ...typeMeta,
  metadata: field(ref(() => ObjectMeta), 1, 'Metadata.'),
  data: field(map(bytes()), 2, 'Data.'),
  type: field(str(), 3, 'Type.'),
  stringData: field(map(str()), 4, 'String data.'),
});
const Namespace = struct('t.Namespace', 'Namespace.', {
  ...typeMeta,
  metadata: field(ref(() => ObjectMeta), 1, 'Metadata.'),
  spec: field(ref(() => struct('t.NamespaceSpec', 'Spec.', { finalizers: field(list(str()), 1, 'Finalizers.') })), 2, 'Spec.'),
  status: field(ref(() => struct('t.NamespaceStatus', 'Status.', { phase: field(str(), 1, 'Phase.') })), 3, 'Status.'),
});

const Everything = struct('t.Everything', 'One field of each kind.', {
  ...typeMeta,
  metadata: field(ref(() => ObjectMeta), 1, 'Metadata.'),
  small: field(int32(), 2, 'int32.'),
  big: field(int64(), 3, 'int64.'),
  ratio: field(double(), 4, 'double.'),
  flag: field(bool(), 5, 'bool.'),
  blob: field(bytes(), 6, 'bytes.'),
  packed: field(list(int32()), 7, 'packed ints.'),
  tags: field(list(str()), 8, 'strings.'),
  cpu: field(quantity(), 9, 'quantity.'),
  port: field(intOrString(), 10, 'int or string.'),
  name: field(intOrString(), 11, 'int or string.'),
  at: field(time(), 12, 'time.'),
  micro: field(microTime(), 13, 'micro time.'),
  raw: field(any(), 14, 'raw extension.'),
  never: field(time(), 15, 'zero time.'),
  zeroQuantity: field(quantity(), 16, 'empty quantity.'),
  selectors: field(map(ref(() => LabelSelector)), 17, 'map of structs.'),
  limits: field(map(quantity()), 18, 'map of quantities.'),
});

const schemas: Record<string, StructType> = {
  'authorization.k8s.io/v1/SelfSubjectAccessReview': SelfSubjectAccessReview,
  'apps/v1/Deployment': Deployment,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Namespace': Namespace,
  'test/v1/Everything': Everything,
};
const resolve = (apiVersion: string, kind: string): StructType | undefined => schemas[`${apiVersion}/${kind}`];

// ---- tests ----------------------------------------------------------------------------------------

describe('decodeKubernetesProtobuf', () => {
  it('decodes the SelfSubjectAccessReview kubectl auth can-i sends', () => {
    const body = Buffer.from(
      'azhzAAoyChdhdXRob3JpemF0aW9uLms4cy5pby92MRIXU2VsZlN1YmplY3RBY2Nlc3NSZXZpZXcSSgoQCgASABoAIgAqADIAOABCABIsCioKB2RlZmF1bHQSBmNyZWF0ZRoEYXBwcyIAKgtkZXBsb3ltZW50czIAOgAaCAgAEgAaACAAGgAiAA==',
      'base64',
    );
    const decoded = decodeKubernetesProtobuf(new Uint8Array(body), resolve);
    expect(decoded.apiVersion).toBe('authorization.k8s.io/v1');
    expect(decoded.kind).toBe('SelfSubjectAccessReview');
    expect(decoded.object).toEqual({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      metadata: {},
      spec: { resourceAttributes: { namespace: 'default', verb: 'create', group: 'apps', resource: 'deployments' } },
    });
    expect(Object.keys(decoded.object)).toEqual(['apiVersion', 'kind', 'metadata', 'spec']);
  });

  it('turns `kubectl create deployment x --image=nginx` into the JSON kubectl <= 1.31 sent', () => {
    const labels = { app: 'x' };
    const raw = message([
      m(1, wireObjectMeta('x', labels)),
      m(2, [
        v(1, 1),
        m(2, [entry(1, 'app', [s(2, 'x')])]),
        m(3, [
          m(1, wireObjectMeta('', labels)),
          m(2, [
            m(2, [s(1, 'nginx'), s(2, 'nginx'), m(8, []), s(13, ''), s(14, ''), v(16, 0)]),
            s(3, ''),
          ]),
        ]),
        m(4, [s(1, '')]),
        v(5, 0),
        v(7, 0),
      ]),
      m(3, [v(1, 0), v(2, 0)]),
    ]);
    const { object } = decodeKubernetesProtobuf(envelope('apps/v1', 'Deployment', raw), resolve);
    // kubectl's JSON was {"metadata":{"name":"x","creationTimestamp":null,"labels":{"app":"x"}},"spec":{"replicas":1,
    // "selector":{...},"template":{"metadata":{"creationTimestamp":null,"labels":...},"spec":{"containers":[{"name":"nginx",
    // "image":"nginx","resources":{}}]}},"strategy":{}},"status":{}} — the same object once nulls and empty structs are gone.
    expect(object).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'x', labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { containers: [{ name: 'nginx', image: 'nginx' }] } },
      },
    });
  });

  it('keeps an explicit zero when the field defaults to something else', () => {
    const raw = message([m(1, wireObjectMeta('x')), m(2, [v(1, 0), m(2, []), m(3, []), v(5, 0)])]);
    const { object } = decodeKubernetesProtobuf(envelope('apps/v1', 'Deployment', raw), resolve);
    // replicas 0 differs from the default 1; selector and template are required so they stay as {}.
    expect(object.spec).toEqual({ replicas: 0, selector: {}, template: {} });
  });

  it('decodes configmaps (empty values stay), secrets (bytes as base64) and namespaces', () => {
    const cm = message([m(1, wireObjectMeta('cm')), entry(2, 'a', [s(2, '1')]), entry(2, 'empty', [s(2, '')]), entry(3, 'bin', [{ n: 2, b: new Uint8Array([0, 1, 254]) }])]);
    expect(decodeKubernetesProtobuf(envelope('v1', 'ConfigMap', cm), resolve).object).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cm' },
      data: { a: '1', empty: '' },
      binaryData: { bin: 'AAH+' },
    });

    const secret = message([m(1, wireObjectMeta('s')), entry(2, 'password', [{ n: 2, b: Buffer.from('hunter2') }]), s(3, 'Opaque')]);
    expect(decodeKubernetesProtobuf(envelope('v1', 'Secret', secret), resolve).object).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's' },
      data: { password: Buffer.from('hunter2').toString('base64') },
      type: 'Opaque',
    });

    const ns = message([m(1, wireObjectMeta('team-a')), m(2, []), m(3, [s(1, '')])]);
    expect(decodeKubernetesProtobuf(envelope('v1', 'Namespace', ns), resolve).object).toEqual({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } });
  });

  it('decodes scalars, repeated fields and the special types', () => {
    const seconds = Date.UTC(2026, 0, 2, 3, 4, 5) / 1000;
    const packed = protobuf.Writer.create().int32(1).int32(-2).int32(300).finish();
    const raw = message([
      v(2, -7),
      { n: 3, big: '1099511627776' },
      { n: 4, d: 0.25 },
      v(5, 1),
      { n: 6, b: new Uint8Array([104, 105]) },
      { n: 7, b: packed },
      v(7, 4),
      s(8, 'a'),
      s(8, ''),
      m(9, [s(1, '500m')]),
      m(10, [v(1, 0), v(2, 8080), s(3, '')]),
      m(11, [v(1, 1), v(2, 0), s(3, 'http')]),
      m(12, [v(1, seconds), v(2, 999)]),
      m(13, [v(1, seconds), v(2, 123456789)]),
      m(14, [s(1, '{"a":[1,"b"]}')]),
      m(15, []),
      m(16, []),
      entry(17, 'web', [m(2, [entry(1, 'app', [s(2, 'web')])])]),
      entry(18, 'cpu', [m(2, [s(1, '2')])]),
      entry(18, 'memory', []),
    ]);
    const { object } = decodeKubernetesProtobuf(envelope('test/v1', 'Everything', raw), resolve);
    expect(object).toEqual({
      apiVersion: 'test/v1',
      kind: 'Everything',
      metadata: {},
      small: -7,
      big: 1099511627776,
      ratio: 0.25,
      flag: true,
      blob: 'aGk=',
      packed: [1, -2, 300, 4],
      tags: ['a', ''],
      cpu: '500m',
      port: 8080,
      name: 'http',
      at: '2026-01-02T03:04:05Z',
      micro: '2026-01-02T03:04:05.123456Z',
      raw: { a: [1, 'b'] },
      zeroQuantity: '0',
      selectors: { web: { matchLabels: { app: 'web' } } },
      limits: { cpu: '2', memory: '0' },
    });
  });

  it('skips field numbers the schema does not know, whatever their wire type', () => {
    const raw = message([v(99, 5), { n: 98, f32: 7 }, { n: 97, f64: 9 }, m(96, [s(1, 'x')]), m(1, [s(1, 'cm'), s(500, 'future')]), entry(2, 'k', [s(2, 'v'), v(3, 1)])]);
    expect(decodeKubernetesProtobuf(envelope('v1', 'ConfigMap', raw), resolve).object).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' }, data: { k: 'v' } });
  });

  it('rejects bodies that are not Kubernetes protobuf', () => {
    expect(() => decodeKubernetesProtobuf(new Uint8Array(Buffer.from('{"kind":"Pod"}')), resolve)).toThrow(
      new ProtobufDecodeError('provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]'),
    );
  });

  it('reports truncated data, wrong wire types and unknown kinds as ProtobufDecodeError', () => {
    const good = envelope('v1', 'ConfigMap', message([m(1, wireObjectMeta('cm'))]));
    const truncated = good.subarray(0, good.length - 3);
    expect(() => decodeKubernetesProtobuf(truncated, resolve)).toThrow(ProtobufDecodeError);
    expect(() => decodeKubernetesProtobuf(truncated, resolve)).toThrow(/^failed to decode /);

    const wrongWire = envelope('v1', 'ConfigMap', message([m(1, [v(1, 3)])]));
    expect(() => decodeKubernetesProtobuf(wrongWire, resolve)).toThrow('failed to decode field metadata.name: wrong wire type 0, expected 2');

    expect(() => decodeKubernetesProtobuf(envelope('v9', 'Widget', new Uint8Array()), resolve)).toThrow(
      new ProtobufDecodeError('no kind "Widget" is registered for version "v9"'),
    );

    const gzipped = envelope('v1', 'ConfigMap', new Uint8Array(), [s(3, 'gzip')]);
    expect(() => decodeKubernetesProtobuf(gzipped, resolve)).toThrow(/unsupported content encoding "gzip"/);
  });

  it('raises errors that carry the ProtobufDecodeError name for the API server to map to 400', () => {
    try {
      decodeKubernetesProtobuf(new Uint8Array([1, 2, 3, 4, 5]), resolve);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ProtobufDecodeError);
      expect((e as Error).name).toBe('ProtobufDecodeError');
    }
  });
});
