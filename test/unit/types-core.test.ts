import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { KindDef, KubeObject } from '../../shared/api/kind.js';
import { kinds } from '../../shared/api/kinds/core.js';
import { get } from '../../shared/api/printers/common.js';
import { applyDefaults } from '../../shared/api/schema/defaults.js';
import { formatFieldError } from '../../shared/api/schema/errors.js';
import { validateAgainstSchema } from '../../shared/api/schema/validate.js';
import { Scale } from '../../shared/api/types/autoscaling-v1.js';

type Obj = Record<string, unknown>;

function withDefaults(obj: Obj, schema: KindDef['schema']): Obj {
  applyDefaults(obj, schema);
  return obj;
}

function kindOf(name: string): KindDef {
  const def = kinds.find((k) => k.kind === name);
  if (!def) throw new Error(`no kind ${name}`);
  return def;
}

/** The kind's create preparation, then schema defaults, in the order the REST layer runs them. */
function created(kind: string, body: Obj): KubeObject {
  const def = kindOf(kind);
  const obj = structuredClone(body) as KubeObject;
  def.prepareForCreate?.(obj);
  return withDefaults(obj, def.schema) as KubeObject;
}

function updated(kind: string, body: Obj, old: KubeObject): KubeObject {
  const def = kindOf(kind);
  const obj = structuredClone(body) as KubeObject;
  def.prepareForUpdate?.(obj, old);
  return withDefaults(obj, def.schema) as KubeObject;
}

/** What a client is told: the schema's generic checks, then the kind's own validation. */
function messages(kind: string, obj: KubeObject, old?: KubeObject): string[] {
  const def = kindOf(kind);
  return [...validateAgainstSchema(obj, def.schema), ...(def.validate?.(obj, old) ?? [])].map(formatFieldError);
}

const NOW = new Date('2024-05-01T12:00:00Z');
const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
const cells = (kind: string, obj: KubeObject) => kindOf(kind).printer.cells(obj, NOW);
const columnNames = (kind: string) => kindOf(kind).printer.columns.map((c) => `${c.name}${c.priority ? '*' : ''}`);

const svc = (spec: Obj, name = 'web'): Obj => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec });

describe('Service defaulting', () => {
  it('fills in what Kubernetes fills in for a minimal ClusterIP Service', () => {
    const s = created('Service', svc({ selector: { app: 'web' }, ports: [{ port: 80 }] }));
    expect(s.spec).toEqual({
      selector: { app: 'web' },
      ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
      type: 'ClusterIP',
      sessionAffinity: 'None',
      internalTrafficPolicy: 'Cluster',
      ipFamilyPolicy: 'SingleStack',
      ipFamilies: ['IPv4'],
    });
    expect(s.status).toEqual({ loadBalancer: {} });
  });

  it('keeps a named targetPort and fills in clusterIPs from clusterIP', () => {
    const s = created('Service', svc({ clusterIP: '10.96.0.20', ports: [{ port: 443, targetPort: 'https', protocol: 'UDP' }] }));
    expect(s.spec).toMatchObject({ clusterIPs: ['10.96.0.20'], ports: [{ port: 443, targetPort: 'https', protocol: 'UDP' }] });
  });

  it('gives externally reachable Services a traffic policy and LoadBalancers node ports', () => {
    const np = created('Service', svc({ type: 'NodePort', ports: [{ port: 80 }] }));
    expect(np.spec).toMatchObject({ externalTrafficPolicy: 'Cluster', internalTrafficPolicy: 'Cluster' });
    const lb = created('Service', svc({ type: 'LoadBalancer', ports: [{ port: 80 }] }));
    expect(lb.spec).toMatchObject({ externalTrafficPolicy: 'Cluster', allocateLoadBalancerNodePorts: true });
  });

  it('defaults the ClientIP affinity timeout and drops affinity config when affinity is None', () => {
    const sticky = created('Service', svc({ sessionAffinity: 'ClientIP', ports: [{ port: 80 }] }));
    expect(sticky.spec).toMatchObject({ sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } } });
    const plain = created('Service', svc({ sessionAffinityConfig: { clientIP: { timeoutSeconds: 5 } }, ports: [{ port: 80 }] }));
    expect(plain.spec).not.toHaveProperty('sessionAffinityConfig');
  });

  it('asks for every IP family for headless Services without a selector, and none for ExternalName', () => {
    const headless = created('Service', svc({ clusterIP: 'None' }));
    expect(headless.spec).toMatchObject({ clusterIPs: ['None'], ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv4'] });
    const external = created('Service', svc({ type: 'ExternalName', externalName: 'db.example.com' }));
    expect(external.spec).toEqual({ type: 'ExternalName', externalName: 'db.example.com', sessionAffinity: 'None' });
    expect(messages('Service', external)).toEqual([]);
  });

  it('keeps allocated values a replace leaves out and drops node ports when leaving NodePort', () => {
    const stored = created('Service', svc({ type: 'NodePort', clusterIP: '10.96.0.9', ports: [{ name: 'http', port: 80, nodePort: 30080 }] }));
    const replaced = updated('Service', svc({ type: 'NodePort', ports: [{ name: 'http', port: 80 }] }), stored);
    expect(replaced.spec).toMatchObject({ clusterIP: '10.96.0.9', clusterIPs: ['10.96.0.9'], ports: [{ nodePort: 30080 }] });
    expect(messages('Service', replaced, stored)).toEqual([]);

    const plain = created('Service', svc({ clusterIP: '10.96.0.7', ports: [{ port: 80 }] }));
    const minimal = updated('Service', svc({ ports: [{ port: 80 }] }), plain);
    expect(minimal.spec).toMatchObject({ type: 'ClusterIP', clusterIP: '10.96.0.7', clusterIPs: ['10.96.0.7'] });
    expect(messages('Service', minimal, plain)).toEqual([]);

    const backToClusterIP = updated('Service', { ...stored, spec: { ...(stored.spec as Obj), type: 'ClusterIP' } }, stored);
    expect((backToClusterIP.spec as { ports: Obj[] }).ports[0]).not.toHaveProperty('nodePort');
    expect(backToClusterIP.spec).not.toHaveProperty('externalTrafficPolicy');
    expect(messages('Service', backToClusterIP, stored)).toEqual([]);
  });
});

