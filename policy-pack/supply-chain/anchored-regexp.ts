/**
 * Every `...RegExp` field of the trust policy is anchored: `^` and `$` are implied. Without this an
 * identity pattern such as `github\.com/acme/` would also accept `https://evil.example/github.com/acme/`.
 * The pattern is wrapped in a non-capturing group so that alternations stay inside the anchors.
 */
export function anchoredRegExp(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`);
}
