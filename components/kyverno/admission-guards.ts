import { cel } from './cel-requirements';
import { celWrittenImageMatches } from './image-patterns';
import {
  CANONICAL_HOST_EXPECTATION,
  CANONICAL_HOST_IMAGE_REGEX,
  NON_CANONICAL_SPELLING_REGEX,
} from './canonical-host';

/**
 * Admission checks that do not depend on which trust-policy rule applies, rendered for both policy
 * kinds: every image host spelled canonically (see canonical-host.ts), and image volumes refused unless
 * exempted (the ClusterPolicy also refuses debug containers added through the ephemeral-containers
 * subresource unless exempted, see clusterPolicyAdmissionGuards).
 *
 * Image volumes (`spec.volumes[].image.reference`, Kubernetes 1.31+) are pulled by the kubelet and
 * can be executed from a container, but Kyverno verifies only container images: ClusterPolicy
 * `verifyImages` and the ImageValidatingPolicy `images` variable list containers, initContainers and
 * ephemeralContainers. Matching a volume's reference against the trust policy's globs would prove
 * nothing (no signature, SBOM, provenance or rebuild is checked), so admission fails closed: a Pod
 * may mount an image volume only when its reference is an active exemption of the trust policy
 * (digest-pinned by construction, the owner's explicit acceptance, exactly what the pack admits
 * without evidence). Everything else is denied, whatever `unmatchedImages` says. This is stricter
 * than the pack, which verifies image volumes like containers; never weaker. (An ImageValidatingPolicy
 * could list volumes through custom `spec.images` extractors, but those replace Kyverno's default
 * extraction for every image, a change no test here can run against Kyverno itself: refused instead.)
 */

const CONTAINER_KINDS = ['containers', 'initContainers', 'ephemeralContainers'] as const;

/** CEL: the image written in `image` has a canonically spelled host. */
export function celCanonicalHost(image: string): string {
  return `(${image}.matches(${cel(CANONICAL_HOST_IMAGE_REGEX)}) && !${image}.matches(${cel(NON_CANONICAL_SPELLING_REGEX)}))`;
}

/** CEL: every image of the Pod's containers, as one list. */
const ALL_IMAGES = `(${CONTAINER_KINDS.map((k) => `(has(images.${k}) ? images.${k} : [])`).join(' + ')})`;

/** CEL: the image volumes of the Pod (volumes with an `image` source). */
const IMAGE_VOLUMES = `(has(object.spec.volumes) ? object.spec.volumes.filter(v, has(v.image)) : [])`;

/** CEL: the image volume `v` is allowed: its reference is spelled canonically and exempted. */
function celVolumeAllowed(exemptionRegexes: readonly string[]): string {
  if (exemptionRegexes.length === 0) return 'false';
  const exempt = exemptionRegexes.map((re) => celWrittenImageMatches('v.image.reference', re)).join(' || ');
  return `(has(v.image.reference) && ${celCanonicalHost('v.image.reference')} && (${exempt}))`;
}

export interface CelValidation {
  expression: string;
  messageExpression: string;
  message: string;
  reason: 'Forbidden';
}

/** ImageValidatingPolicy validations for both guards. `exemptionRegexes` are the active exemptions. */
export function celAdmissionGuards(exemptionRegexes: readonly string[]): CelValidation[] {
  const badHosts = `${ALL_IMAGES}.filter(image, !${celCanonicalHost('image')})`;
  const volumeAllowed = celVolumeAllowed(exemptionRegexes);
  const badVolumes = `${IMAGE_VOLUMES}.filter(v, !${volumeAllowed})`;
  const volumeExpectation =
    exemptionRegexes.length === 0
      ? 'no image volume (Kyverno cannot verify them; the trust policy exempts none)'
      : 'no image volume other than an exempted image (Kyverno cannot verify image volumes)';
  return [
    {
      expression: `${ALL_IMAGES}.all(image, ${celCanonicalHost('image')})`,
      // The message names the first offending image; `message` is the fallback if it cannot be built.
      messageExpression: `'trust policy requirement "canonical host": image ' + ${badHosts}[0] + ' is written with a non-canonical registry host; expected ' + ${cel(CANONICAL_HOST_EXPECTATION)}`,
      message: `trust policy requirement "canonical host": an image is written with a non-canonical registry host; expected ${CANONICAL_HOST_EXPECTATION}`,
      reason: 'Forbidden',
    },
    {
      expression: `${IMAGE_VOLUMES}.all(v, ${volumeAllowed})`,
      messageExpression: `'trust policy requirement "image volume": volume ' + ${badVolumes}[0].name + ' mounts image ' + (has(${badVolumes}[0].image.reference) ? ${badVolumes}[0].image.reference : '(none)') + '; expected ' + ${cel(volumeExpectation)}`,
      message: `trust policy requirement "image volume": a volume mounts an image; expected ${volumeExpectation}`,
      reason: 'Forbidden',
    },
  ];
}

