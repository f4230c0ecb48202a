import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Descriptor } from '../../policy-pack/registry/types';
import { digestHex, sha256Digest } from './digest';
import { OciWriteError } from './errors';
import type { Blob } from './image';
import {
  COSIGN_LAYOUT_KIND,
  COSIGN_LAYOUT_KIND_KEY,
  OCI_INDEX,
  OCI_REF_NAME,
  DOCKER_MANIFEST_LIST,
} from './media-types';
import type { OciTarget, StoredManifest } from './target';

/**
 * `spec`: index.json entries carry `org.opencontainers.image.ref.name` for tags (OCI image-layout spec).
 * `cosign-save`: what `cosign save` writes: the image, its `.sig` and `.att` manifests as index.json
 * entries annotated `kind: dev.cosignproject.cosign/{image,imageIndex,sigs,atts}`, without ref names.
 */
export type LayoutMode = 'spec' | 'cosign-save';

interface LayoutIndex {
  schemaVersion: 2;
  mediaType: string;
  manifests: Descriptor[];
}

/**
 * Writes an OCI image-layout directory (`oci-layout`, `index.json`, `blobs/sha256/<hex>`). The layout
 * holds one repository: `repo` is ignored. Manifests pushed by digest are stored as blobs; those with
 * an OCI 1.1 `subject` (referrers) are also listed in index.json, as ORAS does, so a store can find them.
 */
export class OciLayoutWriter implements OciTarget {
  /** Serialises index.json updates within this writer. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly dir: string,
    readonly mode: LayoutMode = 'spec',
  ) {
    fs.mkdirSync(path.join(dir, 'blobs', 'sha256'), { recursive: true });
    const marker = path.join(dir, 'oci-layout');
    if (!fs.existsSync(marker)) fs.writeFileSync(marker, JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    if (!fs.existsSync(this.indexPath))
      this.writeIndex({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] });
  }

  get indexPath(): string {
    return path.join(this.dir, 'index.json');
  }

  putBlob(_repo: string, blob: Blob): Promise<void> {
    try {
      this.writeBlob(blob.digest, blob.data);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  putManifest(_repo: string, manifest: Buffer, mediaType: string, reference: string): Promise<string> {
    const digest = sha256Digest(manifest);
    const run = async (): Promise<string> => {
      if (reference.startsWith('sha256:') && reference !== digest) {
        throw new OciWriteError(
          'DIGEST_MISMATCH',
          `manifest stored by digest ${reference} hashes to ${digest}`,
        );
      }
      this.writeBlob(digest, manifest);
      const entry: Descriptor = { mediaType, digest, size: manifest.length };
      const annotations = this.entryAnnotations(manifest, mediaType, reference);
      if (annotations === undefined) return digest; // a child manifest: blobs only
      if (Object.keys(annotations).length) entry.annotations = annotations;
      const index = this.readIndex();
      index.manifests = index.manifests.filter((m) => !this.sameSlot(m, entry));
      index.manifests.push(entry);
      this.writeIndex(index);
      return digest;
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  getManifest(_repo: string, reference: string): Promise<StoredManifest | undefined> {
    try {
      return Promise.resolve(this.readManifest(reference));
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private readManifest(reference: string): StoredManifest | undefined {
    if (reference.startsWith('sha256:')) {
      const file = path.join(this.dir, 'blobs', 'sha256', digestHex(reference));
      if (!fs.existsSync(file)) return undefined;
      const bytes = fs.readFileSync(file);
      const listed = this.readIndex().manifests.find((m) => m.digest === reference);
      const mediaType =
        listed?.mediaType ?? (JSON.parse(bytes.toString()) as { mediaType?: string }).mediaType ?? '';
      return { bytes, mediaType, digest: reference };
    }
    const wanted = this.entryAnnotations(Buffer.from('{}'), '', reference) ?? {};
    // cosign save keeps one subject, an image or an index: either answers a plain tag
    const subjectKinds: string[] = [COSIGN_LAYOUT_KIND.image, COSIGN_LAYOUT_KIND.imageIndex];
    const matches = (k: string, v: string, got: string | undefined): boolean =>
      got === v ||
      (k === COSIGN_LAYOUT_KIND_KEY && subjectKinds.includes(v) && subjectKinds.includes(got ?? ''));
    const entry = this.readIndex().manifests.find((m) =>
      Object.entries(wanted).every(([k, v]) => matches(k, v, m.annotations?.[k])),
    );
    if (!entry) return undefined;
    const bytes = fs.readFileSync(path.join(this.dir, 'blobs', 'sha256', digestHex(entry.digest)));
    return { bytes, mediaType: entry.mediaType, digest: entry.digest };
  }

  /** The index.json annotations for a manifest, or undefined when it does not belong in index.json. */
  private entryAnnotations(
    manifest: Buffer,
    mediaType: string,
    reference: string,
  ): Record<string, string> | undefined {
    if (reference.startsWith('sha256:')) {
      const hasSubject = (JSON.parse(manifest.toString()) as { subject?: unknown }).subject !== undefined;
      return hasSubject ? {} : undefined;
    }
    if (!/^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/.test(reference)) {
      throw new OciWriteError('INVALID_INPUT', `invalid tag ${JSON.stringify(reference)}`);
    }
    if (this.mode === 'spec') return { [OCI_REF_NAME]: reference };
    if (reference.endsWith('.sig')) return { [COSIGN_LAYOUT_KIND_KEY]: COSIGN_LAYOUT_KIND.sigs };
    if (reference.endsWith('.att')) return { [COSIGN_LAYOUT_KIND_KEY]: COSIGN_LAYOUT_KIND.atts };
    const isIndex = mediaType === OCI_INDEX || mediaType === DOCKER_MANIFEST_LIST;
    // cosign save does not write the referrers fallback index; keep it under its tag so nothing is lost
    if (/^sha256-[a-f0-9]{64}$/.test(reference)) return { [OCI_REF_NAME]: reference };
    return { [COSIGN_LAYOUT_KIND_KEY]: isIndex ? COSIGN_LAYOUT_KIND.imageIndex : COSIGN_LAYOUT_KIND.image };
  }

