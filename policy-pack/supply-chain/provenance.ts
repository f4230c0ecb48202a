import { anchoredSource, matchesAnchored } from './anchored-regexp';
import { isProvenancePredicate, SLSA_PROVENANCE_V01, SLSA_PROVENANCE_V02 } from './predicate-types';
import type { ImageRule } from './types';

/**
 * SLSA provenance (v0.1, v0.2 and v1) and SLSA verification summaries (VSA v0.2 and v1), reduced to what
 * the policy checks: who built it, from which source (repository + commit), and, for a VSA, whether it
 * PASSED. The accepted predicate types are listed in predicate-types.ts.
 */

export {
  isProvenancePredicate,
  isVsaPredicate,
  SLSA_PROVENANCE_V01,
  SLSA_PROVENANCE_V02,
  SLSA_PROVENANCE_V1,
  SLSA_VSA_V02,
  SLSA_VSA_V1,
} from './predicate-types';

/** A source the build read: a repository and the commit (or other digest) it was at. */
export interface BuildSource {
  /** Normalised repository: scheme, `git+` prefix, `@ref` and `.git` removed, host lower-cased. */
  repository: string;
  /** `sha1:<hex>`, `sha256:<hex>`, ... (gitCommit filed under sha1/sha256), lower-cased. */
  digests: string[];
  /** A source-code checkout (a `git+` URI, or a `gitCommit` / `sha1` digest) rather than a base image or tool. */
  git: boolean;
}