describe('defaults of the other kinds', () => {
  it('labels a namespace with its name, makes it Active and adds the kubernetes finalizer', () => {
    const ns = created('Namespace', { metadata: { name: 'team-a' } });
    expect(ns.metadata.labels).toEqual({ 'kubernetes.io/metadata.name': 'team-a' });
    expect(ns.spec).toEqual({ finalizers: ['kubernetes'] });
    expect(ns.status).toEqual({ phase: 'Active' });
  });

  it('stores stringData base64-encoded in data and types secrets Opaque', () => {
    const s = created('Secret', { metadata: { name: 's' }, data: { a: 'eA==' }, stringData: { b: 'héllo' } });
    expect(s.type).toBe('Opaque');
    expect(s.data).toEqual({ a: 'eA==', b: Buffer.from('héllo').toString('base64') });
    expect(s).not.toHaveProperty('stringData');
  });

  it('shows a node without reported info the way Go serialises it, with allocatable from capacity', () => {
    const n = created('Node', { metadata: { name: 'n1' }, status: { capacity: { cpu: '2', pods: '110' } } });
    expect(n.spec).toEqual({});
    const status = n.status as Obj;
    expect(status.allocatable).toEqual({ cpu: '2', pods: '110' });
    expect(status.daemonEndpoints).toEqual({ kubeletEndpoint: { Port: 0 } });
    expect(status.nodeInfo).toMatchObject({ kubeletVersion: '', osImage: '', architecture: '', machineID: '' });
    expect(messages('Node', n)).toEqual([]);
  });

  it('defaults container limits of a LimitRange from max and min, and endpoint ports to TCP', () => {
    const lr = created('LimitRange', {
      metadata: { name: 'lr' },
      spec: { limits: [{ type: 'Container', max: { cpu: '2' }, min: { memory: '64Mi' } }] },
    });
    expect((lr.spec as { limits: Obj[] }).limits[0]).toMatchObject({ default: { cpu: '2' }, defaultRequest: { cpu: '2', memory: '64Mi' } });
    const ep = created('Endpoints', { metadata: { name: 'web' }, subsets: [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 80 }] }] });
    expect(ep.subsets).toEqual([{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 80, protocol: 'TCP' }] }]);
  });

  it('gives an event the always-present fields of the v1 wire form', () => {
    const ev = created('Event', { metadata: { name: 'e', namespace: 'default' }, reason: 'Started' });
    expect(ev).toMatchObject({ involvedObject: {}, source: {}, reportingComponent: '', reportingInstance: '' });
  });

  it('serialises an empty Scale with zero observed replicas', () => {
    expect(withDefaults({ metadata: { name: 'x' } }, Scale)).toEqual({ metadata: { name: 'x' }, spec: {}, status: { replicas: 0 } });
  });
});

