import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runDeploy } from '../../cli/commands/deploy';
import { ensureDemoSupplyChain } from '../../cli/demo/supply-chain';
import { DeployError } from '../../cli/deploy/errors';
import { deploy, orderStacks, type DeployOptions } from '../../cli/deploy/orchestrator';
import { findPulumiCli } from '../../cli/deploy/pulumi-cli';
import type { DeploymentRecord } from '../../cli/deploy/record';
import { main } from '../../cli/main';
import { createStep, fakeWorkspace, policyViolation } from './support/fake-workspace';

const REPO = path.resolve(__dirname, '..', '..');

/**
 * The orchestrator against a scripted Automation workspace (the Pulumi CLI is not installed here).
 * The pack folder is a copy of the real pack's manifest files with a compiled entry point: the fake
 * workspace never runs it, but the orchestrator's refusal checks read exactly these files.
 */
describe('trustops deploy (orchestrator)', () => {
  let tmp: string;
  let packDir: string;
  let packConfig: string;
  const clock = (): (() => Date) => {
    let t = Date.parse('2026-11-26T01:00:00Z');
    return () => new Date((t += 1000));
  };

  before(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'trustops-deploy-'));
    packDir = path.join(tmp, 'pack');
    mkdirSync(path.join(packDir, 'dist'), { recursive: true });
    copyFileSync(
      path.join(REPO, 'policy-pack', 'PulumiPolicy.yaml'),
      path.join(packDir, 'PulumiPolicy.yaml'),
    );
    copyFileSync(path.join(REPO, 'policy-pack', 'package.json'), path.join(packDir, 'package.json'));
    writeFileSync(path.join(packDir, 'dist', 'index.js'), '"use strict";\n');
    packConfig = path.join(tmp, 'pack-config.json');
    writeFileSync(packConfig, JSON.stringify({ 'trusted-images': { enforcementLevel: 'mandatory' } }));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  function options(overrides: Partial<DeployOptions>): DeployOptions {
    return {
      stacks: ['platform-example', 'apps-example'],
      workDir: REPO,
      packDir,
      packConfig,
      previewOnly: false,
      workspaceFactory: fakeWorkspace({}).factory,
      now: clock(),
      ...overrides,
    };
  }

  describe('refuses to run without the pack', () => {
    it('without --policy-pack, before any stack is touched', async () => {
      const fake = fakeWorkspace({});
      await assert.rejects(
        deploy(options({ packDir: undefined, workspaceFactory: fake.factory })),
        (e: unknown) => e instanceof DeployError && e.code === 'PACK_REQUIRED',
      );
      assert.deepEqual(fake.calls, []);
      assert.deepEqual(fake.workDirs, []);
    });

    it('without --policy-config', async () => {
      const fake = fakeWorkspace({});
      await assert.rejects(
        deploy(options({ packConfig: undefined, workspaceFactory: fake.factory })),
        (e: unknown) => e instanceof DeployError && e.code === 'PACK_CONFIG_REQUIRED',
      );
      assert.deepEqual(fake.calls, []);
    });

    it('with a folder that is not a policy pack', async () => {
      await assert.rejects(
        deploy(options({ packDir: tmp })),
        (e: unknown) => e instanceof DeployError && e.code === 'PACK_REQUIRED',
      );
    });

    it('with a pack that is not built', async () => {
      const unbuilt = path.join(tmp, 'unbuilt');
      mkdirSync(unbuilt, { recursive: true });
      copyFileSync(path.join(packDir, 'PulumiPolicy.yaml'), path.join(unbuilt, 'PulumiPolicy.yaml'));
      copyFileSync(path.join(packDir, 'package.json'), path.join(unbuilt, 'package.json'));
      await assert.rejects(
        deploy(options({ packDir: unbuilt })),
        (e: unknown) => e instanceof DeployError && e.code === 'PACK_NOT_BUILT',
      );
    });

    it('with a config that is not JSON', async () => {
      const bad = path.join(tmp, 'bad.json');
      writeFileSync(bad, 'trusted-images: {');
      await assert.rejects(
        deploy(options({ packConfig: bad })),
        (e: unknown) => e instanceof DeployError && e.code === 'PACK_CONFIG_REQUIRED',
      );
    });

    it('from the command line: exit 2 and nothing run', async () => {
      const code = await main(['node', 'trustops', 'deploy', '--stack', 'platform-example']);
      assert.equal(code, 2);
    });
  });

  it('runs platform before apps whatever the order given, preview before update, with the pack on every call', async () => {
    const fake = fakeWorkspace({});
    const record = await deploy(
      options({ stacks: ['apps-example', 'platform-example'], workspaceFactory: fake.factory }),
    );
    assert.deepEqual(
      fake.calls.map((c) => `${c.stack}:${c.operation}`),
      [
        'platform-example:select',
        'platform-example:preview',
        'platform-example:up',
        'apps-example:select',
        'apps-example:preview',
        'apps-example:up',
      ],
    );
    for (const call of fake.calls.filter((c) => c.operation !== 'select')) {
      assert.deepEqual(call.policyPacks, [packDir]);
      assert.deepEqual(call.policyPackConfigs, [packConfig]);
    }
    assert.equal(record.outcome, 'succeeded');
    assert.deepEqual(
      record.stacks.map((s) => [s.name, s.layer, s.status]),
      [
        ['platform-example', 'platform', 'deployed'],
        ['apps-example', 'apps', 'deployed'],
      ],
    );
  });

  it('rejects a stack that belongs to no layer', () => {
    assert.throws(
      () => orderStacks(['platform-example', 'staging']),
      (e: unknown) => e instanceof DeployError && e.code === 'STACK_UNKNOWN',
    );
  });

  it('stops at the first mandatory violation: no update, later stacks skipped', async () => {
    const cluster = 'urn:pulumi:platform-example::trustops::gcp:container/nodePool:NodePool::batch';
    const fake = fakeWorkspace({
      'platform-example': {
        preview: {
          events: [
            createStep(cluster, 'gcp:container/nodePool:NodePool'),
            policyViolation(
              cluster,
              'gke-confidential-nodes',
              'mandatory',
              'node pool batch runs no confidential nodes',
            ),
          ],
          fail: 'preview failed: 1 mandatory policy violation',
        },
      },
    });
    const record = await deploy(options({ workspaceFactory: fake.factory }));
    assert.deepEqual(
      fake.calls.map((c) => `${c.stack}:${c.operation}`),
      ['platform-example:select', 'platform-example:preview'],
    );
    assert.equal(record.outcome, 'blocked');
    const [platform, apps] = record.stacks;
    assert.equal(platform?.status, 'blocked');
    assert.deepEqual(platform?.violations, [
      {
        policyPack: 'trustops',
        policy: 'gke-confidential-nodes',
        enforcementLevel: 'mandatory',
        urn: cluster,
        message: 'node pool batch runs no confidential nodes',
      },
    ]);
    assert.equal(apps?.status, 'skipped');
  });

  it('exit codes: 1 when a policy blocks a stack, 3 when only a registry could not be read (retry)', async () => {
    const urn = 'urn:pulumi:platform-example::trustops::kubernetes:apps/v1:Deployment::web';
    const blockedWith = (message: string) =>
      fakeWorkspace({
        'platform-example': {
          preview: {
            events: [
              createStep(urn, 'kubernetes:apps/v1:Deployment'),
              policyViolation(urn, 'trusted-images', 'mandatory', message),
            ],
            fail: 'preview failed: 1 mandatory policy violation',
          },
        },
      });
    const run = (message: string) =>
      runDeploy(
        {
          stack: ['platform-example'],
          cwd: REPO,
          policyPack: packDir,
          policyConfig: packConfig,
          record: path.join(tmp, `record-${message.slice(1, 8)}.json`),
        },
        blockedWith(message).factory,
        { write: () => true } as unknown as NodeJS.WritableStream,
      );
    assert.equal(await run('[SIGNATURE_MISSING] web: no signature'), 1);
    assert.equal(await run('[REGISTRY_ERROR] web: registry.example.com unreachable'), 3);
  });

  it('an advisory diagnostic does not stop the rollout but is recorded', async () => {
    const urn = 'urn:pulumi:apps-example::trustops::kubernetes:apps/v1:Deployment::web';
    const fake = fakeWorkspace({
      'apps-example': {
        preview: { events: [policyViolation(urn, 'trusted-images', 'warning', 'exemption in force')] },
      },
    });
    const record = await deploy(options({ workspaceFactory: fake.factory }));
    assert.equal(record.outcome, 'succeeded');
    assert.equal(record.stacks[1]?.violations[0]?.enforcementLevel, 'warning');
  });

  it('stops at the first failure of an update', async () => {
    const fake = fakeWorkspace({ 'platform-example': { up: { fail: 'googleapi: Error 403' } } });
    const record = await deploy(options({ workspaceFactory: fake.factory }));
    assert.equal(record.outcome, 'failed');
    assert.equal(record.stacks[0]?.status, 'failed');
    assert.match(record.stacks[0]?.error ?? '', /403/);
    assert.equal(record.stacks[1]?.status, 'skipped');
    assert.ok(!fake.calls.some((c) => c.stack === 'apps-example'));
  });

  it('--preview-only previews every stack and updates none', async () => {
    const fake = fakeWorkspace({});
    const record = await deploy(options({ previewOnly: true, workspaceFactory: fake.factory }));
    assert.deepEqual(
      fake.calls.filter((c) => c.operation !== 'select').map((c) => `${c.stack}:${c.operation}`),
      ['platform-example:preview', 'apps-example:preview'],
    );
    assert.equal(record.mode, 'preview-only');
    assert.deepEqual(
      record.stacks.map((s) => s.status),
      ['previewed', 'previewed'],
    );
  });

  it('writes a record with stacks, resources, image verdicts, pack version, who and when', async () => {
    const web = 'urn:pulumi:apps-example::trustops::kubernetes:apps/v1:Deployment::web';
    const image = `registry.example.com/acme/web@sha256:${'a'.repeat(64)}`;
    const fake = fakeWorkspace({
      'apps-example': {
        up: {
          events: [
            createStep(web, 'kubernetes:apps/v1:Deployment', {
              spec: { template: { spec: { containers: [{ name: 'web', image }] } } },
            }),
          ],
        },
      },
    });
    const recordFile = path.join(tmp, 'records', 'deploy.json');
    const code = await runDeploy(
      {
        stack: ['apps-example', 'platform-example'],
        cwd: REPO,
        policyPack: packDir,
        policyConfig: packConfig,
        previewOnly: false,
        record: recordFile,
        json: false,
        registryMirror: [],
        insecureRegistry: [],
      },
      fake.factory,
      { write: () => true } as unknown as NodeJS.WritableStream,
    );
    assert.equal(code, 0);
    const record = JSON.parse(readFileSync(recordFile, 'utf8')) as DeploymentRecord;
    assert.equal(record.kind, 'DeploymentRecord');
    assert.equal(record.outcome, 'succeeded');
    const pkg = JSON.parse(readFileSync(path.join(REPO, 'policy-pack', 'package.json'), 'utf8')) as {
      name: string;
      version: string;
    };
    assert.equal(record.pack.name, pkg.name);
    assert.equal(record.pack.version, pkg.version);
    assert.equal(
      record.pack.configSha256,
      createHash('sha256').update(readFileSync(packConfig)).digest('hex'),
    );
    assert.equal(record.who.user, os.userInfo().username);
    assert.ok(Date.parse(record.finishedAt) >= Date.parse(record.startedAt));
    assert.deepEqual(record.stacks[1]?.resources, [
      { urn: web, type: 'kubernetes:apps/v1:Deployment', op: 'create' },
    ]);

    // Image verdicts come from the injected inspector, fed the inputs the engine planned.
    const inspected: unknown[] = [];
    const withImages = await deploy(
      options({
        workspaceFactory: fakeWorkspace({
          'apps-example': {
            preview: {
              events: [
                createStep(web, 'kubernetes:apps/v1:Deployment', {
                  spec: { template: { spec: { containers: [{ name: 'web', image }] } } },
                }),
              ],
            },
          },
        }).factory,
        inspectImages: async (resources) => {
          inspected.push(...resources);
          return resources.length === 0
            ? []
            : [{ image, digest: `sha256:${'a'.repeat(64)}`, allowed: true, resources: [web], findings: [] }];
        },
      }),
    );
    assert.equal(inspected.length, 1);
    assert.deepEqual(
      withImages.stacks[1]?.images.map((i) => [i.image, i.allowed]),
      [[image, true]],
    );
  });

  it('records each image digest with the verdict of the trust policy the pack was given', async () => {
    const demo = await ensureDemoSupplyChain(path.join(tmp, 'demo'));
    const workloadStep = (name: string): ReturnType<typeof createStep> =>
      createStep(
        `urn:pulumi:apps-example::trustops::kubernetes:apps/v1:Deployment::${name}`,
        'kubernetes:apps/v1:Deployment',
        {
          spec: { template: { spec: { containers: [{ name, image: demo.images[name] }] } } },
        },
      );
    const fake = fakeWorkspace({
      'apps-example': { preview: { events: [workloadStep('payments-api'), workloadStep('checkout')] } },
    });
    const recordFile = path.join(tmp, 'records', 'verdicts.json');
    const code = await runDeploy(
      {
        stack: ['apps-example'],
        cwd: REPO,
        policyPack: packDir,
        policyConfig: demo.packConfigFile,
        previewOnly: true,
        record: recordFile,
        json: false,
        registryMirror: [`${demo.host}=oci-layout:${demo.layoutDir}`],
        insecureRegistry: [],
      },
      fake.factory,
      { write: () => true } as unknown as NodeJS.WritableStream,
    );
    assert.equal(code, 0);
    const record = JSON.parse(readFileSync(recordFile, 'utf8')) as DeploymentRecord;
    // The mirror reaches the pack the engine runs: the stacks ran with a config that carries it.
    const ran = fake.calls.find((c) => c.operation === 'preview')?.policyPackConfigs?.[0] ?? '';
    assert.equal(record.pack.config, ran);
    const ranConfig = JSON.parse(readFileSync(ran, 'utf8')) as Record<
      string,
      { registry?: { mirrors?: Record<string, string> } }
    >;
    for (const policy of ['trusted-images', 'images-pinned-by-digest']) {
      assert.equal(ranConfig[policy]?.registry?.mirrors?.[demo.host], `oci-layout:${demo.layoutDir}`);
    }
    const images = record.stacks[0]?.images ?? [];
    const byImage = new Map(images.map((i) => [i.image, i]));
    const payments = byImage.get(demo.images['payments-api']!);
    const checkout = byImage.get(demo.images['checkout']!);
    assert.equal(payments?.allowed, true);
    assert.equal(payments?.digest, demo.images['payments-api']!.split('@')[1]);
    assert.deepEqual(payments?.resources, [
      'urn:pulumi:apps-example::trustops::kubernetes:apps/v1:Deployment::payments-api',
    ]);
    assert.equal(checkout?.allowed, false);
    assert.deepEqual(
      checkout?.findings.map((f) => f.code),
      ['SIGNATURE_MISSING'],
    );
  });

  it('from the command line without a Pulumi CLI: exit 2, nothing run', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'trustops-nopulumi-'));
    const saved = { PATH: process.env['PATH'], HOME: process.env['HOME'] };
    try {
      process.env['PATH'] = path.join(home, 'bin');
      process.env['HOME'] = home;
      const code = await main([
        'node',
        'trustops',
        'deploy',
        '--policy-pack',
        packDir,
        '--policy-config',
        packConfig,
        '--record',
        path.join(home, 'record.json'),
      ]);
      assert.equal(code, 2);
    } finally {
      process.env['PATH'] = saved.PATH;
      process.env['HOME'] = saved.HOME;
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('names the missing Pulumi CLI and how to install it', () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'trustops-home-'));
    try {
      assert.throws(
        () => findPulumiCli({ PATH: path.join(home, 'bin'), HOME: home }),
        (e: unknown) =>
          e instanceof DeployError && e.code === 'PULUMI_CLI_MISSING' && /get\.pulumi\.com/.test(e.message),
      );
      mkdirSync(path.join(home, '.pulumi', 'bin'), { recursive: true });
      writeFileSync(path.join(home, '.pulumi', 'bin', 'pulumi'), '#!/bin/sh\n', { mode: 0o755 });
      assert.equal(findPulumiCli({ PATH: '', HOME: home }), path.join(home, '.pulumi', 'bin', 'pulumi'));
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
