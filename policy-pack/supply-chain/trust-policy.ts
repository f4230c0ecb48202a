import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { parseReference, repositoryName } from '../registry/reference';
import { anchoredPatternProblem } from './anchored-regexp';
import { keyFingerprints } from './key-hints';
import { PolicyError, type PolicyProblem } from './policy-error';
import { schemaErrorProblems } from './schema-errors';
import { compileRepositoryGlobs, type RepositoryMatcher } from './repository-glob';
import type { ResolvedSigner } from './sigstore';
import schema from './trust-policy.schema.json';
import type { Exemption, ImageRule, KeySigner, TrustPolicy } from './types';

/**
 * The trust policy, parsed, validated and resolved: key files read into PEM, regular expressions and
 * globs compiled, signer references checked. Everything the document could get wrong is reported at
 * load time (as one PolicyError listing every problem), so verification never meets a broken policy.
 */

/** The rule that applies to a repository, with a name for reports. */
export interface MatchedRule {
  index: number;
  /** `name` from the document, else `images[<index>]`. */
  name: string;
  rule: ImageRule;
  /** `rule.repository`, normalised: where the rule's signatures and attestations are stored. */
  storedIn?: StorageRepository;
}

/** A repository that holds signatures and attestations for images stored elsewhere. */
export interface StorageRepository {
  registry: string;
  repository: string;
}

/** An exemption that names the image's digest; `expired` ones no longer allow anything. */
export interface ExemptionMatch {
  exemption: Exemption;
  expired: boolean;
  /** The instant the exemption stops working. */
  expiresAt: Date;
}

/** Where the Sigstore trust material comes from. */
export type TrustedRootSource =
  | { kind: 'embedded'; name: 'public-good' }
  | { kind: 'file'; path: string; json: Record<string, unknown> }
  /** The trusted root as a TUF target: `rootPath` is the initial TUF root (undefined: the public-good seed). */
  | { kind: 'tuf'; mirror: string; rootPath?: string; cacheDir: string };

/** Sigstore's public-good TUF repository, the one whose initial root ships with @sigstore/tuf. */
export const PUBLIC_GOOD_TUF_MIRROR = 'https://tuf-repo-cdn.sigstore.dev';

/** Where verified TUF metadata and targets are kept between runs, unless the policy says otherwise. */
export function defaultTufCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TRUSTOPS_TUF_CACHE) return env.TRUSTOPS_TUF_CACHE;
  const base = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'trustops', 'tuf');
}

export interface ResolvedTrustPolicy extends TrustPolicy {
  /** Directory relative paths (publicKeyFile, trustedRoot.file) were resolved against. */
  readonly baseDir: string;
  /** Every signer of the document, with key PEM read. */
  readonly resolvedSigners: Readonly<Record<string, ResolvedSigner>>;
  readonly trustedRootSource: TrustedRootSource;
  /** The first rule whose globs match the normalised repository (`registry/path`), if any. */
  ruleFor(repository: string): MatchedRule | undefined;
  /** The exemption naming exactly this repository and digest, expired or not. */
  exemptionFor(repository: string, digest: string, now: Date): ExemptionMatch | undefined;
}

export interface ParseTrustPolicyOptions {
  /** Directory that relative `publicKeyFile` / `trustedRoot.file` paths are resolved against. */
  baseDir: string;
  /** Name of the document in error messages (the file path). */
  source?: string;
}

let compiledSchema: ValidateFunction | undefined;
function schemaValidator(): ValidateFunction {
  // allErrors: the user gets every problem in one pass rather than one per run.
  compiledSchema ??= new Ajv({ allErrors: true, strict: false, verbose: true }).compile(schema);
  return compiledSchema;
}

function schemaProblems(errors: ErrorObject[] | null | undefined): PolicyProblem[] {
  // an anyOf/oneOf is one message naming its alternatives, not one line per branch
  return schemaErrorProblems(errors).map((p) => ({
    code: 'POLICY_SCHEMA' as const,
    path: p.instancePath,
    message: p.message,
  }));
}

