import { createImageVerifier } from '../../policy-pack/image-verifier';
import type { ImageVerifier } from '../../policy-pack/supply-chain/types';
import { scanWorkload } from '../../policy-pack/workloads';
import type { SteppedResource } from './orchestrator';
import { DeployError } from './errors';
import { deployTrustPolicy } from './pack-config';
import type { RecordedImage } from './record';

/**
 * For the deployment record: every image the stack's resources deploy (found the way the pack finds
 * them), with the verdict of the same trust policy and registry settings the pack was configured with,
 * read by the pack's own reader (relative key paths resolve against `trustPolicyBaseDir`, relative to
 * the pack folder, by default the pack folder). Returns undefined when the config holds no trust policy
 * or cannot be read (the orchestrator refuses an unreadable config with its own coded error).
 */
export function imageInspectorFromPackConfig(
  configFile: string,
  packDir: string,
): ((resources: SteppedResource[]) => Promise<RecordedImage[]>) | undefined {
  let read: ReturnType<typeof deployTrustPolicy>;
  try {
    read = deployTrustPolicy(configFile, packDir);
  } catch (e) {
    if (e instanceof DeployError) return undefined;
    throw e;
  }
  if (read === undefined) return undefined;
  const verifier = createImageVerifier({
    policy: read.policy,
    registry: {
      mirrors: { ...read.registry.mirrors },
      insecureRegistries: [...(read.registry.insecureRegistries ?? [])],
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
