import { createHash } from 'node:crypto';

/**
 * Raw distribution API reads for tests: deliberately independent of the product's registry client
 * (policy-pack/registry), so that the test bed is checked by plain HTTP, not by the code under test.
 */

export const ALL_MANIFEST_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

export interface RawManifest {
  status: number;
  bytes: Buffer;
  contentType: string;
  /** Docker-Content-Digest header. */
  headerDigest: string | null;
  /** sha256 of the bytes received. */
  computedDigest: string;
}

export function sha256(data: Buffer): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

export async function rawManifest(
  baseUrl: string,
  repo: string,
  reference: string,
  authorization?: string,
): Promise<RawManifest> {
  const res = await fetch(`${baseUrl}/v2/${repo}/manifests/${reference}`, {
    headers: { accept: ALL_MANIFEST_TYPES, ...(authorization ? { authorization } : {}) },
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  return {
    status: res.status,
    bytes,
    contentType: res.headers.get('content-type') ?? '',
    headerDigest: res.headers.get('docker-content-digest'),
    computedDigest: sha256(bytes),
  };
}

export async function rawBlob(
  baseUrl: string,
  repo: string,
  digest: string,
  authorization?: string,
): Promise<{ status: number; bytes: Buffer }> {
  const res = await fetch(`${baseUrl}/v2/${repo}/blobs/${digest}`, {
    headers: authorization ? { authorization } : {},
  });
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()) };
}

export function parseJson<T = Record<string, unknown>>(bytes: Buffer): T {
  return JSON.parse(bytes.toString()) as T;
}
