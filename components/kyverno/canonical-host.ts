/**
 * The registry host of an image, as written in a Pod, must be spelled canonically at admission.
 *
 * Why: Kyverno selects images for verification by matching the reference as written (ClusterPolicy
 * `imageReferences` wildcards, case-sensitive, against the parsed but not lower-cased reference;
 * ImageValidatingPolicy CEL against the verbatim string). The container runtime, though, pulls
 * `GHCR.IO/acme/app` from ghcr.io (DNS is case-insensitive) and `ghcr.io:443/acme/app` from ghcr.io
 * (443 is the HTTPS default). Such spellings fall under no `ghcr.io/acme/**` rule and, with
 * `unmatchedImages: allow`, would be admitted unverified. Rather than enumerate every spelling of
 * every host in every rule, the rendered policies refuse any non-canonical host outright.
 *
 * Canonical, as the pack's reference parser normalises (policy-pack/registry/reference.ts), and
 * stricter where the pack would not be (a trailing dot, a zero-padded port):
 * - host letters are lowercase (the parser lower-cases them);
 * - no explicit port 443, however zero-padded (`:443`, `:0443`): the runtime dials port 443 either way;
 * - no trailing dot (`ghcr.io.`: the same DNS name, absolute);
 * - labels are letters, digits and inner hyphens (no empty label, no `_`); an IPv6 literal is lowercase hex;
 * - Docker Hub is written `docker.io/<namespace>/<name>` or in the short forms (`nginx`,
 *   `acme/app`): `docker.io/nginx` is pulled as `docker.io/library/nginx` and `index.docker.io/...`
 *   (or registry-1.docker.io, registry.hub.docker.com) as `docker.io/...`, which the pack knows but a
 *   glob over the written reference does not. With these refused, a reference with a host is already
 *   in the pack's normal form, and the rendered rule selection (image-patterns.ts) is exact.
 *
 * The first component of a reference is a host, as Docker decides it (distribution/reference), when it
 * contains `.` or `:`, is `localhost`, or has an uppercase letter; otherwise the reference is a Docker
 * Hub path (`acme/app`, `nginx`) and has no host to spell.
 *
 * Both expressions are RE2 (Kyverno's CEL `matches` and JMESPath `regex_match`) and JavaScript
 * compatible: no look-around, no inline flags.
 */

const LABEL = '[a-z0-9](?:[a-z0-9-]*[a-z0-9])?';
const DNS_NAME = `${LABEL}(?:\\.${LABEL})*`;
const IPV6_LITERAL = '\\[[0-9a-f:.]+\\]';
/** A port without leading zeros and other than 443. */
const PORT_NOT_443 = '(?:[1-9][0-9]?|[1-35-9][0-9]{2}|4[0-35-9][0-9]|44[0-24-9]|[1-9][0-9]{3,4})';
const CANONICAL_HOST = `(?:${DNS_NAME}|${IPV6_LITERAL})(?::${PORT_NOT_443})?`;
/** A first component Docker would read as a repository path, not a host. */
const NOT_A_HOST = '[^/.:A-Z\\[]+';

/** Matches every written image reference whose host (if any) is spelled canonically. */
export const CANONICAL_HOST_IMAGE_REGEX = `^(?:[^/]*$|${NOT_A_HOST}/|${CANONICAL_HOST}/)`;

/** Docker Hub's other host names (policy-pack/registry/reference.ts normalises them to docker.io). */
export const DOCKER_HUB_ALIASES = ['index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com'];

/**
 * Matches a Docker Hub spelling other than `docker.io/<namespace>/<name>` or the short forms: an alias
 * host, or docker.io followed by a single component (`docker.io/nginx@sha256:...`).
 */
export const NON_CANONICAL_DOCKER_HUB_REGEX = `^(?:docker\\.io/[^/]*$|(?:${DOCKER_HUB_ALIASES.map((h) => h.replace(/\./g, '\\.')).join('|')})/)`;

/** True when `image` would be admitted by the canonical-host check (the rendered rule, in JavaScript). */
export function isCanonicallySpelled(image: string): boolean {
  return (
    new RegExp(CANONICAL_HOST_IMAGE_REGEX).test(image) &&
    !new RegExp(NON_CANONICAL_DOCKER_HUB_REGEX).test(image)
  );
}

/** What the rejection says is expected, for both policy kinds. */
export const CANONICAL_HOST_EXPECTATION =
  'the registry host written in canonical form: lowercase, no explicit port 443, no trailing dot, ' +
  'Docker Hub as docker.io/<namespace>/<name> or <name> (no index.docker.io, no docker.io/<name>), ' +
  'e.g. ghcr.io/acme/app@sha256:...';
