import picomatch from 'picomatch';

/**
 * `match` globs of the trust policy apply to the normalised repository (`registry/path`, no tag or
 * digest): `*` stays within one path segment, `**` spans segments. Dotfiles are not special in
 * repository names, so `dot` is on; brace and extglob syntax is off so that only `*`, `**` and `?`
 * carry meaning and a literal name cannot surprise anyone.
 */
const OPTIONS: picomatch.PicomatchOptions = { dot: true, nobrace: true, noextglob: true, nonegate: true };

export type RepositoryMatcher = (repository: string) => boolean;

/** Compiles the globs of one rule; throws on a glob picomatch cannot compile. */
export function compileRepositoryGlobs(globs: readonly string[]): RepositoryMatcher {
  const matchers = globs.map((g) => picomatch(g.toLowerCase(), OPTIONS));
  return (repository) => {
    const name = repository.toLowerCase();
    return matchers.some((m) => m(name));
  };
}
