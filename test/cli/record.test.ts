import { strict as assert } from 'node:assert';
import * as gcp from '@pulumi/gcp';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { PreviewError } from '../../cli/preview/errors';
import { recordProgram } from '../../cli/preview/record';
import { UNKNOWN_VALUE } from '../../cli/preview/recorded-resource';

class Team extends pulumi.ComponentResource {
  constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
    super('acme:teams:Team', name, {}, opts);
    const bucket = new gcp.storage.Bucket(
      `${name}-state`,
      { location: 'EU', uniformBucketLevelAccess: true },
      { parent: this, protect: true, customTimeouts: { create: '10m' }, ignoreChanges: ['labels'] },
    );
    const provider = new k8s.Provider(`${name}-k8s`, { kubeconfig: bucket.url }, { parent: this });
    new k8s.core.v1.ConfigMap(
      `${name}-settings`,
      { data: { bucket: bucket.name, token: pulumi.secret('s3cr3t') } },
      { parent: this, provider, dependsOn: [bucket] },
    );
    this.registerOutputs({});
  }
}

/** The recording engine on its own: what it hands the analyzer for each registration. */
describe('recording engine (trustops preview)', () => {
  it('records registrations in order with URNs, options, dependencies and providers as the engine sends them', async () => {
    const rec = await recordProgram({
      project: 'acme',
      stack: 'dev',
      config: { 'gcp:project': 'acme-dev', 'gcp:region': 'europe-west4', 'acme:owner': 'platform' },
      program: () => {
        new Team('payments');
        return { owner: new pulumi.Config().require('owner') };
      },
    });
    assert.deepEqual(
      rec.resources.map((r) => r.type),
      [
        'pulumi:pulumi:Stack',
        'acme:teams:Team',
        'pulumi:providers:gcp',
        'gcp:storage/bucket:Bucket',
        'pulumi:providers:kubernetes',
        'kubernetes:core/v1:ConfigMap',
      ],
    );
    const [stack, team, gcpProvider, bucket, k8sProvider, configMap] = rec.resources;
    assert.equal(stack?.urn, 'urn:pulumi:dev::acme::pulumi:pulumi:Stack::acme-dev');
    // Children of the stack carry no stack prefix; children of a component carry its type chain.
    assert.equal(team?.urn, 'urn:pulumi:dev::acme::acme:teams:Team::payments');
    assert.equal(
      bucket?.urn,
      'urn:pulumi:dev::acme::acme:teams:Team$gcp:storage/bucket:Bucket::payments-state',
    );
    assert.equal(bucket?.parent, team?.urn);
    assert.equal(bucket?.options.protect, true);
    assert.deepEqual(bucket?.options.ignoreChanges, ['labels']);
    assert.deepEqual(bucket?.options.customTimeouts, { create: '10m' });
    assert.equal(bucket?.properties['location'], 'EU');
    // The default provider the engine creates on first use, configured from the stack's gcp:* keys.
    assert.equal(gcpProvider?.urn, bucket?.provider?.urn);
    assert.match(gcpProvider?.name ?? '', /^default_\d+_\d+_\d+/);
    assert.equal(bucket?.provider?.properties['project'], 'acme-dev');
    assert.equal(bucket?.provider?.properties['region'], 'europe-west4');
    assert.equal(bucket?.provider?.properties['owner'], undefined);
    // An explicit provider: its inputs, with a provider-computed value unknown at preview.
    assert.equal(configMap?.provider?.urn, k8sProvider?.urn);
    assert.equal(k8sProvider?.properties['kubeconfig'], UNKNOWN_VALUE);
    assert.ok(configMap?.dependencies.includes(bucket!.urn));
    const data = configMap?.properties['data'] as Record<string, unknown>;
    assert.equal(data['bucket'], UNKNOWN_VALUE);
    assert.deepEqual(data['token'], {
      '4dabf18193072939515e22adb298388d': '1b47061264138c4ac30d75fd1eb44270',
      value: 's3cr3t',
    });
    assert.ok(rec.unknownValues >= 2);
  });

  it('a program that throws fails the recording with PROGRAM_FAILED', async () => {
    await assert.rejects(
      recordProgram({
        project: 'acme',
        stack: 'dev',
        config: {},
        program: () => {
          new pulumi.Config().require('missing');
        },
      }),
      (e: unknown) => e instanceof PreviewError && e.code === 'PROGRAM_FAILED',
    );
  });

  it('runs one program at a time and starts each from a clean configuration', async () => {
    const seen: (string | undefined)[] = [];
    const run = (stack: string, config: Record<string, string>): Promise<unknown> =>
      recordProgram({
        project: 'acme',
        stack,
        config,
        program: () => {
          seen.push(`${pulumi.getStack()}:${new pulumi.Config().get('colour') ?? '-'}`);
        },
      });
    await Promise.all([run('a', { 'acme:colour': 'red' }), run('b', {})]);
    assert.deepEqual(seen, ['a:red', 'b:-']);
  });
});
