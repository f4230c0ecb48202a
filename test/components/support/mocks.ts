import * as pulumi from '@pulumi/pulumi';

/** One resource the program registered, with the inputs it sent. */
export interface RecordedResource {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

const recorded: RecordedResource[] = [];

/**
 * Pulumi mocks that record every resource registration: tests assert on the concrete inputs each
 * component sends. Outputs echo inputs (plus fields GKE computes), so dependent interpolations resolve.
 */
export function installRecordingMocks(): void {
  pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
        recorded.push({ type: args.type, name: args.name, inputs: args.inputs as Record<string, unknown> });
        const state: Record<string, unknown> = { ...args.inputs };
        if (args.type === 'gcp:container/cluster:Cluster') {
          state.endpoint = '203.0.113.10';
          state.masterAuth = { clusterCaCertificate: 'Q0EtREFUQQ==' };
          state.name = args.name;
          state.controlPlaneEndpointsConfig = {
            ...(args.inputs.controlPlaneEndpointsConfig as Record<string, unknown>),
            dnsEndpointConfig: {
              ...((args.inputs.controlPlaneEndpointsConfig as Record<string, Record<string, unknown>>)
                ?.dnsEndpointConfig ?? {}),
              endpoint: `gke-${args.name}-0123.us-central1.gke.goog`,
            },
          };
          state.privateClusterConfig = {
            ...(args.inputs.privateClusterConfig as Record<string, unknown>),
            privateEndpoint: '10.128.0.2',
          };
        }
        if (args.type === 'gcp:serviceaccount/account:Account') {
          state.email = `${String(args.inputs.accountId)}@test-project.iam.gserviceaccount.com`;
        }
        return { id: `${args.name}_id`, state };
      },
      call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
        if (args.token === 'gcp:organizations/getProject:getProject')
          return { ...args.inputs, number: '123456789012' };
        return args.inputs as Record<string, unknown>;
      },
    },
    'trustops',
    'test',
    false,
  );
}

export function resetRecorded(): void {
  recorded.length = 0;
}

export function allRecorded(): readonly RecordedResource[] {
  return recorded;
}

/** The one recorded resource of `type` named `name` (fails loudly otherwise). */
export function recordedResource(type: string, name: string): RecordedResource {
  const found = recorded.filter((r) => r.type === type && r.name === name);
  if (found.length !== 1) {
    throw new Error(
      `expected one ${type} named ${name}, found ${found.length}; recorded: ${recorded.map((r) => `${r.type}/${r.name}`).join(', ')}`,
    );
  }
  return found[0]!;
}

export function recordedOfType(type: string): RecordedResource[] {
  return recorded.filter((r) => r.type === type);
}

/** The value of an Output once resolved. */
export function valueOf<T>(o: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => o.apply((v) => resolve(v)));
}

/** Lets every pending registration reach the mocks. */
export async function settle(...outputs: pulumi.Output<unknown>[]): Promise<void> {
  await Promise.all(outputs.map((o) => valueOf(o)));
  await new Promise((r) => setImmediate(r));
}

/** Runs `fn` and returns the InputPropertiesError it throws (fails when it throws nothing else). */
export function inputErrors(fn: () => unknown): { propertyPath: string; reason: string }[] {
  try {
    fn();
  } catch (e) {
    if (pulumi.InputPropertiesError.isInstance(e)) return e.errors;
    throw e;
  }
  throw new Error('expected an InputPropertiesError, nothing was thrown');
}