export interface Provenance {
  version: 'v0.1' | 'v0.2' | 'v1';
  builderId: string;
  /** The sources that carry a digest (only they pin what was built). */
  sources: BuildSource[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `git+https://GitHub.com/acme/app.git@refs/tags/v1` -> `github.com/acme/app`. */
export function normaliseRepositoryUri(uri: string): string {
  let s = uri.trim().replace(/^git\+/, '');
  s = s.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const at = s.indexOf('@');
  if (at >= 0) s = s.slice(0, at);
  s = s.replace(/\/+$/, '').replace(/\.git$/, '');
  const slash = s.indexOf('/');
  return slash < 0 ? s.toLowerCase() : s.slice(0, slash).toLowerCase() + s.slice(slash);
}

/**
 * SLSA v1 names a git commit `gitCommit`, v0.2 producers usually `sha1` (or `sha256` for SHA-256
 * repositories): the same commit must compare equal across versions, so `gitCommit` is filed under the
 * hash its length says it is.
 */
function digestKey(alg: string, value: string): string {
  const hex = value.toLowerCase();
  if (alg === 'gitCommit') return `${hex.length === 64 ? 'sha256' : 'sha1'}:${hex}`;
  return `${alg}:${hex}`;
}

function sourceOf(entry: unknown): BuildSource | undefined {
  if (!isRecord(entry) || typeof entry.uri !== 'string' || !isRecord(entry.digest)) return undefined;
  const digests = Object.entries(entry.digest)
    .filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== '')
    .map(([alg, value]) => digestKey(alg, value));
  if (digests.length === 0) return undefined;
  const git = /^git\+/i.test(entry.uri.trim()) || 'gitCommit' in entry.digest || 'sha1' in entry.digest;
  return { repository: normaliseRepositoryUri(entry.uri), digests, git };
}

/**
 * `builder.id` says who built the image, which a rule's builder constraint and the report rely on: a
 * missing one and an empty one (BuildKit writes `""` unless given `builder-id`) are both refused, each
 * with its own message.
 */
function builderIdProblem(where: string, builder: unknown): string | undefined {
  if (!isRecord(builder) || !('id' in builder)) return `${where} has no builder.id`;
  if (typeof builder.id !== 'string') return `${where} has a builder.id that is not a string`;
  if (builder.id.trim() === '') {
    return `${where} has an empty builder.id, so it does not say who built the image (BuildKit writes one unless given builder-id=<URI>)`;
  }
  return undefined;
}

/** Parses a provenance predicate; returns a problem instead of throwing. */
export function parseProvenance(
  predicateType: string,
  predicate: Record<string, unknown>,
): { provenance: Provenance } | { problem: string } {
  if (!isProvenancePredicate(predicateType)) {
    return { problem: `predicate type ${predicateType} is not SLSA provenance v1, v0.2 or v0.1` };
  }
  if (predicateType === SLSA_PROVENANCE_V01) {
    // v0.1 (Google Cloud Build, older builders): builder, recipe, materials.
    const bad = builderIdProblem('SLSA v0.1 provenance', predicate.builder);
    if (bad !== undefined) return { problem: bad };
    const recipe = predicate.recipe;
    if (!isRecord(recipe) || typeof recipe.type !== 'string' || recipe.type === '') {
      return { problem: 'SLSA v0.1 provenance has no recipe.type' };
    }
    const materials = Array.isArray(predicate.materials) ? predicate.materials : [];
    const sources = materials.map(sourceOf).filter((s) => s !== undefined);
    return { provenance: { version: 'v0.1', builderId: builderIdOf(predicate.builder), sources } };
  }
  if (predicateType === SLSA_PROVENANCE_V02) {
    const bad = builderIdProblem('SLSA v0.2 provenance', predicate.builder);
    if (bad !== undefined) return { problem: bad };
    if (typeof predicate.buildType !== 'string') return { problem: 'SLSA v0.2 provenance has no buildType' };
    const invocation = isRecord(predicate.invocation) ? predicate.invocation : {};
    const materials = Array.isArray(predicate.materials) ? predicate.materials : [];
    const sources = [invocation.configSource, ...materials].map(sourceOf).filter((s) => s !== undefined);
    return { provenance: { version: 'v0.2', builderId: builderIdOf(predicate.builder), sources } };
  }
  const def = predicate.buildDefinition;
  const run = predicate.runDetails;
  if (!isRecord(def) || typeof def.buildType !== 'string' || !isRecord(def.externalParameters)) {
    return { problem: 'SLSA v1 provenance has no buildDefinition with buildType and externalParameters' };
  }
  const bad = builderIdProblem('SLSA v1 provenance', isRecord(run) ? run.builder : undefined);
  if (bad !== undefined) return { problem: bad.replace('builder.id', 'runDetails.builder.id') };
  const deps = Array.isArray(def.resolvedDependencies) ? def.resolvedDependencies : [];
  const sources = deps.map(sourceOf).filter((s) => s !== undefined);
  return {
    provenance: { version: 'v1', builderId: builderIdOf((run as Record<string, unknown>).builder), sources },
  };
}

function builderIdOf(builder: unknown): string {
  return (builder as { id: string }).id;
}

/** Checks the rule's optional builder and source constraints; returns what failed, or undefined. */
export function provenanceConstraintProblem(
  provenance: Provenance,
  constraints: NonNullable<ImageRule['provenance']>,
): string | undefined {
  if (constraints.builderId !== undefined && provenance.builderId !== constraints.builderId) {
    return `builder ${provenance.builderId} is not ${constraints.builderId}`;
  }
  if (
    constraints.builderIdRegExp !== undefined &&
    !matchesAnchored(constraints.builderIdRegExp, provenance.builderId)
  ) {
    return `builder ${provenance.builderId} does not match ${anchoredSource(constraints.builderIdRegExp)}`;
  }
  if (constraints.sourceRepository !== undefined) {
    const want = normaliseRepositoryUri(constraints.sourceRepository);
    if (!provenance.sources.some((s) => s.repository === want)) {
      const found = provenance.sources.map((s) => s.repository).join(', ') || 'no pinned source';
      return `source repository is ${found}, not ${want}`;
    }
  }
  return undefined;
}

/**
 * True when the rebuild read every source-code checkout the original read, each at the same commit
 * (every pinned input when the original names no checkout). Sharing just one input is not enough: a
 * rebuild from another commit still shares the original's base image or toolchain digests.
 */
export function sameSource(original: Provenance, rebuild: Provenance): boolean {
  const checkouts = original.sources.filter((s) => s.git);
  const required = checkouts.length > 0 ? checkouts : original.sources;
  return (
    required.length > 0 &&
    required.every((o) =>
      rebuild.sources.some(
        (r) => r.repository === o.repository && r.digests.some((d) => o.digests.includes(d)),
      ),
    )
  );
}

/**
 * A verification summary that says the image PASSED (SLSA VSA v1 or v0.2: both name the verifier and the
 * result the same way).
 */
export function vsaProblem(predicate: Record<string, unknown>): string | undefined {
  if (
    !isRecord(predicate.verifier) ||
    typeof predicate.verifier.id !== 'string' ||
    predicate.verifier.id === ''
  ) {
    return 'the VSA has no verifier.id';
  }
  if (predicate.verificationResult !== 'PASSED') {
    return `the VSA's verificationResult is ${JSON.stringify(predicate.verificationResult)}, not "PASSED"`;
  }
  return undefined;
}
