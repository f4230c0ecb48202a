import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { createImageVerifier } from '../../policy-pack/image-verifier';
import { parseTrustPolicy } from '../../policy-pack/supply-chain/trust-policy';
import type { ImageVerifier } from '../../policy-pack/supply-chain/types';
import { scanWorkload } from '../../policy-pack/workloads';
import type { SteppedResource } from './orchestrator';
import type { RecordedImage } from './record';

/** The pack config keys the inspector reads (the `trusted-images` policy's config). */
interface TrustedImagesConfig {
  trustPolicy?: unknown;
  registry?: { mirrors?: Record<string, string>; insecureRegistries?: string[] };
  trustPolicyBaseDir?: string;
}

/**
 * For the deployment record: every image the stack's resources deploy (found the way the pack finds
 * them), with the verdict of the same trust policy and registry settings the pack was configured
 * with. Relative key paths resolve as the pack resolves them: against `trustPolicyBaseDir`, itself
 * relative to the pack folder (the pack's working directory), by default the pack folder.
 * Returns undefined when the config holds no trust policy (the record then lists no verdicts).
 */
export function imageInspectorFromPackConfig(
  configFile: string,
  packDir: string,
): ((resources: SteppedResource[]) => Promise<RecordedImage[]>) | undefined {
  let config: TrustedImagesConfig | undefined;
  try {
    const parsed = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    config = parsed['trusted-images'] as TrustedImagesConfig | undefined;
  } catch {
    return undefined; // the orchestrator refuses an unreadable config with its own coded error
  }
  if (!config?.trustPolicy) return undefined;
  const policy = parseTrustPolicy(config.trustPolicy as object, {
    baseDir: path.resolve(packDir, config.trustPolicyBaseDir ?? '.'),
    source: `${configFile} (trusted-images.trustPolicy)`,
  });
  const verifier = createImageVerifier({
    policy,
    registry: {
      mirrors: { ...config.registry?.mirrors },
      insecureRegistries: [...(config.registry?.insecureRegistries ?? [])],
    },
  });
  return (resources) => inspectImages(resources, verifier);
}

export async function inspectImages(
  resources: SteppedResource[],
  verifier: ImageVerifier,
): Promise<RecordedImage[]> {
  const users = new Map<string, string[]>();
  for (const resource of resources) {
    for (const site of scanWorkload(resource.type, resource.inputs)?.images ?? []) {
      if (site.image.state !== 'known') continue;
      const urns = users.get(site.image.reference) ?? [];
      if (!urns.includes(resource.urn)) urns.push(resource.urn);
      users.set(site.image.reference, urns);
    }
  }
  const records: RecordedImage[] = [];
  for (const [image, urns] of users) {
    const verdict = await verifier.verify(image);
    records.push({
      image,
      ...(verdict.digest ? { digest: verdict.digest } : {}),
      allowed: verdict.allowed,
      resources: urns,
      findings: verdict.findings.map(({ requirement, code, found }) => ({ requirement, code, found })),
    });
  }
  return records;
}
