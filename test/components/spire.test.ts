/* eslint-disable @typescript-eslint/no-explicit-any -- recorded inputs are untyped JSON trees; the assertions pin their shape. */
import * as assert from 'node:assert/strict';
import Ajv from 'ajv';
import {
  renderDefaultClusterSpiffeId,
  Spire,
  SPIRE_CHARTS,
  SPIRE_IMAGES,
  spireChartValues,
  validateSpireArgs,
  type SpireArgs,
  type SpireImage,
} from '../../components/spire/spire';
import { SPIRE_RELEASE } from '../../components/platform-images';
import { sharedPath } from '../support/shared';
import { missingKeys, readYaml } from './support/chart-values';
import { crdValidator, schemaErrors } from './support/crd-schemas';
import { inputErrors, installRecordingMocks, recordedResource, resetRecorded, settle } from './support/mocks';

const digest = (i: number): string => `sha256:${i.toString(16).padStart(2, '0').repeat(32)}`;
const DIGESTS = Object.fromEntries(SPIRE_IMAGES.map((img, i) => [img, digest(i + 1)])) as Record<
  SpireImage,
  string
>;
const ARGS: SpireArgs = { trustDomain: 'prod.acme.example', clusterName: 'prod-1', imageDigests: DIGESTS };
const TOLERATION = {
  key: 'trustops.dev/confidential-node',
  operator: 'Equal',
  value: 'true',
  effect: 'NoSchedule',
};

