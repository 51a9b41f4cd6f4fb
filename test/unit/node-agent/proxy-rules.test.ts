// The service proxy's pure parts: which Service ports get which endpoints, and the iptables-restore
// text written for them.
import { describe, expect, it } from 'vitest';
import { chainNames, chainsInSave, endpointChain, renderCleanup, renderRules, serviceChain } from '../../../node-agent/proxy/iptables-rules.js';
import { servicePorts, type ServiceObject, type SliceObject } from '../../../node-agent/proxy/service-ports.js';

const svc = (name: string, spec: ServiceObject['spec'], namespace = 'shop'): ServiceObject => ({ metadata: { name, namespace }, spec });
const slice = (service: string, endpoints: { ip: string; ready?: boolean | null; hostname?: string }[], ports: SliceObject['ports'], namespace = 'shop'): SliceObject => ({
  metadata: { name: `${service}-abcde`, namespace, labels: { 'kubernetes.io/service-name': service } },
  addressType: 'IPv4',
  endpoints: endpoints.map((e) => ({ addresses: [e.ip], conditions: e.ready === null ? {} : { ready: e.ready ?? true }, ...(e.hostname ? { hostname: e.hostname } : {}) })),
  ports,
});

describe('servicePorts', () => {
  it('keeps only ready endpoints (absent ready counts as ready), sorted, per port name and protocol', () => {
    const ports = servicePorts(
      [svc('web', { clusterIP: '10.96.5.5', ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }] })],
      [
        slice('web', [{ ip: '10.88.0.12' }, { ip: '10.88.0.3', ready: false }, { ip: '10.88.0.9', ready: null }], [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'dns', port: 5353, protocol: 'UDP' }]),
        slice('other', [{ ip: '10.88.0.50' }], [{ name: 'http', port: 1, protocol: 'TCP' }]),
      ],
    );
    expect(ports.map((p) => [p.portName, p.protocol, p.endpoints])).toEqual([
      ['dns', 'UDP', [{ ip: '10.88.0.9', port: 5353 }, { ip: '10.88.0.12', port: 5353 }]],
      ['http', 'TCP', [{ ip: '10.88.0.9', port: 8080 }, { ip: '10.88.0.12', port: 8080 }]],
    ]);
  });

  it('skips headless and ExternalName Services, and carries node ports and ClientIP affinity', () => {
    const ports = servicePorts(
      [
        svc('headless', { clusterIP: 'None', ports: [{ port: 80 }] }),
        svc('ext', { type: 'ExternalName', externalName: 'example.org' } as ServiceObject['spec']),
        svc('np', { type: 'NodePort', clusterIP: '10.96.1.1', sessionAffinity: 'ClientIP', ports: [{ port: 80, nodePort: 30080 }] }),
        svc('sticky', { clusterIP: '10.96.1.2', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } }, ports: [{ port: 80 }] }),
      ],
      [],
    );
    expect(ports).toEqual([
      { namespace: 'shop', name: 'np', portName: '', protocol: 'TCP', clusterIP: '10.96.1.1', port: 80, nodePort: 30080, affinitySeconds: 10800, endpoints: [] },
      { namespace: 'shop', name: 'sticky', portName: '', protocol: 'TCP', clusterIP: '10.96.1.2', port: 80, affinitySeconds: 60, endpoints: [] },
    ]);
  });

  it('leads every port of an overridden Service to the one local address', () => {
    const ports = servicePorts(
      [svc('kube-dns', { clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }] }, 'kube-system')],
      [],
      new Map([['kube-system/kube-dns', { ip: '192.0.2.2', port: 10053 }]]),
    );
    expect(ports.map((p) => p.endpoints)).toEqual([[{ ip: '192.0.2.2', port: 10053 }], [{ ip: '192.0.2.2', port: 10053 }]]);
  });
});

