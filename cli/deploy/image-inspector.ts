import type { RegistryClientOptions } from '../../policy-pack/registry/types';
import type { RecordedImage } from './record';
import type { SteppedResource } from './orchestrator';

/** Placeholder replaced once the pack's image finder lands. */
export function imageInspectorFromPackConfig(
  _configFile: string,
  _registry: RegistryClientOptions,
): ((resources: SteppedResource[]) => Promise<RecordedImage[]>) | undefined {
  return undefined;
}
