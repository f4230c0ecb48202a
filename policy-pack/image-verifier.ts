import { createRegistryClient } from './registry/client';
import { RegistryError } from './registry/errors';
import { isIndexType } from './registry/media-types';
import { parseReference, repositoryName } from './registry/reference';
import type { ImageReference, RegistryClient, RegistryClientOptions, ResolvedImage } from './registry/types';
import { type CollectedEvidence, EvidenceCollector, malformedNotes } from './supply-chain/evidence';
import { keyFingerprints } from './supply-chain/key-hints';
import { RuleEvaluator, type RuleOutcome } from './supply-chain/rule-evaluation';
import { evidenceKindOf, signerOrderFor } from './supply-chain/signer-order';
import {
  type BundleVerifier,
  createBundleVerifier,
  embeddedPublicGoodRoot,
  loadTrustedRoot,
  type TrustedRootMaterial,
} from './supply-chain/sigstore';
import {
  PUBLIC_GOOD_TUF_MIRROR,
  type MatchedRule,
  type ResolvedTrustPolicy,
} from './supply-chain/trust-policy';
import { tufTrustedRoot } from './supply-chain/sigstore/tuf-root';
import type { Finding, ImageVerdict, ImageVerifier, VerdictNote } from './supply-chain/types';
import { assembleVerdict, failedVerdict } from './supply-chain/verdict';

/**
 * The edge wiring of image verification: a registry client fetches manifests and attachments, the pure
 * supply-chain core decides. `verify` never throws: every failure is a blocked verdict whose finding
 * names the code, what was expected, what was found and a hint. Verdicts are cached per repository and
 * digest for the life of the verifier (one process), so a program with many references to one image
 * pays once.
 */
export interface ImageVerifierOptions {
  policy: ResolvedTrustPolicy;
  /** A client, or options to create one (mirrors, insecure registries, credentials...). */
  registry: RegistryClient | RegistryClientOptions;
  /** Clock for exemption expiry. Default `() => new Date()`. */
  now?: () => Date;
  /** Overrides the policy's trust material (a private Sigstore, or test fixtures). */
  trustedRoot?: TrustedRootMaterial;
}

export function isRegistryClient(r: RegistryClient | RegistryClientOptions): r is RegistryClient {
  return typeof (r as Partial<RegistryClient>).resolve === 'function';
}

/**
 * Most manifests an index may list when a rule verifies its platform manifests (`platforms: each` or
 * `both`). Each one costs a manifest read, an attachment lookup and signature checks, so an index of
 * thousands would stall `pulumi preview`; real multi-platform images list a few dozen at most (platforms
 * plus BuildKit attestation manifests). Over it, the image is blocked with INDEX_TOO_LARGE before any
 * platform manifest is read. Nested indexes are not followed (an entry that is itself an index is
 * verified as one manifest), so this bounds the whole fan-out.
 */
export const MAX_INDEX_MANIFESTS = 64;

/** The outcome for one manifest, with notes on what was attached to it but skipped as malformed. */
interface CheckedOutcome extends RuleOutcome {
  notes?: VerdictNote[];
}

/** Which manifests a rule's `platforms` setting puts under verification. */
interface Subject {
  digest: string;
  /** Undefined for the deployed manifest itself. */
  label?: string;
  resolved?: ResolvedImage;
}

class RegistryImageVerifier implements ImageVerifier {
  private readonly registry: RegistryClient;
  private readonly now: () => Date;
  private bundleVerifier: Promise<BundleVerifier> | undefined;
  /** Rule verdicts per `repository@digest`; exemptions are applied on every call (the clock moves). */
  private readonly outcomes = new Map<string, Promise<CheckedOutcome[]>>();

  constructor(private readonly opts: ImageVerifierOptions) {
    this.registry = isRegistryClient(opts.registry) ? opts.registry : createRegistryClient(opts.registry);
    this.now = opts.now ?? (() => new Date());
  }

  async verify(image: string): Promise<ImageVerdict> {
    try {
      return await this.verifyOrThrow(image);
    } catch (e) {
      // Fail closed: whatever went wrong, the image is blocked and the report says why.
      return failedVerdict(
        image,
        'policy',
        'INTERNAL_ERROR',
        'verification to complete',
        e instanceof Error ? `${e.name}: ${e.message}` : String(e),
        'This is a bug in trustops or its inputs; report it with the image reference and the policy.',
      );
    }
  }

