// The cluster DNS answerer: queries in, responses out, from Services and EndpointSlices.
import dnsPacket, { type Packet, type RecordType } from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { answerQuery, encodeForUdp, udpLimit } from '../../../node-agent/dns/answer.js';
import { buildClusterRecords } from '../../../node-agent/dns/cluster-records.js';
import type { ServiceObject, SliceObject } from '../../../node-agent/proxy/service-ports.js';

const services: ServiceObject[] = [
  { metadata: { name: 'web', namespace: 'shop' }, spec: { clusterIP: '10.96.3.4', ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { port: 81 }] } },
  { metadata: { name: 'db', namespace: 'shop' }, spec: { clusterIP: 'None', ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] } },
  { metadata: { name: 'ext', namespace: 'shop' }, spec: { type: 'ExternalName', externalName: 'Example.org.' } },
];
const slices: SliceObject[] = [
  {
    metadata: { name: 'db-x1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'db' } },
    addressType: 'IPv4',
    endpoints: [
      { addresses: ['10.88.0.21'], conditions: { ready: true }, hostname: 'db-0' },
      { addresses: ['10.88.0.22'], conditions: { ready: true } },
      { addresses: ['10.88.0.23'], conditions: { ready: false }, hostname: 'db-2' },
    ],
    ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
  },
];
const records = buildClusterRecords(services, slices, 'cluster.local');

function ask(name: string, type: RecordType | 'ANY' = 'A', flags = dnsPacket.RECURSION_DESIRED): Packet | undefined {
  return answerQuery({ type: 'query', id: 4242, flags, questions: [{ name, type: type as RecordType, class: 'IN' }] }, records);
}
const rcode = (p: Packet | undefined) => (p!.flags ?? 0) & 0xf;
const data = (p: Packet | undefined) => (p!.answers ?? []).map((a) => [a.type, (a as { data: unknown }).data]);

describe('cluster DNS answers', () => {
  it('answers a Service name with its cluster IP, authoritatively, echoing id and question', () => {
    const r = ask('web.shop.svc.cluster.local');
    expect(r).toMatchObject({ type: 'response', id: 4242, questions: [{ name: 'web.shop.svc.cluster.local', type: 'A' }] });
    expect(data(r)).toEqual([['A', '10.96.3.4']]);
    expect((r!.answers![0] as { ttl?: number }).ttl).toBe(5);
    expect(r!.flags! & dnsPacket.AUTHORITATIVE_ANSWER).toBeTruthy();
    expect(r!.flags! & dnsPacket.RECURSION_DESIRED).toBeTruthy();
    expect(data(ask('WEB.Shop.svc.cluster.local.'))).toEqual([['A', '10.96.3.4']]);
  });

  it('answers a headless Service with its ready endpoint IPs, and endpoint hostnames below it', () => {
    expect(data(ask('db.shop.svc.cluster.local'))).toEqual([['A', '10.88.0.21'], ['A', '10.88.0.22']]);
    expect(data(ask('db-0.db.shop.svc.cluster.local'))).toEqual([['A', '10.88.0.21']]);
    expect(data(ask('10-88-0-22.db.shop.svc.cluster.local'))).toEqual([['A', '10.88.0.22']]);
    expect(rcode(ask('db-2.db.shop.svc.cluster.local'))).toBe(3);
  });

  it('answers SRV for named ports, with the targets\' addresses as additionals', () => {
    const r = ask('_http._tcp.web.shop.svc.cluster.local', 'SRV');
    expect(data(r)).toEqual([['SRV', { priority: 0, weight: 100, port: 80, target: 'web.shop.svc.cluster.local' }]]);
    expect(r!.additionals).toMatchObject([{ name: 'web.shop.svc.cluster.local', type: 'A', data: '10.96.3.4' }]);
    const headless = ask('_pg._tcp.db.shop.svc.cluster.local', 'SRV');
    expect(data(headless).map(([, d]) => (d as { target: string }).target)).toEqual(['db-0.db.shop.svc.cluster.local', '10-88-0-22.db.shop.svc.cluster.local']);
  });

  it('returns NXDOMAIN with the zone SOA for unknown cluster names, and NOERROR without records for AAAA and empty names', () => {
    for (const name of ['nope.shop.svc.cluster.local', 'web.other.svc.cluster.local', 'x.y.cluster.local']) {
      const r = ask(name);
      expect(rcode(r)).toBe(3);
      expect(r!.answers).toEqual([]);
      expect(r!.authorities).toMatchObject([{ name: 'cluster.local', type: 'SOA', data: { mname: 'ns.dns.cluster.local', minimum: 5 } }]);
    }
    for (const [name, type] of [['web.shop.svc.cluster.local', 'AAAA'], ['shop.svc.cluster.local', 'A'], ['svc.cluster.local', 'A']] as const) {
      const r = ask(name, type);
      expect(rcode(r)).toBe(0);
      expect(r!.answers).toEqual([]);
      expect(r!.authorities![0].type).toBe('SOA');
    }
    expect(rcode(ask('nope.shop.svc.cluster.local', 'AAAA'))).toBe(3);
  });

  it('answers ExternalName Services with a CNAME and pod names with their IP', () => {
    expect(data(ask('ext.shop.svc.cluster.local'))).toEqual([['CNAME', 'example.org']]);
    expect(data(ask('10-88-0-7.shop.pod.cluster.local'))).toEqual([['A', '10.88.0.7']]);
  });

  it('answers PTR for cluster IPs and leaves every other name outside the domain to upstream', () => {
    expect(data(ask('4.3.96.10.in-addr.arpa', 'PTR'))).toEqual([['PTR', 'web.shop.svc.cluster.local']]);
    expect(ask('example.org')).toBeUndefined();
    expect(ask('1.1.168.192.in-addr.arpa', 'PTR')).toBeUndefined();
    expect(ask('cluster.local.example.org')).toBeUndefined();
  });

  it('answers FORMERR to a query without a question', () => {
    expect(rcode(answerQuery({ type: 'query', id: 1, questions: [] }, records))).toBe(1);
  });

  it('follows changes: a Service that is gone is NXDOMAIN in records rebuilt without it', () => {
    const fewer = buildClusterRecords(services.slice(1), slices);
    expect(rcode(answerQuery({ type: 'query', id: 1, questions: [{ name: 'web.shop.svc.cluster.local', type: 'A', class: 'IN' }] }, fewer))).toBe(3);
  });

  it('truncates UDP responses that exceed what the client accepts', () => {
    const many: SliceObject = { ...slices[0], endpoints: Array.from({ length: 60 }, (_, i) => ({ addresses: [`10.88.1.${i + 1}`], conditions: { ready: true } })) };
    const big = buildClusterRecords(services, [many]);
    const query: Packet = { type: 'query', id: 9, questions: [{ name: 'db.shop.svc.cluster.local', type: 'A', class: 'IN' }] };
    const response = answerQuery(query, big)!;
    expect(response.answers).toHaveLength(60);
    const small = dnsPacket.decode(encodeForUdp(response, udpLimit(query)));
    expect(small.flag_tc).toBe(true);
    expect(small.answers).toEqual([]);
    const edns: Packet = { ...query, additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096 } as never] };
    expect(dnsPacket.decode(encodeForUdp(response, udpLimit(edns))).answers).toHaveLength(60);
  });
});
