import type { ResourceInput } from '../analyzer/types';
import type { RecordedResource } from './recorded-resource';

/**
 * What the analyzer protocol is sent for one recorded resource: the engine's AnalyzeRequest fields,
 * options included. Shared by `trustops preview` and the tests that drive the pack with a recording,
 * so both send the same shape.
 */
export function toResourceInput(r: RecordedResource): ResourceInput {
  const timeouts = r.options.customTimeouts;
  return {
    type: r.type,
    name: r.name,
    urn: r.urn,
    properties: r.properties,
    ...(r.parent ? { parent: r.parent } : {}),
    ...(r.provider ? { provider: r.provider } : {}),
    options: {
      protect: r.options.protect,
      ignoreChanges: r.options.ignoreChanges,
      ...(r.options.deleteBeforeReplace !== undefined
        ? { deleteBeforeReplace: r.options.deleteBeforeReplace }
        : {}),
      additionalSecretOutputs: r.options.additionalSecretOutputs,
      aliases: r.options.aliases,
      ...(r.options.parent ? { parent: r.options.parent } : {}),
      ...(timeouts
        ? {
            customTimeouts: {
              create: seconds(timeouts.create),
              update: seconds(timeouts.update),
              delete: seconds(timeouts.delete),
            },
          }
        : {}),
    },
    dependencies: r.dependencies,
    propertyDependencies: r.propertyDependencies,
  };
}

/** Pulumi custom timeouts are Go durations ("10m", "1h30m"); the analyzer protocol carries seconds. */
function seconds(duration: string | undefined): number {
  if (!duration) return 0;
  let total = 0;
  for (const [, amount, unit] of duration.matchAll(/(\d+(?:\.\d+)?)(h|m|s)/g)) {
    total += Number(amount) * (unit === 'h' ? 3600 : unit === 'm' ? 60 : 1);
  }
  return total;
}
