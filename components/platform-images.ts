import { ArgsProblems, SHA256_DIGEST } from './validation';

/**
 * Platform images (Kyverno's, SPIRE's) are deployed by digest. Their digests are a REQUIRED input:
 * no registry beyond loopback is reachable from where this code is written and tested, and a digest
 * copied from memory would be an invented one. Take them from the publisher (`cosign verify` the tag,
 * then pin the digest it verified) and list the same images under a trust-policy rule whose signers are
 * the publisher's release identity, so the pack verifies the platform too.
 */
export type ImageDigests<K extends string> = Readonly<Record<K, string>>;

/** Records one problem per missing or malformed digest, naming the image. */
export function checkImageDigests<K extends string>(
  problems: ArgsProblems,
  argName: string,
  required: readonly K[],
  digests: Partial<Record<K, string>> | undefined,
): void {
  for (const image of required) {
    const d = digests?.[image];
    if (d === undefined)
      problems.add(`${argName}.${image}`, `expected the sha256 digest of ${image}, found none`);
    else if (!SHA256_DIGEST.test(d))
      problems.add(`${argName}.${image}`, `expected sha256:<64 hex>, found ${d}`);
  }
  for (const extra of Object.keys(digests ?? {})) {
    if (!(required as readonly string[]).includes(extra)) {
      problems.add(
        `${argName}.${extra}`,
        `is not an image of this component; expected one of ${required.join(', ')}`,
      );
    }
  }
}
