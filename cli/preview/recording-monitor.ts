import * as pulumi from '@pulumi/pulumi';
import * as resproto from '@pulumi/pulumi/proto/resource_pb';
import * as provproto from '@pulumi/pulumi/proto/provider_pb';
import { Struct } from 'google-protobuf/google/protobuf/struct_pb';
import type { RecordedProvider, RecordedResource } from './recorded-resource';

/** The subset of the generated RegisterResourceRequest the recorder reads. */
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getObject(): Struct | undefined;
  getProtect(): boolean | undefined;
  getDependenciesList(): string[];
  getProvider(): string;
  getPropertydependenciesMap(): {
    forEach(cb: (deps: { getUrnsList(): string[] }, key: string) => void): void;
  };
  getDeletebeforereplace(): boolean;
  getDeletebeforereplacedefined(): boolean;
  getVersion(): string;
  getIgnorechangesList(): string[];
  getAdditionalsecretoutputsList(): string[];
  getAliasurnsList(): string[];
  getCustomtimeouts(): { getCreate(): string; getUpdate(): string; getDelete(): string } | undefined;
  getRetainondelete(): boolean | undefined;
  getReplaceonchangesList(): string[];
  getRemote(): boolean;
}

type Callback = (err: unknown, response?: unknown) => void;

interface ReadRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getId(): string;
  getProperties(): Struct | undefined;
}

interface InvokeRequest {
  getTok(): string;
  getArgs(): Struct | undefined;
}

/** What the program sees back for a resource, as a preview would: inputs echoed, computed outputs unknown. */
export interface ResourceAnswer {
  id?: string;
  state: Record<string, unknown>;
}

export interface RecordingHooks {
  /** Outputs to hand back for a registration (default: the inputs, which is what a create preview shows). */
  newResource?(type: string, name: string, inputs: Record<string, unknown>): ResourceAnswer;
  /** Result of a provider function call (default: nothing, as the provider is not running). */
  call?(token: string, args: Record<string, unknown>): Record<string, unknown>;
}

/** Pulumi's root resource type: the engine leaves it out of its children's URNs. */
const STACK_TYPE = 'pulumi:pulumi:Stack';

const PROVIDER_TYPE_PREFIX = 'pulumi:providers:';

/**
 * A mock resource monitor that writes down every registration, in the order the program makes them,
 * with what the engine would hand an analyzer: the serialized inputs (unknowns kept as the unknown
 * sentinel, which is how a preview sees provider-computed values), the options, and the provider,
 * including the default provider the engine would create for a package on first use.
 */
export class RecordingMonitor {
  readonly recorded: RecordedResource[] = [];
  /** Provider functions the program called: a real preview would have answered them. */
  readonly invokes: string[] = [];
  /** Resources the program read (`get` functions, StackReference): the engine reads them, analyzers do not see them. */
  readonly reads: { urn: string; type: string; id: string }[] = [];
  private readonly providersByUrn = new Map<string, RecordedProvider>();

  constructor(
    private readonly hooks: RecordingHooks,
    private readonly project: string,
    private readonly stack: string,
    /** The stack's full configuration (`package:key` -> value), the source of default provider settings. */
    private readonly config: Record<string, string>,
  ) {}

  async registerResource(req: RegisterRequest, callback: Callback): Promise<void> {
    try {
      const recorded = this.record(req);
      const inputs = pulumi.runtime.deserializeProperties(req.getObject() ?? new Struct()) as Record<
        string,
        unknown
      >;
      const answer = this.hooks.newResource?.(recorded.type, recorded.name, inputs) ?? { state: inputs };
      const response = new resproto.RegisterResourceResponse();
      response.setUrn(recorded.urn);
      // An empty id reads back as unknown during a preview, as it is for a resource not created yet.
      response.setId(answer.id ?? '');
      response.setObject(
        Struct.fromJavaScript((await pulumi.runtime.serializeProperties('', answer.state)) as never),
      );
      callback(null, response);
    } catch (err) {
      callback(err);
    }
  }

  async readResource(req: ReadRequest, callback: Callback): Promise<void> {
    try {
      const parent = req.getParent() || undefined;
      const urn = this.urnOf(parent, req.getType(), req.getName());
      this.reads.push({ urn, type: req.getType(), id: req.getId() });
      const response = new resproto.ReadResourceResponse();
      response.setUrn(urn);
      // Nothing is known about a resource read during an offline preview: every output stays unknown.
      response.setProperties(new Struct());
      callback(null, response);
    } catch (err) {
      callback(err);
    }
  }

  async invoke(req: InvokeRequest, callback: Callback): Promise<void> {
    try {
      const token = req.getTok();
      this.invokes.push(token);
      const args = pulumi.runtime.deserializeProperties(req.getArgs() ?? new Struct()) as Record<
        string,
        unknown
      >;
      const result = this.hooks.call?.(token, args) ?? {};
      const response = new provproto.InvokeResponse();
      response.setReturn(
        Struct.fromJavaScript((await pulumi.runtime.serializeProperties('', result)) as never),
      );
      callback(null, response);
    } catch (err) {
      callback(err);
    }
  }

  registerResourceOutputs(_req: unknown, callback: Callback): void {
    callback(null, {});
  }

