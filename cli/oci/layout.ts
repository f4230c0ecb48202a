import type { Blob } from './image';
import type { OciTarget } from './target';

/**
 * `spec`: index.json entries carry `org.opencontainers.image.ref.name` for tags (OCI image-layout spec).
 * `cosign-save`: what `cosign save` writes: entries annotated `kind: dev.sigstore.cosign/...`.
 */
export type LayoutMode = 'spec' | 'cosign-save';

/** Writes an OCI image-layout directory. The layout holds one repository: `repo` is ignored. */
export class OciLayoutWriter implements OciTarget {
  constructor(
    readonly dir: string,
    readonly mode: LayoutMode = 'spec',
  ) {}

  putBlob(_repo: string, _blob: Blob): Promise<void> {
    return Promise.reject(new Error('not implemented'));
  }

  putManifest(_repo: string, _manifest: Buffer, _mediaType: string, _reference: string): Promise<string> {
    return Promise.reject(new Error('not implemented'));
  }
}