describe('renderRules', () => {
  const web = svc('web', { type: 'NodePort', clusterIP: '10.96.7.7', ports: [{ name: 'http', port: 80, nodePort: 31000 }] });
  const webSlice = slice('web', [{ ip: '10.88.0.2' }, { ip: '10.88.0.3' }, { ip: '10.88.0.4' }], [{ name: 'http', port: 8080, protocol: 'TCP' }]);

  it('splits new connections evenly with decreasing probabilities and DNATs in per-endpoint chains', () => {
    const [port] = servicePorts([web], [webSlice]);
    const text = renderRules([port], { prefix: 'STRATUS' });
    const svcChain = serviceChain('STRATUS', port);
    const seps = port.endpoints.map((ep) => endpointChain('STRATUS', port, ep));
    const lines = text.split('\n');
    expect(lines).toContain(`-A STRATUS-SERVICES -d 10.96.7.7/32 -p tcp -m tcp --dport 80 -m comment --comment "shop/web:http cluster IP" -j ${svcChain}`);
    expect(lines.filter((l) => l.startsWith(`-A ${svcChain} `))).toEqual([
      `-A ${svcChain} -m statistic --mode random --probability 0.3333333333 -j ${seps[0]}`,
      `-A ${svcChain} -m statistic --mode random --probability 0.5000000000 -j ${seps[1]}`,
      `-A ${svcChain} -j ${seps[2]}`,
    ]);
    expect(lines).toContain(`-A ${seps[1]} -s 10.88.0.3/32 -j STRATUS-MARK-MASQ`);
    expect(lines).toContain(`-A ${seps[1]} -p tcp -m tcp -j DNAT --to-destination 10.88.0.3:8080`);
    expect(lines).toContain(`-A STRATUS-NODEPORTS -p tcp -m tcp --dport 31000 -j STRATUS-MARK-MASQ`);
    expect(lines).toContain(`-A STRATUS-NODEPORTS -p tcp -m tcp --dport 31000 -m comment --comment "shop/web:http node port" -j ${svcChain}`);
    // The node-port jump comes after every cluster IP rule.
    expect(lines.filter((l) => l.startsWith('-A STRATUS-SERVICES ')).at(-1)).toBe('-A STRATUS-SERVICES ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j STRATUS-NODEPORTS');
    expect(lines.slice(0, 2)).toEqual(['*nat', ':STRATUS-SERVICES - [0:0]']);
    expect(text.match(/^COMMIT$/gm)).toHaveLength(2);
    for (const name of [svcChain, ...seps]) expect(name.length).toBeLessThanOrEqual(28);
  });

  it('remembers clients per endpoint for ClientIP affinity', () => {
    const [port] = servicePorts([{ ...web, spec: { ...web.spec, sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 30 } } } }], [webSlice]);
    const lines = renderRules([port], { prefix: 'STRATUS' }).split('\n');
    const svcChain = serviceChain('STRATUS', port);
    const sep = endpointChain('STRATUS', port, port.endpoints[0]);
    const chainLines = lines.filter((l) => l.startsWith(`-A ${svcChain} `));
    expect(chainLines.slice(0, 3).every((l) => / -m recent --name \S+ --rcheck --seconds 30 --reap -j /.test(l))).toBe(true);
    expect(chainLines[0]).toBe(`-A ${svcChain} -m recent --name ${sep} --rcheck --seconds 30 --reap -j ${sep}`);
    expect(lines).toContain(`-A ${sep} -p tcp -m tcp -m recent --name ${sep} --set -j DNAT --to-destination 10.88.0.2:8080`);
  });

  it('rejects cluster IPs and node ports without endpoints in the filter table, and unknown service IPs', () => {
    const [port] = servicePorts([web], []);
    const text = renderRules([port], { prefix: 'T1', serviceCIDR: '10.96.0.0/12' });
    const filter = text.slice(text.indexOf('*filter'));
    expect(filter).toContain('-A T1-SERVICES -d 10.96.7.7/32 -p tcp -m tcp --dport 80 -m comment --comment "shop/web:http has no endpoints" -j REJECT --reject-with icmp-port-unreachable');
    expect(filter).toContain('-A T1-EXTERNAL -m addrtype --dst-type LOCAL -p tcp -m tcp --dport 31000 -m comment --comment "shop/web:http has no endpoints" -j REJECT --reject-with icmp-port-unreachable');
    expect(filter.trim().split('\n').at(-2)).toBe('-A T1-SERVICES -d 10.96.0.0/12 -m comment --comment "no such service port" -j REJECT --reject-with icmp-port-unreachable');
    expect(text.slice(0, text.indexOf('*filter'))).not.toContain('10.96.7.7');
  });

  it('masquerades cluster IP traffic from outside the pod network, or all of it when asked', () => {
    const [port] = servicePorts([web], [webSlice]);
    expect(renderRules([port], { prefix: 'S', clusterCIDR: '10.88.0.0/16' })).toContain('-A S-SERVICES -d 10.96.7.7/32 -p tcp -m tcp --dport 80 ! -s 10.88.0.0/16 -j S-MARK-MASQ');
    expect(renderRules([port], { prefix: 'S', masqueradeAll: true })).toContain('-A S-SERVICES -d 10.96.7.7/32 -p tcp -m tcp --dport 80 -j S-MARK-MASQ');
    expect(renderRules([port], { prefix: 'S' })).not.toContain('-A S-SERVICES -d 10.96.7.7/32 -p tcp -m tcp --dport 80 -j S-MARK-MASQ');
  });

  it('is the same text for the same state, and deletes chains of Services that are gone', () => {
    const ports = servicePorts([web], [webSlice]);
    expect(renderRules(ports, { prefix: 'STRATUS' })).toBe(renderRules(servicePorts([web], [{ ...webSlice, endpoints: [...webSlice.endpoints!].reverse() }]), { prefix: 'STRATUS' }));
    const stale = 'STRATUS-SVC-GONEGONEGONEGONE';
    const text = renderRules(ports, { prefix: 'STRATUS', existing: { nat: ['STRATUS-SERVICES', stale, serviceChain('STRATUS', ports[0])], filter: ['STRATUS-OLD'] } });
    const nat = text.slice(0, text.indexOf('*filter'));
    expect(nat).toContain(`:${stale} - [0:0]`);
    expect(nat.trim().split('\n').at(-2)).toBe(`-X ${stale}`);
    expect(nat.match(new RegExp(`^:${serviceChain('STRATUS', ports[0])} `, 'gm'))).toHaveLength(1);
    expect(text.slice(text.indexOf('*filter'))).toContain('-X STRATUS-OLD');
  });

  it('rejects prefixes that would not make valid chain names', () => {
    expect(() => chainNames('stratus')).toThrow(/upper-case/);
    expect(() => chainNames('A_VERY_LONG_PREFIX')).toThrow(/1-15/);
  });
});

describe('chain bookkeeping', () => {
  it('finds the prefix chains in iptables-save output and writes input that deletes them', () => {
    const save = ['# Generated by iptables-save', '*nat', ':PREROUTING ACCEPT [0:0]', ':STRATUS-SERVICES - [0:0]', ':STRATUSX-SVC-A - [0:0]', ':STRATUS-SVC-ABC - [0:0]', '-A PREROUTING -j STRATUS-SERVICES', 'COMMIT'].join('\n');
    expect(chainsInSave(save, 'STRATUS')).toEqual(['STRATUS-SERVICES', 'STRATUS-SVC-ABC']);
    expect(renderCleanup({ nat: ['STRATUS-SERVICES'], filter: [] })).toBe('*nat\n:STRATUS-SERVICES - [0:0]\n-X STRATUS-SERVICES\nCOMMIT\n');
  });
});
