import { SLSA_VSA_V1 } from '../../policy-pack/supply-chain/provenance';
import { digestHex } from './digest';
import { rfc3339, type Predicate } from './predicates';

/**
 * A rebuilder's reproducibility evidence: a SLSA verification summary (VSA v1) that PASSED, for the
 * published digest, naming the source the rebuild was made from. It is made only when the rebuilt digest
 * equals the published one; the trust policy's rebuild quorum counts it (policy-pack/supply-chain/
 * rule-evaluation.ts: a PASSED VSA v1 with a verifier.id, signed by a listed rebuilder, whose statement
 * subject is the digest), and so does the Kyverno policy at admission (components/kyverno/predicate-types).
 */

/**
 * What the VSA's `policy.uri` names: the check made before signing (rebuilt digest equals the published
 * one, from the named source), in the project's `trustops.dev` namespace; documented in docs/cli.md.
 */
export const REBUILD_POLICY_URI = 'https://trustops.dev/policies/reproducible-rebuild/v1';

export interface RebuildSource {
  /** The repository as given, without the commit (`git+https://github.com/acme/app@refs/tags/v1`). */
  uri: string;
  /** Lower-case hex commit (40 for SHA-1, 64 for SHA-256 repositories). */
  commit: string;
}

export class RebuildSourceError extends Error {
  readonly code = 'BAD_SOURCE';
  constructor(message: string) {
    super(message);
    this.name = 'RebuildSourceError';
  }
}

/** `--source URI@COMMIT`: the commit after the last `@` (40 or 64 hex digits), a URI with a scheme before it. */
export function parseRebuildSource(value: string): RebuildSource {
  const at = value.lastIndexOf('@');
  const uri = at < 0 ? '' : value.slice(0, at).trim();
  const commit =
    at < 0
      ? ''
      : value
          .slice(at + 1)
          .trim()
          .toLowerCase();
  if (!/^([0-9a-f]{40}|[0-9a-f]{64})$/.test(commit)) {
    throw new RebuildSourceError(
      `--source ${JSON.stringify(value)} must end in @<commit> (40 or 64 hex digits): the rebuild is evidence for one commit`,
    );
  }
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^\s/]+\/\S+$/i.test(uri)) {
    throw new RebuildSourceError(
      `--source ${JSON.stringify(value)}: ${JSON.stringify(uri)} is not a repository URI (e.g. git+https://github.com/acme/app)`,
    );
  }
  return { uri, commit };
}

/** The purl of an image digest (`pkg:oci/app@sha256%3A...?repository_url=host/acme/app`): the VSA's resourceUri. */
export function imagePurl(name: string, digest: string): string {
  digestHex(digest);
  const last = name.slice(name.lastIndexOf('/') + 1);
  return `pkg:oci/${last}@${encodeURIComponent(digest)}?repository_url=${name}`;
}

export interface RebuildVsaInput {
  verifierId: string;
  /** `host/repo` of the published image. */
  name: string;
  digest: string;
  source: RebuildSource;
  verifiedLevels: string[];
  now: Date;
  /** trustops version, recorded as the verifier's version. */
  version: string;
}

/**
 * The VSA: standard VSA v1 fields, plus `reproducibleRebuild` (ignored by readers that do not know it, as
 * SLSA's parsing rules require) naming the source and both digests that were compared.
 */
export function rebuildVsa(input: RebuildVsaInput): Predicate {
  return {
    label: 'rebuild',
    predicateType: SLSA_VSA_V1,
    predicate: {
      verifier: { id: input.verifierId, version: { trustops: input.version } },
      timeVerified: rfc3339(input.now),
      resourceUri: imagePurl(input.name, input.digest),
      policy: { uri: REBUILD_POLICY_URI },
      verificationResult: 'PASSED',
      verifiedLevels: input.verifiedLevels,
      reproducibleRebuild: {
        source: { uri: input.source.uri, digest: { gitCommit: input.source.commit } },
        publishedDigest: input.digest,
        rebuiltDigest: input.digest,
      },
    },
  };
}
