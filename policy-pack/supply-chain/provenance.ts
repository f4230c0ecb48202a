import { anchoredSource, matchesAnchored } from './anchored-regexp';
import type { ImageRule } from './types';

/**
 * SLSA provenance (v0.2 and v1) and SLSA verification summaries (VSA v1), reduced to what the policy
 * checks: who built it, from which source (repository + commit), and, for a VSA, whether it PASSED.
 */

export const SLSA_PROVENANCE_V02 = 'https://slsa.dev/provenance/v0.2';
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
export const SLSA_VSA_V1 = 'https://slsa.dev/verification_summary/v1';

export function isProvenancePredicate(predicateType: string): boolean {
  return predicateType === SLSA_PROVENANCE_V02 || predicateType === SLSA_PROVENANCE_V1;
}

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
  version: 'v0.2' | 'v1';
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

/** Parses a provenance predicate; returns a problem instead of throwing. */
export function parseProvenance(
  predicateType: string,
  predicate: Record<string, unknown>,
): { provenance: Provenance } | { problem: string } {
  if (predicateType === SLSA_PROVENANCE_V02) {
    const builder = predicate.builder;
    if (!isRecord(builder) || typeof builder.id !== 'string' || builder.id === '') {
      return { problem: 'SLSA v0.2 provenance has no builder.id' };
    }
    if (typeof predicate.buildType !== 'string') return { problem: 'SLSA v0.2 provenance has no buildType' };
    const invocation = isRecord(predicate.invocation) ? predicate.invocation : {};
    const materials = Array.isArray(predicate.materials) ? predicate.materials : [];
    const sources = [invocation.configSource, ...materials].map(sourceOf).filter((s) => s !== undefined);
    return { provenance: { version: 'v0.2', builderId: builder.id, sources } };
  }
  if (predicateType === SLSA_PROVENANCE_V1) {
    const def = predicate.buildDefinition;
    const run = predicate.runDetails;
    if (!isRecord(def) || typeof def.buildType !== 'string' || !isRecord(def.externalParameters)) {
      return { problem: 'SLSA v1 provenance has no buildDefinition with buildType and externalParameters' };
    }
    if (
      !isRecord(run) ||
      !isRecord(run.builder) ||
      typeof run.builder.id !== 'string' ||
      run.builder.id === ''
    ) {
      return { problem: 'SLSA v1 provenance has no runDetails.builder.id' };
    }
    const deps = Array.isArray(def.resolvedDependencies) ? def.resolvedDependencies : [];
    const sources = deps.map(sourceOf).filter((s) => s !== undefined);
    return { provenance: { version: 'v1', builderId: run.builder.id, sources } };
  }
  return { problem: `predicate type ${predicateType} is not SLSA provenance v0.2 or v1` };
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

/** A verification summary that says the image PASSED (SLSA VSA v1). */
export function vsaProblem(predicate: Record<string, unknown>): string | undefined {
  if (!isRecord(predicate.verifier) || typeof predicate.verifier.id !== 'string') {
    return 'the VSA has no verifier.id';
  }
  if (predicate.verificationResult !== 'PASSED') {
    return `the VSA's verificationResult is ${JSON.stringify(predicate.verificationResult)}, not "PASSED"`;
  }
  return undefined;
}
