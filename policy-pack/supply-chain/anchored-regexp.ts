import { RE2JS } from 're2js';

/**
 * The one place that compiles a trust-policy pattern (`issuerRegExp`, `subjectRegExp`,
 * `builderIdRegExp`, ...). Two promises hold for every pattern:
 *
 * - RE2 syntax and semantics, through `re2js` (a pure-JS port of RE2). The same policy is rendered into
 *   Kyverno, where cosign matches these patterns with Go's `regexp` (RE2). Compiling with JavaScript's
 *   `RegExp` would accept lookarounds and backreferences that break at admission, reject RE2 syntax such
 *   as `(?i)` or `[[:alpha:]]`, and backtrack exponentially on a pattern like `(a+)+` over a subject the
 *   attacker chooses (anyone's workflow path can get a Fulcio certificate). RE2 matches in time linear in
 *   the input and has no backtracking to exploit.
 * - Anchored: the whole string must match; `^` and `$` are implied. Without this an identity pattern
 *   such as `github\.com/acme/` would also accept `https://evil.example/github.com/acme/`. The text
 *   handed to other engines is `^(?:pattern)$` (see `anchoredSource`), and the pattern must compile on
 *   its own first: otherwise `a)|(b` would become `^(?:a)|(b)$`, which is valid but anchors nothing, and
 *   `\Qa` would swallow the closing anchors.
 */

/** A compiled, anchored policy pattern. */
export interface AnchoredPattern {
  /** The pattern as written in the policy. */
  readonly pattern: string;
  /** True when the whole of `input` matches. Linear in `pattern` and `input` sizes. */
  matches(input: string): boolean;
}

/** A pattern RE2 cannot compile; `reason` is RE2's own diagnosis (e.g. `invalid escape sequence: \1`). */
export class PolicyPatternError extends Error {
  readonly code = 'POLICY_BAD_REGEXP' as const;

  constructor(
    readonly pattern: string,
    readonly reason: string,
  ) {
    super(`/${pattern}/ is not a valid RE2 regular expression: ${reason}`);
    this.name = 'PolicyPatternError';
  }
}

/** The anchored form of a pattern, as other RE2 engines (Kyverno, cosign) must receive it. */
export function anchoredSource(pattern: string): string {
  return `^(?:${pattern})$`;
}

function re2Reason(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  // re2js prefixes every syntax error with Go's "error parsing regexp: "; the rest is the reason.
  return message.replace(/^error parsing regexp: /, '');
}

/** Compiles `pattern` as an anchored RE2 expression; throws PolicyPatternError when RE2 rejects it. */
export function compileAnchoredPattern(pattern: string): AnchoredPattern {
  let anchored: RE2JS;
  try {
    // Flags 0: plain RE2. re2js can opt in to lookbehinds (RE2JS.LOOKBEHINDS); Go's regexp cannot, so
    // neither may we.
    RE2JS.compile(pattern, 0);
  } catch (e) {
    throw new PolicyPatternError(pattern, re2Reason(e));
  }
  try {
    anchored = RE2JS.compile(anchoredSource(pattern), 0);
  } catch (e) {
    throw new PolicyPatternError(pattern, `it does not stay inside the anchors ^(?:...)$ (${re2Reason(e)})`);
  }
  // testExact is a whole-input match on RE2's DFA path (no capture groups requested).
  return { pattern, matches: (input: string): boolean => anchored.testExact(input) };
}

/** RE2's reason for rejecting `pattern`, or undefined when it compiles. */
export function anchoredPatternProblem(pattern: string): string | undefined {
  try {
    compileAnchoredPattern(pattern);
    return undefined;
  } catch (e) {
    if (e instanceof PolicyPatternError) return e.reason;
    throw e;
  }
}

const NEVER: AnchoredPattern = { pattern: '', matches: () => false };
const cache = new Map<string, AnchoredPattern>();
/** Bounds the cache: patterns come from the policy, but a caller may build signers from other input. */
const CACHE_LIMIT = 1024;

/**
 * Whole-string match of `input` against a policy pattern, compiled once per pattern. A pattern RE2
 * rejects matches nothing (fail closed): policy load reports it, but signers built by other callers
 * (the CLI's verify-bundle flags, tests) never pass through policy load.
 */
export function matchesAnchored(pattern: string, input: string): boolean {
  let compiled = cache.get(pattern);
  if (compiled === undefined) {
    try {
      compiled = compileAnchoredPattern(pattern);
    } catch {
      compiled = NEVER;
    }
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(pattern, compiled);
  }
  return compiled.matches(input);
}
