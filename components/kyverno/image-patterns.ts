/**
 * Regular expressions (RE2-compatible, for CEL `matches`) over image references as they are written in
 * a Pod spec, equivalent to the trust policy's globs over the NORMALISED repository. Kyverno hands CEL
 * the references verbatim (`nginx@sha256:...`), so the Docker Hub shorthands are spelled out here.
 */

const TAG_AND_DIGEST = '(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?';

function escapeLiteral(s: string): string {
  return s.replace(/[.+^${}()|[\]\\]/g, '\\$&');
}

/** Glob body (no anchors): `**` spans segments, `*` stays in one segment, `?` is one character. */
function globBody(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob.charAt(i);
    if (c === '*' && glob.charAt(i + 1) === '*') {
      // `a/**` also covers `a` itself, as picomatch's globstar does.
      if (out.endsWith('/') && i + 2 === glob.length) {
        out = `${out.slice(0, -1)}(?:/.*)?`;
      } else {
        out += '.*';
      }
      i++;
    } else if (c === '*') {
      out += '[^/]*';
    } else if (c === '?') {
      out += '[^/]';
    } else {
      out += escapeLiteral(c);
    }
  }
  return out;
}

/** Alternatives for the repository part: Docker Hub references may omit `docker.io/` and `library/`. */
function repositoryAlternatives(glob: string): string {
  const lower = glob.toLowerCase();
  const alternatives = [globBody(lower)];
  if (lower.startsWith('docker.io/library/')) {
    alternatives.push(globBody(lower.slice('docker.io/library/'.length)));
    alternatives.push(globBody(lower.slice('docker.io/'.length)));
  } else if (lower.startsWith('docker.io/')) {
    alternatives.push(globBody(lower.slice('docker.io/'.length)));
  } else if (lower.startsWith('index.docker.io/')) {
    alternatives.push(globBody(lower.slice('index.docker.io/'.length)));
  }
  return alternatives.length === 1 ? alternatives[0]! : `(?:${alternatives.join('|')})`;
}

/** An anchored regular expression over written image references matching any of `globs`. */
export function imageRegexForGlobs(globs: readonly string[]): string {
  return `^(?:${globs.map(repositoryAlternatives).join('|')})${TAG_AND_DIGEST}$`;
}

/** An anchored regular expression matching exactly one exempted image `repository@sha256:<hex>`. */
export function imageRegexForExemption(image: string): string {
  const at = image.lastIndexOf('@');
  const repository = image.slice(0, at);
  const digest = image.slice(at + 1);
  const literalRepo = repositoryAlternatives(repository);
  return `^${literalRepo}(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?@${escapeLiteral(digest)}$`;
}

/** Kyverno ClusterPolicy `imageReferences` wildcards (`*` spans everything there) for a rule's globs. */
export function clusterPolicyImageReferences(globs: readonly string[]): string[] {
  const refs = new Set<string>();
  for (const g of globs) {
    const w = g.toLowerCase().replace(/\*\*/g, '*');
    refs.add(`${w}:*`);
    refs.add(`${w}@*`);
  }
  return [...refs];
}
