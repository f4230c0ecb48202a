/**
 * Registry layer bench (issue 3). One run, one image referenced by digest that carries a cosign
 * signature and 4 cosign attestations, and the same evidence as 5 Sigstore bundles behind the
 * referrers tag-schema fallback (distribution 2.8 has no referrers API).
 *
 * Counts: HTTP requests `attachments()` sends for each format (matched one by one against the floor list) once the image is resolved (the subject
 * manifest is read by resolve(), which every verification does first) and once the client knows the
 * registry has no referrers API (learned once per registry per run: `referrersApiProbesPerRegistry`).
 * Time: ours (a fresh client per iteration) over a floor of exactly the same HTTP requests sent one
 * after another on one keep-alive connection with nothing else done, interleaved in the same run.
 * The last line printed is one JSON object.
 */
import * as http from 'node:http';
import * as os from 'node:os';
import { digestTag } from '../cli/oci/attach';
import { RegistryPusher } from '../cli/oci/push';
import { createRegistryClient } from '../policy-pack/registry/client';
import { MANIFEST_ACCEPT } from '../policy-pack/registry/media-types';
import { parseReference } from '../policy-pack/registry/reference';
import type { RegistryClient } from '../policy-pack/registry/types';
import { startRegistry } from '../test/support/registry';
import { rawManifest } from '../test/support/raw-distribution';
import { pushSignedImage } from '../test/registry/support/signed-image';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200);
const WARMUP = 30;
const REPO = 'bench/app';

const anonymous = { lookup: () => Promise.resolve(undefined) };

interface Layered {
  layers: { digest: string }[];
}
interface Listed {
  manifests: { digest: string }[];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

/** One bare GET: send, read the body, nothing else. */
function bareGet(agent: http.Agent, url: string, accept?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, headers: accept ? { accept } : {} }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () =>
        res.statusCode === 200 ? resolve() : reject(new Error(`${url}: ${res.statusCode}`)),
      );
    });
    req.on('error', reject);
  });
}

