/**
 * The project's layers, in deployment order. A stack belongs to a layer by its name prefix
 * (`platform-example`, `platform-prod` -> platform; `apps-example` -> apps), so any number of
 * environments can share the two programs.
 */
export const LAYERS = ['platform', 'apps'] as const;
export type Layer = (typeof LAYERS)[number];

/** The stacks shipped with the repository (Pulumi.<stack>.yaml at the root). */
export const EXAMPLE_STACKS = ['platform-example', 'apps-example'] as const;

export function layerOf(stack: string): Layer | undefined {
  return LAYERS.find((layer) => stack === layer || stack.startsWith(`${layer}-`));
}
