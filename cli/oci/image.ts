import type { Platform } from '../../policy-pack/registry/types';

/** A content-addressed blob with its bytes (config, layer, or any artifact payload). */
export interface Blob {
  mediaType: string;
  /** `sha256:<hex>` of `data`. */
  digest: string;
  size: number;
  data: Buffer;
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

export function buildImage(_opts: BuildImageOptions): OciImage {
  throw new Error('not implemented');
}

export function buildIndex(_images: OciImage[], _opts?: { format?: 'oci' | 'docker' }): OciIndex {
  throw new Error('not implemented');
}