  /** Two entries compete for one slot when they share a tag, a cosign kind, or (untagged) a digest. */
  private sameSlot(a: Descriptor, b: Descriptor): boolean {
    const tagA = a.annotations?.[OCI_REF_NAME];
    const tagB = b.annotations?.[OCI_REF_NAME];
    if (tagA !== undefined || tagB !== undefined) return tagA === tagB;
    const kindA = a.annotations?.[COSIGN_LAYOUT_KIND_KEY];
    const kindB = b.annotations?.[COSIGN_LAYOUT_KIND_KEY];
    if (kindA !== undefined || kindB !== undefined)
      return this.subjectSlot(kindA) === this.subjectSlot(kindB);
    return a.digest === b.digest;
  }

  /** cosign save holds one subject: an image and an index compete for the same slot. */
  private subjectSlot(kind: string | undefined): string | undefined {
    return kind === COSIGN_LAYOUT_KIND.imageIndex ? COSIGN_LAYOUT_KIND.image : kind;
  }

  private writeBlob(digest: string, data: Buffer): void {
    const file = path.join(this.dir, 'blobs', 'sha256', digestHex(digest));
    const actual = sha256Digest(data);
    if (actual !== digest)
      throw new OciWriteError('DIGEST_MISMATCH', `blob ${digest} has bytes whose digest is ${actual}`);
    if (fs.existsSync(file)) return;
    const tmp = `${file}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  }

  private readIndex(): LayoutIndex {
    return JSON.parse(fs.readFileSync(this.indexPath, 'utf8')) as LayoutIndex;
  }

  private writeIndex(index: LayoutIndex): void {
    const tmp = `${this.indexPath}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, JSON.stringify(index, null, 2));
    fs.renameSync(tmp, this.indexPath);
  }
}
