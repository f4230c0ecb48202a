import { itemFault, lenientDescriptors, ProbeQueue, readAttachmentBlob } from './attachment-faults';
import { digestToTag, isSha256Digest } from './digest';
import { RegistryError, type RegistryErrorDetails } from './errors';
import { descriptorsOf, subjectDigest } from './manifest';
import {
  BUILDKIT_ATTESTATION_MANIFEST,
  BUILDKIT_REFERENCE_DIGEST,
  BUILDKIT_REFERENCE_TYPE,
  isIndexType,
  isSigstoreBundleType,
  MANIFEST_TYPES,
  sbomFormatOfType,
} from './media-types';
import type {
  AttachmentDiscovery,
  Attachments,
  CosignLayer,
  Descriptor,
  FetchedManifest,
  IgnoredAttachment,
  IgnoredAttachmentReason,
  ImageReference,
  ImageStore,
  ReferrerBundle,
  RegistryLimits,
  UnsignedEvidence,
} from './types';

/**
 * Finds everything attached to one image digest, in every format at once (cosign tags, OCI 1.1
 * referrers, BuildKit attestation manifests), with all independent reads in flight together. Absent
 * attachments are simply absent. One malformed attached item (no bundle layer, not JSON, a descriptor
 * that lies) is skipped and listed in `ignored`, so a bad push cannot block an image its other evidence
 * satisfies (attachment-faults.ts); registry failures (digest mismatch, timeout, oversize streams, an
 * unreadable referrers listing) are thrown, so the caller fails closed instead of judging an image on
 * evidence the registry may have withheld.
 */