function parseDocument(input: string, source: string): unknown {
  try {
    // JSON is YAML 1.2, so one parser serves both. uniqueKeys: a duplicated key would otherwise
    // silently drop a signer or a rule; maxAliasCount bounds alias expansion ("billion laughs").
    return parseYaml(input.replace(/^\uFEFF/, ''), {
      uniqueKeys: true,
      prettyErrors: true,
      maxAliasCount: 100,
    }) as unknown;
  } catch (e) {
    const message = e instanceof YAMLParseError ? e.message : String(e);
    throw new PolicyError([{ code: 'POLICY_SYNTAX', path: '', message }], source);
  }
}

const ALLOWED_EC_CURVES = new Set(['prime256v1', 'secp384r1']);
const MIN_RSA_BITS = 2048;

function checkPublicKey(pem: string): string | undefined {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (e) {
    return `is not a PEM public key (${(e as Error).message})`;
  }
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  if (type === 'ec') {
    return ALLOWED_EC_CURVES.has(details.namedCurve ?? '')
      ? undefined
      : `uses EC curve ${details.namedCurve ?? 'unknown'}; ECDSA keys must be P-256 or P-384`;
  }
  if (type === 'ed25519') return undefined;
  if (type === 'rsa' || type === 'rsa-pss') {
    return (details.modulusLength ?? 0) >= MIN_RSA_BITS
      ? undefined
      : `is a ${details.modulusLength ?? '?'}-bit RSA key; at least ${MIN_RSA_BITS} bits are required`;
  }
  return `is a ${type ?? 'unknown'} key; allowed: ECDSA P-256/P-384, Ed25519, RSA`;
}

