import type { Descriptor } from '../../policy-pack/registry/types';
import type { Blob, OciImage, OciIndex } from './image';

/** Where images and their attachments go: a registry (RegistryPusher) or an OCI layout (OciLayoutWriter). */
export interface OciTarget {
  putBlob(repo: string, blob: Blob): Promise<void>;
  /** Stores `manifest` under `reference` (a tag, or its own digest) and returns its digest. */
  putManifest(repo: string, manifest: Buffer, mediaType: string, reference: string): Promise<string>;
}

/** Pushes an image or index (blobs first, then child manifests, then the top manifest) and returns its descriptor. */
export async function pushImage(
  _target: OciTarget,
  _repo: string,
  _img: OciImage | OciIndex,
  _tag?: string,
): Promise<Descriptor> {
  throw new Error('not implemented');
}
