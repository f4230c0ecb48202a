import type { NotImageProperty } from '../../workloads';

/** The config of every policy that reads workload images (they must agree, so one schema). */
export interface NotImageConfig {
  /** Custom-resource `image` properties declared not to be container images (workloads/not-image.ts). */
  notImageProperties: NotImageProperty[];
}

export function notImagePropertiesSchema(): Record<string, unknown> {
  return {
    type: 'array',
    description:
      'Custom-resource properties named image that are NOT container images (a VM image, a chart value): ' +
      'by exact Pulumi type and property path ([*] for any index). Every other image property of a custom ' +
      'resource is verified as a container image. Pod-spec images cannot be declared.',
    default: [],
    maxItems: 256,
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'path'],
      properties: {
        // custom resources only: built-in kinds' images are pod-spec images
        type: { type: 'string', minLength: 1, maxLength: 512, pattern: '^kubernetes:[^:\\s]+:[^:\\s]+$' },
        // a path to a property named image, as diagnostics print it
        path: { type: 'string', minLength: 5, maxLength: 2048, pattern: '^(?:\\S*\\.)?image$' },
      },
    },
  };
}
