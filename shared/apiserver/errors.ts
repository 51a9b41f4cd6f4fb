// Kubernetes Status errors with the reasons, codes and wording kube-apiserver uses.
import type { FieldError } from '../api/schema/dsl.js';
import { formatFieldError } from '../api/schema/errors.js';

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** A resource as errors name it: "configmaps" in core, "deployments.apps" elsewhere. */
export interface ResourceName {
  group: string;
  resource: string;
}

const qualified = (r: ResourceName): string => (r.group ? `${r.resource}.${r.group}` : r.resource);
const detailsFor = (r: ResourceName, name: string): StatusDetails => (r.group ? { name, group: r.group, kind: r.resource } : { name, kind: r.resource });

export class ApiError extends Error {
  /** Extra response headers, e.g. Retry-After. */
  headers: Record<string, string> = {};

  constructor(readonly status: Status) {
    super(status.message);
    this.name = 'ApiError';
  }

  get code(): number {
    return this.status.code;
  }
}

function failure(code: number, reason: string | undefined, message: string, details?: StatusDetails): ApiError {
  // Field order follows kube-apiserver's output: kind, apiVersion, metadata, status, message, reason, details, code.
  const status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message } as Status;
  if (reason) status.reason = reason;
  if (details) status.details = details;
  status.code = code;
  return new ApiError(status);
}

export const errors = {
  notFound: (r: ResourceName, name: string) => failure(404, 'NotFound', `${qualified(r)} "${name}" not found`, detailsFor(r, name)),
  /** A 404 for a path that names no resource at all. */
  pathNotFound: () => failure(404, 'NotFound', 'the server could not find the requested resource', {}),
  alreadyExists: (r: ResourceName, name: string) => failure(409, 'AlreadyExists', `${qualified(r)} "${name}" already exists`, detailsFor(r, name)),
  conflict: (r: ResourceName, name: string, detail = 'the object has been modified; please apply your changes to the latest version and try again') =>
    failure(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(r)} "${name}": ${detail}`, detailsFor(r, name)),
  /** 422 with field causes: `Pod "x" is invalid: metadata.name: Invalid value: ...`. */
  invalid: (group: string, kind: string, name: string, fieldErrors: FieldError[]) => {
    const parts = fieldErrors.map(formatFieldError);
    const summary = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
    const details: StatusDetails = { name, ...(group ? { group } : {}), kind, causes: fieldErrors.map((e) => ({ reason: e.reason, message: e.message, field: e.field })) };
    return failure(422, 'Invalid', `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${summary}`, details);
  },
  badRequest: (message: string) => failure(400, 'BadRequest', message),
  methodNotAllowed: () => failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {}),
  unsupportedMediaType: (accepted: string[]) =>
    failure(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`),
  notAcceptable: (accepted: string[]) => failure(406, 'NotAcceptable', `only the following media types are accepted: ${accepted.join(', ')}`),
  entityTooLarge: (limit: number) => failure(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limit}`),
  unauthorized: () => failure(401, 'Unauthorized', 'Unauthorized'),
  forbidden: (r: ResourceName, name: string, reason: string, causes?: StatusCause[]) =>
    failure(403, 'Forbidden', `${qualified(r)}${name ? ` "${name}"` : ''} is forbidden: ${reason}`, { ...detailsFor(r, name), ...(causes ? { causes } : {}) }),
  expired: (message: string) => failure(410, 'Expired', message),
  gone: (message: string) => failure(410, 'Gone', message),
  internal: (message: string) => failure(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] }),
  timeout: (message: string) => failure(504, 'Timeout', message),
  tooManyRequests: (message: string) => failure(429, 'TooManyRequests', message),
};

export function successStatus(details?: StatusDetails): Status {
  const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 200 };
  if (details) s.details = details;
  return s;
}
