/**
 * A resource as the Pulumi engine would describe it to an analyzer (pulumirpc.AnalyzerResource):
 * URN, type, name, the inputs after serialization (unknown values are Pulumi's unknown sentinel),
 * the resource options an analyzer sees, and the provider that would handle it.
 */
export interface RecordedProvider {
  urn: string;
  type: string;
  name: string;
  /** Provider configuration (explicit provider inputs, or the stack's `<package>:*` config for a default provider). */
  properties: Record<string, unknown>;
}

export interface RecordedOptions {
  protect: boolean;
  ignoreChanges: string[];
  deleteBeforeReplace?: boolean;
  additionalSecretOutputs: string[];
  aliases: string[];
  customTimeouts?: { create?: string; update?: string; delete?: string };
  parent?: string;
  retainOnDelete?: boolean;
  replaceOnChanges: string[];
}

export interface RecordedResource {
  urn: string;
  type: string;
  name: string;
  /** False for component resources (and the stack itself). */
  custom: boolean;
  properties: Record<string, unknown>;
  options: RecordedOptions;
  parent?: string;
  dependencies: string[];
  propertyDependencies: Record<string, string[]>;
  /** The provider a custom resource is created with (default providers included, as the engine does). */
  provider?: RecordedProvider;
  /** A component its provider implements (helm.sh/v4 Chart, yaml/v2): its children exist only in a real run. */
  remote?: true;
}

/** The serialized form of a value the provider computes (unknown during preview). */
export const UNKNOWN_VALUE = '04da6b54-80e4-46f7-96ec-b56ff0331ba9';
