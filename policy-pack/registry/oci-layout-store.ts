import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { digestToTag, isSha256Digest, verifyDigest } from './digest';
import { RegistryError, type RegistryErrorDetails } from './errors';
import { descriptorsOf, parseManifest, subjectDigest } from './manifest';
import type { Descriptor, FetchedManifest, ImageStore, RegistryLimits } from './types';

/**
 * An `ImageStore` over an OCI image-layout directory (`oci-layout`, `index.json`, `blobs/sha256/…`), the
 * air-gapped mirror and offline demo source. Tags come from `org.opencontainers.image.ref.name`
 * annotations; layouts written by `cosign save` carry `kind` annotations instead, which are mapped to
 * cosign's tag scheme (`sha256-<image hex>.sig|.att|.sbom`). Every read is checked against its digest
 * exactly as over HTTP: a layout on disk is no more trusted than a registry.
 */

const REF_NAME = 'org.opencontainers.image.ref.name';
const KIND = 'kind';
/** `cosign save` kinds (the suffix after `dev.cosignproject.cosign/` or `dev.sigstore.cosign/`) -> tag suffix. */
const COSIGN_KIND_SUFFIX: Record<string, string> = { sigs: 'sig', atts: 'att', sboms: 'sbom' };
const COSIGN_IMAGE_KINDS = new Set(['image', 'imageIndex']);

interface LayoutIndex {
  entries: Descriptor[];
  /** tag (as written in ref.name, and in its short forms) -> entry */
  tags: Map<string, Descriptor>;
}

export class OciLayoutStore implements ImageStore {
  readonly origin: string;
  private index?: Promise<LayoutIndex>;

  constructor(
    private readonly dir: string,
    private readonly limits: RegistryLimits,
    /** Registry host this layout mirrors, for messages and for matching fully qualified ref.names. */
    private readonly registry: string,
  ) {
    this.origin = `oci-layout:${dir}`;
  }

  private details(repository: string, reference?: string): RegistryErrorDetails {
    return { registry: this.registry, repository, reference };
  }

  private loadIndex(): Promise<LayoutIndex> {
    this.index ??= this.readIndex().catch((e: unknown) => {
      this.index = undefined;
      throw e;
    });
    return this.index;
  }

  private async readIndex(): Promise<LayoutIndex> {
    const details = { registry: this.registry };
    let layoutMarker: string;
    let indexBytes: Buffer;
    try {
      layoutMarker = await fs.readFile(path.join(this.dir, 'oci-layout'), 'utf8');
      indexBytes = await this.readBounded(
        path.join(this.dir, 'index.json'),
        this.limits.manifestBytes,
        details,
      );
    } catch (cause) {
      if (cause instanceof RegistryError) throw cause;
      throw new RegistryError(
        'NOT_FOUND',
        `${this.dir} is not an OCI image layout (oci-layout or index.json missing); point the mirror at a directory written by \`cosign save\`, skopeo or the trustops CLI.`,
        { ...details, cause },
      );
    }
    let version: unknown;
    try {
      version = (JSON.parse(layoutMarker) as { imageLayoutVersion?: unknown }).imageLayoutVersion;
    } catch {
      version = undefined;
    }
    if (version !== '1.0.0') {
      throw new RegistryError(
        'BAD_RESPONSE',
        `${this.dir}/oci-layout does not declare imageLayoutVersion 1.0.0.`,
        details,
      );
    }
    const parsed = parseManifest(indexBytes, { details });
    const entries = descriptorsOf(parsed.json, 'manifests', details);
    const tags = new Map<string, Descriptor>();
    for (const entry of entries) {
      const name = entry.annotations?.[REF_NAME];
      if (name !== undefined) tags.set(name, entry);
    }
    // cosign save: the image's entry is kind image/imageIndex; its signatures, attestations and SBOMs
    // are the kind sigs/atts/sboms entries. Exactly one image per layout, as cosign writes it.
    const kindOf = (d: Descriptor): string | undefined => d.annotations?.[KIND]?.split('/').pop();
    const images = entries.filter((e) => COSIGN_IMAGE_KINDS.has(kindOf(e) ?? ''));
    const image = images[0];
    if (images.length === 1 && image) {
      for (const entry of entries) {
        const suffix = COSIGN_KIND_SUFFIX[kindOf(entry) ?? ''];
        if (suffix) tags.set(`${digestToTag(image.digest)}.${suffix}`, entry);
      }
    }
    return { entries, tags };
  }

