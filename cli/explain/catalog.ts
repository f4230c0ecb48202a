import type { PackDiagnosticCode } from '../../policy-pack/policies/support/codes';
import type { PolicyErrorCode } from '../../policy-pack/supply-chain/policy-error';
import { hintFor } from '../../policy-pack/supply-chain/rule-evaluation';

/**
 * What each finding code means and how to fix it: `trustops explain CODE`, the SARIF rules' help, and the
 * fix each finding carries. Where the verifier words the fix itself (rule-evaluation.ts `hintFor`), the
 * text is taken from there, so the explanation and the hint a finding prints are the same words.
 */
export type ExplainedCode =
  PackDiagnosticCode | PolicyErrorCode | 'ATTACHMENT_IGNORED' | 'WORKLOADS_UNCHECKED';

export interface Explanation {
  code: ExplainedCode;
  /** One line: what went wrong. */
  title: string;
  /** What the check is and why it blocks (or not). */
  meaning: string;
  /** How to fix it. */
  fix: string;
  /** Whether it blocks: `mandatory` at the policy's level, `advisory` never blocks, `usage` is a bad input (exit 2). */
  effect: 'blocks' | 'advisory' | 'configuration' | 'could not verify' | 'incomplete';
}

const FROM_VERIFIER = (code: Parameters<typeof hintFor>[0]): string => hintFor(code, 'signature');

