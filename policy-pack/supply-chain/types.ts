/**
 * Shared data model of the supply-chain core. Pure types: no I/O, no @pulumi imports.
 *
 * The trust policy is the one document read by the policy pack, the CLI and the Kyverno renderer.
 * Its JSON schema lives beside it (trust-policy.schema.json); these types mirror that schema.
 */

/** A keyless (Fulcio certificate) signer identity. Exactly one of issuer/issuerRegExp and of subject/subjectRegExp. */
export interface KeylessSigner {
  issuer?: string;
  /** Anchored regular expression (`^...$` is implied even when omitted). */
  issuerRegExp?: string;
  subject?: string;
  /** Anchored regular expression (`^...$` is implied even when omitted). */
  subjectRegExp?: string;
  /** Optional Fulcio certificate extension constraints (exact match). */
  claims?: {
    sourceRepositoryURI?: string;
    sourceRepositoryRef?: string;
    buildSignerURI?: string;
    runnerEnvironment?: string;
  };
}

/** A key signer: PEM inline or a file relative to the policy file. */
export interface KeySigner {
  publicKey?: string;
  publicKeyFile?: string;
  /** Default true: transparency-log or signed-timestamp evidence required. A key signer may opt out. */
  requireTransparencyLog?: boolean;
}

export interface SignerSpec {
  keyless?: KeylessSigner;
  key?: KeySigner;
}

export type SbomFormat = 'spdx' | 'cyclonedx';

export interface ImageRule {
  /** Optional name used in reports; default `images[<index>]`. */
  name?: string;
  /** Globs over the normalised repository (`*` within a path segment, `**` across segments). */
  match: string[];
  signature?: { signers: string[] };
  sbom?: { signers: string[]; formats?: SbomFormat[] };
  provenance?: {
    signers: string[];
    builderId?: string;
    builderIdRegExp?: string;
    sourceRepository?: string;
  };
  reproducible?: { rebuilders: string[]; threshold: number };
  /** Which manifests of a multi-platform image must satisfy the rule. Default `deployed`. */
  platforms?: 'deployed' | 'index' | 'each' | 'both';
  /**
   * Where the signatures and attestations of the rule's images are stored, when not beside the image:
   * `registry/path` with no tag or digest (cosign's `COSIGN_REPOSITORY`, Kyverno's attestor
   * `repository`; Kyverno publishes its images' signatures in `ghcr.io/kyverno/signatures`). Only that
   * repository is searched, as cosign and Kyverno do.
   */
  repository?: string;
}

export interface Exemption {
  /** One image by digest: `repo@sha256:<hex>`. */
  image: string;
  reason: string;
  ticket: string;
  /** ISO date (YYYY-MM-DD, end of that day UTC) or date-time; past it the exemption stops working. */
  expires: string;
}

export interface TrustPolicy {
  apiVersion: 'trustops.dev/v1alpha1';
  kind: 'TrustPolicy';
  signers: Record<string, SignerSpec>;
  images: ImageRule[];
  exemptions?: Exemption[];
  /** What happens to an image no rule matches. Default `block`. */
  unmatchedImages?: 'block' | 'allow';
  /** Trust material: default the embedded Sigstore public-good root. */
  trustedRoot?: {
    file?: string;
    embedded?: 'public-good';
    /**
     * The trusted root as a TUF target, refreshed from `mirror` (default Sigstore's public-good CDN) when
     * the network allows, else read from the verified TUF cache; `root` is the initial TUF root.json
     * (required for any other mirror). Offline, the public-good mirror falls back to the embedded root;
     * another mirror fails closed.
     */
    tuf?: { mirror?: string; root?: string; cacheDir?: string };
  };
}

/** Requirements a rule can impose; one verdict entry per unmet requirement. */
export type Requirement =
  'policy' | 'signature' | 'sbom' | 'provenance' | 'reproducible' | 'digest' | 'registry' | 'exemption';

/** Codes of the verification layer (one union per layer). */
export type VerificationCode =
  | 'NO_MATCHING_RULE'
  | 'SIGNATURE_MISSING'
  | 'SIGNATURE_INVALID'
  | 'SIGNER_UNTRUSTED'
  | 'DIGEST_MISMATCH'
  | 'SBOM_MISSING'
  | 'SBOM_INVALID'
  | 'SBOM_FORMAT_NOT_ALLOWED'
  | 'PROVENANCE_MISSING'
  | 'PROVENANCE_INVALID'
  | 'PROVENANCE_CONSTRAINT'
  | 'REBUILD_QUORUM_NOT_MET'
  | 'EXEMPTION_EXPIRED'
  | 'EXEMPTION_IN_FORCE'
  | 'INDEX_TOO_LARGE'
  | 'REGISTRY_ERROR'
  | 'POLICY_INVALID'
  | 'INTERNAL_ERROR';

export interface Finding {
  requirement: Requirement;
  code: VerificationCode;
  /** What the policy expected, in words. */
  expected: string;
  /** What was found, in words. */
  found: string;
  /** What the user can do. */
  hint: string;
  /** The rule that applied (`name`, or `images[<index>]`), when one did. */
  rule?: string;
  /** The manifest the finding is about when it is not the deployed one (`sha256:… (linux/arm64)`). */
  subject?: string;
}

/**
 * A non-blocking remark: something attached to the image that was not counted, and why. Notes never
 * change `allowed`; an unmet requirement is still a finding (whose `found` names what was skipped).
 */
export interface VerdictNote {
  /** `ATTACHMENT_IGNORED`: an attached item was malformed or unreadable on its own and was skipped. */
  code: 'ATTACHMENT_IGNORED';
  /** Where it was attached: `referrer`, `cosign-sig`, `cosign-att` or `cosign-sbom`. */
  source: string;
  /** The referrer manifest digest, the cosign layer digest, or the cosign tag when the whole tag was skipped. */
  attachment: string;
  /**
   * Why, as a code: `NO_BUNDLE_LAYER`, `MALFORMED_MANIFEST`, `UNSUPPORTED_MEDIA_TYPE`, `DESCRIPTOR_MISMATCH`,
   * `NOT_FOUND`, `TOO_LARGE` (registry layer), or `MALFORMED_PAYLOAD` (read, but its content
   * is not the signature, envelope or bundle it claims to be).
   */
  reason: string;
  /** For people: `referrer sha256:… ignored: …`. */
  message: string;
  /** The manifest the note is about when it is not the deployed one, as in `Finding.subject`. */
  subject?: string;
}

/** The stable, documented verdict for one image. */
export interface ImageVerdict {
  /** The reference as given. */
  image: string;
  /** The digest that was verified (what is deployed), when it could be resolved. */
  digest?: string;
  allowed: boolean;
  /** Unmet requirements (empty when allowed, unless an exemption is in force). */
  findings: Finding[];
  /** Present when an exemption allowed the image. */
  exemption?: Exemption;
  /** Requirements that were met, with the signer names that satisfied each. */
  satisfied: { requirement: Requirement; by: string[]; subject?: string }[];
  /** The rule that applied, when one did. */
  rule?: string;
  /** Attached items that were skipped as malformed (present only when there are some). */
  notes?: VerdictNote[];
}

/** One-method verifier the policy pack and CLI depend on; injected through a factory. */
export interface ImageVerifier {
  verify(image: string): Promise<ImageVerdict>;
}
