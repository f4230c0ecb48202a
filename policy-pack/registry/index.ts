/**
 * The registry layer: the pack's only I/O edge. Import from here (by relative path) to resolve image
 * references and read what is attached to an image; every byte returned was checked against its digest.
 */
export * from './types';
export { RegistryError, isRegistryError, type RegistryErrorCode, type RegistryErrorDetails } from './errors';
export {
  parseReference,
  formatReference,
  repositoryName,
  withDigest,
  isLoopbackHost,
  DOCKER_HUB,
} from './reference';
export { sha256Digest, isSha256Digest, digestToTag } from './digest';
export { createRegistryClient } from './client';
export {
  DEFAULT_TIMEOUTS,
  DEFAULT_RETRY,
  DEFAULT_LIMITS,
  DEFAULT_CONCURRENCY,
  DEFAULT_DISCOVERY,
} from './client';
export {
  defaultCredentials,
  environmentCredentials,
  dockerConfigCredentials,
  chainCredentials,
  runCredentialHelper,
  ENV_HOST,
  ENV_USERNAME,
  ENV_PASSWORD,
} from './credentials';
export { DistributionStore, type DistributionStoreOptions } from './distribution-store';
export { OciLayoutStore } from './oci-layout-store';
export { HttpTransport, type TransportOptions } from './transport';
export { parseMirrorFlags } from './mirrors';
