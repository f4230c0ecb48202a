import { digestToTag } from './digest';
import { RegistryError, type RegistryErrorDetails } from './errors';
import { descriptorsOf, subjectDigest } from './manifest';
import {
  BUILDKIT_ATTESTATION_MANIFEST,
  BUILDKIT_REFERENCE_DIGEST,
  BUILDKIT_REFERENCE_TYPE,
  isIndexType,
  isSigstoreBundleType,
} from './media-types';
import type {
  AttachmentDiscovery,
  Attachments,
  CosignLayer,
  Descriptor,
  FetchedManifest,
  ImageReference,
  ImageStore,
  ReferrerBundle,
  RegistryLimits,
  UnsignedEvidence,
} from './types';

/**
 * Finds everything attached to one image digest, in every format at once (cosign tags, OCI 1.1
 * referrers, BuildKit attestation manifests), with all independent reads in flight together. Absent
 * attachments are simply absent; any other failure (digest mismatch, timeout, oversize) is thrown, so
 * the caller fails closed instead of judging an image on partial evidence.
 */

export interface DiscoveryContext {
  store: ImageStore;
  limits: RegistryLimits;
  discovery: AttachmentDiscovery;
  /** Cached, verified manifest reads (shared with resolve()). */
  manifest(repository: string, digest: string, expected?: Partial<Descriptor>): Promise<FetchedManifest>;
  /** The subject's own manifest, cached by resolve(); used for BuildKit attestations in an index. */
  subject(): Promise<FetchedManifest>;
  /**
   * The index this digest was selected from in this run (platformManifests/selectPlatform), if any:
   * BuildKit puts a platform image's attestation manifest in the index, not next to the image.
   */
  parentIndex(): Promise<FetchedManifest | undefined>;
}

const PREDICATE_TYPE_ANNOTATIONS = [
  'in-toto.io/predicate-type',
  'dev.sigstore.bundle.predicateType',
  'predicateType',
];

export async function discoverAttachments(
  ctx: DiscoveryContext,
  reference: ImageReference,
  digest: string,
): Promise<Attachments> {
  const details: RegistryErrorDetails = {
    registry: reference.registry,
    repository: reference.repository,
    reference: digest,
  };
  const budget = new AttachmentBudget(ctx.limits.attachments, details);
  const cosign = (suffix: 'sig' | 'att' | 'sbom'): Promise<CosignLayer[]> =>
    ctx.discovery.cosignTags.includes(suffix)
      ? cosignLayers(ctx, reference, digest, suffix, budget)
      : Promise.resolve([]);

  const [signatures, attestations, sboms, referrers, buildkit] = await Promise.all([
    cosign('sig'),
    cosign('att'),
    cosign('sbom'),
    ctx.discovery.referrers
      ? referrerAttachments(ctx, reference, digest, budget)
      : { bundles: [], unsigned: [] },
    buildkitAttestations(ctx, reference, digest),
  ]);
  const unsigned: UnsignedEvidence[] = [
    ...sboms.map((l): UnsignedEvidence => ({ source: 'cosign-sbom', descriptor: l.descriptor })),
    ...referrers.unsigned,
    ...buildkit,
  ];
  return {
    reference: { ...reference, digest },
    digest,
    signatures,
    attestations,
    bundles: referrers.bundles,
    unsigned,
  };
}

/** Caps how many attached items one image may make us read, so a hostile registry cannot make us read forever. */
class AttachmentBudget {
  private used = 0;
  constructor(
    private readonly limit: number,
    private readonly details: RegistryErrorDetails,
  ) {}
  take(n: number): void {
    this.used += n;
    if (this.used > this.limit) {
      throw new RegistryError(
        'TOO_LARGE',
        `${this.details.registry}/${this.details.repository}@${this.details.reference} has more than ${this.limit} attached items; ` +
          'raise limits.attachments only if that many are expected.',
        this.details,
      );
    }
  }
}

async function cosignLayers(
  ctx: DiscoveryContext,
  reference: ImageReference,
  digest: string,
  suffix: 'sig' | 'att' | 'sbom',
  budget: AttachmentBudget,
): Promise<CosignLayer[]> {
  const tag = `${digestToTag(digest)}.${suffix}`;
  const manifest = await ctx.store.getManifestByTag(reference.repository, tag);
  if (!manifest) return [];
  const details = { registry: reference.registry, repository: reference.repository, reference: tag };
  const layers = descriptorsOf(manifest.json, 'layers', details);
  budget.take(layers.length);
  return Promise.all(
    layers.map(async (descriptor) => ({
      descriptor,
      payload: await ctx.store.getBlob(reference.repository, descriptor, ctx.limits.blobBytes),
      annotations: descriptor.annotations ?? {},
    })),
  );
}