describe('Spire component', () => {
  before(installRecordingMocks);
  beforeEach(resetRecorded);

  it('installs spire-crds then spire from the hardened charts, pinned, with PSAT, confidential tolerations and digests', async () => {
    const s = new Spire('spire', ARGS);
    await settle(s.crds.urn, s.chart.urn, s.defaultIdentity.urn);
    const crds = recordedResource('kubernetes:helm.sh/v4:Chart', 'spire-crds').inputs as any;
    assert.equal(crds.chart, 'spire-crds');
    assert.equal(crds.version, '0.6.0');
    assert.equal(crds.repositoryOpts.repo, 'https://spiffe.github.io/helm-charts-hardened/');
    const chart = recordedResource('kubernetes:helm.sh/v4:Chart', 'spire').inputs as any;
    assert.equal(chart.chart, 'spire');
    assert.equal(chart.version, '0.30.0');
    assert.equal(chart.skipCrds, true);
    const v = chart.values;
    assert.equal(v.global.spire.trustDomain, 'prod.acme.example');
    assert.equal(v.global.spire.clusterName, 'prod-1');
    assert.equal(v.global.spire.recommendations.enabled, true);
    assert.equal(v.global.spire.strictMode, true);
    assert.deepEqual(v.global.spire.caSubject, {
      country: '',
      organization: 'prod.acme.example',
      commonName: 'prod.acme.example',
    });
    assert.deepEqual(v['spire-server'].nodeAttestor.k8sPSAT, {
      enabled: true,
      allowedNodeLabelKeys: ['trustops.dev/confidential-node'],
    });
    assert.equal(v['spire-server'].replicaCount, 1);
    assert.equal(v['spire-server'].dataStore, undefined);
    assert.deepEqual(v['spire-agent'].tolerations, [TOLERATION]);
    assert.deepEqual(v['spiffe-csi-driver'].tolerations, [TOLERATION]);
    assert.equal(v['spire-server'].image.tag, `1.15.2@${DIGESTS['spire-server']}`);
    assert.equal(v['spire-agent'].image.tag, `1.15.2@${DIGESTS['spire-agent']}`);
    assert.equal(
      v['spire-server'].controllerManager.image.tag,
      `0.7.0@${DIGESTS['spire-controller-manager']}`,
    );
    assert.equal(v['spiffe-csi-driver'].image.tag, DIGESTS['spiffe-csi-driver']);
    assert.equal(
      v['spiffe-csi-driver'].nodeDriverRegistrar.image.tag,
      `v2.15.0@${DIGESTS['csi-node-driver-registrar']}`,
    );
    const id = recordedResource(
      'kubernetes:spire.spiffe.io/v1alpha1:ClusterSPIFFEID',
      'spire-default-identity',
    ).inputs as any;
    assert.equal(id.spec.className, v['spire-server'].controllerManager.className);
    assert.match(id.spec.spiffeIDTemplate, /^spiffe:\/\/\{\{ \.TrustDomain \}\}\/ns\//);
    assert.ok(id.spec.namespaceSelector.matchExpressions[0].values.includes('kube-system'));
  });

  it('defaults to the digests published for SPIRE 1.15.2; given ones win; spiffe-csi-driver must be given', () => {
    const base = { trustDomain: 'prod.acme.example', clusterName: 'prod-1' };
    const v = validateSpireArgs({ ...base, imageDigests: { 'spiffe-csi-driver': digest(9) } });
    for (const image of SPIRE_IMAGES) {
      assert.equal(
        v.imageDigests[image],
        image === 'spiffe-csi-driver' ? digest(9) : SPIRE_RELEASE.digests[image],
        image,
      );
    }
    assert.equal(SPIRE_RELEASE.version, SPIRE_CHARTS.spire.spireVersion);
    assert.equal(
      (spireChartValues(ARGS, validateSpireArgs(ARGS))['spire-server'] as any).image.tag,
      `1.15.2@${DIGESTS['spire-server']}`,
      'digests given override the published ones',
    );
    const errors = inputErrors(() => validateSpireArgs(base));
    assert.deepEqual(
      errors.map((e) => e.propertyPath),
      ['imageDigests.spiffe-csi-driver'],
    );
    assert.match(errors[0]!.reason, /no public pin of ghcr\.io\/spiffe\/spiffe-csi-driver:0\.2\.7 was found/);
  });

  it('runs several servers only on an external SQL datastore, password from a Secret', () => {
    const a: SpireArgs = {
      ...ARGS,
      serverReplicas: 3,
      sqlDatastore: {
        databaseType: 'postgres',
        host: 'db.internal',
        passwordSecret: { name: 'spire-db', key: 'password' },
      },
    };
    const values = spireChartValues(a, validateSpireArgs(a)) as any;
    assert.equal(values['spire-server'].replicaCount, 3);
    assert.deepEqual(values['spire-server'].dataStore.sql, {
      databaseType: 'postgres',
      host: 'db.internal',
      port: 0,
      databaseName: 'spire',
      username: 'spire',
      externalSecret: { enabled: true, name: 'spire-db', key: 'password' },
    });
  });

  it('rejects replicas without SQL and every other bad argument at once', () => {
    const errors = inputErrors(() =>
      validateSpireArgs({
        trustDomain: 'example.org',
        clusterName: 'Prod_1',
        imageDigests: { ...DIGESTS, 'spire-agent': 'latest' },
        serverReplicas: 2,
        systemNamespace: 'Spire',
        tolerations: [],
      } as unknown as SpireArgs),
    );
    assert.deepEqual(errors.map((e) => e.propertyPath).sort(), [
      'clusterName',
      'imageDigests.spire-agent',
      'serverReplicas',
      'systemNamespace',
      'tolerations',
      'trustDomain',
    ]);
    const sql = inputErrors(() =>
      validateSpireArgs({
        ...ARGS,
        serverReplicas: 2,
        sqlDatastore: {
          databaseType: 'sqlite3' as never,
          host: '',
          port: 70000,
          passwordSecret: { name: '', key: '' },
        },
      }),
    );
    assert.deepEqual(sql.map((e) => e.propertyPath).sort(), [
      'sqlDatastore.databaseType',
      'sqlDatastore.host',
      'sqlDatastore.passwordSecret',
      'sqlDatastore.port',
    ]);
  });

  const charts = sharedPath('schemas/charts/spire-0.30.0', 'spire chart values', 2);
  (charts ? it : it.skip)(
    'every value exists in the chart defaults, and the agent values pass its values schema',
    () => {
      const a: SpireArgs = {
        ...ARGS,
        serverReplicas: 2,
        sqlDatastore: {
          databaseType: 'mysql',
          host: 'db',
          port: 3306,
          passwordSecret: { name: 's', key: 'k' },
        },
      };
      const values = spireChartValues(a, validateSpireArgs(a)) as Record<string, unknown>;
      const sub: Record<string, string> = {
        'spire-server': 'spire-server__values.yaml',
        'spire-agent': 'spire-agent__values.yaml',
        'spiffe-csi-driver': 'spiffe-csi-driver__values.yaml',
      };
      const umbrella = readYaml(`${charts}/spire__values.yaml`) as Record<string, unknown>;
      for (const [key, v] of Object.entries(values)) {
        const defaults = sub[key] ? readYaml(`${charts}/${sub[key]}`) : umbrella[key];
        assert.ok(defaults !== undefined, `${key} is a known section of the chart`);
        assert.deepEqual(missingKeys(v, defaults, key), [], `${key}`);
      }
      const validateAgent = new Ajv({ strict: false, allErrors: true }).compile(
        readYaml(`${charts}/spire-agent__values.schema.json`) as object,
      );
      assert.ok(validateAgent(values['spire-agent']), JSON.stringify(validateAgent.errors));
      assert.equal(validateAgent({ server: { port: 0 } }), false, 'the schema check can fail');
    },
  );

  const crd = sharedPath('schemas/spire/spire.spiffe.io_clusterspiffeids.yaml', 'spire CRD schema', 1);
  (crd ? it : it.skip)('the ClusterSPIFFEID it renders validates against the spire-crds schema', () => {
    const validate = crdValidator(crd!, 'v1alpha1');
    const id = renderDefaultClusterSpiffeId(validateSpireArgs(ARGS));
    assert.ok(validate(id), schemaErrors(validate));
    assert.equal(validate({ ...id, spec: { ...id.spec, spiffeIDTemplate: undefined } }), false);
  });
});
