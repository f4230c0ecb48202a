import { createPublicKey } from 'node:crypto';
import type { Exemption, ImageRule, KeylessSigner, SbomFormat } from '../../policy-pack/supply-chain/types';
import { exemptionExpiry } from '../../policy-pack/supply-chain/trust-policy';
import { parseReference } from '../../policy-pack/registry/reference';
import { celAdmissionGuards, clusterPolicyAdmissionGuards } from './admission-guards';
import { KyvernoRenderError } from './errors';
import {
  clusterPolicyExemptionReferences,
  clusterPolicyImageReferences,
  clusterPolicySkipReferences,
  celWrittenImageMatches,
  imageRegexForExemption,
  imageRegexForGlobs,
} from './image-patterns';
import {
  cel,
  provenanceAttestations,
  provenanceCheck,
  rebuildAttestations,
  rebuildCheck,
  sbomAttestations,
  sbomCheck,
  sourceRepositoryRegex,
} from './cel-requirements';
import {
  PRIMARY_SBOM_PREDICATE_TYPE,
  PROVENANCE_PREDICATE_TYPES,
  REBUILD_PREDICATE_TYPE,
} from './predicate-types';
import { kyvernoPattern, kyvernoRawStringPattern } from './policy-pattern';
import { anchoredSource } from '../../policy-pack/supply-chain/anchored-regexp';
import { namesScheme } from '../../policy-pack/supply-chain/sigstore/identity-match';
import { signersByName, type RenderableSigner, type RenderableTrustPolicy } from './renderable-policy';
import { customTrustMaterial, type CustomTrustMaterial } from './trust-material';

/**
 * Renders the admission-time twin of the deploy-time gate: the Kyverno policies that require, for every
 * image a Pod runs, the same signers, SBOM, provenance and rebuild quorum as the trust policy the pack
 * enforces. Pure: plain data in, plain Kubernetes objects out.
 */

export type KyvernoPolicyKind = 'ImageValidatingPolicy' | 'ClusterPolicy';

/** Namespaces whose Pods Kubernetes and GKE manage themselves; never Kyverno's business. */
export const SYSTEM_NAMESPACES: readonly string[] = ['kube-system', 'kube-public', 'kube-node-lease'];

export interface KyvernoRenderOptions {
  /**
   * Which policy types to render. Default `['ImageValidatingPolicy']`: the CEL policy expresses the trust
   * policy exactly. `ClusterPolicy` (verifyImages) cannot express alternatives between predicate types,
   * so it requires the FIRST SBOM format and SLSA provenance v1 only: stricter than the pack, never weaker.
   */
  kinds?: readonly KyvernoPolicyKind[];
  /** Namespaces excluded from admission checks. Default SYSTEM_NAMESPACES (plus Kyverno's own, added by the component). */
  excludedNamespaces?: readonly string[];
  /** Exemptions that expired before this instant are left out. Default: now. */
  now?: Date;
  /** metadata.name of the rendered policies. Default `trustops-image-verification`. */
  name?: string;
}

export interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: Record<string, unknown>;
}

export const IVP_API_VERSION = 'policies.kyverno.io/v1';
export const CLUSTER_POLICY_API_VERSION = 'kyverno.io/v1';
const PUBLIC_REKOR = 'https://rekor.sigstore.dev';
const CONTAINER_KINDS = ['containers', 'initContainers', 'ephemeralContainers'] as const;

/** Annotation keys that record, on the rendered policy, which trust-policy requirement each part enforces. */
export const ANNOTATIONS = {
  source: 'trustops.dev/rendered-from',
  nextExemptionExpiry: 'trustops.dev/next-exemption-expiry',
} as const;

