import type { Blob } from './image';
import type { OciTarget } from './target';

export type RegistryCredentials = { username: string; password: string } | { bearerToken: string };

/** Pushes to a registry over the distribution API v2 (Basic auth and Bearer token challenges). */
export class RegistryPusher implements OciTarget {
  constructor(
    readonly baseUrl: string,
    readonly credentials?: RegistryCredentials,
  ) {}

  putBlob(_repo: string, _blob: Blob): Promise<void> {
    return Promise.reject(new Error('not implemented'));
  }

  putManifest(_repo: string, _manifest: Buffer, _mediaType: string, _reference: string): Promise<string> {
    return Promise.reject(new Error('not implemented'));
  }
}
