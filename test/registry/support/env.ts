import { createRegistryClient } from '../../../policy-pack/registry/client';
import type {
  CredentialSource,
  RegistryClient,
  RegistryClientOptions,
  RegistryCredential,
} from '../../../policy-pack/registry/types';

/** No credentials: tests never read the developer's own Docker config. */
export const ANONYMOUS: CredentialSource = { lookup: () => Promise.resolve(undefined) };

export function fixedCredentials(host: string, credential: RegistryCredential): CredentialSource {
  return { lookup: (registry) => Promise.resolve(registry === host ? credential : undefined) };
}

/** A client with test-friendly defaults (anonymous, short backoff); every option can be overridden. */
export function testClient(opts: RegistryClientOptions = {}): RegistryClient {
  return createRegistryClient({
    credentials: ANONYMOUS,
    retry: { retries: 2, baseDelayMs: 5, maxDelayMs: 2000 },
    timeouts: { connectMs: 2000, requestMs: 5000 },
    ...opts,
  });
}

export async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<Error> {
  let caught: unknown;
  try {
    await promise;
  } catch (e) {
    caught = e;
  }
  if (caught === undefined) throw new Error(`expected a RegistryError ${code}, but the call succeeded`);
  const err = caught as { name?: string; code?: string; message?: string };
  if (err.name !== 'RegistryError' || err.code !== code) {
    throw new Error(
      `expected RegistryError ${code}, got ${err.name ?? typeof caught} ${err.code ?? ''}: ${err.message ?? String(caught)}`,
    );
  }
  return caught as Error;
}