export function renderKyvernoPolicies(
  policy: RenderableTrustPolicy,
  options: KyvernoRenderOptions = {},
): KubernetesObject[] {
  const signers = signersByName(policy);
  for (const [i, rule] of policy.images.entries()) {
    for (const name of signerNamesOf(rule)) {
      if (!signers.has(name)) {
        throw new KyvernoRenderError(
          'UNKNOWN_SIGNER',
          `images[${i}] names signer "${name}", which the trust policy does not define`,
        );
      }
    }
  }
  for (const [i, rule] of policy.images.entries()) {
    if (rule.reproducible) assertIndependentRebuilders(`images[${i}]`, rule.reproducible.rebuilders, signers);
  }
  if (policy.images.length === 0 && policy.unmatchedImages === 'allow') {
    throw new KyvernoRenderError(
      'EMPTY_POLICY',
      'the trust policy has no image rules and allows unmatched images: nothing to enforce',
    );
  }
  const exemptions = activeExemptions(policy.exemptions ?? [], options.now ?? new Date());
  const ctx: RenderContext = {
    policy,
    signers,
    trust: customTrustMaterial(policy.trustedRootSource),
    exemptions,
    excludedNamespaces: [...new Set(options.excludedNamespaces ?? SYSTEM_NAMESPACES)],
    name: options.name ?? 'trustops-image-verification',
  };
  const kinds = options.kinds ?? ['ImageValidatingPolicy'];
  return kinds.map((k) =>
    k === 'ImageValidatingPolicy' ? renderImageValidatingPolicy(ctx) : renderClusterPolicy(ctx),
  );
}

interface RenderContext {
  policy: RenderableTrustPolicy;
  signers: Map<string, RenderableSigner>;
  /** The policy's own Sigstore trust material; undefined for public-good (Kyverno's default). */
  trust: CustomTrustMaterial | undefined;
  exemptions: Exemption[];
  excludedNamespaces: string[];
  name: string;
}

export function signerNamesOf(rule: ImageRule): string[] {
  return [
    ...(rule.signature?.signers ?? []),
    ...(rule.sbom?.signers ?? []),
    ...(rule.provenance?.signers ?? []),
    ...(rule.reproducible?.rebuilders ?? []),
  ];
}

/**
 * `rule.repository` (where the rule's signatures and attestations are stored), normalised as the pack
 * normalises it: Kyverno's attestor `repository` / ImageValidatingPolicy `source.repository`.
 */
function storageRepository(rule: ImageRule, where: string): string | undefined {
  if (rule.repository === undefined) return undefined;
  try {
    const ref = parseReference(rule.repository);
    if (ref.digest === undefined) return `${ref.registry}/${ref.repository}`;
  } catch {
    // refused below
  }
  throw new KyvernoRenderError(
    'NOT_EXPRESSIBLE',
    `${where}: repository "${rule.repository}" is not a registry/path to read signatures from`,
  );
}

/**
 * Kyverno checks each rebuilder as its own attestor, so one key (or one keyless identity) listed under
 * two rebuilder names would count a single rebuild summary twice toward the threshold. The pack counts
 * such a signer once; Kyverno cannot, so rendering refuses rather than enforce a weaker quorum.
 */
function assertIndependentRebuilders(
  where: string,
  rebuilders: readonly string[],
  signers: Map<string, RenderableSigner>,
): void {
  const seen = new Map<string, string>();
  for (const name of rebuilders) {
    const s = signers.get(name)!;
    const identity = s.key
      ? `key:${createPublicKey(s.key.publicKeyPem).export({ type: 'spki', format: 'der' }).toString('base64')}`
      : `keyless:${JSON.stringify(s.keyless ?? null)}`;
    const other = seen.get(identity);
    if (other !== undefined) {
      throw new KyvernoRenderError(
        'NOT_EXPRESSIBLE',
        `${where}: rebuilders "${other}" and "${name}" are the same ${s.key ? 'public key' : 'keyless identity'}; Kyverno would count one rebuild summary for both`,
      );
    }
    seen.set(identity, name);
  }
}

/**
 * End of an exemption's validity, read exactly as the pack reads it (a bare date lasts to the end of
 * that day, UTC); NaN when the date does not exist, which the callers treat as expired.
 */
function exemptionEnd(expires: string): number {
  return exemptionExpiry(expires)?.getTime() ?? Number.NaN;
}

function activeExemptions(exemptions: readonly Exemption[], now: Date): Exemption[] {
  // An unparsable date is treated as expired: an exemption never widens by accident.
  return exemptions.filter((e) => {
    const end = exemptionEnd(e.expires);
    return Number.isFinite(end) && end >= now.getTime();
  });
}