const ENTRIES: Record<ExplainedCode, Omit<Explanation, 'code'>> = {
  NO_MATCHING_RULE: {
    title: 'no rule of the trust policy covers the repository',
    meaning:
      'Every image must match a rule (its `match` globs over the normalised repository); with `unmatchedImages: block` (the default) an image no rule covers is blocked.',
    fix: 'Add a rule for this repository to the trust policy, or deploy an image a rule covers.',
    effect: 'blocks',
  },
  SIGNATURE_MISSING: {
    title: 'no signature of the image digest was found',
    meaning:
      'The rule requires a signature of the deployed digest by one of its signers; nothing attached to the image is one.',
    fix: FROM_VERIFIER('SIGNATURE_MISSING'),
    effect: 'blocks',
  },
  SIGNATURE_INVALID: {
    title: 'a signature, certificate, transparency-log entry or timestamp did not verify',
    meaning:
      'A signature or attestation is attached but does not verify against the trusted root; it never counts.',
    fix: FROM_VERIFIER('SIGNATURE_INVALID'),
    effect: 'blocks',
  },
  SIGNER_UNTRUSTED: {
    title: 'signed, but not by a signer the rule accepts',
    meaning:
      'The signature verifies, but its key or keyless identity (issuer and subject) is not one the rule lists for this requirement.',
    fix: hintFor('SIGNER_UNTRUSTED', '<requirement>' as never),
    effect: 'blocks',
  },
  DIGEST_MISMATCH: {
    title: 'evidence made for another digest',
    meaning:
      'A signature or attestation names another image digest (a replay from another image or tag); it never counts.',
    fix: FROM_VERIFIER('DIGEST_MISMATCH'),
    effect: 'blocks',
  },
  SBOM_MISSING: {
    title: 'no signed SBOM attestation',
    meaning: 'The rule requires an SBOM (SPDX or CycloneDX) attested for this digest by one of its signers.',
    fix: FROM_VERIFIER('SBOM_MISSING'),
    effect: 'blocks',
  },
  SBOM_INVALID: {
    title: 'the attested SBOM is not a valid SBOM',
    meaning:
      'The SBOM attestation verifies, but its predicate does not validate against its SPDX or CycloneDX schema, or lists nothing.',
    fix: FROM_VERIFIER('SBOM_INVALID'),
    effect: 'blocks',
  },
  SBOM_FORMAT_NOT_ALLOWED: {
    title: 'the SBOM is in a format the rule does not allow',
    meaning: "The rule's `sbom.formats` lists the formats it accepts; the attested SBOM is in another.",
    fix: FROM_VERIFIER('SBOM_FORMAT_NOT_ALLOWED'),
    effect: 'blocks',
  },
  PROVENANCE_MISSING: {
    title: 'no signed provenance',
    meaning: 'The rule requires SLSA provenance for this digest signed by one of its signers.',
    fix: FROM_VERIFIER('PROVENANCE_MISSING'),
    effect: 'blocks',
  },
  PROVENANCE_INVALID: {
    title: 'the provenance is not a SLSA provenance statement',
    meaning:
      'The provenance attestation verifies, but is not an in-toto statement with a SLSA v0.2 or v1 predicate.',
    fix: FROM_VERIFIER('PROVENANCE_INVALID'),
    effect: 'blocks',
  },
  PROVENANCE_CONSTRAINT: {
    title: "the provenance names another builder or source than the rule's",
    meaning: "The rule's `builderId`, `builderIdRegExp` or `sourceRepository` does not match the provenance.",
    fix: FROM_VERIFIER('PROVENANCE_CONSTRAINT'),
    effect: 'blocks',
  },
  REBUILD_QUORUM_NOT_MET: {
    title: 'too few independent rebuilders reached the same digest',
    meaning:
      "The rule's `reproducible` requirement needs `threshold` distinct rebuilders to attest a rebuild of this digest from the original source.",
    fix: FROM_VERIFIER('REBUILD_QUORUM_NOT_MET'),
    effect: 'blocks',
  },
  EXEMPTION_EXPIRED: {
    title: 'the exemption for this image has expired',
    meaning:
      'An exemption allowed this digest until its `expires`; past it the image must meet its rule again.',
    fix: 'Meet the requirements, or renew the exemption with a new expiry if the risk is still accepted.',
    effect: 'blocks',
  },
  EXEMPTION_IN_FORCE: {
    title: 'allowed by an exemption (WAIVED)',
    meaning:
      'An exemption in the trust policy (reason, ticket, expiry) allows this digest although requirements are unmet; each unmet requirement reads WAIVED.',
    fix: 'Allowed until the exemption expires.',
    effect: 'advisory',
  },
  INDEX_TOO_LARGE: {
    title: 'a multi-platform index too large to verify manifest by manifest',
    meaning:
      '`platforms: each` or `both` verifies every manifest of an index; an index of more than 64 manifests is refused.',
    fix:
      'Deploy a single-platform manifest or a smaller index, or use platforms: deployed / index for this rule ' +
      '(which verify only the manifest deployed, or only the index).',
    effect: 'blocks',
  },
  REGISTRY_ERROR: {
    title: 'the registry could not be read',
    meaning:
      'The image or its attachments could not be read (unreachable, timeout, refused credentials, not found). Nothing is allowed unread: the image is blocked, and the CLI exits 3 (could not verify).',
    fix: 'Check the reference, network access and --registry-mirror / --insecure-registry settings.',
    effect: 'could not verify',
  },
  POLICY_INVALID: {
    title: 'the trust policy or its trust material cannot be used',
    meaning:
      'The trusted root or a signer of the trust policy could not be loaded, so nothing can be verified.',
    fix: "Fix the policy's trustedRoot (a valid trusted_root.json) or its signers.",
    effect: 'configuration',
  },
  INTERNAL_ERROR: {
    title: 'verification failed unexpectedly',
    meaning: 'Something failed that should not: the image is blocked (fail closed); the CLI exits 4.',
    fix: 'This is a bug in trustops or its inputs; report it with the image reference and the policy.',
    effect: 'blocks',
  },
  VALUE_UNKNOWN: {
    title: 'a value is unknown during preview',
    meaning:
      'The value is computed by another resource and not known at preview; the pack checks it again at update.',
    fix: 'It is checked when the value is known, at update.',
    effect: 'advisory',
  },
  WORKLOAD_UNREADABLE: {
    title: "the workload's containers cannot be read",
    meaning:
      'A pod spec or image property has the wrong shape, so its images cannot be checked; fail closed.',
    fix: 'Images that cannot be read cannot be checked, so the workload is blocked.',
    effect: 'blocks',
  },
  IMAGE_MISSING: {
    title: 'a container without an image',
    meaning: 'A container declares no image reference.',
    fix: 'Give every container an image reference pinned by digest.',
    effect: 'blocks',
  },
  IMAGE_INVALID: {
    title: 'an image reference that is not a valid reference',
    meaning: 'The image property is not a string, or not a valid image reference.',
    fix: 'Write it as registry/repository[:tag]@sha256:<digest>.',
    effect: 'blocks',
  },
  WORKLOADS_HIDDEN: {
    title: 'a resource deploys workloads the pack cannot see',
    meaning:
      'A helm.sh/v3 Release renders its chart inside the provider, so the pack never sees its workloads; blocked at `hiddenWorkloadsLevel`.',
    fix: 'Use a helm.sh/v4 Chart (its objects are resources the pack checks), or set trusted-images.hiddenWorkloadsLevel if you accept the risk.',
    effect: 'blocks',
  },
  CONFIG_INVALID: {
    title: 'the policy pack config is invalid',
    meaning:
      'A policy got a config its schema refuses (a wrong type, a value out of range, an unknown key); until it is fixed every workload is blocked.',
    fix: 'Fix the policy pack config; until then every workload is blocked. `trustops policy validate FILE` names each problem with its path.',
    effect: 'configuration',
  },
  TRUST_POLICY_MISSING: {
    title: 'no trust policy in the policy pack config',
    meaning:
      'trusted-images needs a trust policy under `trusted-images.trustPolicy`; without one no image is allowed.',
    fix: 'Without a trust policy no image can be verified, so none is allowed. Write one with `trustops pack-config --policy FILE`.',
    effect: 'configuration',
  },
  NOT_PINNED: {
    title: 'an image not pinned by digest',
    meaning: 'Tags move; digests do not. Every image must be referenced as repository@sha256:<digest>.',
    fix: 'Pin the digest, or set images-pinned-by-digest to remediate (with trustPolicy in its config) to pin the verified digest.',
    effect: 'blocks',
  },
  REGISTRY_NOT_ALLOWED: {
    title: 'an image from a registry prefix that is not allowed',
    meaning: 'allowed-registries accepts images only from its `allowedPrefixes`, on path boundaries.',
    fix: 'Push the image to an allowed registry, or add its prefix to allowed-registries.allowedPrefixes.',
    effect: 'blocks',
  },
  SETTING_REQUIRED: {
    title: 'an infrastructure setting differs from what the policy requires',
    meaning:
      'The setting named in the finding must have the expected value (confidential nodes, shielded nodes, metadata server, ...).',
    fix: 'Set the value the finding expects; the components in components/ set them all.',
    effect: 'blocks',
  },
  CONFIDENTIAL_TYPE_NOT_ALLOWED: {
    title: 'a confidential instance type that is not allowed',
    meaning:
      'gke-confidential-nodes requires `confidentialInstanceType` set explicitly to one of its `allowedTypes` (default TDX).',
    fix: 'Set confidentialNodes.confidentialInstanceType to an allowed type, or allow it in gke-confidential-nodes.allowedTypes.',
    effect: 'blocks',
  },
  MACHINE_TYPE_UNSUPPORTED: {
    title: 'a machine type that does not support the confidential technology',
    meaning:
      'Each confidential technology runs on some machine shapes only (the machine table: TDX on c3-standard-*, SEV-SNP on n2d-*, SEV on N2D, C2D, C3D and C4D); the finding names the reason and the source the table was checked against.',
    fix: 'Pick a machine type the table lists for the technology, or add a shape you verified with additionalMachines (pack config) or machineTable (component).',
    effect: 'blocks',
  },
  ZONE_UNSUPPORTED: {
    title: 'a node location where the machine shape cannot run the confidential technology',
    meaning:
      'A node pool names zones (nodeLocations) in which the machine table does not list its shape for its confidential technology.',
    fix: 'Use zones the machine table lists for the shape, or add zones you verified with additionalMachines (pack config) or machineTable (component).',
    effect: 'blocks',
  },
  BINARY_AUTHORIZATION_NOT_ENFORCING: {
    title: 'Binary Authorization is on, but no policy enforces anything',
    meaning:
      "A cluster's Binary Authorization mode only applies the project's policy, and a project's default policy allows every image: the project needs a policy that requires attestations (not ALWAYS_ALLOW, not dry-run, with attestors) in the stack, or one declared as managed elsewhere.",
    fix: "Let ConfidentialCluster manage the policy (binaryAuthorization: { policy: 'managed', requireAttestationsBy }), or declare the project in gke-cluster-hardened's binaryAuthorization.externalPolicyProjects once its policy enforces.",
    effect: 'blocks',
  },
  ADMISSION_CONTROL_MISSING: {
    title: 'a cluster without image verification at admission',
    meaning:
      'admission-control-enforced requires a Kyverno policy verifying images for every Pod (Enforce, failurePolicy Fail).',
    fix: 'Deploy the Kyverno component (components/kyverno), which applies the policy rendered from the trust policy.',
    effect: 'blocks',
  },
  NOT_SCHEDULED_ON_CONFIDENTIAL_NODES: {
    title: 'a workload that may run on non-confidential nodes',
    meaning:
      'confidential-workloads-scheduled requires the confidential node selector and toleration on workloads marked confidential.',
    fix: 'Use SecureWorkload with confidential: true, or add the confidential node selector and toleration.',
    effect: 'blocks',
  },
  ATTACHMENT_IGNORED: {
    title: 'an attached item was malformed and skipped',
    meaning:
      'A referrer without a bundle layer, garbage JSON, a cosign layer that is not a signature: it never counts and never blocks, and is named so someone looks at it.',
    fix: 'Not counted as evidence. Remove it, or find out who pushed it.',
    effect: 'advisory',
  },
  WORKLOADS_UNCHECKED: {
    title: 'a resource whose workloads an offline preview could not see',
    meaning:
      'A Helm chart, YAML file or kustomization is expanded by the Kubernetes provider during a real `pulumi preview`; offline, its objects (and their images) were never checked, so the preview is incomplete (exit 3).',
    fix: 'Run `pulumi preview --policy-pack policy-pack` (the pack checks every object the provider renders), or deploy the workloads as resources of the program.',
    effect: 'incomplete',
  },
  POLICY_UNREADABLE: {
    title: 'the trust policy file cannot be read',
    meaning: 'The file does not exist or is not readable.',
    fix: 'Check the path given to --policy.',
    effect: 'configuration',
  },
  POLICY_SYNTAX: {
    title: 'the trust policy is not valid YAML or JSON',
    meaning: 'The document cannot be parsed.',
    fix: 'Fix the syntax at the line and column the error names.',
    effect: 'configuration',
  },
  POLICY_SCHEMA: {
    title: 'the trust policy does not match its schema',
    meaning:
      'A key is unknown, missing or of the wrong type (policy-pack/supply-chain/trust-policy.schema.json).',
    fix: 'Fix the document at the path the error names; TRUST-POLICY.md documents every key.',
    effect: 'configuration',
  },
  POLICY_UNKNOWN_SIGNER: {
    title: 'a rule names a signer the policy does not define',
    meaning: 'Rules refer to signers by name; every name must be a key of `signers`.',
    fix: 'Define the signer under `signers`, or correct the name in the rule.',
    effect: 'configuration',
  },
  POLICY_BAD_REGEXP: {
    title: 'a pattern that is not a valid RE2 regular expression',
    meaning:
      'Identity patterns are RE2 (the dialect cosign and Kyverno use); lookaheads and backreferences are refused.',
    fix: 'Rewrite the pattern in RE2 syntax.',
    effect: 'configuration',
  },
  POLICY_BAD_GLOB: {
    title: 'a repository glob that is not valid',
    meaning:
      '`match` globs are over the normalised repository: `*` within a path segment, `**` across segments.',
    fix: 'Correct the glob.',
    effect: 'configuration',
  },
  POLICY_BAD_REPOSITORY: {
    title: 'a rule names a repository for its signatures that is not a repository',
    meaning:
      "A rule's `repository` says where its signatures and attestations are stored (cosign's COSIGN_REPOSITORY, Kyverno's attestor repository): it must be a full repository name, registry host included, with no tag or digest.",
    fix: 'Write the repository in full, e.g. `ghcr.io/kyverno/signatures` (a bare `kyverno/signatures` is Docker Hub).',
    effect: 'configuration',
  },
  POLICY_BAD_KEY: {
    title: 'a public key that is not a usable PEM key',
    meaning: 'Keys are PEM public keys: ECDSA P-256/P-384, Ed25519 or RSA.',
    fix: 'Give the PEM public key (cosign public-key --key ...).',
    effect: 'configuration',
  },
  POLICY_KEY_FILE_UNREADABLE: {
    title: 'a publicKeyFile cannot be read',
    meaning: 'Key files resolve against the policy file’s folder.',
    fix: 'Check the path, or inline the key with `trustops pack-config` (publicKey holds the PEM).',
    effect: 'configuration',
  },
  POLICY_BAD_THRESHOLD: {
    title: 'a rebuild threshold the rebuilders cannot meet',
    meaning: '`reproducible.threshold` must be between 1 and the number of listed rebuilders.',
    fix: 'Lower the threshold or list more rebuilders.',
    effect: 'configuration',
  },
  POLICY_BAD_EXEMPTION: {
    title: 'an exemption that is not valid',
    meaning: 'An exemption names one image by digest, a reason, a ticket and an expiry date.',
    fix: 'Write the image as repo@sha256:<digest> and the expiry as YYYY-MM-DD.',
    effect: 'configuration',
  },
  POLICY_TRUSTED_ROOT_UNREADABLE: {
    title: 'the trusted root cannot be read',
    meaning: '`trustedRoot.file` (or the TUF root) must be a readable trusted_root.json.',
    fix: 'Check the path, or use the embedded public-good root (the default).',
    effect: 'configuration',
  },
};

export const EXPLANATIONS: readonly Explanation[] = Object.entries(ENTRIES).map(([code, e]) => ({
  code: code as ExplainedCode,
  ...e,
}));

export function explain(code: string): Explanation | undefined {
  const c = code
    .trim()
    .replace(/^\[|\]$/g, '')
    .toUpperCase();
  return EXPLANATIONS.find((e) => e.code === c);
}
