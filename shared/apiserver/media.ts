// Content negotiation and request-body decoding for the Kubernetes media types.
import { parse as parseYaml } from 'yaml';
import { errors } from './errors.js';

export type ResponseForm = 'json' | 'yaml' | 'table' | 'partial';

interface MediaRange {
  type: string;
  params: Record<string, string>;
}

function parseMediaRanges(header: string): MediaRange[] {
  return header.split(',').map((part) => {
    const [type, ...params] = part.split(';').map((s) => s.trim());
    const p: Record<string, string> = {};
    for (const kv of params) {
      const i = kv.indexOf('=');
      if (i > 0) p[kv.slice(0, i).trim()] = kv.slice(i + 1).trim();
    }
    return { type: (type ?? '').toLowerCase(), params: p };
  });
}

/** Pick the response form for an object/list request from its Accept header. */
export function negotiate(accept: string | undefined): ResponseForm {
  if (!accept) return 'json';
  for (const r of parseMediaRanges(accept)) {
    if (r.params.as) {
      if (r.type !== 'application/json' || r.params.g !== 'meta.k8s.io') continue;
      if (r.params.as === 'Table' && (r.params.v === 'v1' || r.params.v === 'v1beta1')) return 'table';
      if ((r.params.as === 'PartialObjectMetadata' || r.params.as === 'PartialObjectMetadataList') && (r.params.v === 'v1' || r.params.v === 'v1beta1')) return 'partial';
      continue;
    }
    if (r.type === 'application/json' || r.type === '*/*' || r.type === 'application/*') return 'json';
    if (r.type === 'application/yaml') return 'yaml';
  }
  throw errors.notAcceptable(['application/json', 'application/yaml', 'application/json;as=Table;v=v1;g=meta.k8s.io']);
}

export const OBJECT_MEDIA_TYPES = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];
export const PATCH_MEDIA_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml', 'application/strategic-merge-patch+json'];

export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

/** Decode a JSON or YAML body; the error wording follows kube-apiserver's decoder. */
export function decodeTextBody(text: string, type: 'json' | 'yaml', kind: string): unknown {
  if (text.trim() === '') {
    throw errors.badRequest(`the object provided is unrecognized (must be of type ${kind}): couldn't get version/kind; json parse error: unexpected end of JSON input (<empty>)`);
  }
  try {
    if (type === 'json') return JSON.parse(text);
    return parseYaml(text, { uniqueKeys: true, prettyErrors: false, maxAliasCount: 100 });
  } catch (e) {
    const detail = e instanceof Error ? e.message.split('\n')[0] : String(e);
    const snippet = text.length > 50 ? `${text.slice(0, 50)} ...` : text;
    throw errors.badRequest(`the object provided is unrecognized (must be of type ${kind}): couldn't get version/kind; ${type} parse error: ${detail} (${snippet})`);
  }
}