describe('validation messages', () => {
  it('rejects bad Service ports, types and duplicates with Kubernetes wording', () => {
    expect(messages('Service', created('Service', svc({ ports: [{ port: 70000 }] })))).toEqual([
      'spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive',
      // targetPort was defaulted from port, so Kubernetes reports it too.
      'spec.ports[0].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
    ]);
    expect(messages('Service', created('Service', svc({ selector: { app: 'web' } })))).toEqual(['spec.ports: Required value']);
    expect(messages('Service', created('Service', svc({ type: 'Foo', ports: [{ port: 80 }] })))).toEqual([
      'spec.type: Unsupported value: "Foo": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
    ]);
    expect(messages('Service', created('Service', svc({ ports: [{ name: 'a', port: 80 }, { name: 'b', port: 80 }] })))).toEqual([
      'spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), Port:80, ' +
        'TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}',
    ]);
    expect(messages('Service', created('Service', svc({ ports: [{ port: 80 }, { port: 81, protocol: 'ICMP' }] })))).toEqual([
      'spec.ports[0].name: Required value',
      'spec.ports[1].name: Required value',
      'spec.ports[1].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
    ]);
    expect(messages('Service', created('Service', svc({ ports: [{ port: 80, nodePort: 30001 }] })))).toEqual([
      "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
    ]);
  });

  it('accepts load-balancer status only for LoadBalancer Services and checks its addresses', () => {
    const lb = created('Service', svc({ type: 'LoadBalancer', ports: [{ port: 80 }] }));
    const reported = withDefaults({ ...lb, status: { loadBalancer: { ingress: [{ ip: '203.0.113.9' }, { hostname: '10.0.0.1' }] } } }, kindOf('Service').schema) as KubeObject;
    expect(get(reported, 'status', 'loadBalancer', 'ingress')).toEqual([{ ip: '203.0.113.9', ipMode: 'VIP' }, { hostname: '10.0.0.1' }]);
    expect(messages('Service', reported, lb)).toEqual([
      'status.loadBalancer.ingress[1].hostname: Invalid value: "10.0.0.1": must be a DNS name, not an IP address',
    ]);
    const demoted = updated('Service', { ...reported, spec: { ...(reported.spec as Obj), type: 'ClusterIP' } }, reported);
    expect(demoted.status).toEqual({ loadBalancer: {} });
    expect(messages('Service', demoted, reported)).toEqual([]);
  });

  it('refuses to move the cluster IP of an existing Service', () => {
    const stored = created('Service', svc({ clusterIP: '10.96.0.9', ports: [{ port: 80 }] }));
    const moved = updated('Service', svc({ clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ port: 80 }] }), stored);
    expect(messages('Service', moved, stored)).toEqual(['spec.clusterIPs[0]: Invalid value: []string{"10.96.0.10"}: may not change once set']);
  });

  it('rejects bad ConfigMap keys, oversized data and changes to immutable ConfigMaps', () => {
    const cm = created('ConfigMap', { metadata: { name: 'c' }, data: { 'bad key': 'x', ok: 'y' }, binaryData: { ok: 'eQ==' } });
    expect(messages('ConfigMap', cm)).toEqual([
      "data[bad key]: Invalid value: \"bad key\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' " +
        "(e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
      'data[ok]: Invalid value: "ok": duplicate of key present in binaryData',
    ]);
    const big = created('ConfigMap', { metadata: { name: 'c' }, data: { a: 'x'.repeat(600_000), b: 'y'.repeat(600_000) } });
    expect(messages('ConfigMap', big)).toEqual(['Too long: may not be more than 1048576 bytes']);

    const frozen = created('ConfigMap', { metadata: { name: 'c' }, immutable: true, data: { a: '1' } });
    const changed = updated('ConfigMap', { metadata: { name: 'c' }, immutable: true, data: { a: '2' } }, frozen);
    expect(messages('ConfigMap', changed, frozen)).toEqual(['data: Forbidden: field is immutable when `immutable` is set']);
    const thawed = updated('ConfigMap', { metadata: { name: 'c' }, data: { a: '1' } }, frozen);
    expect(messages('ConfigMap', thawed, frozen)).toEqual(['immutable: Forbidden: field is immutable when `immutable` is set']);
  });

  it('checks Secret keys, per-type required keys, size, and type changes', () => {
    const tls = created('Secret', { metadata: { name: 't' }, type: 'kubernetes.io/tls', data: { 'tls.crt': 'eA==' } });
    expect(messages('Secret', tls)).toEqual(['data[tls.key]: Required value']);
    const dotted = created('Secret', { metadata: { name: 's' }, data: { '..x': 'eA==' } });
    expect(messages('Secret', dotted)).toEqual(['data[..x]: Invalid value: "..x": must not start with \'..\'']);
    const huge = created('Secret', { metadata: { name: 's' }, data: { a: Buffer.alloc(1024 * 1024 + 1).toString('base64') } });
    expect(messages('Secret', huge)).toEqual(['data: Too long: may not be more than 1048576 bytes']);

    const stored = created('Secret', { metadata: { name: 's' }, data: { 'tls.crt': 'eA==', 'tls.key': 'eA==' } });
    const retyped = updated('Secret', { metadata: { name: 's' }, type: 'kubernetes.io/tls', data: stored.data as Obj }, stored);
    expect(messages('Secret', retyped, stored)).toEqual(['type: Invalid value: "kubernetes.io/tls": field is immutable']);
    const frozen = created('Secret', { metadata: { name: 's' }, immutable: true, data: { a: 'eA==' } });
    const edited = updated('Secret', { metadata: { name: 's' }, immutable: true, stringData: { a: 'y' } }, frozen);
    expect(messages('Secret', edited, frozen)).toEqual(['data: Forbidden: field is immutable when `immutable` is set']);
  });

  it('reports node taint and namespace finalizer problems at the paths Kubernetes uses', () => {
    const node = created('Node', {
      metadata: { name: 'n1' },
      spec: { taints: [{ key: 'k', effect: 'NoSchedule' }, { key: 'k', effect: 'NoSchedule' }, { key: 'x', effect: 'Never' }] },
    });
    expect(messages('Node', node)).toEqual([
      'metadata.taints[1]: Duplicate value: core.Taint{Key:"k", Value:"", Effect:"NoSchedule", TimeAdded:(*v1.Time)(nil)}: taints must be unique by key and effect pair',
      'metadata.taints[2].effect: Unsupported value: "Never": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"',
    ]);
    const noEffect = created('Node', { metadata: { name: 'n2' }, spec: { taints: [{ key: 'dedicated', value: 'gpu' }] } });
    expect(messages('Node', noEffect)).toEqual(['spec.taints[0].effect: Required value']);
    const ns = created('Namespace', { metadata: { name: 'n' }, spec: { finalizers: ['bogus'] } });
    expect(messages('Namespace', ns)).toEqual([
      'spec.finalizers: Invalid value: "bogus": name is neither a standard finalizer name nor is it fully qualified',
    ]);
  });

  it('requires an event to sit in the namespace of the object it is about', () => {
    const ev = created('Event', { metadata: { name: 'e', namespace: 'team-a' }, involvedObject: { kind: 'Pod', name: 'p', namespace: 'team-b' } });
    expect(messages('Event', ev)).toEqual(['involvedObject.namespace: Invalid value: "team-b": does not match event.namespace']);
  });

  it('checks endpoint addresses and quota resource names', () => {
    const ep = created('Endpoints', { metadata: { name: 'e' }, subsets: [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ port: 0 }] }] });
    expect(messages('Endpoints', ep)).toEqual([
      'subsets[0].addresses[0].ip: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
      'subsets[0].ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive',
    ]);
    const rq = created('ResourceQuota', { metadata: { name: 'q' }, spec: { hard: { storage: '1Gi', pods: '-1' } } });
    expect(messages('ResourceQuota', rq)).toEqual([
      'spec.hard[storage]: Invalid value: "storage": must be a standard resource for quota',
      'spec.hard[pods]: Invalid value: "-1": must be greater than or equal to 0',
    ]);
  });
});

