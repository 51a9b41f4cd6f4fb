// The DNS records of the cluster domain, derived from Services and EndpointSlices as Kubernetes'
// DNS specification lays them out: <svc>.<ns>.svc.<domain> (the cluster IP, or the ready endpoint
// IPs of a headless Service), <hostname>.<svc>.<ns>.svc.<domain> for endpoints with a hostname,
// SRV records for named ports, CNAMEs for ExternalName Services and PTRs for the IPs behind them.
import type { SrvData } from 'dns-packet';
import { hasClusterIP, slicesByService, type ServiceObject, type SliceObject } from '../proxy/service-ports.js';

export interface ClusterRecords {
  domain: string;
  a: Map<string, string[]>;
  srv: Map<string, SrvData[]>;
  cname: Map<string, string>;
  ptr: Map<string, string[]>;
  /** Every name that exists, including names that only have names below them (svc.<domain>). */
  names: Set<string>;
}

export const normalizeName = (name: string): string => name.toLowerCase().replace(/\.$/, '');

const dashed = (ip: string) => ip.replace(/\./g, '-');
export const reverseName = (ip: string) => `${ip.split('.').reverse().join('.')}.in-addr.arpa`;

function add<T>(map: Map<string, T[]>, key: string, value: T, same: (a: T, b: T) => boolean = (a, b) => a === b): void {
  const list = map.get(key) ?? [];
  if (!list.some((x) => same(x, value))) list.push(value);
  map.set(key, list);
}

interface HeadlessEndpoint {
  ip: string;
  hostname?: string;
  ports: { name: string; protocol: string; port: number }[];
}

function readyHeadlessEndpoints(slices: readonly SliceObject[]): HeadlessEndpoint[] {
  const byIP = new Map<string, HeadlessEndpoint>();
  for (const slice of slices) {
    if ((slice.addressType ?? 'IPv4') !== 'IPv4') continue;
    const ports = (slice.ports ?? []).filter((p) => typeof p.port === 'number').map((p) => ({ name: p.name ?? '', protocol: p.protocol ?? 'TCP', port: p.port as number }));
    for (const ep of slice.endpoints ?? []) {
      if (ep.conditions?.ready === false || !ep.addresses[0]) continue;
      const ip = ep.addresses[0];
      const known = byIP.get(ip) ?? { ip, ports: [] };
      if (ep.hostname) known.hostname = ep.hostname.toLowerCase();
      for (const p of ports) if (!known.ports.some((x) => x.name === p.name && x.protocol === p.protocol)) known.ports.push(p);
      byIP.set(ip, known);
    }
  }
  return [...byIP.values()].sort((a, b) => a.ip.localeCompare(b.ip, 'en', { numeric: true }));
}

export function buildClusterRecords(services: readonly ServiceObject[], slices: readonly SliceObject[], domain = 'cluster.local'): ClusterRecords {
  domain = normalizeName(domain);
  const records: ClusterRecords = { domain, a: new Map(), srv: new Map(), cname: new Map(), ptr: new Map(), names: new Set() };
  const bySvc = slicesByService(slices);
  const sameSrv = (x: SrvData, y: SrvData) => x.target === y.target && x.port === y.port;
  for (const svc of services) {
    const ns = (svc.metadata.namespace ?? '').toLowerCase();
    const name = svc.metadata.name.toLowerCase();
    const fqdn = `${name}.${ns}.svc.${domain}`;
    const spec = svc.spec ?? {};
    if (spec.type === 'ExternalName') {
      if (spec.externalName) records.cname.set(fqdn, normalizeName(spec.externalName));
      continue;
    }
    records.names.add(fqdn);
    if (hasClusterIP(svc)) {
      add(records.a, fqdn, spec.clusterIP!);
      add(records.ptr, reverseName(spec.clusterIP!), fqdn);
      for (const p of spec.ports ?? []) {
        if (!p.name) continue;
        const srvName = `_${p.name.toLowerCase()}._${(p.protocol ?? 'TCP').toLowerCase()}.${fqdn}`;
        const srv = { priority: 0, weight: 100, port: p.port, target: fqdn };
        add(records.srv, srvName, srv, sameSrv);
        add(records.srv, fqdn, srv, sameSrv);
      }
      continue;
    }
    if (spec.clusterIP !== 'None') continue;
    for (const ep of readyHeadlessEndpoints(bySvc.get(`${svc.metadata.namespace ?? ''}/${svc.metadata.name}`) ?? [])) {
      add(records.a, fqdn, ep.ip);
      const host = `${ep.hostname ?? dashed(ep.ip)}.${fqdn}`;
      add(records.a, host, ep.ip);
      records.names.add(host);
      if (ep.hostname) add(records.ptr, reverseName(ep.ip), host);
      for (const p of ep.ports) {
        if (!p.name) continue;
        const srv = { priority: 0, weight: 100, port: p.port, target: host };
        add(records.srv, `_${p.name.toLowerCase()}._${p.protocol.toLowerCase()}.${fqdn}`, srv, sameSrv);
        add(records.srv, fqdn, srv, sameSrv);
      }
    }
  }
  for (const name of [...records.a.keys(), ...records.srv.keys(), ...records.cname.keys(), ...records.names]) {
    // A name and every name between it and the cluster domain exist.
    const labels = name.split('.');
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels.slice(i).join('.');
      records.names.add(suffix);
      if (suffix === domain) break;
    }
  }
  records.names.add(domain);
  return records;
}