  private async verifyOrThrow(image: string): Promise<ImageVerdict> {
    const policy = this.opts.policy;
    let ref: ImageReference;
    try {
      ref = parseReference(image);
    } catch (e) {
      return failedVerdict(
        image,
        'registry',
        'REGISTRY_ERROR',
        'a valid image reference',
        (e as Error).message,
        'Write it as registry/repository[:tag]@sha256:<digest>.',
      );
    }
    const repository = repositoryName(ref);
    const rule = policy.ruleFor(repository);
    if (rule === undefined && policy.unmatchedImages === 'allow') {
      // Nothing to verify: the policy lets images it has no rule for through, registry or not.
      const verdict = assembleVerdict({
        image,
        digest: ref.digest,
        outcomes: [{ findings: [], satisfied: [{ requirement: 'policy', by: ['unmatchedImages: allow'] }] }],
      });
      return verdict;
    }

    this.prefetchAttachments(ref, repository, rule);
    let resolved: ResolvedImage;
    try {
      resolved = await this.registry.resolve(ref);
    } catch (e) {
      // A digest-pinned reference can still be exempted without reaching the registry.
      const exemption =
        ref.digest !== undefined ? policy.exemptionFor(repository, ref.digest, this.now()) : undefined;
      return failedVerdict(
        image,
        'registry',
        'REGISTRY_ERROR',
        `${repository} to be readable`,
        describe(e),
        registryHint(e),
        {
          digest: ref.digest,
          rule,
          exemption,
        },
      );
    }
    const digest = resolved.digest;
    const exemption = policy.exemptionFor(repository, digest, this.now());

    if (rule === undefined) {
      return assembleVerdict({
        image,
        digest,
        outcomes: [
          {
            findings: [
              {
                requirement: 'policy',
                code: 'NO_MATCHING_RULE',
                expected: 'a rule whose match globs cover the repository',
                found: `no rule matches ${repository}`,
                hint: 'Add a rule for this repository to the trust policy, or deploy an image a rule covers.',
              },
            ],
            satisfied: [],
          },
        ],
        exemption,
      });
    }

    const key = `${repository}@${digest}`;
    let outcomes = this.outcomes.get(key);
    if (outcomes === undefined) {
      outcomes = this.evaluate(ref, resolved, rule);
      this.outcomes.set(key, outcomes);
    }
    const settled = await outcomes;
    // Only settled answers are kept: a registry hiccup or bad trust material is retried next time.
    if (settled.some((o) => o.findings.some((f) => TRANSIENT.has(f.code)))) this.outcomes.delete(key);
    const verdict = assembleVerdict({ image, digest, rule, outcomes: settled, exemption });
    const notes = settled.flatMap((o) => o.notes ?? []);
    if (notes.length > 0) verdict.notes = notes;
    return verdict;
  }

  /**
   * A digest-pinned reference already names its attachments (cosign tags and referrers derive from the
   * digest), so their discovery starts while the manifest is read instead of after it: one registry
   * round trip less per image. evaluate() asks the client for the same repository and digest (resolve
   * returns the digest it was given, checked against the manifest bytes), and the client shares one
   * discovery per repository@digest, so nothing is fetched twice and no verdict is decided on it here.
   * A failure is ignored here and met again, and reported, by evaluate(). Skipped when the rule verifies
   * platform manifests only ('each'), where the deployed digest's attachments may not be needed.
   */
  private prefetchAttachments(ref: ImageReference, repository: string, rule: MatchedRule | undefined): void {
    const digest = ref.digest;
    if (digest === undefined || rule === undefined || rule.rule.platforms === 'each') return;
    if (this.outcomes.has(`${repository}@${digest}`)) return;
    const pinned: ImageReference = { registry: ref.registry, repository: ref.repository, digest };
    this.registry.attachments(pinned, digest, rule.storedIn).catch(() => undefined);
  }

  private keyFingerprintCache: ReadonlyMap<string, string> | undefined;

  private fingerprints(): ReadonlyMap<string, string> {
    this.keyFingerprintCache ??= keyFingerprints(Object.values(this.opts.policy.resolvedSigners));
    return this.keyFingerprintCache;
  }

