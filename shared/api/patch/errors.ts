// The one error type thrown by the patch and apply engines, with constructors for the status codes
// kube-apiserver uses for each failure class.

export type PatchErrorCode = 400 | 409 | 413 | 422 | 500;

/** Status reason; '' is metav1.StatusReasonUnknown (kube-apiserver omits `reason` from the Status then). */
export type PatchErrorReason = 'BadRequest' | 'Conflict' | 'Invalid' | 'RequestEntityTooLarge' | '';

export interface PatchErrorCause {
  reason: string;
  message: string;
  /** Empty when the cause names no field (omit it from the Status then). */
  field: string;
}

export class PatchError extends Error {
  readonly code: PatchErrorCode;
  readonly reason: PatchErrorReason;
  declare readonly causes?: PatchErrorCause[];
  /** The underlying failure when Kubernetes answers with a generic message; for logs only, never sent. */
  declare readonly detail?: string;

  constructor(code: PatchErrorCode, reason: PatchErrorReason, message: string, extra: { causes?: PatchErrorCause[]; detail?: string } = {}) {
    super(message);
    this.name = 'PatchError';
    this.code = code;
    this.reason = reason;
    if (extra.causes) Object.defineProperty(this, 'causes', { value: extra.causes, enumerable: true });
    if (extra.detail !== undefined) Object.defineProperty(this, 'detail', { value: extra.detail, enumerable: true });
  }
}

export const badRequest = (message: string): PatchError => new PatchError(400, 'BadRequest', message);

/**
 * errors.NewGenericServerResponse(422, ...) without causes: Kubernetes hides the patch library's text
 * behind this fixed sentence (json-patch application failures, lists of lists in a strategic patch).
 */
export const GENERIC_UNPROCESSABLE = 'the server rejected our request due to an error in our request';
export const unprocessable = (detail: string): PatchError => new PatchError(422, 'Invalid', GENERIC_UNPROCESSABLE, { detail });

/** A plain Go error reaching the REST layer: 500 with an unknown reason and the error text as message. */
export const internal = (message: string): PatchError => new PatchError(500, '', message);

export const tooLarge = (message: string): PatchError => new PatchError(413, 'RequestEntityTooLarge', message);