  supportsFeature(req: { getId(): string }, callback: Callback): void {
    // Like Pulumi's own mocks: everything but output values, so inputs arrive as plain serialized values.
    const hasSupport = req.getId() !== 'outputValues' && req.getId() !== 'transforms';
    callback(null, { getHassupport: () => hasSupport });
  }

  registerPackage(_req: unknown, callback: Callback): void {
    const response = new resproto.RegisterPackageResponse();
    response.setRef('recording-engine');
    callback(null, response);
  }

  private record(req: RegisterRequest): RecordedResource {
    const type = req.getType();
    const name = req.getName();
    const parent = req.getParent() || undefined;
    const urn = this.urnOf(parent, type, name);
    const properties = req.getObject()?.toJavaScript() ?? {};
    const propertyDependencies: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((deps, key) => {
      propertyDependencies[key] = deps.getUrnsList();
    });
    const timeouts = req.getCustomtimeouts();
    const resource: RecordedResource = {
      urn,
      type,
      name,
      custom: req.getCustom(),
      properties,
      options: {
        protect: req.getProtect() === true,
        ignoreChanges: req.getIgnorechangesList(),
        ...(req.getDeletebeforereplacedefined() ? { deleteBeforeReplace: req.getDeletebeforereplace() } : {}),
        additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
        aliases: req.getAliasurnsList(),
        ...(timeouts && (timeouts.getCreate() || timeouts.getUpdate() || timeouts.getDelete())
          ? { customTimeouts: customTimeoutsOf(timeouts) }
          : {}),
        ...(parent ? { parent } : {}),
        ...(req.getRetainondelete() !== undefined ? { retainOnDelete: req.getRetainondelete() } : {}),
        replaceOnChanges: req.getReplaceonchangesList(),
      },
      ...(parent ? { parent } : {}),
      dependencies: req.getDependenciesList(),
      propertyDependencies,
    };
    if (req.getRemote()) resource.remote = true;
    if (type.startsWith(PROVIDER_TYPE_PREFIX)) {
      this.providersByUrn.set(urn, { urn, type, name, properties });
    } else if ((resource.custom || req.getRemote()) && !type.startsWith('pulumi:pulumi:')) {
      // Custom resources and remote (provider-implemented) components such as helm.sh/v4 Chart have a provider.
      resource.provider = this.providerFor(req.getProvider(), type, req.getVersion());
    }
    this.recorded.push(resource);
    return resource;
  }

  /** An explicit provider reference is `<urn>::<id>`; without one the engine uses the package's default provider. */
  private providerFor(reference: string, type: string, version: string): RecordedProvider {
    if (reference) {
      const urn = reference.slice(0, reference.lastIndexOf('::'));
      const known = this.providersByUrn.get(urn);
      if (known) return known;
      const [, , providerType = '', providerName = ''] = urn.split('::');
      return { urn, type: providerType, name: providerName, properties: {} };
    }
    const pkg = type.split(':')[0] ?? type;
    const providerName = version ? `default_${version.replace(/[.+-]/g, '_')}` : 'default';
    const providerType = PROVIDER_TYPE_PREFIX + pkg;
    const urn = `urn:pulumi:${this.stack}::${this.project}::${providerType}::${providerName}`;
    const known = this.providersByUrn.get(urn);
    if (known) return known;
    const provider: RecordedProvider = {
      urn,
      type: providerType,
      name: providerName,
      properties: this.defaultProviderConfig(pkg, version),
    };
    this.providersByUrn.set(urn, provider);
    // The engine registers a default provider the first time a package is used; analyzers see it too.
    this.recorded.push({
      urn,
      type: providerType,
      name: providerName,
      custom: true,
      properties: provider.properties,
      options: {
        protect: false,
        ignoreChanges: [],
        additionalSecretOutputs: [],
        aliases: [],
        replaceOnChanges: [],
      },
      dependencies: [],
      propertyDependencies: {},
    });
    return provider;
  }

  private defaultProviderConfig(pkg: string, version: string): Record<string, unknown> {
    const properties: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(this.config)) {
      if (key.startsWith(`${pkg}:`)) properties[key.slice(pkg.length + 1)] = value;
    }
    if (version) properties['version'] = version;
    return properties;
  }

  /** Same URN scheme as the engine: the parent's type chain is prefixed to a child's type. */
  private urnOf(parent: string | undefined, type: string, name: string): string {
    let qualifiedType = type;
    if (parent && !parent.includes(`::${STACK_TYPE}::`)) {
      const parentType = (parent.split('::')[2] ?? '').split('$').pop();
      qualifiedType = `${parentType}$${type}`;
    }
    return `urn:pulumi:${this.stack}::${this.project}::${qualifiedType}::${name}`;
  }
}

function customTimeoutsOf(t: { getCreate(): string; getUpdate(): string; getDelete(): string }): {
  create?: string;
  update?: string;
  delete?: string;
} {
  return {
    ...(t.getCreate() ? { create: t.getCreate() } : {}),
    ...(t.getUpdate() ? { update: t.getUpdate() } : {}),
    ...(t.getDelete() ? { delete: t.getDelete() } : {}),
  };
}