export interface DiscoveryContext {
  /** The store of the registry signatures and attestations are read from (the image's, or `storedIn`'s). */
  store: ImageStore;
  limits: RegistryLimits;
  discovery: AttachmentDiscovery;
  /** Cached, verified manifest reads in that registry (shared with resolve()). */
  manifest(repository: string, digest: string, expected?: Partial<Descriptor>): Promise<FetchedManifest>;
  /** A manifest of the image's own repository (BuildKit attestation manifests live in the image index). */
  imageManifest(digest: string, expected?: Partial<Descriptor>): Promise<FetchedManifest>;
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

/**
 * `storedIn`: the repository the image's signatures and attestations are stored in when not beside it
 * (cosign's COSIGN_REPOSITORY); cosign tags and referrers are then read there, and only there, while
 * BuildKit attestations are still read from the image's own index.
 */
export async function discoverAttachments(
  ctx: DiscoveryContext,
  image: ImageReference,
  digest: string,
  storedIn?: Pick<ImageReference, 'registry' | 'repository'>,
): Promise<Attachments> {
  const reference: ImageReference = storedIn
    ? { registry: storedIn.registry, repository: storedIn.repository }
    : image;
  const details: RegistryErrorDetails = {
    registry: reference.registry,
    repository: reference.repository,
    reference: digest,
  };
  const budget = new AttachmentBudget(ctx.limits.attachments, details);
  const skips: Skips = { ignored: [], probes: new ProbeQueue() };
  const cosign = (suffix: 'sig' | 'att' | 'sbom'): Promise<CosignLayer[]> =>
    ctx.discovery.cosignTags.includes(suffix)
      ? cosignLayers(ctx, reference, digest, suffix, budget, skips)
      : Promise.resolve([]);

  const [signatures, attestations, sboms, referrers, buildkit] = await Promise.all([
    cosign('sig'),
    cosign('att'),
    cosign('sbom'),
    ctx.discovery.referrers
      ? referrerAttachments(ctx, reference, digest, budget, skips)
      : { bundles: [], unsigned: [] },
    buildkitAttestations(ctx, image, digest, budget),
  ]);
  const sbomTag = `${reference.registry}/${reference.repository}:${digestToTag(digest)}.sbom`;
  const unsigned: UnsignedEvidence[] = [
    ...sboms.map((l): UnsignedEvidence =>
      withSbomFormat({ source: 'cosign-sbom', descriptor: l.descriptor, location: sbomTag }),
    ),
    ...referrers.unsigned.map(withSbomFormat),
    ...buildkit.map(withSbomFormat),
  ];
  return {
    reference: { ...image, digest },
    ...(storedIn ? { storedIn: `${storedIn.registry}/${storedIn.repository}` } : {}),
    digest,
    signatures,
    attestations,
    bundles: referrers.bundles,
    unsigned,
    ignored: skips.ignored.sort(
      (a, b) => a.attachment.localeCompare(b.attachment) || a.reason.localeCompare(b.reason),
    ),
  };
}

/** Names the SBOM format an unsigned item announces (media type, artifact type or predicate type). */
function withSbomFormat(u: UnsignedEvidence): UnsignedEvidence {
  const format =
    sbomFormatOfType(u.predicateType) ??
    sbomFormatOfType(u.descriptor.artifactType) ??
    (u.source === 'cosign-sbom' ? sbomFormatOfType(u.descriptor.mediaType) : undefined);
  return format === undefined ? u : { ...u, sbomFormat: format };
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

/** Shared by one image's discovery: the attached items it skipped, and its queue of blob re-reads. */
interface Skips {
  ignored: IgnoredAttachment[];
  probes: ProbeQueue;
}

async function cosignLayers(
  ctx: DiscoveryContext,
  reference: ImageReference,
  digest: string,
  suffix: 'sig' | 'att' | 'sbom',
  budget: AttachmentBudget,
  skips: Skips,
): Promise<CosignLayer[]> {
  const source = `cosign-${suffix}` as const;
  const tag = `${digestToTag(digest)}.${suffix}`;
  let manifest: FetchedManifest | null;
  try {
    manifest = await ctx.store.getManifestByTag(reference.repository, tag);
  } catch (e) {
    const fault = itemFault(e, source, tag, 'manifest');
    if (fault === undefined) throw e;
    skips.ignored.push(fault);
    return [];
  }
  if (!manifest) return [];
  const details = { registry: reference.registry, repository: reference.repository, reference: tag };
  const read = lenientDescriptors(manifest.json, 'layers', details);
  if (read === undefined) {
    skips.ignored.push({
      source,
      attachment: tag,
      reason: 'MALFORMED_MANIFEST',
      detail: '"layers" is not an array',
    });
    return [];
  }
  budget.take(read.descriptors.length + read.malformed);
  if (read.malformed > 0) {
    skips.ignored.push({
      source,
      attachment: tag,
      reason: 'MALFORMED_MANIFEST',
      detail: `${read.malformed} of its layers ${read.malformed === 1 ? 'is' : 'are'} not a valid descriptor`,
    });
  }
  const layers = await Promise.all(
    read.descriptors.map(async (descriptor): Promise<CosignLayer | undefined> => {
      const blob = await readAttachmentBlob({
        store: ctx.store,
        repository: reference.repository,
        descriptor,
        maxBytes: ctx.limits.blobBytes,
        probes: skips.probes,
        source,
        attachment: isSha256Digest(descriptor.digest) ? descriptor.digest : tag,
      });
      if ('ignored' in blob) {
        skips.ignored.push(blob.ignored);
        return undefined;
      }
      return { descriptor, payload: blob.bytes, annotations: descriptor.annotations ?? {} };
    }),
  );
  return layers.filter((l): l is CosignLayer => l !== undefined);
}

async function referrerAttachments(
  ctx: DiscoveryContext,
  reference: ImageReference,
  digest: string,
  budget: AttachmentBudget,
  skips: Skips,
): Promise<{ bundles: ReferrerBundle[]; unsigned: UnsignedEvidence[] }> {
  // A listing naming one referrer twice must not count its evidence twice. A listing that cannot be read
  // at all (the referrers API answer, the tag-schema index) still fails the lookup: it names no one item.
  const listed = [
    ...new Map(
      (await ctx.store.listReferrers(reference.repository, digest)).map((d) => [d.digest, d]),
    ).values(),
  ];
  budget.take(listed.length);
  const bundles: ReferrerBundle[] = [];
  const unsigned: UnsignedEvidence[] = [];
  const skip = (attachment: string, reason: IgnoredAttachmentReason, detail: string): void => {
    skips.ignored.push({ source: 'referrer', attachment, reason, detail });
  };
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
      if (!isSha256Digest(entry.digest)) {
        return skip(entry.digest.slice(0, 80), 'DESCRIPTOR_MISMATCH', 'its listed digest is not sha256');
      }
      let manifest: FetchedManifest;
      try {
        // Fetched without the listing's size and type: the bytes are checked against the digest, and a
        // listing that lies about the rest (anyone can write the tag-schema index) spoils only this entry.
        manifest = await ctx.manifest(reference.repository, entry.digest);
      } catch (e) {
        const fault = itemFault(e, 'referrer', entry.digest, 'manifest');
        if (fault === undefined) throw e;
        skips.ignored.push(fault);
        return;
      }
      const listingProblem = listingMismatch(entry, manifest);
      if (listingProblem !== undefined) return skip(entry.digest, 'DESCRIPTOR_MISMATCH', listingProblem);
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
      const read = lenientDescriptors(manifest.json, 'layers', details);
      const layers = (read?.descriptors ?? []).filter((l) => isSigstoreBundleType(l.mediaType));
      if (layers.length === 0) {
        const why =
          read === undefined
            ? '"layers" is not an array'
            : `none of its ${read.descriptors.length + read.malformed} layers is a Sigstore bundle`;
        return skip(
          entry.digest,
          'NO_BUNDLE_LAYER',
          `a Sigstore bundle artifact without a bundle layer (${why})`,
        );
      }
      budget.take(layers.length - 1);
      for (const layer of layers) {
        const blob = await readAttachmentBlob({
          store: ctx.store,
          repository: reference.repository,
          descriptor: layer,
          maxBytes: ctx.limits.blobBytes,
          probes: skips.probes,
          source: 'referrer',
          attachment: entry.digest,
        });
        if ('ignored' in blob) skips.ignored.push(blob.ignored);
        else bundles.push({ descriptor, bundle: blob.bytes });
      }
    }),
  );
  // Promise.all settles in completion order: sort so results do not depend on timing.
  bundles.sort((a, b) => a.descriptor.digest.localeCompare(b.descriptor.digest));
  unsigned.sort((a, b) => a.descriptor.digest.localeCompare(b.descriptor.digest));
  return { bundles, unsigned };
}

/** What a referrers listing claims about an entry that the manifest it names contradicts, if anything. */
function listingMismatch(entry: Descriptor, manifest: FetchedManifest): string | undefined {
  if (entry.size !== manifest.bytes.length) {
    return `the listing says ${entry.size} bytes; the manifest is ${manifest.bytes.length}`;
  }
  if (MANIFEST_TYPES.includes(entry.mediaType) && entry.mediaType !== manifest.descriptor.mediaType) {
    return `the listing says ${entry.mediaType}; the manifest is ${manifest.descriptor.mediaType}`;
  }
  return undefined;
}

/** BuildKit stores in-toto attestations as manifests inside the image index; they carry no signature. */
async function buildkitAttestations(
  ctx: DiscoveryContext,
  reference: ImageReference,
  digest: string,
  budget: AttachmentBudget,
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
  // Each entry costs a manifest read: an index listing thousands of them must not make us read them all.
  budget.take(entries.length);
  const found = await Promise.all(
    entries.map(async (entry): Promise<UnsignedEvidence[]> => {
      const manifest = await ctx.imageManifest(entry.digest, entry);
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
