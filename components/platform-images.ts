import { ArgsProblems, SHA256_DIGEST } from './validation';

/**
 * Platform images (Kyverno's, SPIRE's) are deployed by digest. The components pin the releases they
 * install with the digests their publishers released, copied from public files that pin those releases
 * (listed below with each release); no registry was reachable where this code was written, so confirm
 * each with `crane digest IMAGE:TAG` (or `cosign verify`) wherever one is. Where no public pin was found
 * the digest is a REQUIRED input, named in the component's error: a digest copied from memory would be
 * an invented one. Every image also falls under a trust-policy rule requiring what its publisher really
 * publishes (examples/trust-policy.yaml), or under an explicit, expiring exemption when it is unsigned
 * upstream, so the pack verifies the platform too.
 */
export type ImageDigests<K extends string> = Readonly<Record<K, string>>;

/** One release's images: the digests found published, and why each other one must be given. */
export interface PublishedRelease<K extends string> {
  /** The version the component installs (chart appVersion / the subcharts' image tags). */
  version: string;
  /** Where these digests were read, for people (public files, not a registry). */
  source: string;
  digests: Readonly<Partial<Record<K, string>>>;
  /** Images with no public pin: the digest must be given (the message says where to get it). */
  required: Readonly<Partial<Record<K, string>>>;
}

/**
 * Kyverno v1.19.1 (Helm chart 3.9.1), images on ghcr.io/kyverno (reg.kyverno.io mirrors it). Signed by
 * Kyverno's release workflow (keyless), signatures stored in ghcr.io/kyverno/signatures, with SLSA
 * provenance from slsa-github-generator's container generator.
 */
export const KYVERNO_RELEASE: PublishedRelease<
  | 'kyverno'
  | 'kyvernopre'
  | 'background-controller'
  | 'cleanup-controller'
  | 'reports-controller'
  | 'kyverno-cli'
  | 'readiness-checker'
> = {
  version: 'v1.19.1',
  source:
    'a public GKE platform kustomization pinning Kyverno v1.19.1 by digest (kyverno-cli: a public cluster-validation script)',
  digests: {
    kyverno: 'sha256:b31d8511ae5fd6010e2a01ea72ebae08eb82fa51d91af14a1d9fe989949b4edb',
    kyvernopre: 'sha256:c25c47461f06f2845a48c319ae86fbbc1730a7b9ed5b701889c9dc1f9ee94b09',
    'background-controller': 'sha256:8f1e9143373a27578cafc2d28d2c66ba0926c63b4c77e63de8d2fdd4a122859f',
    'cleanup-controller': 'sha256:67a48e62a8d8f8120c86914ff822b90017c54054c7b64ef8a1555645e9d9761e',
    'reports-controller': 'sha256:c0eee97b9b44a0dd35805d56b358fa52548480f79d4944602b9609538eccd64c',
    'kyverno-cli': 'sha256:ced7b2be0b04250cabfe695f15307f69eb715fe23234816388af4f3812915b2a',
  },
  required: {
    'readiness-checker':
      'no public pin of ghcr.io/kyverno/readiness-checker was found; take the digest of the tag you deploy from the publisher (`crane digest ghcr.io/kyverno/readiness-checker:<tag>`)',
  },
};

/**
 * SPIRE 1.15.2 (spiffe hardened charts spire 0.30.0 / spire-crds 0.6.0: the subcharts set 1.15.2, the
 * umbrella chart's appVersion says 1.14.5). spire-server and spire-agent are multi-arch index digests,
 * signed keyless on the index by SPIRE's release workflow; spire-controller-manager 0.7.0 has no signing
 * step upstream (the example trust policy exempts it, with an expiry); csi-node-driver-registrar v2.15.0
 * is signed by Kubernetes release engineering.
 */
export const SPIRE_RELEASE: PublishedRelease<
  | 'spire-server'
  | 'spire-controller-manager'
  | 'spire-agent'
  | 'spiffe-csi-driver'
  | 'csi-node-driver-registrar'
> = {
  version: '1.15.2',
  source:
    "SPIRE's public provenance pin file and release notes (csi-node-driver-registrar also a public Dockerfile)",
  digests: {
    'spire-server': 'sha256:aa74ef1be86bc8e0684007d84a4d9859d294384d842c30425048d73429f3216e',
    'spire-agent': 'sha256:1d042e4040466686e0ee46f74981ff2167c86adfadca19b3835946f4d6047536',
    'spire-controller-manager': 'sha256:d7b9e710f5428ea25daa35a07083fe517ed70c23df902d21c54a0f444455a84b',
    'csi-node-driver-registrar': 'sha256:11f199f6bec47403b03cb49c79a41f445884b213b382582a60710b8c6fdc316a',
  },
  required: {
    'spiffe-csi-driver':
      'no public pin of ghcr.io/spiffe/spiffe-csi-driver:0.2.7 was found; take it from the publisher (`crane digest ghcr.io/spiffe/spiffe-csi-driver:0.2.7`, or `cosign verify` it)',
  },
};

/** The digests given, over the release's published ones: what the component deploys. */
export function withPublishedDigests<K extends string>(
  release: PublishedRelease<K>,
  given: Readonly<Partial<Record<K, string>>> | undefined,
): Partial<Record<K, string>> {
  return { ...release.digests, ...given } as Partial<Record<K, string>>;
}

/** Records one problem per missing or malformed digest, naming the image (and, when known, where to get it). */
export function checkImageDigests<K extends string>(
  problems: ArgsProblems,
  argName: string,
  required: readonly K[],
  digests: Partial<Record<K, string>> | undefined,
  release?: PublishedRelease<K>,
): void {
  for (const image of required) {
    const d = digests?.[image];
    const why = release?.required[image];
    if (d === undefined)
      problems.add(
        `${argName}.${image}`,
        `expected the sha256 digest of ${image}, found none${why ? ` (${why})` : ''}`,
      );
    else if (!SHA256_DIGEST.test(d))
      problems.add(`${argName}.${image}`, `expected sha256:<64 hex>, found ${d}`);
  }
  for (const extra of Object.keys(digests ?? {})) {
    if (!(required as readonly string[]).includes(extra)) {
      problems.add(
        `${argName}.${extra}`,
        `is not an image of this component; expected one of ${required.join(', ')}`,
      );
    }
  }
}
