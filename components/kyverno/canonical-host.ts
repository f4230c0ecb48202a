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
 * Canonical means already in the form the pack's reference parser normalises to
 * (policy-pack/registry/reference.ts), refusing outright what the parser rewrites or refuses, and a little
 * stricter where a regular expression cannot follow it (IPv6 literals, port 443 on loopback hosts):
 * - host letters are lowercase (the parser lower-cases them);
 * - no explicit port 443, however zero-padded (`:443`, `:0443`): the runtime dials port 443 either way;
 * - no trailing dot (`ghcr.io.`: the same DNS name, absolute);
 * - labels are letters, digits and inner hyphens (no empty label, no `_`), the last one starting with a
 *   letter; an IP address is IPv4 in plain dotted decimal (IPv6 literals are refused);
 * - no explicit port 80 on a loopback host (the pack drops it: loopback registries are reached over HTTP);
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
/**
 * A DNS name whose last label starts with a letter: a name ending in a number (`127.1`, `foo.1`,
 * `x.0x7f`) is an IPv4 address to the URL parser the pack uses (or refused by it), never a name.
 */
const DNS_NAME = `(?:${LABEL}\\.)*[a-z](?:[a-z0-9-]*[a-z0-9])?`;
/** IPv4 in dotted decimal without leading zeros: `127.1`, `0x7f.0.0.1` and `0177.0.0.1` are refused. */
const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])';
const IPV4 = `${OCTET}(?:\\.${OCTET}){3}`;
/** A port without leading zeros and other than 443. */
const PORT_NOT_443 = '(?:[1-9][0-9]?|[1-35-9][0-9]{2}|4[0-35-9][0-9]|44[0-24-9]|[1-9][0-9]{3,4})';
// IPv6 literals are refused: their canonical (RFC 5952) compression has no regular-expression form
// short enough to trust, and `[0:0::1]` is `[::1]` to the pack.
const CANONICAL_HOST = `(?:${DNS_NAME}|${IPV4})(?::${PORT_NOT_443})?`;
/** A first component Docker would read as a repository path, not a host. */
const NOT_A_HOST = '[^/.:A-Z\\[]+';

/** Matches every written image reference whose host (if any) is spelled canonically. */
export const CANONICAL_HOST_IMAGE_REGEX = `^(?:[^/]*$|${NOT_A_HOST}/|${CANONICAL_HOST}/)`;

/** Docker Hub's other host names (policy-pack/registry/reference.ts normalises them to docker.io). */
export const DOCKER_HUB_ALIASES = ['index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com'];

/**
 * Matches the spellings the host grammar above cannot exclude on its own: a Docker Hub alias host,
 * docker.io followed by a single component (`docker.io/nginx` is `docker.io/library/nginx`), and port 80
 * on a loopback host (the pack reaches loopback registries over HTTP and drops their default port).
 */
export const NON_CANONICAL_SPELLING_REGEX = `^(?:docker\\.io/[^/]*$|(?:${DOCKER_HUB_ALIASES.map((h) => h.replace(/\./g, '\\.')).join('|')})/|(?:localhost|127(?:\\.[0-9]+){3}):80/)`;

/** True when `image` would be admitted by the canonical-host check (the rendered rule, in JavaScript). */
export function isCanonicallySpelled(image: string): boolean {
  return (
    new RegExp(CANONICAL_HOST_IMAGE_REGEX).test(image) &&
    !new RegExp(NON_CANONICAL_SPELLING_REGEX).test(image)
  );
}

/** What the rejection says is expected, for both policy kinds. */
export const CANONICAL_HOST_EXPECTATION =
  'the registry host written in canonical form: lowercase, no explicit port 443, no trailing dot, ' +
  'Docker Hub as docker.io/<namespace>/<name> or <name> (no index.docker.io, no docker.io/<name>), ' +
  'e.g. ghcr.io/acme/app@sha256:...';
