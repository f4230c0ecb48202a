import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { Descriptor, Platform } from '../../policy-pack/registry/types';
import { blobOf, sha256Digest } from './digest';
import {
  DOCKER_CONFIG,
  DOCKER_LAYER_GZIP,
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  OCI_CONFIG,
  OCI_EMPTY,
  OCI_INDEX,
  OCI_LAYER_GZIP,
  OCI_MANIFEST,
} from './media-types';
import { tarArchive } from './tar';

/** A content-addressed blob with its bytes (config, layer, or any artifact payload). */
export interface Blob {
  mediaType: string;
  /** `sha256:<hex>` of `data`. */
  digest: string;
  size: number;
  data: Buffer;
  /** Descriptor annotations when the blob is a manifest layer (cosign signature annotations, titles). */
  annotations?: Record<string, string>;
}

/** A single-platform image: its manifest bytes (whose sha256 is `digest`), config and layers. */
export interface OciImage {
  mediaType: string;
  digest: string;
  manifest: Buffer;
  config: Blob;
  layers: Blob[];
  platform?: Platform;
}

/** A multi-platform image index (OCI) or manifest list (Docker) over `images`. */
export interface OciIndex {
  mediaType: string;
  digest: string;
  manifest: Buffer;
  images: OciImage[];
}

export interface BuildImageOptions {
  /** Everything (config, layer contents) derives from the seed, so equal seeds give equal digests. */
  seed: string;
  format?: 'oci' | 'docker';
  platform?: Platform;
  layerCount?: number;
  layerBytes?: number;
}

export const DEFAULT_PLATFORM: Platform = { os: 'linux', architecture: 'amd64' };

/** Pseudo-random but reproducible bytes: sha256 in counter mode over the seed. */
function seededBytes(seed: string, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let block = 0, offset = 0; offset < length; block++) {
    const chunk = createHash('sha256').update(`${seed}\0${block}`).digest();
    offset += chunk.copy(out, offset);
  }
  return out;
}

export function descriptorOf(blob: Blob): Descriptor {
  const d: Descriptor = { mediaType: blob.mediaType, digest: blob.digest, size: blob.size };
  if (blob.annotations && Object.keys(blob.annotations).length) d.annotations = { ...blob.annotations };
  return d;
}

export function isIndex(img: OciImage | OciIndex): img is OciIndex {
  return 'images' in img;
}

/** Builds a real runnable-shaped image: gzip tar layers, a config whose diff_ids match, and the manifest. */
export function buildImage(opts: BuildImageOptions): OciImage {
  const format = opts.format ?? 'oci';
  const platform = opts.platform ?? DEFAULT_PLATFORM;
  const layerCount = opts.layerCount ?? 1;
  const layerBytes = opts.layerBytes ?? 1024;
  if (!Number.isInteger(layerCount) || layerCount < 1)
    throw new RangeError(`layerCount must be >= 1, got ${layerCount}`);
  if (!Number.isInteger(layerBytes) || layerBytes < 0)
    throw new RangeError(`layerBytes must be >= 0, got ${layerBytes}`);
  const platformKey = [platform.os, platform.architecture, platform.variant ?? ''].join('/');

  const diffIds: string[] = [];
  const layers: Blob[] = [];
  for (let i = 0; i < layerCount; i++) {
    const tar = tarArchive([
      { path: `trustops/${i}/seed.txt`, data: Buffer.from(`${opts.seed}\n${platformKey}\nlayer ${i}\n`) },
      { path: `trustops/${i}/data.bin`, data: seededBytes(`${opts.seed}/${platformKey}/${i}`, layerBytes) },
    ]);
    diffIds.push(sha256Digest(tar));
    // level 9 and a fixed header (node writes mtime 0) keep the compressed bytes reproducible
    layers.push(blobOf(format === 'oci' ? OCI_LAYER_GZIP : DOCKER_LAYER_GZIP, gzipSync(tar, { level: 9 })));
  }

  const config: Record<string, unknown> = {
    created: '1970-01-01T00:00:00Z',
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: {
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      Cmd: ['/trustops/0/seed.txt'],
      Labels: { 'dev.trustops.test.seed': opts.seed },
    },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: diffIds.map((_, i) => ({
      created: '1970-01-01T00:00:00Z',
      created_by: `trustops test layer ${i}`,
    })),
  };
  const configBlob = blobOf(
    format === 'oci' ? OCI_CONFIG : DOCKER_CONFIG,
    Buffer.from(JSON.stringify(config)),
  );
  const mediaType = format === 'oci' ? OCI_MANIFEST : DOCKER_MANIFEST;
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      config: descriptorOf(configBlob),
      layers: layers.map(descriptorOf),
    }),
  );
  return { mediaType, digest: sha256Digest(manifest), manifest, config: configBlob, layers, platform };
}

/** A multi-platform index (OCI) or Docker manifest list; every image must carry its platform. */
export function buildIndex(images: OciImage[], opts: { format?: 'oci' | 'docker' } = {}): OciIndex {
  const format = opts.format ?? 'oci';
  if (images.length === 0) throw new RangeError('an index needs at least one image');
  const mediaType = format === 'oci' ? OCI_INDEX : DOCKER_MANIFEST_LIST;
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      manifests: images.map((img) => ({
        mediaType: img.mediaType,
        digest: img.digest,
        size: img.manifest.length,
        platform: img.platform ?? DEFAULT_PLATFORM,
      })),
    }),
  );
  return { mediaType, digest: sha256Digest(manifest), manifest, images };
}

/** The OCI empty blob (`{}`): config of artifact manifests. */
export function emptyConfigBlob(): Blob {
  return blobOf(OCI_EMPTY, Buffer.from('{}'));
}

export interface ArtifactManifestOptions {
  /** Layers, each with its own descriptor annotations. */
  layers: Blob[];
  artifactType?: string;
  /** OCI 1.1 `subject`: the manifest this artifact refers to. */
  subject?: Descriptor;
  annotations?: Record<string, string>;
  /** Defaults to the OCI empty config. */
  config?: Blob;
}

/** An OCI image manifest used as an artifact (signatures, bundles), returned in the image shape so pushImage can push it. */
export function buildArtifactManifest(opts: ArtifactManifestOptions): OciImage {
  const config = opts.config ?? emptyConfigBlob();
  const body: Record<string, unknown> = { schemaVersion: 2, mediaType: OCI_MANIFEST };
  if (opts.artifactType) body.artifactType = opts.artifactType;
  body.config = descriptorOf(config);
  body.layers = opts.layers.map(descriptorOf);
  if (opts.subject) {
    body.subject = {
      mediaType: opts.subject.mediaType,
      digest: opts.subject.digest,
      size: opts.subject.size,
    };
  }
  if (opts.annotations && Object.keys(opts.annotations).length) body.annotations = { ...opts.annotations };
  const manifest = Buffer.from(JSON.stringify(body));
  return { mediaType: OCI_MANIFEST, digest: sha256Digest(manifest), manifest, config, layers: opts.layers };
}