async function referrerAttachments(
  ctx: DiscoveryContext,
  reference: ImageReference,
  digest: string,
  budget: AttachmentBudget,
): Promise<{ bundles: ReferrerBundle[]; unsigned: UnsignedEvidence[] }> {
  // A listing naming one referrer twice must not count its evidence twice.
  const listed = [
    ...new Map(
      (await ctx.store.listReferrers(reference.repository, digest)).map((d) => [d.digest, d]),
    ).values(),
  ];
  budget.take(listed.length);
  const bundles: ReferrerBundle[] = [];
  const unsigned: UnsignedEvidence[] = [];
  await Promise.all(
    listed.map(async (entry) => {
      // The listing (an API answer or a mutable tag) is only a hint; the referrer manifest is fetched by
      // digest and its own subject and artifactType decide. A listed non-bundle is reported without a read.
      if (entry.artifactType !== undefined && !isSigstoreBundleType(entry.artifactType)) {
        unsigned.push({
          source: 'referrer',
          descriptor: entry,
          predicateType: predicateTypeOf(entry.annotations),
        });
        return;
      }
      const manifest = await ctx.manifest(reference.repository, entry.digest, {
        mediaType: entry.mediaType,
        size: entry.size,
      });
      if (subjectDigest(manifest.json) !== digest) return; // listed for another image: not evidence for this one
      const json = manifest.json as { annotations?: unknown; config?: { mediaType?: unknown } };
      const annotations = isStringRecord(json.annotations) ? json.annotations : undefined;
      const artifactType =
        manifest.descriptor.artifactType ??
        (typeof json.config?.mediaType === 'string' ? json.config.mediaType : undefined);
      const descriptor: Descriptor = {
        ...manifest.descriptor,
        ...(artifactType ? { artifactType } : {}),
        ...(annotations ? { annotations } : {}),
      };
      if (!isSigstoreBundleType(artifactType)) {
        unsigned.push({ source: 'referrer', descriptor, predicateType: predicateTypeOf(annotations) });
        return;
      }
      const details = {
        registry: reference.registry,
        repository: reference.repository,
        reference: entry.digest,
      };
      const layers = descriptorsOf(manifest.json, 'layers', details).filter((l) =>
        isSigstoreBundleType(l.mediaType),
      );
      if (layers.length === 0) {
        throw new RegistryError(
          'BAD_RESPONSE',
          `Referrer ${entry.digest} is a Sigstore bundle artifact without a bundle layer.`,
          details,
        );
      }
      budget.take(layers.length - 1);
      for (const layer of layers) {
        bundles.push({
          descriptor,
          bundle: await ctx.store.getBlob(reference.repository, layer, ctx.limits.blobBytes),
        });
      }
    }),
  );
  // Promise.all settles in completion order: sort so results do not depend on timing.
  bundles.sort((a, b) => a.descriptor.digest.localeCompare(b.descriptor.digest));
  unsigned.sort((a, b) => a.descriptor.digest.localeCompare(b.descriptor.digest));
  return { bundles, unsigned };
}

/** BuildKit stores in-toto attestations as manifests inside the image index; they carry no signature. */
async function buildkitAttestations(
  ctx: DiscoveryContext,
  reference: ImageReference,
  digest: string,
): Promise<UnsignedEvidence[]> {
  const subject = await ctx.subject();
  const subjectIsIndex = isIndexType(subject.descriptor.mediaType);
  const index = subjectIsIndex ? subject : await ctx.parentIndex();
  if (!index) return [];
  const details = {
    registry: reference.registry,
    repository: reference.repository,
    reference: index.descriptor.digest,
  };
  const entries = descriptorsOf(index.json, 'manifests', details).filter(
    (d) =>
      d.annotations?.[BUILDKIT_REFERENCE_TYPE] === BUILDKIT_ATTESTATION_MANIFEST &&
      (subjectIsIndex || buildkitSubject(d) === digest),
  );
  const found = await Promise.all(
    entries.map(async (entry): Promise<UnsignedEvidence[]> => {
      const manifest = await ctx.manifest(reference.repository, entry.digest, entry);
      const layers = descriptorsOf(manifest.json, 'layers', details);
      const types = layers
        .map((l) => predicateTypeOf(l.annotations))
        .filter((t): t is string => t !== undefined);
      const descriptor = { ...entry };
      if (types.length === 0) return [{ source: 'buildkit', descriptor }];
      return types.map((predicateType) => ({ source: 'buildkit', descriptor, predicateType }));
    }),
  );
  return found.flat();
}

/** The platform manifest a BuildKit attestation manifest is about. */
export function buildkitSubject(d: Descriptor): string | undefined {
  return d.annotations?.[BUILDKIT_REFERENCE_DIGEST];
}

function predicateTypeOf(annotations: Record<string, string> | undefined): string | undefined {
  for (const key of PREDICATE_TYPE_ANNOTATIONS) {
    const v = annotations?.[key];
    if (v !== undefined) return v;
  }
  return undefined;
}

function isStringRecord(v: unknown): v is Record<string, string> {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    Object.values(v).every((x) => typeof x === 'string')
  );
}
