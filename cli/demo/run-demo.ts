import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { createImageVerifier } from '../../policy-pack/image-verifier';
import { loadTrustPolicyFile } from '../../policy-pack/supply-chain/trust-policy';
import type { Finding } from '../../policy-pack/supply-chain/types';
import { findingSummary } from '../../policy-pack/supply-chain/verdict-text';
import type { PreviewReport } from '../preview/report';
import { runPreview, type PreviewProgress } from '../preview/run-preview';
import { DEMO_IMAGES, ensureDemoSupplyChain, type DemoImageSpec, type DemoSupplyChain } from './supply-chain';

export const DEMO_STACK = 'demo';

export interface DemoImageResult {
  name: string;
  image: string;
  story: string;
  intended: DemoImageSpec['intended'];
  allowed: boolean;
  findings: Pick<Finding, 'requirement' | 'code' | 'found'>[];
  /** Each finding in one line, as the shared verdict wording reads it (WAIVED under an exemption). */
  summary: string[];
}

/** The `trustops demo --json` document (docs/cli.md). */
export interface DemoReport {
  apiVersion: 'trustops.dev/v1alpha1';
  kind: 'DemoReport';
  supplyChain: Omit<DemoSupplyChain, 'images'>;
  /** The preview command this demo ran, for copying. */
  command: string[];
  images: DemoImageResult[];
  preview: PreviewReport;
}

export interface DemoOptions {
  projectDir: string;
  packDir: string;
  demoDir: string;
  build: boolean;
  log?: (line: string) => void;
  progress?: (event: PreviewProgress) => void;
}

/**
 * The main job: the example program (both layers and a hand-made standard node pool) previewed under
 * the real pack against the embedded demo supply chain, which the registry mirror maps in.
 */
export async function runDemo(options: DemoOptions): Promise<DemoReport> {
  const chain = await ensureDemoSupplyChain(options.demoDir, options.log);
  const mirror = `${chain.host}=oci-layout:${chain.layoutDir}`;
  const workloads = DEMO_IMAGES.map((spec) => ({
    name: spec.name,
    image: chain.images[spec.name],
    replicas: 2,
    containerPort: 8443,
    confidential: spec.confidential,
  }));
  // The demo's stack config (its images, pinned by the digests built here), written where the
  // printed command can use it with --config-file.
  const configFile = path.join(chain.dir, 'stack-config.json');
  writeFileSync(
    configFile,
    JSON.stringify(
      { 'trustops:workloads': workloads, 'trustops:policyPackConfig': chain.packConfigFile },
      null,
      2,
    ) + '\n',
  );
  const config = {
    'trustops:workloads': JSON.stringify(workloads),
    'trustops:policyPackConfig': chain.packConfigFile,
  };
  const command = [
    'trustops',
    'preview',
    '--stack',
    DEMO_STACK,
    '--config-file',
    configFile,
    '--registry-mirror',
    mirror,
  ];
  const preview = await runPreview({
    projectDir: options.projectDir,
    stack: DEMO_STACK,
    packDir: options.packDir,
    policyConfig: chain.packConfigFile,
    build: options.build,
    mirrors: { [chain.host]: `oci-layout:${chain.layoutDir}` },
    configOverrides: config,
    progress: options.progress,
  });

  // The same trust policy and mirror, asked image by image: the verdicts behind the pack's diagnostics.
  const verifier = createImageVerifier({
    policy: loadTrustPolicyFile(chain.trustPolicyFile),
    registry: { mirrors: { [chain.host]: `oci-layout:${chain.layoutDir}` } },
  });
  const images: DemoImageResult[] = [];
  for (const spec of DEMO_IMAGES) {
    const image = chain.images[spec.name]!;
    const verdict = await verifier.verify(image);
    images.push({
      name: spec.name,
      image,
      story: spec.story,
      intended: spec.intended,
      allowed: verdict.allowed,
      findings: verdict.findings.map(({ requirement, code, found }) => ({ requirement, code, found })),
      summary: verdict.findings.map((f) => findingSummary(verdict, f)),
    });
  }
  const { images: _refs, ...supplyChain } = chain;
  return {
    apiVersion: 'trustops.dev/v1alpha1',
    kind: 'DemoReport',
    supplyChain: { ...supplyChain, dir: path.resolve(chain.dir) },
    command,
    images,
    preview,
  };
}