  /** Reads a file refusing more than `maxBytes`, checked before reading so a huge file is never loaded. */
  private async readBounded(file: string, maxBytes: number, details: RegistryErrorDetails): Promise<Buffer> {
    const handle = await fs.open(file, 'r');
    try {
      const { size } = await handle.stat();
      if (size > maxBytes) {
        throw new RegistryError(
          'TOO_LARGE',
          `${file} is ${size} bytes, over the ${maxBytes}-byte limit.`,
          details,
        );
      }
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  }

  private async readBlobFile(
    digest: string,
    maxBytes: number,
    details: RegistryErrorDetails,
  ): Promise<Buffer | null> {
    // The digest is validated before it becomes a path, so no reference can walk out of blobs/.
    if (!isSha256Digest(digest)) {
      throw new RegistryError('BAD_RESPONSE', `"${digest.slice(0, 80)}" is not a sha256 digest.`, details);
    }
    try {
      return await this.readBounded(
        path.join(this.dir, 'blobs', 'sha256', digest.slice('sha256:'.length)),
        maxBytes,
        details,
      );
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  private lookupTag(index: LayoutIndex, repository: string, tag: string): Descriptor | undefined {
    return (
      index.tags.get(tag) ??
      index.tags.get(`${repository}:${tag}`) ??
      index.tags.get(`${this.registry}/${repository}:${tag}`)
    );
  }

  async resolveTag(repository: string, tag: string): Promise<Descriptor> {
    const entry = this.lookupTag(await this.loadIndex(), repository, tag);
    if (!entry) {
      throw new RegistryError(
        'NOT_FOUND',
        `Tag "${tag}" is not in the OCI layout ${this.dir}; reference the image by digest, or write the layout with a ref.name for the tag.`,
        this.details(repository, tag),
      );
    }
    return entry;
  }

  async getManifest(
    repository: string,
    digest: string,
    expected?: Partial<Descriptor>,
  ): Promise<FetchedManifest> {
    const details = this.details(repository, digest);
    const bytes = await this.readBlobFile(digest, this.limits.manifestBytes, details);
    if (!bytes) {
      throw new RegistryError(
        'NOT_FOUND',
        `Manifest ${digest} is not in the OCI layout ${this.dir}.`,
        details,
      );
    }
    const listed = (await this.loadIndex()).entries.find((e) => e.digest === digest);
    return parseManifest(bytes, { expectedDigest: digest, expected: expected ?? listed, details });
  }

  async getManifestByTag(repository: string, tag: string): Promise<FetchedManifest | null> {
    const entry = this.lookupTag(await this.loadIndex(), repository, tag);
    return entry ? this.getManifest(repository, entry.digest, entry) : null;
  }

  async getBlob(repository: string, descriptor: Descriptor, maxBytes: number): Promise<Buffer> {
    const details = this.details(repository, descriptor.digest);
    if (descriptor.size > maxBytes) {
      throw new RegistryError(
        'TOO_LARGE',
        `Blob ${descriptor.digest} declares ${descriptor.size} bytes, over the ${maxBytes}-byte limit.`,
        details,
      );
    }
    const bytes = await this.readBlobFile(descriptor.digest, descriptor.size, details);
    if (!bytes)
      throw new RegistryError(
        'NOT_FOUND',
        `Blob ${descriptor.digest} is not in the OCI layout ${this.dir}.`,
        details,
      );
    verifyDigest(bytes, descriptor.digest, details);
    return bytes;
  }

  /**
   * A layout has no referrers API: read the tag schema entry (`sha256-<hex>`) and, as the image-layout
   * spec allows, top-level entries that are artifacts whose manifest names `digest` as its subject.
   */
  async listReferrers(repository: string, digest: string, artifactType?: string): Promise<Descriptor[]> {
    const details = this.details(repository, digest);
    const index = await this.loadIndex();
    const found = new Map<string, Descriptor>();
    const tagged = await this.getManifestByTag(repository, digestToTag(digest));
    if (tagged) for (const d of descriptorsOf(tagged.json, 'manifests', details)) found.set(d.digest, d);
    // Candidates: entries that say they are artifacts, and untagged entries (ORAS and the trustops writer
    // list referrers in index.json without a tag); tagged images are never someone's referrer.
    const candidates = index.entries.filter(
      (e) =>
        !found.has(e.digest) &&
        (e.artifactType !== undefined ||
          (e.annotations?.[REF_NAME] === undefined && e.annotations?.[KIND] === undefined)),
    );
    if (candidates.length > this.limits.attachments) {
      throw new RegistryError(
        'TOO_LARGE',
        `The OCI layout ${this.dir} lists more than ${this.limits.attachments} artifacts.`,
        details,
      );
    }
    for (const entry of candidates) {
      const manifest = await this.getManifest(repository, entry.digest, entry);
      if (subjectDigest(manifest.json) === digest) found.set(entry.digest, entry);
    }
    const all = [...found.values()];
    return artifactType ? all.filter((d) => d.artifactType === artifactType) : all;
  }
}
