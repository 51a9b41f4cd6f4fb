// Answering one DNS query from the cluster's records: authoritative answers inside the cluster
// domain (NXDOMAIN or empty NOERROR with the zone's SOA when there is nothing to answer) and
// undefined for names the cluster does not own, which the server forwards upstream.
import dnsPacket, { type Answer, type Packet, type Question } from 'dns-packet';
import { normalizeName, type ClusterRecords } from './cluster-records.js';

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
/** Kubernetes DNS records live 5 seconds by default (CoreDNS' kubernetes plugin). */
export const RECORD_TTL = 5;
const RD = dnsPacket.RECURSION_DESIRED;
const RA = dnsPacket.RECURSION_AVAILABLE;
const AA = dnsPacket.AUTHORITATIVE_ANSWER;

/** A response with no records and the given code, echoing the query's id and question. */
export function errorResponse(query: Packet, rcode: number): Packet {
  return { type: 'response', id: query.id ?? 0, flags: ((query.flags ?? 0) & RD) | RA | rcode, questions: query.questions ?? [], answers: [], authorities: [], additionals: [] };
}

function soa(records: ClusterRecords): Answer {
  return {
    name: records.domain,
    type: 'SOA',
    class: 'IN',
    ttl: RECORD_TTL,
    data: { mname: `ns.dns.${records.domain}`, rname: `hostmaster.${records.domain}`, serial: 1, refresh: 7200, retry: 1800, expire: 86400, minimum: RECORD_TTL },
  };
}

const POD_NAME = /^(\d{1,3})-(\d{1,3})-(\d{1,3})-(\d{1,3})\.[a-z0-9-]+\.pod\.(.+)$/;

function podAddress(name: string, domain: string): string | undefined {
  const m = POD_NAME.exec(name);
  if (!m || m[5] !== domain) return undefined;
  const parts = m.slice(1, 5).map(Number);
  return parts.every((n) => n <= 255) ? parts.join('.') : undefined;
}

function clusterAnswers(q: Question, name: string, records: ClusterRecords): { answers: Answer[]; additionals: Answer[]; exists: boolean } {
  const a = (n: string, ip: string): Answer => ({ name: n, type: 'A', class: 'IN', ttl: RECORD_TTL, data: ip });
  const cname = records.cname.get(name);
  if (cname) return { answers: [{ name, type: 'CNAME', class: 'IN', ttl: RECORD_TTL, data: cname }], additionals: [], exists: true };
  // dns-packet's types leave out ANY, which it does decode.
  const type = q.type as string;
  const podIP = podAddress(name, records.domain);
  if (podIP) return { answers: type === 'A' || type === 'ANY' ? [a(name, podIP)] : [], additionals: [], exists: true };
  const answers: Answer[] = [];
  const additionals: Answer[] = [];
  if (type === 'A' || type === 'ANY') for (const ip of records.a.get(name) ?? []) answers.push(a(name, ip));
  if (type === 'SRV' || type === 'ANY') {
    for (const srv of records.srv.get(name) ?? []) {
      answers.push({ name, type: 'SRV', class: 'IN', ttl: RECORD_TTL, data: srv });
      for (const ip of records.a.get(srv.target) ?? []) if (!additionals.some((x) => x.name === srv.target && (x as { data: unknown }).data === ip)) additionals.push(a(srv.target, ip));
    }
  }
  if (type === 'SOA' && name === records.domain) answers.push(soa(records));
  return { answers, additionals, exists: records.names.has(name) };
}

/** The response to a query, or undefined when the name is not the cluster's to answer. */
export function answerQuery(query: Packet, records: ClusterRecords): Packet | undefined {
  const q = query.questions?.[0];
  if (!q) return errorResponse(query, RCODE.FORMERR);
  const name = normalizeName(q.name);
  const inDomain = name === records.domain || name.endsWith(`.${records.domain}`);
  const base = { type: 'response' as const, id: query.id ?? 0, questions: [q] };
  const flags = ((query.flags ?? 0) & RD) | RA | AA;
  if (inDomain) {
    const { answers, additionals, exists } = clusterAnswers(q, name, records);
    if (answers.length) return { ...base, flags, answers, authorities: [], additionals };
    return { ...base, flags: flags | (exists ? RCODE.NOERROR : RCODE.NXDOMAIN), answers: [], authorities: [soa(records)], additionals: [] };
  }
  if (q.type === 'PTR') {
    const targets = records.ptr.get(name);
    if (targets) return { ...base, flags, answers: targets.map((t) => ({ name, type: 'PTR', class: 'IN', ttl: RECORD_TTL, data: t })), authorities: [], additionals: [] };
  }
  return undefined;
}

/** The largest UDP response the client accepts: its EDNS payload size, else 512 bytes. */
export function udpLimit(query: Packet): number {
  const opt = (query.additionals ?? []).find((x) => x.type === 'OPT') as { udpPayloadSize?: number } | undefined;
  return Math.max(512, Math.min(opt?.udpPayloadSize ?? 512, 65_535));
}

/** Encode for UDP: a response too large for the client is sent empty with TC set, so it retries over TCP. */
export function encodeForUdp(response: Packet, limit: number): Buffer {
  const buf = dnsPacket.encode(response);
  if (buf.length <= limit) return buf;
  return dnsPacket.encode({ ...response, flags: (response.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE, answers: [], authorities: [], additionals: [] });
}
