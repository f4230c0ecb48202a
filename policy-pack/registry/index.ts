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