async function main(): Promise<void> {
  const registry = await startRegistry();
  try {
    const pusher = new RegistryPusher(registry.url);
    const signed = await pushSignedImage(pusher, {
      repo: REPO,
      seed: 'bench',
      name: `${registry.host}/${REPO}`,
      cosignSignatures: 1,
      cosignAttestations: 4,
      bundles: 5,
    });
    // A second image of the same shape on the same registry, read first (untimed): it teaches the client that
    // the registry has no referrers API and leaves the client's keep-alive connections open, as they are
    // in a pack run after its first image. The floor likewise starts on an open connection.
    const warm = await pushSignedImage(pusher, {
      repo: REPO,
      seed: 'bench-warm',
      name: `${registry.host}/${REPO}`,
      tag: 'warm',
      cosignSignatures: 1,
      cosignAttestations: 4,
      bundles: 5,
    });
    const digest = signed.descriptor.digest;
    const ref = parseReference(`${registry.host}/${REPO}@${digest}`);
    const warmRef = parseReference(`${registry.host}/${REPO}@${warm.descriptor.digest}`);

    // The floor's request list, read by plain HTTP from the registry.
    const base = `${registry.url}/v2/${REPO}`;
    const sig = await rawManifest(registry.url, REPO, digestTag(digest, '.sig'));
    const att = await rawManifest(registry.url, REPO, digestTag(digest, '.att'));
    const fallback = await rawManifest(registry.url, REPO, digestTag(digest));
    const referrers = (JSON.parse(fallback.bytes.toString()) as Listed).manifests.map((m) => m.digest);
    const bundleLayers: string[] = [];
    for (const r of referrers) {
      const m = await rawManifest(registry.url, REPO, r);
      bundleLayers.push(...(JSON.parse(m.bytes.toString()) as Layered).layers.map((l) => l.digest));
    }
    const cosignRequests: [string, string?][] = [
      [`${base}/manifests/${digestTag(digest, '.sig')}`, MANIFEST_ACCEPT],
      ...(JSON.parse(sig.bytes.toString()) as Layered).layers.map((l): [string] => [
        `${base}/blobs/${l.digest}`,
      ]),
      [`${base}/manifests/${digestTag(digest, '.att')}`, MANIFEST_ACCEPT],
      ...(JSON.parse(att.bytes.toString()) as Layered).layers.map((l): [string] => [
        `${base}/blobs/${l.digest}`,
      ]),
    ];
    const bundleRequests: [string, string?][] = [
      [`${base}/manifests/${digestTag(digest)}`, MANIFEST_ACCEPT],
      ...referrers.map((r): [string, string] => [`${base}/manifests/${r}`, MANIFEST_ACCEPT]),
      ...bundleLayers.map((d): [string] => [`${base}/blobs/${d}`]),
    ];

    /**
     * Our side: a fresh client (empty caches) looking for both formats at once, as the pack does; the
     * image is resolved and the registry's lack of a referrers API learned (on another image) before the
     * timed part. Every request it sends is matched against the floor's list, which gives the per-format
     * counts and proves it sent nothing else.
     */
    const cosignUrls = new Set(cosignRequests.map(([u]) => new URL(u).pathname));
    const bundleUrls = new Set(bundleRequests.map(([u]) => new URL(u).pathname));
    const ours = async (): Promise<{
      ms: number;
      cosign: number;
      bundle: number;
      other: string[];
      probes: number;
      found: number[];
    }> => {
      const paths: string[] = [];
      const client: RegistryClient = createRegistryClient({
        credentials: anonymous,
        discovery: { cosignTags: ['sig', 'att'], referrers: true },
        log: (e) => {
          if (e.event === 'request' && e.path) paths.push(e.path);
        },
      });
      try {
        await client.resolve(ref);
        await client.attachments(warmRef, warm.descriptor.digest);
        const probes = paths.filter((p) => p.includes('/referrers/')).length;
        paths.length = 0;
        const t0 = process.hrtime.bigint();
        const found = await client.attachments(ref, digest);
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        return {
          ms,
          cosign: paths.filter((p) => cosignUrls.has(p)).length,
          bundle: paths.filter((p) => bundleUrls.has(p)).length,
          other: paths.filter((p) => !cosignUrls.has(p) && !bundleUrls.has(p)),
          probes,
          found: [found.signatures.length, found.attestations.length, found.bundles.length],
        };
      } finally {
        client.close();
      }
    };

    /** The floor: exactly those requests, in sequence, one warm keep-alive connection, no checks. */
    const floor = async (): Promise<number> => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        await bareGet(agent, `${base}/manifests/${digest}`, MANIFEST_ACCEPT); // the resolve, untimed, as ours
        const t0 = process.hrtime.bigint();
        for (const [url, accept] of [...cosignRequests, ...bundleRequests]) await bareGet(agent, url, accept);
        return Number(process.hrtime.bigint() - t0) / 1e6;
      } finally {
        agent.destroy();
      }
    };

    for (let i = 0; i < WARMUP; i++) {
      await ours();
      await floor();
    }
    const ourTimes: number[] = [];
    const floorTimes: number[] = [];
    let last: Awaited<ReturnType<typeof ours>> | undefined;
    for (let i = 0; i < ITERATIONS; i++) {
      // Alternate which side goes first so drift and GC hit both alike.
      if (i % 2 === 0) {
        last = await ours();
        floorTimes.push(await floor());
      } else {
        floorTimes.push(await floor());
        last = await ours();
      }
      ourTimes.push(last.ms);
    }
    if (!last) throw new Error('no iterations');
    const [sigs, atts, bundles] = last.found;
    if (sigs !== 1 || atts !== 4 || bundles !== 5)
      throw new Error(`bench image not read fully: ${last.found.join(',')}`);
    // Each iteration measures both sides back to back, so their ratio is also reported pairwise: on a
    // shared, busy machine that cancels most of the drift between iterations.
    const pairedRatio = median(ourTimes.map((t, i) => t / (floorTimes[i] ?? NaN)));
    const oursMs = median(ourTimes);
    const floorMs = median(floorTimes);
    console.log(
      `registry bench: ${ITERATIONS} iterations, ${cosignRequests.length + bundleRequests.length} floor requests each`,
    );
    console.log(
      `  ours  median ${oursMs.toFixed(3)} ms (attachments(): cosign tags and referrers, concurrently)`,
    );
    console.log(`  floor median ${floorMs.toFixed(3)} ms (bare sequential GETs)`);
    console.log(
      JSON.stringify({
        requestsCosignFormat: last.cosign,
        requestsBundleFormat: last.bundle,
        ratioToFloor: Number((oursMs / floorMs).toFixed(3)),
        pairedRatioMedian: Number(pairedRatio.toFixed(3)),
        oursMedianMs: Number(oursMs.toFixed(3)),
        floorMedianMs: Number(floorMs.toFixed(3)),
        floorRequests: cosignRequests.length + bundleRequests.length,
        referrersApiProbesPerRegistry: last.probes,
        iterations: ITERATIONS,
        loadAverage1m: Number(os.loadavg()[0]?.toFixed(2)),
        cpus: os.cpus().length,
      }),
    );
  } finally {
    await registry.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
