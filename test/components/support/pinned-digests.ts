import { KYVERNO_IMAGES, type KyvernoImage } from '../../../components/kyverno/kyverno';
import { SPIRE_IMAGES, type SpireImage } from '../../../components/spire/spire';

/** A distinct, well-formed sha256 digest per index (not the digest of anything: pinning only). */
const digest = (i: number): string => `sha256:${i.toString(16).padStart(2, '0').repeat(32)}`;

/** One pinned digest per Kyverno image, as a platform team would supply them. */
export const KYVERNO_DIGESTS = Object.fromEntries(KYVERNO_IMAGES.map((n, i) => [n, digest(i + 1)])) as Record<
  KyvernoImage,
  string
>;

/** One pinned digest per SPIRE image, distinct from the Kyverno ones. */
export const SPIRE_DIGESTS = Object.fromEntries(SPIRE_IMAGES.map((n, i) => [n, digest(i + 40)])) as Record<
  SpireImage,
  string
>;
