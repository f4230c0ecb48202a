import type { RegistryClient, RegistryClientOptions } from './types';

/** Creates a client that maps registry hosts to stores and shares one digest-keyed cache for its lifetime. */
export function createRegistryClient(_opts: RegistryClientOptions = {}): RegistryClient {
  throw new Error('not implemented');
}
