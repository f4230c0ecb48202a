import { DOCKER_HUB_ALIASES } from './canonical-host';
import { cel } from './cel-requirements';

/**
 * Image selection at admission, equivalent to the trust policy's globs over the NORMALISED repository
 * (policy-pack/registry/reference.ts). ImageValidatingPolicy: regular expressions (RE2-compatible, for
 * CEL `matches`) over the normalised reference, and a CEL expression that normalises the written
 * reference Kyverno hands CEL (`nginx@sha256:...`) the way the pack does before matching. ClusterPolicy:
 * Kyverno wildcards (further below).
 */

const TAG_AND_DIGEST = '(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?';

function escapeLiteral(s: string): string {
  return s.replace(/[.+^${}()|[\]\\]/g, '\\$&');
}

/**
 * What a wildcard may match inside one segment. A written reference continues after the repository
 * with `:tag` and `@digest`, so a wildcard must not run into them: path segments never contain `:` or
 * `@`; the registry host may contain `:` (a port).
 */
const IN_PATH_SEGMENT = '[^/:@]';
const IN_HOST_SEGMENT = '[^/@]';
/** What a globstar may span: whole path segments, never the tag or digest. */
const ACROSS_PATH = '[^:@]*';

/** One segment of a glob: `*` (and a `**` that is not a whole segment) stays in the segment. */
function segmentBody(segment: string, isHost: boolean): string {
  const one = isHost ? IN_HOST_SEGMENT : IN_PATH_SEGMENT;
  let out = '';
  for (const c of segment) {
    if (c === '*') {
      if (!out.endsWith(`${one}*`)) out += `${one}*`;
    } else {
      out += c === '?' ? one : escapeLiteral(c);
    }
  }
  return out;
}

/**
 * Glob body (no anchors) with picomatch's semantics, which the pack uses: a whole-segment `**` spans
 * zero or more segments; a trailing `/**` also covers the parent itself, except after a segment that
 * ends in `*` (picomatch then requires a path below it). The property test pins this equivalence.
 */
function globBody(glob: string): string {
  const segments = glob.split('/');
  // Trailing `**` segments are one optional tail, except after a segment ending in `*` (see above).
  let end = segments.length;
  while (end > 1 && segments[end - 1] === '**') end--;
  let out = segments[0] === '**' ? `[^@]*` : segmentBody(segments[0] ?? '', true);
  for (let i = 1; i < end; i++) {
    const s = segments[i]!;
    out += s === '**' ? `(?:/${ACROSS_PATH})?` : `/${segmentBody(s, false)}`;
  }
  if (end < segments.length) {
    const before = segments[end - 1] ?? '';
    out += before !== '**' && before.endsWith('*') ? `/${ACROSS_PATH}` : `(?:/${ACROSS_PATH})?`;
  }
  return out;
}

/**
 * An anchored regular expression over NORMALISED references (`registry/repository[:tag][@digest]`,
 * host lowercase, Docker Hub as `docker.io/library/nginx`) matching any of `globs`.
 */
export function imageRegexForGlobs(globs: readonly string[]): string {
  return `^(?:${globs.map((g) => globBody(g.toLowerCase())).join('|')})${TAG_AND_DIGEST}$`;
}

/** An anchored regular expression matching exactly one exempted image `repository@sha256:<hex>`, normalised. */
export function imageRegexForExemption(image: string): string {
  const at = image.lastIndexOf('@');
  const repository = image.slice(0, at).toLowerCase();
  const digest = image.slice(at + 1);
  return `^${escapeLiteral(repository)}(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?@${escapeLiteral(digest)}$`;
}

/**
 * A first component Docker reads as a registry host (distribution/reference splitDockerDomain): it
 * contains `.` or `:` (an IPv6 literal has both), has an uppercase letter, or is `localhost`.
 */
const HOST_FIRST = '^(?:[^/]*[.:A-Z][^/]*|localhost)/';

/**
 * CEL: the reference written in `image` normalises to one that `normalisedRegex` matches. A reference
 * with a host is taken as written (admission-guards.ts refuses every host spelling that is not already
 * normal: case, port 443, trailing dot, Docker Hub aliases and `docker.io/<name>`); one without is a
 * Docker Hub path, `library/` added to a single component, exactly as the pack normalises it.
 */
export function celWrittenImageMatches(image: string, normalisedRegex: string): string {
  const re = cel(normalisedRegex);
  return `(${image}.matches(${cel(HOST_FIRST)}) ? ${image}.matches(${re}) : ${image}.contains('/') ? ('docker.io/' + ${image}).matches(${re}) : ('docker.io/library/' + ${image}).matches(${re}))`;
}

/**
 * Docker Hub references may be written without `docker.io/` and `library/`; Kyverno wildcards see the
 * reference as written, so the short forms are listed too.
 */
function dockerHubForms(repository: string): string[] {
  if (!repository.startsWith('docker.io/')) return [repository];
  const path = repository.slice('docker.io/'.length);
  // The other host names of Docker Hub, which the pack normalises to docker.io.
  const hosts = DOCKER_HUB_ALIASES.map((alias) => `${alias}/${path}`);
  if (path.startsWith('library/')) return [repository, ...hosts, path, path.slice('library/'.length)];
  return [repository, ...hosts, path];
}

/** Every form of a glob where each whole-segment `**` either spans segments or is absent (picomatch lets it match none). */
function globstarVariants(glob: string): string[] {
  const segments = glob.split('/');
  let variants: string[][] = [[]];
  for (const [i, seg] of segments.entries()) {
    if (seg === '**' && i > 0) {
      variants = [...variants.map((v) => [...v, '*']), ...variants.map((v) => [...v])];
    } else {
      variants = variants.map((v) => [...v, seg.replace(/\*\*/g, '*')]);
    }
  }
  return [...new Set(variants.map((v) => v.join('/')))];
}

function withTagOrDigest(repositories: Iterable<string>): string[] {
  const refs = new Set<string>();
  for (const r of repositories) {
    refs.add(`${r}:*`);
    refs.add(`${r}@*`);
  }
  return [...refs];
}

/**
 * Kyverno ClusterPolicy `imageReferences` for a rule's globs: a SUPERSET of what the pack matches
 * (Kyverno's `*` also crosses `/`), so every image the rule covers is verified by it.
 */
export function clusterPolicyImageReferences(globs: readonly string[]): string[] {
  return withTagOrDigest(globs.flatMap((g) => globstarVariants(g.toLowerCase())).flatMap(dockerHubForms));
}

/**
 * Patterns later rules may skip because an earlier rule covers them: a SUBSET of what the pack matches.
 * A glob with a one-segment `*` or `?` has no such Kyverno form and is not skipped: the later rule then
 * checks those images too, which is stricter than the pack, never weaker.
 */
export function clusterPolicySkipReferences(globs: readonly string[]): string[] {
  const exact = globs.filter((g) => g.split('/').every((seg) => seg === '**' || !/[*?]/.test(seg)));
  return withTagOrDigest(exact.map((g) => g.toLowerCase().replace(/\*\*/g, '*')).flatMap(dockerHubForms));
}

/** Wildcard forms of one exempted image `repository@sha256:<hex>` as it may be written. */
export function clusterPolicyExemptionReferences(image: string): string[] {
  const at = image.lastIndexOf('@');
  const repository = image.slice(0, at).toLowerCase();
  const digest = image.slice(at + 1);
  return dockerHubForms(repository).flatMap((r) => [`${r}@${digest}`, `${r}:*@${digest}`]);
}
