import type { Descriptor } from '../../policy-pack/registry/types';
import type { Blob, OciImage, OciIndex } from './image';
import { isIndex } from './image';

/** Where images and their attachments go: a registry (RegistryPusher) or an OCI layout (OciLayoutWriter). */
export interface OciTarget {
  putBlob(repo: string, blob: Blob): Promise<void>;
  /** Stores `manifest` under `reference` (a tag, or its own digest) and returns its digest. */
  putManifest(repo: string, manifest: Buffer, mediaType: string, reference: string): Promise<string>;
  /**
   * Reads a manifest back (undefined when absent). Needed to update the referrers fallback index
   * without dropping earlier referrers; both sinks here implement it.
   */
  getManifest?(repo: string, reference: string): Promise<StoredManifest | undefined>;
  /**
   * True when the registry said, when `manifestDigest` was pushed, that it indexed the manifest's subject
   * itself (the `OCI-Subject` response header of an OCI 1.1 registry with the referrers API): the
   * referrers tag-schema index is then not needed (distribution-spec, "Pushing Manifests with Subject").
   */
  indexedSubjectOf?(repo: string, manifestDigest: string): boolean;
}

export interface StoredManifest {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

async function pushSingle(target: OciTarget, repo: string, img: OciImage, reference: string): Promise<void> {
  for (const blob of [img.config, ...img.layers]) await target.putBlob(repo, blob);
  await target.putManifest(repo, img.manifest, img.mediaType, reference);
}

/**
 * Pushes an image or index (blobs first, then child manifests by digest, then the top manifest under
 * `tag`, or its digest when no tag is given) and returns the top manifest's descriptor.
 */
export async function pushImage(
  target: OciTarget,
  repo: string,
  img: OciImage | OciIndex,
  tag?: string,
): Promise<Descriptor> {
  if (isIndex(img)) {
    for (const child of img.images) await pushSingle(target, repo, child, child.digest);
    await target.putManifest(repo, img.manifest, img.mediaType, tag ?? img.digest);
  } else {
    await pushSingle(target, repo, img, tag ?? img.digest);
  }
  return { mediaType: img.mediaType, digest: img.digest, size: img.manifest.length };
}
