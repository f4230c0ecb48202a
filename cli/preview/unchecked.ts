import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { RecordedResource } from './recorded-resource';

/**
 * Resources whose workloads an offline preview cannot see. During a real `pulumi preview` the Kubernetes
 * provider expands them (renders the Helm chart, reads the YAML, builds the kustomization) and registers
 * every object it finds, and the pack checks each one. Offline there is no provider: the v2/v4
 * components are remote (provider-implemented) and register nothing; the v1/v3 ones ask the provider
 * (`kubernetes:helm:template`, `kubernetes:yaml:decode`, ...) and get nothing back. Either way their
 * workloads were never checked, so the preview must say so and cannot pass.
 *
 * A chart that is on disk is not rendered either: Helm charts are Go templates with Sprig and Helm's own
 * functions (include, tpl, lookup, required, toYaml), which only Helm itself evaluates faithfully; it
 * runs inside the Kubernetes provider plugin or the helm binary, and neither is part of this CLI.
 */
const EXPANDED_BY_THE_PROVIDER: Readonly<Record<string, string>> = {
  'kubernetes:helm.sh/v4:Chart': 'a Helm chart',
  'kubernetes:helm.sh/v3:Chart': 'a Helm chart',
  'kubernetes:helm.sh/v2:Chart': 'a Helm chart',
  'kubernetes:yaml/v2:ConfigFile': 'a Kubernetes YAML file',
  'kubernetes:yaml/v2:ConfigGroup': 'a group of Kubernetes YAML manifests',
  'kubernetes:yaml:ConfigFile': 'a Kubernetes YAML file',
  'kubernetes:yaml:ConfigGroup': 'a group of Kubernetes YAML manifests',
  'kubernetes:kustomize/v2:Directory': 'a kustomization',
  'kubernetes:kustomize:Directory': 'a kustomization',
};

export interface UncheckedResource {
  urn: string;
  type: string;
  name: string;
  /** Why its workloads were not checked, and what to do. */
  reason: string;
}

export function uncheckedResources(
  resources: readonly RecordedResource[],
  projectDir: string,
): UncheckedResource[] {
  const out: UncheckedResource[] = [];
  for (const r of resources) {
    const what =
      EXPANDED_BY_THE_PROVIDER[r.type] ?? (r.remote ? `a component implemented by its provider` : undefined);
    if (!what) continue;
    out.push({ urn: r.urn, type: r.type, name: r.name, reason: reasonFor(what, r, projectDir) });
  }
  return out;
}

function reasonFor(what: string, r: RecordedResource, projectDir: string): string {
  const p = r.properties;
  const described = r.type.includes(':helm.sh/') ? `${what} (${chartName(p, projectDir)})` : what;
  const local = r.type.includes(':helm.sh/') ? localChart(p, projectDir) : undefined;
  const base =
    `${described}: its objects are rendered by the Kubernetes provider during a real \`pulumi preview\`; ` +
    'offline they were not expanded, so their workloads and images were not checked';
  return local
    ? `${base}. The chart is local (${local}), but only Helm's own template engine (in the provider plugin or the helm binary) renders it faithfully`
    : base;
}

function chartName(p: Record<string, unknown>, projectDir: string): string {
  const chart = typeof p['chart'] === 'string' ? p['chart'] : 'chart unknown';
  const version = typeof p['version'] === 'string' ? ` ${p['version']}` : '';
  const repoOpts = p['repositoryOpts'] ?? p['fetchOpts'];
  const repo =
    repoOpts && typeof repoOpts === 'object' && typeof (repoOpts as { repo?: unknown }).repo === 'string'
      ? ` from ${(repoOpts as { repo: string }).repo}`
      : '';
  return localChart(p, projectDir) ? `chart ${chart}` : `chart ${chart}${version}${repo}`;
}

/** The chart's folder or .tgz when it is on disk (a path, as Helm accepts it). */
function localChart(p: Record<string, unknown>, projectDir: string): string | undefined {
  const chart =
    typeof p['chart'] === 'string' ? p['chart'] : typeof p['path'] === 'string' ? p['path'] : undefined;
  if (!chart || /^[a-z][a-z0-9+.-]*:\/\//i.test(chart)) return undefined;
  const looksLikePath = chart.startsWith('.') || chart.startsWith('/') || chart.endsWith('.tgz');
  const abs = path.resolve(projectDir, chart);
  return looksLikePath || existsSync(abs) ? chart : undefined;
}