  /**
   * Built once per verifier; a TUF lookup (network, then cache) happens here, not at construction. A
   * failure is not kept: like a POLICY_INVALID outcome, it is tried again on the next verification.
   */
  private verifier(): Promise<BundleVerifier> {
    if (this.bundleVerifier) return this.bundleVerifier;
    const building = (async () => {
      const trustedRoot = this.opts.trustedRoot ?? (await this.trustedRoot());
      return createBundleVerifier({ trustedRoot, signers: Object.values(this.opts.policy.resolvedSigners) });
    })();
    this.bundleVerifier = building;
    building.catch(() => {
      if (this.bundleVerifier === building) this.bundleVerifier = undefined;
    });
    return building;
  }

  private trustedRoot(): Promise<TrustedRootMaterial> | TrustedRootMaterial {
    const source = this.opts.policy.trustedRootSource;
    switch (source.kind) {
      case 'file':
        return loadTrustedRoot(source.json, source.path);
      case 'tuf':
        // offline, the public-good repository's root is the one embedded here; any other fails closed
        return tufTrustedRoot(source, {
          ...(source.mirror === PUBLIC_GOOD_TUF_MIRROR && !source.rootPath
            ? { offlineFallback: embeddedPublicGoodRoot }
            : {}),
        });
      case 'embedded':
        return embeddedPublicGoodRoot();
    }
  }

  private async subjects(
    ref: ImageReference,
    resolved: ResolvedImage,
    rule: MatchedRule,
  ): Promise<Subject[]> {
    const mode = rule.rule.platforms ?? 'deployed';
    const deployed: Subject = { digest: resolved.digest, resolved };
    if (!isIndexType(resolved.manifest.descriptor.mediaType) || mode === 'deployed' || mode === 'index') {
      return [deployed];
    }
    const listed = (resolved.manifest.json as { manifests?: unknown }).manifests;
    const count = Array.isArray(listed) ? listed.length : 0;
    if (count > MAX_INDEX_MANIFESTS) throw new IndexTooLarge(resolved.digest, count);
    const platforms = await this.registry.platformManifests(ref, resolved.digest);
    if (platforms.length === 0) {
      throw new RegistryError('BAD_RESPONSE', `the index ${resolved.digest} lists no platform manifests`);
    }
    const each: Subject[] = platforms.map((p) => ({
      digest: p.descriptor.digest,
      label: `${p.descriptor.digest} (${p.platform ? platformName(p.platform) : 'unknown platform'})`,
    }));
    return mode === 'each' ? each : [deployed, ...each];
  }

  private async evaluate(
    ref: ImageReference,
    resolved: ResolvedImage,
    rule: MatchedRule,
  ): Promise<CheckedOutcome[]> {
    let subjects: Subject[];
    try {
      subjects = await this.subjects(ref, resolved, rule);
    } catch (e) {
      if (e instanceof IndexTooLarge) return [indexTooLargeOutcome(rule, ref, e)];
      return [registryOutcome(rule, e, resolved.digest)];
    }
    let verifier: BundleVerifier;
    try {
      verifier = await this.verifier();
    } catch (e) {
      return [
        {
          findings: [
            {
              requirement: 'policy',
              code: 'POLICY_INVALID',
              expected: 'usable Sigstore trust material (trusted root) and signers',
              found: describe(e),
              hint: "Fix the policy's trustedRoot (a valid trusted_root.json) or its signers.",
              rule: rule.name,
            },
          ],
          satisfied: [],
        },
      ];
    }
    const collector = new EvidenceCollector(
      verifier,
      signerOrderFor(rule.rule),
      evidenceKindOf,
      this.fingerprints(),
    );
    return Promise.all(
      subjects.map(async (s) => {
        try {
          const pinned: ImageReference = {
            registry: ref.registry,
            repository: ref.repository,
            digest: s.digest,
          };
          const manifest = s.resolved ?? (await this.registry.resolve(pinned));
          // A rule's `repository` (cosign's COSIGN_REPOSITORY) says where its evidence is stored.
          const attachments = await this.registry.attachments(pinned, s.digest, rule.storedIn);
          const evidence = collector.collect({
            digest: s.digest,
            manifest: manifest.manifest.bytes,
            attachments,
          });
          const outcome = new RuleEvaluator(rule, evidence, s.label).evaluate();
          return withIgnoredAttachments(outcome, evidence, s.label);
        } catch (e) {
          return registryOutcome(rule, e, s.label ?? s.digest);
        }
      }),
    );
  }
}

