import { appsProgram } from './apps';
import { readAppsConfig, readPlatformConfig } from './config';
import { demoProgram } from './demo';
import { StackError } from './errors';
import { layerOf } from './layers';
import { platformProgram } from './platform';

/** The program of a stack: its layer's, chosen by the stack name (see layers.ts), or the demo's. */
export function programFor(stack: string): () => Record<string, unknown> {
  if (stack === 'demo') return () => demoProgram(readPlatformConfig(), readAppsConfig());
  switch (layerOf(stack)) {
    case 'platform':
      return () => platformProgram(readPlatformConfig());
    case 'apps':
      return () => appsProgram(readAppsConfig());
    default:
      throw new StackError(
        'STACK_LAYER_UNKNOWN',
        `stack ${stack} belongs to no layer: name it platform-<env> or apps-<env> (or demo)`,
      );
  }
}
