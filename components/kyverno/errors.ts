/** Codes of the Kyverno rendering layer (one union per layer, DESIGN.md convention 3). */
export type KyvernoRenderCode =
  /** A rule names a signer the policy does not define. */
  | 'UNKNOWN_SIGNER'
  /** A trust-policy constraint has no faithful Kyverno equivalent; rendering it weaker is not allowed. */
  | 'NOT_EXPRESSIBLE'
  /** The policy has nothing to enforce (no rules and unmatched images allowed). */
  | 'EMPTY_POLICY';

export class KyvernoRenderError extends Error {
  constructor(
    readonly code: KyvernoRenderCode,
    message: string,
  ) {
    super(message);
    this.name = 'KyvernoRenderError';
  }
}