const TRANSIENT: ReadonlySet<string> = new Set(['REGISTRY_ERROR', 'INTERNAL_ERROR', 'POLICY_INVALID']);

/** Requirements met by attached evidence: those an ignored attachment may have been meant for. */
const EVIDENCE_REQUIREMENTS: ReadonlySet<string> = new Set([
  'signature',
  'sbom',
  'provenance',
  'reproducible',
]);
const MAX_IGNORED_LISTED = 6;

/**
 * Adds what was skipped as malformed to the outcome: as notes always (they never block), and, for an
 * unmet evidence requirement, in the finding's `found`, since the item may have been meant for it. Items
 * skipped by the evidence layer are already there (as rejected evidence); registry-layer ones are not.
 */
function withIgnoredAttachments(
  outcome: RuleOutcome,
  evidence: CollectedEvidence,
  subject: string | undefined,
): CheckedOutcome {
  const notes = malformedNotes(evidence, subject);
  if (notes.length === 0) return outcome;
  const skipped = (evidence.ignored ?? []).map((i) => `${i.source} ${i.attachment} ignored (${i.reason})`);
  const findings =
    skipped.length === 0
      ? outcome.findings
      : outcome.findings.map((f): Finding => {
          if (!EVIDENCE_REQUIREMENTS.has(f.requirement)) return f;
          const shown = skipped.slice(0, MAX_IGNORED_LISTED).join('; ');
          const more =
            skipped.length > MAX_IGNORED_LISTED ? `; and ${skipped.length - MAX_IGNORED_LISTED} more` : '';
          return {
            ...f,
            found: `${f.found}; ${shown}${more} (malformed attachments never count; see notes)`,
          };
        });
  return { findings, satisfied: outcome.satisfied, notes };
}

/** Thrown by subjects() before any platform manifest is read; becomes an INDEX_TOO_LARGE finding. */
class IndexTooLarge extends Error {
  constructor(
    readonly digest: string,
    readonly count: number,
  ) {
    super(`the index ${digest} lists ${count} manifests, over the limit of ${MAX_INDEX_MANIFESTS}`);
  }
}

function indexTooLargeOutcome(rule: MatchedRule, ref: ImageReference, e: IndexTooLarge): RuleOutcome {
  return {
    findings: [
      {
        requirement: 'policy',
        code: 'INDEX_TOO_LARGE',
        expected: `an index listing at most ${MAX_INDEX_MANIFESTS} manifests (platforms: ${rule.rule.platforms ?? 'deployed'} verifies each)`,
        found: `${repositoryName(ref)}@${e.digest} lists ${e.count} manifests; none was read`,
        hint:
          'Deploy a single-platform manifest or a smaller index, or use platforms: deployed / index for this rule ' +
          '(which verify only the manifest deployed, or only the index).',
        rule: rule.name,
      },
    ],
    satisfied: [],
  };
}

function platformName(p: { os: string; architecture: string; variant?: string }): string {
  return [p.os, p.architecture, p.variant].filter((x) => x !== undefined && x !== '').join('/');
}

function describe(e: unknown): string {
  if (e instanceof RegistryError) return `${e.code}: ${e.message}`;
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

function registryHint(e: unknown): string {
  if (e instanceof RegistryError && (e.code === 'UNAUTHORIZED' || e.code === 'DENIED')) {
    return 'Log in to the registry (docker login) or set credentials for it.';
  }
  return 'Check the reference, network access and --registry-mirror / --insecure-registry settings.';
}

function registryOutcome(rule: MatchedRule, e: unknown, subject: string): RuleOutcome {
  return {
    findings: [
      {
        requirement: 'registry',
        code: e instanceof RegistryError ? 'REGISTRY_ERROR' : 'INTERNAL_ERROR',
        expected: `the manifest and attachments of ${subject} to be readable`,
        found: describe(e),
        hint: registryHint(e),
        rule: rule.name,
      },
    ],
    satisfied: [],
  };
}

export function createImageVerifier(opts: ImageVerifierOptions): ImageVerifier {
  return new RegistryImageVerifier(opts);
}