function resolveKey(
  name: string,
  spec: KeySigner,
  baseDir: string,
  problems: PolicyProblem[],
): { publicKeyPem: string; requireTransparencyLog: boolean } | undefined {
  const at = `/signers/${name}/key`;
  let pem = spec.publicKey;
  if (spec.publicKeyFile !== undefined) {
    const file = path.resolve(baseDir, spec.publicKeyFile);
    try {
      pem = readFileSync(file, 'utf8');
    } catch (e) {
      problems.push({
        code: 'POLICY_KEY_FILE_UNREADABLE',
        path: `${at}/publicKeyFile`,
        message: `cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      });
      return undefined;
    }
  }
  if (pem === undefined) return undefined;
  const bad = checkPublicKey(pem);
  if (bad !== undefined) {
    problems.push({
      code: 'POLICY_BAD_KEY',
      path: `${at}/${spec.publicKeyFile !== undefined ? 'publicKeyFile' : 'publicKey'}`,
      message: `the key of signer "${name}" ${bad}`,
    });
    return undefined;
  }
  return { publicKeyPem: pem, requireTransparencyLog: spec.requireTransparencyLog ?? true };
}

/**
 * Policy patterns are RE2 (the dialect Kyverno/cosign apply to the same policy at admission), anchored;
 * a pattern RE2 cannot compile (lookarounds, backreferences, possessive or atomic groups, `\u0041`...)
 * is a load error rather than a pattern that would behave differently, or not at all, at admission.
 */
function checkRegExp(
  pattern: string | undefined,
  at: string,
  owner: string,
  problems: PolicyProblem[],
): void {
  if (pattern === undefined) return;
  const reason = anchoredPatternProblem(pattern);
  if (reason === undefined) return;
  const field = at.slice(at.lastIndexOf('/') + 1);
  problems.push({
    code: 'POLICY_BAD_REGEXP',
    path: at,
    message: `${field} of ${owner} is /${pattern}/, which is not an RE2 regular expression (${reason}); patterns use RE2 syntax (as Go, cosign and Kyverno do), anchored`,
  });
}

/** Midnight UTC of a calendar date, or undefined when the date does not exist (2026-02-30, 2026-13-01). */
function utcDay(y: number, m: number, d: number): number | undefined {
  const start = Date.UTC(y, m - 1, d);
  const check = new Date(start);
  // Date.UTC rolls 2026-02-30 over to March: reject dates that do not exist.
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== m - 1 || check.getUTCDate() !== d) {
    return undefined;
  }
  return start;
}

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

/**
 * End of the named day (UTC) for a date, or the instant for an RFC 3339 date-time; undefined when not a
 * real date. Every field is range-checked here rather than left to Date.parse, which rolls
 * 2026-02-30T00:00Z over to 2 March and 24:00 over to the next day: either would quietly extend an
 * exemption past the date its author wrote.
 */
export function exemptionExpiry(expires: string): Date | undefined {
  const dateOnly = /^(\d{4})-(\d{2})-(\d{2})$/.exec(expires);
  if (dateOnly) {
    const start = utcDay(Number(dateOnly[1]), Number(dateOnly[2]), Number(dateOnly[3]));
    return start === undefined ? undefined : new Date(start + 24 * 3600 * 1000 - 1);
  }
  const m = DATE_TIME.exec(expires);
  if (!m) return undefined;
  const [hour, minute, second] = [Number(m[4]), Number(m[5]), Number(m[6] ?? '0')];
  const [offsetHours, offsetMinutes] = [Number(m[9] ?? '0'), Number(m[10] ?? '0')];
  const day = utcDay(Number(m[1]), Number(m[2]), Number(m[3]));
  if (
    day === undefined ||
    hour > 23 ||
    minute > 59 ||
    second > 59 ||
    offsetHours > 23 ||
    offsetMinutes > 59
  ) {
    return undefined;
  }
  const millis = Math.floor(Number(`0${m[7] ?? ''}`) * 1000);
  const offset = (m[8] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60 * 1000;
  return new Date(day + ((hour * 60 + minute) * 60 + second) * 1000 + millis - offset);
}

interface CompiledExemption {
  exemption: Exemption;
  repository: string;
  digest: string;
  expiresAt: Date;
}

function compileExemptions(exemptions: Exemption[], problems: PolicyProblem[]): CompiledExemption[] {
  const out: CompiledExemption[] = [];
  exemptions.forEach((exemption, i) => {
    const at = `/exemptions/${i}`;
    const expiresAt = exemptionExpiry(exemption.expires);
    if (expiresAt === undefined) {
      problems.push({
        code: 'POLICY_BAD_EXEMPTION',
        path: `${at}/expires`,
        message: `"${exemption.expires}" is not a real date`,
      });
    }
    let repository: string | undefined;
    let digest: string | undefined;
    try {
      const ref = parseReference(exemption.image);
      repository = repositoryName(ref).toLowerCase();
      digest = ref.digest;
    } catch (e) {
      problems.push({ code: 'POLICY_BAD_EXEMPTION', path: `${at}/image`, message: (e as Error).message });
    }
    if (repository !== undefined && digest !== undefined && expiresAt !== undefined) {
      out.push({ exemption, repository, digest, expiresAt });
    }
  });
  return out;
}

function checkRuleReferences(
  policy: TrustPolicy,
  signers: Readonly<Record<string, ResolvedSigner>>,
  problems: PolicyProblem[],
): void {
  const known = new Set(Object.keys(policy.signers));
  // Names that share one public key are one rebuilder: the quorum counts that key once.
  const fingerprints = keyFingerprints(Object.values(signers));
  const independent = (names: string[]): number =>
    new Set(names.map((n) => (fingerprints.has(n) ? `key:${fingerprints.get(n)}` : `name:${n}`))).size;
  policy.images.forEach((rule, i) => {
    const refs: [string, string[] | undefined][] = [
      ['signature/signers', rule.signature?.signers],
      ['sbom/signers', rule.sbom?.signers],
      ['provenance/signers', rule.provenance?.signers],
      ['reproducible/rebuilders', rule.reproducible?.rebuilders],
    ];
    for (const [where, names] of refs) {
      (names ?? []).forEach((n, j) => {
        if (!known.has(n)) {
          problems.push({
            code: 'POLICY_UNKNOWN_SIGNER',
            path: `/images/${i}/${where}/${j}`,
            message: `"${n}" is not defined under signers (defined: ${[...known].join(', ')})`,
          });
        }
      });
    }
    const r = rule.reproducible;
    if (r !== undefined && r.threshold > independent(r.rebuilders)) {
      problems.push({
        code: 'POLICY_BAD_THRESHOLD',
        path: `/images/${i}/reproducible/threshold`,
        message: `threshold ${r.threshold} can never be met by ${independent(r.rebuilders)} rebuilder(s) with distinct keys or identities`,
      });
    }
    checkRegExp(
      rule.provenance?.builderIdRegExp,
      `/images/${i}/provenance/builderIdRegExp`,
      `rule "${rule.name ?? `images[${i}]`}"`,
      problems,
    );
  });
}

/**
 * `images[].repository`, normalised as image references are (`kyverno/signatures` is Docker Hub's), with
 * no tag or digest: a repository, not an image.
 */
function compileStorage(policy: TrustPolicy, problems: PolicyProblem[]): (StorageRepository | undefined)[] {
  return policy.images.map((rule, i) => {
    if (rule.repository === undefined) return undefined;
    const at = `/images/${i}/repository`;
    try {
      const ref = parseReference(rule.repository);
      if (
        ref.digest !== undefined ||
        /:[^/]*$/.test(rule.repository.slice(rule.repository.indexOf('/') + 1))
      ) {
        problems.push({
          code: 'POLICY_BAD_REPOSITORY',
          path: at,
          message: `"${rule.repository}" names an image (a tag or digest); give the repository signatures are stored in, registry/path`,
        });
        return undefined;
      }
      return { registry: ref.registry, repository: ref.repository };
    } catch (e) {
      problems.push({ code: 'POLICY_BAD_REPOSITORY', path: at, message: (e as Error).message });
      return undefined;
    }
  });
}

function compileRules(policy: TrustPolicy, problems: PolicyProblem[]): RepositoryMatcher[] {
  return policy.images.map((rule, i) => {
    try {
      return compileRepositoryGlobs(rule.match);
    } catch (e) {
      problems.push({ code: 'POLICY_BAD_GLOB', path: `/images/${i}/match`, message: (e as Error).message });
      return () => false;
    }
  });
}

function resolveTrustedRoot(
  policy: TrustPolicy,
  baseDir: string,
  problems: PolicyProblem[],
): TrustedRootSource {
  const tuf = policy.trustedRoot?.tuf;
  if (tuf !== undefined) return resolveTufSource(tuf, baseDir, problems);
  const file = policy.trustedRoot?.file;
  if (file === undefined) return { kind: 'embedded', name: 'public-good' };
  const p = path.resolve(baseDir, file);
  try {
    const json = JSON.parse(readFileSync(p, 'utf8')) as unknown;
    if (typeof json !== 'object' || json === null || Array.isArray(json))
      throw new Error('not a JSON object');
    return { kind: 'file', path: p, json: json as Record<string, unknown> };
  } catch (e) {
    problems.push({
      code: 'POLICY_TRUSTED_ROOT_UNREADABLE',
      path: '/trustedRoot/file',
      message: `cannot read trusted_root.json at ${p} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    });
    return { kind: 'embedded', name: 'public-good' };
  }
}

function resolveTufSource(
  tuf: NonNullable<NonNullable<TrustPolicy['trustedRoot']>['tuf']>,
  baseDir: string,
  problems: PolicyProblem[],
): TrustedRootSource {
  const mirror = (tuf.mirror ?? PUBLIC_GOOD_TUF_MIRROR).replace(/\/+$/, '');
  const cacheDir = tuf.cacheDir !== undefined ? path.resolve(baseDir, tuf.cacheDir) : defaultTufCacheDir();
  if (tuf.root === undefined) {
    // only the public-good repository's initial root ships with the TUF client
    if (mirror !== PUBLIC_GOOD_TUF_MIRROR) {
      problems.push({
        code: 'POLICY_TRUSTED_ROOT_UNREADABLE',
        path: '/trustedRoot/tuf/root',
        message: `TUF mirror ${mirror} needs its initial root.json (trustedRoot.tuf.root); only ${PUBLIC_GOOD_TUF_MIRROR}'s ships with the client`,
      });
    }
    return { kind: 'tuf', mirror, cacheDir };
  }
  const rootPath = path.resolve(baseDir, tuf.root);
  try {
    const json = JSON.parse(readFileSync(rootPath, 'utf8')) as unknown;
    if (typeof json !== 'object' || json === null || Array.isArray(json))
      throw new Error('not a JSON object');
  } catch (e) {
    problems.push({
      code: 'POLICY_TRUSTED_ROOT_UNREADABLE',
      path: '/trustedRoot/tuf/root',
      message: `cannot read the initial TUF root.json at ${rootPath} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    });
  }
  return { kind: 'tuf', mirror, rootPath, cacheDir };
}

/**
 * Parses (YAML or JSON text, or an already parsed object), validates against trust-policy.schema.json
 * and resolves a trust policy. Throws one PolicyError listing every problem.
 */
export function parseTrustPolicy(input: string | object, opts: ParseTrustPolicyOptions): ResolvedTrustPolicy {
  const source = opts.source ?? 'trust policy';
  const doc = typeof input === 'string' ? parseDocument(input, source) : input;
  const validate = schemaValidator();
  if (!validate(doc)) throw new PolicyError(schemaProblems(validate.errors), source);
  // The schema guarantees the shape; copy so that later mutation of the caller's object changes nothing.
  const policy = structuredClone(doc) as unknown as TrustPolicy;

  const problems: PolicyProblem[] = [];
  const resolvedSigners: Record<string, ResolvedSigner> = {};
  for (const [name, spec] of Object.entries(policy.signers)) {
    if (spec.keyless !== undefined) {
      const k = spec.keyless;
      checkRegExp(k.issuerRegExp, `/signers/${name}/keyless/issuerRegExp`, `signer "${name}"`, problems);
      checkRegExp(k.subjectRegExp, `/signers/${name}/keyless/subjectRegExp`, `signer "${name}"`, problems);
      resolvedSigners[name] = { name, keyless: k };
    } else if (spec.key !== undefined) {
      const key = resolveKey(name, spec.key, opts.baseDir, problems);
      if (key !== undefined) resolvedSigners[name] = { name, key };
    }
  }
  checkRuleReferences(policy, resolvedSigners, problems);
  const matchers = compileRules(policy, problems);
  const storage = compileStorage(policy, problems);
  const exemptions = compileExemptions(policy.exemptions ?? [], problems);
  const trustedRootSource = resolveTrustedRoot(policy, opts.baseDir, problems);
  if (problems.length > 0) throw new PolicyError(problems, source);

  return {
    ...policy,
    baseDir: opts.baseDir,
    resolvedSigners,
    trustedRootSource,
    ruleFor(repository: string): MatchedRule | undefined {
      const index = matchers.findIndex((m) => m(repository));
      const rule = policy.images[index];
      if (rule === undefined) return undefined;
      const storedIn = storage[index];
      return { index, name: rule.name ?? `images[${index}]`, rule, ...(storedIn ? { storedIn } : {}) };
    },
    exemptionFor(repository: string, digest: string, now: Date): ExemptionMatch | undefined {
      const repo = repository.toLowerCase();
      const hit = exemptions.find((e) => e.repository === repo && e.digest === digest);
      if (hit === undefined) return undefined;
      return {
        exemption: hit.exemption,
        expiresAt: hit.expiresAt,
        expired: now.getTime() > hit.expiresAt.getTime(),
      };
    },
  };
}

/** Reads a policy file (YAML or JSON); relative paths inside it resolve against its directory. */
export function loadTrustPolicyFile(file: string): ResolvedTrustPolicy {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (e) {
    throw new PolicyError(
      [
        {
          code: 'POLICY_UNREADABLE',
          path: '',
          message: `cannot read ${abs} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
        },
      ],
      abs,
    );
  }
  return parseTrustPolicy(text, { baseDir: path.dirname(abs), source: abs });
}
