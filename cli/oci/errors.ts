/** Why writing an image or attachment failed. One code per cause, so callers and tests branch on `code`. */
export type OciWriteErrorCode =
  | 'AUTH_REJECTED' // the registry or its token server refused the credentials
  | 'AUTH_UNSUPPORTED' // a challenge we cannot answer (no credentials, unknown scheme)
  | 'REGISTRY_ERROR' // an unexpected HTTP status from the distribution API
  | 'DIGEST_MISMATCH' // the registry (or a layout) reports a digest other than the one computed locally
  | 'INVALID_INPUT'; // a malformed digest, tag or argument

export class OciWriteError extends Error {
  constructor(
    readonly code: OciWriteErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'OciWriteError';
  }
}