describe('table printers', () => {
  it('prints a NodePort Service like kubectl get svc -o wide', () => {
    const s = created('Service', {
      ...svc({ type: 'NodePort', clusterIP: '10.96.0.10', selector: { tier: 'web', app: 'shop' }, ports: [
        { name: 'http', port: 80, nodePort: 30080 },
        { name: 'https', port: 443, nodePort: 30443 },
      ] }),
      metadata: { name: 'web', namespace: 'default', creationTimestamp: ago(330) },
    });
    expect(columnNames('Service')).toEqual(['Name', 'Type', 'Cluster-IP', 'External-IP', 'Port(s)', 'Age', 'Selector*']);
    expect(cells('Service', s)).toEqual(['web', 'NodePort', '10.96.0.10', '<none>', '80:30080/TCP,443:30443/TCP', '5m30s', 'app=shop,tier=web']);
  });

  it('shows <pending> until a LoadBalancer has an address, then the sorted addresses', () => {
    const lb = created('Service', svc({ type: 'LoadBalancer', ports: [{ port: 80 }] }));
    expect(cells('Service', lb).slice(2, 5)).toEqual(['<none>', '<pending>', '80/TCP']);
    lb.status = { loadBalancer: { ingress: [{ ip: '203.0.113.9' }, { hostname: 'lb.example.com' }] } };
    expect(cells('Service', lb)[3]).toBe('203.0.113.9,lb.example.com');
  });

  it('prints a Ready node like kubectl get nodes -o wide', () => {
    const node = created('Node', {
      metadata: { name: 'hollow-node-0', creationTimestamp: ago(61) },
      status: {
        conditions: [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status: 'True' }],
        addresses: [{ type: 'InternalIP', address: '192.0.2.2' }, { type: 'Hostname', address: 'hollow-node-0' }],
        nodeInfo: { kubeletVersion: 'v1.26.0', osImage: 'Debian GNU/Linux 7 (wheezy)', kernelVersion: '3.16.0-0.bpo.4-amd64', containerRuntimeVersion: 'fakeRuntime://0.1.0' },
      },
    });
    expect(columnNames('Node')).toEqual(['Name', 'Status', 'Roles', 'Age', 'Version', 'Internal-IP*', 'External-IP*', 'OS-Image*', 'Kernel-Version*', 'Container-Runtime*']);
    expect(cells('Node', node)).toEqual([
      'hollow-node-0', 'Ready', '<none>', '61s', 'v1.26.0', '192.0.2.2', '<none>', 'Debian GNU/Linux 7 (wheezy)', '3.16.0-0.bpo.4-amd64', 'fakeRuntime://0.1.0',
    ]);
    node.spec = { unschedulable: true };
    node.metadata.labels = { 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/role': 'worker' };
    expect(cells('Node', node).slice(1, 3)).toEqual(['Ready,SchedulingDisabled', 'control-plane,worker']);
  });

  it('prints a Secret with its type and key count', () => {
    const s = created('Secret', { metadata: { name: 'creds', creationTimestamp: ago(10) }, stringData: { user: 'u', pass: 'p' } });
    expect(columnNames('Secret')).toEqual(['Name', 'Type', 'Data', 'Age']);
    expect(cells('Secret', s)).toEqual(['creds', 'Opaque', 2, '10s']);
  });

  it('prints an Event like kubectl get events -o wide', () => {
    const ev = created('Event', {
      metadata: { name: 'web-1.17c4', namespace: 'default', creationTimestamp: ago(300) },
      involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'default', fieldPath: 'spec.containers{app}' },
      reason: 'Pulled', message: 'Container image "nginx" already present on machine\n', type: 'Normal',
      source: { component: 'kubelet', host: 'node-1' }, firstTimestamp: ago(300), lastTimestamp: ago(45), count: 3,
    });
    expect(columnNames('Event')).toEqual(['Last Seen', 'Type', 'Reason', 'Object', 'Subobject*', 'Source*', 'Message', 'First Seen*', 'Count*', 'Name*']);
    expect(cells('Event', ev)).toEqual([
      '45s', 'Normal', 'Pulled', 'pod/web-1', 'spec.containers{app}', 'kubelet, node-1', 'Container image "nginx" already present on machine', '5m', 3, 'web-1.17c4',
    ]);
    const newer = created('Event', {
      metadata: { name: 'e2', namespace: 'default' }, involvedObject: { kind: 'Node', name: 'n1' },
      eventTime: '2024-05-01T11:59:00.000000Z', reportingComponent: 'scheduler', reason: 'Scheduled', action: 'Binding',
    });
    expect(cells('Event', newer).slice(0, 10)).toEqual(['60s', '', 'Scheduled', 'node/n1', '', 'scheduler', '', '60s', 1, 'e2']);
  });

  it('prints endpoints, configmaps, namespaces, quotas and limit ranges', () => {
    const ep = created('Endpoints', {
      metadata: { name: 'web', creationTimestamp: ago(5) },
      subsets: [{ addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }], ports: [{ port: 80 }, { port: 443, name: 'b' }] }],
    });
    expect(cells('Endpoints', ep)).toEqual(['web', '10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more...', '5s']);
    const cm = created('ConfigMap', { metadata: { name: 'c' }, data: { a: '1' }, binaryData: { b: 'eA==' } });
    expect(cells('ConfigMap', cm)).toEqual(['c', 2, '<unknown>']);
    const ns = created('Namespace', { metadata: { name: 'team-a', creationTimestamp: ago(7200) } });
    expect(cells('Namespace', ns)).toEqual(['team-a', 'Active', '120m']);
    const rq = created('ResourceQuota', { metadata: { name: 'q', creationTimestamp: ago(3) } });
    rq.status = { hard: { pods: '10', 'limits.cpu': '4', 'requests.cpu': '2' }, used: { pods: '3', 'requests.cpu': '500m' } };
    expect(columnNames('ResourceQuota')).toEqual(['Name', 'Age', 'Request', 'Limit']);
    expect(cells('ResourceQuota', rq)).toEqual(['q', '3s', 'pods: 3/10, requests.cpu: 500m/2', 'limits.cpu: 0/4']);
    const lr = created('LimitRange', { metadata: { name: 'lr', creationTimestamp: '2024-05-01T10:00:00Z' }, spec: { limits: [] } });
    expect(kindOf('LimitRange').printer.columns.map((c) => `${c.name}:${c.type}`)).toEqual(['Name:string', 'Created At:date']);
    expect(cells('LimitRange', lr)).toEqual(['lr', '2024-05-01T10:00:00Z']);
  });
});