function metadata(ctx: RenderContext): KubernetesObject['metadata'] {
  const annotations: Record<string, string> = {
    [ANNOTATIONS.source]: 'trustops trust policy (trustops.dev/v1alpha1 TrustPolicy)',
  };
  const ends = ctx.exemptions.map((e) => exemptionEnd(e.expires)).sort((a, b) => a - b);
  if (ends.length > 0) {
    // Kyverno cannot expire an exemption by itself: re-render (pulumi up) before this instant.
    annotations[ANNOTATIONS.nextExemptionExpiry] = new Date(ends[0]!).toISOString();
  }
  return { name: ctx.name, labels: { 'app.kubernetes.io/managed-by': 'trustops' }, annotations };
}

// ---------------------------------------------------------------------------------------------------
// ImageValidatingPolicy (CEL): exact semantics, first matching rule applies as in the pack.

/** A CEL identifier for a signer (attestor names are read as `attestors.<name>`). */
function attestorId(index: number, name: string): string {
  return `s${index}_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/**
 * Named CEL variables (`spec.variables`, read as `variables.<name>`), so each validation is one short
 * `variables.<images>.all(image, <check>)` a reviewer can read: the images of every container kind once,
 * the ones no exemption covers once, and the images each rule applies to once per rule.
 */
const ALL_IMAGES_VARIABLE = 'allImages';
const CHECKED_IMAGES_VARIABLE = 'checkedImages';
const ruleImagesVariable = (i: number): string => `rule${i}Images`;

/** `check` must hold for every image of the named variable (a list of image references). */
function everyImageOf(variable: string, check: string): string {
  return `variables.${variable}.all(image, ${check})`;
}

function keylessIdentity(k: KeylessSigner): Record<string, string> {
  // cosign matches a subject pattern against every SAN of the certificate, so an email pattern such as
  // `.+@acme\.com` would also accept a URI SAN ending in @acme.com, which the pack refuses. Fulcio gives an
  // issuer one kind of SAN, so with the issuer named exactly the kinds cannot mix; with an issuer pattern
  // they can, and the rendered policy would be weaker than the pack: refuse.
  if (k.subjectRegExp !== undefined && k.issuerRegExp !== undefined && !namesScheme(k.subjectRegExp)) {
    throw new KyvernoRenderError(
      'NOT_EXPRESSIBLE',
      `subjectRegExp /${k.subjectRegExp}/ expects an email identity, and with issuerRegExp /${k.issuerRegExp}/ Kyverno would also accept a URI identity it matches; name the issuer exactly`,
    );
  }
  const id: Record<string, string> = {};
  // The trust policy's regular expressions are anchored; Kyverno's (Go regexp) are not.
  if (k.issuer !== undefined) id.issuer = k.issuer;
  if (k.issuerRegExp !== undefined) id.issuerRegExp = kyvernoPattern(k.issuerRegExp, 'issuerRegExp');
  if (k.subject !== undefined) id.subject = k.subject;
  if (k.subjectRegExp !== undefined) id.subjectRegExp = kyvernoPattern(k.subjectRegExp, 'subjectRegExp');
  return id;
}

/**
 * Kyverno checks the GitHub-specific Fulcio extensions by name. The trust policy's claims map onto them
 * only for GitHub repositories; anything else cannot be rendered faithfully, so rendering refuses.
 */
function additionalExtensions(signer: RenderableSigner): Record<string, string> | undefined {
  const claims = signer.keyless?.claims;
  if (!claims) return undefined;
  const ext: Record<string, string> = {};
  if (claims.sourceRepositoryURI !== undefined) {
    const m = /^https:\/\/github\.com\/([^/]+\/[^/]+)$/.exec(claims.sourceRepositoryURI);
    if (!m) {
      throw new KyvernoRenderError(
        'NOT_EXPRESSIBLE',
        `signer "${signer.name}": claim sourceRepositoryURI "${claims.sourceRepositoryURI}" is not a GitHub repository URL; Kyverno can only check githubWorkflowRepository`,
      );
    }
    ext.githubWorkflowRepository = m[1]!;
  }
  if (claims.sourceRepositoryRef !== undefined) ext.githubWorkflowRef = claims.sourceRepositoryRef;
  for (const unsupported of ['buildSignerURI', 'runnerEnvironment'] as const) {
    if (claims[unsupported] !== undefined) {
      throw new KyvernoRenderError(
        'NOT_EXPRESSIBLE',
        `signer "${signer.name}": claim ${unsupported} has no Kyverno certificate-extension check; constrain the subject instead`,
      );
    }
  }
  return ext;
}

function ivpAttestor(
  id: string,
  signer: RenderableSigner,
  trust: CustomTrustMaterial | undefined,
  repository: string | undefined,
): Record<string, unknown> {
  const rekorUrl = trust?.rekor.url ?? PUBLIC_REKOR;
  // The rule's `repository`: where cosign (COSIGN_REPOSITORY) put the signatures and attestations.
  const material = {
    ...(trust ? { trustedRoot: { value: trust.trustedRootJson } } : {}),
    ...(repository !== undefined ? { source: { repository } } : {}),
  };
  if (signer.key) {
    return {
      name: id,
      cosign: {
        key: { data: signer.key.publicKeyPem },
        // A key signer has no certificate, hence no SCT; the transparency log stays required unless the
        // trust policy opted this signer out.
        ctlog: signer.key.requireTransparencyLog
          ? { url: rekorUrl, insecureIgnoreSCT: true }
          : { insecureIgnoreTlog: true, insecureIgnoreSCT: true },
        ...material,
      },
    };
  }
  if (!signer.keyless) {
    throw new KyvernoRenderError(
      'NOT_EXPRESSIBLE',
      `signer "${signer.name}" has neither a key nor a keyless identity`,
    );
  }
  const ext = additionalExtensions(signer);
  return {
    name: id,
    cosign: {
      keyless: {
        identities: [keylessIdentity(signer.keyless)],
        ...(ext ? { additionalExtensions: ext } : {}),
      },
      ctlog: { url: rekorUrl },
      ...material,
    },
  };
}

function sbomFormats(rule: ImageRule): SbomFormat[] {
  return rule.sbom?.formats && rule.sbom.formats.length > 0 ? rule.sbom.formats : ['spdx', 'cyclonedx'];
}

interface Validation {
  expression: string;
  messageExpression?: string;
  message: string;
  reason: 'Forbidden';
}

function renderImageValidatingPolicy(ctx: RenderContext): KubernetesObject {
  const { policy, signers } = ctx;
  // One attestor per signer and storage repository (a rule's `repository` moves where Kyverno looks).
  const repositories = policy.images.map((r, i) => storageRepository(r, `images[${i}]`));
  const keyOf = (name: string, repository: string | undefined): string => `${name}\u0000${repository ?? ''}`;
  const used = [
    ...new Map(
      policy.images.flatMap((r, i) =>
        signerNamesOf(r).map(
          (name) => [keyOf(name, repositories[i]), { name, repository: repositories[i] }] as const,
        ),
      ),
    ).values(),
  ];
  const ids = new Map(used.map((u, i) => [keyOf(u.name, u.repository), attestorId(i, u.name)]));
  const idOf = (name: string, rule: number): string => ids.get(keyOf(name, repositories[rule]))!;
  const attestorList = (names: readonly string[], rule: number): string =>
    `[${names.map((n) => `attestors.${idOf(n, rule)}`).join(', ')}]`;

  const ruleRegex = policy.images.map((r) => imageRegexForGlobs(r.match));
  const matchesRule = (i: number): string => celWrittenImageMatches('image', ruleRegex[i]!);
  const variables: { name: string; expression: string }[] = [
    {
      name: ALL_IMAGES_VARIABLE,
      expression: CONTAINER_KINDS.map((k) => `(has(images.${k}) ? images.${k} : [])`).join(' + '),
    },
    {
      name: CHECKED_IMAGES_VARIABLE,
      expression:
        ctx.exemptions.length === 0
          ? `variables.${ALL_IMAGES_VARIABLE}`
          : `variables.${ALL_IMAGES_VARIABLE}.filter(image, !(${ctx.exemptions.map((e) => celWrittenImageMatches('image', imageRegexForExemption(e.image))).join(' || ')}))`,
    },
    // The first rule whose globs match applies, as in the pack: an image an earlier rule matched is in
    // that rule's list (or in the list of a rule before it), so "not in an earlier list" is "no earlier
    // rule matches".
    ...policy.images.map((_, i) => ({
      name: ruleImagesVariable(i),
      expression: `variables.${CHECKED_IMAGES_VARIABLE}.filter(image, ${[
        matchesRule(i),
        ...ruleRegex.slice(0, i).map((__, j) => `!(image in variables.${ruleImagesVariable(j)})`),
      ].join(' && ')})`,
    })),
  ];
  const inSomeRule = ruleRegex.map((_, i) => `image in variables.${ruleImagesVariable(i)}`).join(' || ');

  const attestations: { name: string; intoto: { type: string } }[] = [];
  const addAttestation = (name: string, type: string): void => {
    if (!attestations.some((a) => a.name === name)) attestations.push({ name, intoto: { type } });
  };
  const validations: Validation[] = [];
  const add = (expression: string, message: string): void => {
    validations.push({ expression, message, reason: 'Forbidden' });
  };

  add(
    everyImageOf(CHECKED_IMAGES_VARIABLE, `image.matches(${cel('@sha256:[a-f0-9]{64}$')})`),
    'trust policy requirement "digest": every image must be referenced by digest (repository@sha256:...), found a tag-only reference',
  );
  // Canonical host spelling and image volumes: whatever `unmatchedImages` says (admission-guards.ts).
  validations.push(...celAdmissionGuards(ctx.exemptions.map((e) => imageRegexForExemption(e.image))));
  if (policy.unmatchedImages !== 'allow' && ruleRegex.length > 0) {
    add(
      everyImageOf(CHECKED_IMAGES_VARIABLE, inSomeRule),
      'trust policy requirement "policy": an image matches no rule of the trust policy and unmatchedImages is "block"',
    );
  } else if (policy.unmatchedImages !== 'allow') {
    add(
      everyImageOf(CHECKED_IMAGES_VARIABLE, 'false'),
      'trust policy requirement "policy": no rule matches any image and unmatchedImages is "block"',
    );
  }

  for (const [i, rule] of policy.images.entries()) {
    const where = `images[${i}] (${rule.match.join(', ')})`;
    const applies = ruleImagesVariable(i);
    if (rule.signature) {
      add(
        everyImageOf(applies, `verifyImageSignatures(image, ${attestorList(rule.signature.signers, i)}) > 0`),
        `${where}: requirement "signature": expected a signature by one of [${rule.signature.signers.join(', ')}]`,
      );
    }
    if (rule.sbom) {
      const formats = sbomFormats(rule);
      for (const att of sbomAttestations(formats)) addAttestation(att.name, att.type);
      add(
        everyImageOf(applies, sbomCheck(formats, attestorList(rule.sbom.signers, i))),
        `${where}: requirement "sbom": expected a ${formats.join(' or ')} SBOM attestation listing its components, signed by one of [${rule.sbom.signers.join(', ')}]`,
      );
    }
    if (rule.provenance) {
      for (const att of provenanceAttestations()) addAttestation(att.name, att.type);
      const c = rule.provenance;
      const constraintText = [
        c.builderId && `builder ${c.builderId}`,
        c.builderIdRegExp && `builder matching ${anchoredSource(c.builderIdRegExp)}`,
        c.sourceRepository && `source ${c.sourceRepository}`,
      ].filter(Boolean);
      add(
        everyImageOf(applies, provenanceCheck(rule, attestorList(c.signers, i))),
        `${where}: requirement "provenance": expected SLSA provenance (v1, v0.2 or v0.1) signed by one of [${c.signers.join(', ')}]${
          constraintText.length ? ` with ${constraintText.join(', ')}` : ''
        }`,
      );
    }
    if (rule.reproducible) {
      const r = rule.reproducible;
      const rebuilderIds = r.rebuilders.map((n) => idOf(n, i));
      for (const att of rebuildAttestations(rebuilderIds)) addAttestation(att.name, att.type);
      add(
        everyImageOf(applies, rebuildCheck(rebuilderIds, r.threshold)),
        `${where}: requirement "reproducible": expected PASSED rebuild verification summaries from at least ${r.threshold} distinct rebuilders of [${r.rebuilders.join(', ')}]`,
      );
    }
  }

  const spec: Record<string, unknown> = {
    validationActions: ['Deny'],
    failurePolicy: 'Fail',
    matchConstraints: {
      resourceRules: [
        // `kubectl debug` adds ephemeral containers through the pods/ephemeralcontainers subresource
        // (an UPDATE of it, with the whole Pod as object); `pods` alone would never see them.
        {
          apiGroups: [''],
          apiVersions: ['v1'],
          operations: ['CREATE', 'UPDATE'],
          resources: ['pods', 'pods/ephemeralcontainers'],
        },
      ],
      namespaceSelector: {
        matchExpressions: [
          { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ctx.excludedNamespaces },
        ],
      },
    },
    // Every image is in scope; which rule applies is decided in CEL exactly as the pack decides it.
    // `**` as well: whether Kyverno's glob `*` crosses `/` depends on how it compiles globs; either way the
    // union covers every reference.
    matchImageReferences: [{ glob: '*' }, { glob: '**' }],
    // Enforcement lives in the validations: `required` would also demand a verification of exempted images.
    validationConfigurations: { mutateDigest: false, verifyDigest: true, required: false },
    attestors: used.map((u) =>
      ivpAttestor(ids.get(keyOf(u.name, u.repository))!, signers.get(u.name)!, ctx.trust, u.repository),
    ),
    variables,
    validations,
  };
  if (attestations.length > 0) spec.attestations = attestations;
  return { apiVersion: IVP_API_VERSION, kind: 'ImageValidatingPolicy', metadata: metadata(ctx), spec };
}

// ---------------------------------------------------------------------------------------------------
// ClusterPolicy (verifyImages): the widely deployed form; see KyvernoRenderOptions.kinds for its limits.

function clusterPolicyEntry(
  signer: RenderableSigner,
  trust: CustomTrustMaterial | undefined,
): Record<string, unknown> {
  const rekor = trust ? { url: trust.rekor.url, pubkey: trust.rekor.pubkeyPem } : { url: PUBLIC_REKOR };
  if (signer.key) {
    return {
      keys: {
        publicKeys: signer.key.publicKeyPem,
        rekor: signer.key.requireTransparencyLog ? rekor : { ...rekor, ignoreTlog: true },
        ctlog: { ignoreSCT: true },
      },
    };
  }
  if (!signer.keyless) {
    throw new KyvernoRenderError(
      'NOT_EXPRESSIBLE',
      `signer "${signer.name}" has neither a key nor a keyless identity`,
    );
  }
  const ext = additionalExtensions(signer);
  return {
    keyless: {
      ...keylessIdentity(signer.keyless),
      rekor,
      ...(trust ? { roots: trust.fulcioRootsPem } : {}),
      ...(trust?.ctLogPubKeyPem ? { ctlog: { pubkey: trust.ctLogPubKeyPem } } : {}),
      ...(ext ? { additionalExtensions: ext } : {}),
    },
  };
}

function attestorSet(ctx: RenderContext, names: readonly string[], count: number): Record<string, unknown> {
  return { count, entries: names.map((n) => clusterPolicyEntry(ctx.signers.get(n)!, ctx.trust)) };
}

/**
 * verifyImages only looks at images its rules match. The pack also refuses tag-only references and, with
 * `unmatchedImages: block`, images no rule matches: this rule does the same at admission.
 */
function pinnedAndMatchedRule(ctx: RenderContext, exempt: string[]): Record<string, unknown> {
  const conditions: Record<string, unknown>[] = [
    { key: "{{ contains(element.image, '@sha256:') }}", operator: 'Equals', value: false },
  ];
  if (ctx.policy.unmatchedImages !== 'allow') {
    const covered = [...ctx.policy.images.flatMap((r) => clusterPolicyImageReferences(r.match)), ...exempt];
    conditions.push({ key: '{{ element.image }}', operator: 'AllNotIn', value: covered });
  }
  return {
    name: 'images-pinned-and-matched',
    match: { any: [{ resources: { kinds: ['Pod'] } }] },
    exclude: { any: [{ resources: { namespaces: ctx.excludedNamespaces } }] },
    validate: {
      failureAction: 'Enforce',
      message:
        ctx.policy.unmatchedImages !== 'allow'
          ? 'trust policy requirements "digest" and "policy": every image must be pinned by digest and match a rule of the trust policy (unmatchedImages is "block")'
          : 'trust policy requirement "digest": every image must be pinned by digest',
      foreach: [
        {
          list: 'request.object.spec.[containers, initContainers, ephemeralContainers][]',
          deny: { conditions: { any: conditions } },
        },
      ],
    },
  };
}

function renderClusterPolicy(ctx: RenderContext): KubernetesObject {
  const exempt = ctx.exemptions.flatMap((e) => clusterPolicyExemptionReferences(e.image));
  const rules: Record<string, unknown>[] = ctx.policy.images.map((rule, i) => {
    // First match wins in the pack: a later rule skips what an earlier rule surely covers.
    const earlier = ctx.policy.images.slice(0, i).flatMap((r) => clusterPolicySkipReferences(r.match));
    const attestations: Record<string, unknown>[] = [];
    if (rule.sbom) {
      attestations.push({
        name: 'sbom',
        predicateType: PRIMARY_SBOM_PREDICATE_TYPE[sbomFormats(rule)[0]!],
        attestors: [attestorSet(ctx, rule.sbom.signers, 1)],
      });
    }
    if (rule.provenance) {
      const p = rule.provenance;
      const all: Record<string, unknown>[] = [];
      if (p.builderId !== undefined)
        all.push({ key: '{{ runDetails.builder.id }}', operator: 'Equals', value: p.builderId });
      if (p.builderIdRegExp !== undefined) {
        all.push({
          key: `{{ regex_match('${kyvernoRawStringPattern(p.builderIdRegExp, 'provenance.builderIdRegExp')}', runDetails.builder.id) }}`,
          operator: 'Equals',
          value: true,
        });
      }
      if (p.sourceRepository !== undefined) {
        // As in the pack: some resolved dependency with a digest is the required repository.
        const re = sourceRepositoryRegex(p.sourceRepository).replace(/'/g, "\\'");
        all.push({
          key: `{{ length(buildDefinition.resolvedDependencies[?regex_match('${re}', uri) && digest] || \`[]\`) }}`,
          operator: 'GreaterThan',
          value: 0,
        });
      }
      attestations.push({
        name: 'provenance',
        predicateType: PROVENANCE_PREDICATE_TYPES[0],
        attestors: [attestorSet(ctx, p.signers, 1)],
        ...(all.length > 0 ? { conditions: [{ all }] } : {}),
      });
    }
    if (rule.reproducible) {
      attestations.push({
        name: 'rebuild',
        predicateType: REBUILD_PREDICATE_TYPE,
        // `count` N: at least N distinct rebuilders' entries must verify (Kyverno attestor-set semantics).
        attestors: [attestorSet(ctx, rule.reproducible.rebuilders, rule.reproducible.threshold)],
        conditions: [{ all: [{ key: '{{ verificationResult }}', operator: 'Equals', value: 'PASSED' }] }],
      });
    }
    const verify: Record<string, unknown> = {
      type: 'Cosign',
      imageReferences: clusterPolicyImageReferences(rule.match),
      failureAction: 'Enforce',
      mutateDigest: false,
      verifyDigest: true,
      required: true,
    };
    const skip = [...exempt, ...earlier];
    if (skip.length > 0) verify.skipImageReferences = skip;
    // Where cosign (COSIGN_REPOSITORY) put this rule's signatures and attestations.
    const repository = storageRepository(rule, `images[${i}]`);
    if (repository !== undefined) verify.repository = repository;
    if (rule.signature) verify.attestors = [attestorSet(ctx, rule.signature.signers, 1)];
    if (attestations.length > 0) verify.attestations = attestations;
    return {
      name: `images-${i}`,
      match: { any: [{ resources: { kinds: ['Pod'] } }] },
      exclude: { any: [{ resources: { namespaces: ctx.excludedNamespaces } }] },
      verifyImages: [verify],
    };
  });
  rules.push(pinnedAndMatchedRule(ctx, exempt));
  rules.push(
    ...clusterPolicyAdmissionGuards({ excludedNamespaces: ctx.excludedNamespaces, exemptReferences: exempt }),
  );
  return {
    apiVersion: CLUSTER_POLICY_API_VERSION,
    kind: 'ClusterPolicy',
    metadata: metadata(ctx),
    spec: { background: false, failurePolicy: 'Fail', webhookTimeoutSeconds: 30, rules },
  };
}