interface ClusterPolicyScope {
  excludedNamespaces: readonly string[];
  /** Kyverno wildcard forms of the active exemptions (clusterPolicyExemptionReferences). */
  exemptReferences: readonly string[];
}

function podRule(name: string, scope: ClusterPolicyScope, validate: Record<string, unknown>) {
  return {
    name,
    match: { any: [{ resources: { kinds: ['Pod'] } }] },
    exclude: { any: [{ resources: { namespaces: [...scope.excludedNamespaces] } }] },
    validate: { failureAction: 'Enforce', ...validate },
  };
}

/** JMESPath (Kyverno `regex_match`, RE2) conditions that hold when `subject` is NOT canonically spelled. */
function jmesNotCanonical(subject: string, what: string): Record<string, unknown>[] {
  const quote = (re: string): string => re.replace(/'/g, "\\'");
  return [
    {
      key: `{{ regex_match('${quote(CANONICAL_HOST_IMAGE_REGEX)}', ${subject}) }}`,
      operator: 'Equals',
      value: false,
      message: `${what} {{ ${subject} }} is written with a non-canonical registry host`,
    },
    {
      key: `{{ regex_match('${quote(NON_CANONICAL_SPELLING_REGEX)}', ${subject}) }}`,
      operator: 'Equals',
      value: true,
      message: `${what} {{ ${subject} }} spells Docker Hub other than docker.io/<namespace>/<name>`,
    },
  ];
}

/**
 * A rule for images Kyverno's ClusterPolicy does not verify: each item of `list` may only name an
 * active exemption (spelled canonically); with no exemption at all, any item is denied.
 */
function exemptedOnlyRule(
  scope: ClusterPolicyScope,
  o: {
    name: string;
    kinds: string[];
    /** JMESPath of the items, `|| []` so that none is a no-op. */
    list: string;
    /** JMESPath of an item's image reference, under `element`. */
    reference: string;
    requirement: string;
    what: string;
  },
): Record<string, unknown> {
  const none = scope.exemptReferences.length === 0;
  const rule = podRule(`${o.name}-${none ? 'denied' : 'exempted-only'}`, scope, {
    message: none
      ? `trust policy requirement "${o.requirement}": expected no ${o.what} (the ClusterPolicy cannot verify them; the trust policy exempts none)`
      : `trust policy requirement "${o.requirement}": expected no ${o.what} other than an exempted image (the ClusterPolicy cannot verify them)`,
    foreach: [
      {
        list: o.list,
        deny: {
          conditions: {
            any: [
              {
                key: `{{ element.${o.reference} }}`,
                operator: 'AllNotIn',
                // With no exemption, AllNotIn against a pattern no reference can match denies every item
                // (an empty list would leave the result to Kyverno's reading of an empty set).
                value: none ? ['trustops.invalid/no-exemption@none'] : [...scope.exemptReferences],
                message: `${o.what} {{ element.name }} uses image {{ element.${o.reference} }}, which is not exempted`,
              },
              ...jmesNotCanonical(`element.${o.reference}`, o.what),
            ],
          },
        },
      },
    ],
  });
  return { ...rule, match: { any: [{ resources: { kinds: o.kinds } }] } };
}

/**
 * ClusterPolicy rules for the guards (validate/foreach on Pods; Kyverno autogen extends Pod rules to
 * pod controllers). Ephemeral containers are added through the `pods/ephemeralcontainers`
 * subresource (`kubectl debug`), which rules matching `Pod` never see, and verifyImages is not known to
 * verify on that subresource: there they are refused unless exempted, as image volumes are.
 */
export function clusterPolicyAdmissionGuards(scope: ClusterPolicyScope): Record<string, unknown>[] {
  const hostRule = podRule('image-hosts-canonical', scope, {
    message: `trust policy requirement "canonical host": every image must be written with ${CANONICAL_HOST_EXPECTATION}`,
    foreach: [
      {
        list: 'request.object.spec.[containers, initContainers, ephemeralContainers][]',
        deny: { conditions: { any: jmesNotCanonical('element.image', 'image') } },
      },
    ],
  });
  const volumeRule = exemptedOnlyRule(scope, {
    name: 'image-volumes',
    kinds: ['Pod'],
    list: 'request.object.spec.volumes[?image] || `[]`',
    reference: 'image.reference',
    requirement: 'image volume',
    what: 'image volume',
  });
  const ephemeralRule = exemptedOnlyRule(scope, {
    name: 'debug-containers',
    kinds: ['Pod/ephemeralcontainers'],
    list: 'request.object.spec.ephemeralContainers || `[]`',
    reference: 'image',
    requirement: 'ephemeral container',
    what: 'ephemeral container',
  });
  return [hostRule, volumeRule, ephemeralRule];
}