describe('kind definitions', () => {
  it('match the core/v1 discovery document of a real kube-apiserver', () => {
    const golden = JSON.parse(readFileSync('/work/shared/reference/k8s-1.26-golden/api-v1.json', 'utf8')) as {
      resources: { name: string; namespaced: boolean; kind: string; verbs: string[]; shortNames?: string[]; categories?: string[] }[];
    };
    for (const def of kinds) {
      const real = golden.resources.find((r) => r.name === def.plural);
      expect(real, def.plural).toBeDefined();
      expect({ plural: def.plural, kind: def.kind, namespaced: def.namespaced, verbs: [...def.verbs].sort(), shortNames: def.shortNames, categories: def.categories })
        .toEqual({ plural: real!.name, kind: real!.kind, namespaced: real!.namespaced, verbs: [...real!.verbs].sort(), shortNames: real!.shortNames ?? [], categories: real!.categories ?? [] });
      expect(def.subresources.status, def.plural).toBe(golden.resources.some((r) => r.name === `${def.plural}/status`));
    }
  });

  it('selects events and nodes by the fields kubectl uses', () => {
    const ev = created('Event', { metadata: { name: 'e', namespace: 'default' }, involvedObject: { kind: 'Pod', name: 'p', uid: 'u1' }, source: {}, reportingComponent: 'sched' });
    const select = kindOf('Event').fieldSelectors;
    expect(['involvedObject.kind', 'involvedObject.name', 'involvedObject.uid', 'source'].map((f) => select[f](ev))).toEqual(['Pod', 'p', 'u1', 'sched']);
    const node = created('Node', { metadata: { name: 'n' }, spec: { unschedulable: true } });
    expect(kindOf('Node').fieldSelectors['spec.unschedulable'](node)).toBe('true');
    expect(kindOf('Secret').fieldSelectors.type(created('Secret', { metadata: { name: 's' } }))).toBe('Opaque');
  });

  it('names Services by DNS-1035 labels, namespaces by DNS-1123 labels and events by path segments', () => {
    expect(kindOf('Service').nameRule).toBe('dns1035Label');
    expect(kindOf('Namespace').nameRule).toBe('dns1123Label');
    expect(kindOf('Event').nameRule).toBe('pathSegment');
    expect(kindOf('ConfigMap').nameRule).toBe('dns1123Subdomain');
  });
});
