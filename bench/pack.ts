/**
 * Policy pack bench (issue 5). One run: the compiled pack started the way the Pulumi CLI starts it,
 * configured with a trust policy, then 5,000 workload resources over 100 distinct images sent over the
 * real protocol in the engine's order: the step generator calls Remediate then Analyze for one resource
 * at a time (pkg/resource/deploy/step_generator.go), so the main pass is sequential. A second pass on a
 * fresh pack sends the same resources 32 in flight (Analyze only) to show the pack's own throughput.
 * Every image is real: pushed to the test-bed registry with signature, SBOM, provenance and two rebuild
 * VSAs signed by the real Sigstore libraries.
 *
 * coldStartMs: spawn to the first answer (GetAnalyzerInfo), median of 3 fresh starts.
 * seconds: wall time of the 5,000 Remediate+Analyze pairs after Configure (engine order).
 * registryRequests: HTTP requests that reached the registry during those calls, counted by a loopback
 * proxy the pack uses as the registry's mirror. requestsForOneImage is the same count for one image in
 * a fresh pack, so "100 images' worth" is 100 x that.
 * protocolFloorSeconds: the engine-order pass again on a fresh pack, with resources no policy inspects:
 * the cost of the harness (a Node gRPC client, far dearer per call than the Go engine) and of
 * @pulumi/policy's server, which `seconds` contains whatever the policies do.
 * The last line printed is one JSON object.
 * Diagnosis: BENCH_PROFILE_DIR=dir writes the measured packs' V8 CPU profiles there; BENCH_TRACE=1 logs
 * each registry request with a millisecond clock to stderr; BENCH_IMAGES/BENCH_RESOURCES shrink a run.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { startAnalyzer, type AnalyzerSession, type ResourceInput } from '../cli/analyzer';
import { buildPackConfig, type PackConfig } from '../policy-pack/config';
import type { TrustPolicy } from '../policy-pack/supply-chain/types';
import {
  happyEvidence,
  publish,
  RELEASE,
  SLSA_V1,
  startWorld,
  VSA_V1,
  vsa,
  type Evidence,
} from '../test/supply-chain/support/world';

const PACK_DIR = path.resolve(__dirname, '../policy-pack');
const IMAGES = Number(process.env.BENCH_IMAGES ?? 100);
const RESOURCES = Number(process.env.BENCH_RESOURCES ?? 5000);
const CONCURRENT_IN_FLIGHT = 32;

function compliantEvidence(): Evidence {
  const e = happyEvidence();
  const attestations = e.attestations.filter((a) => !(a.predicateType === SLSA_V1 && a.signer !== RELEASE));
  attestations.push({ predicateType: VSA_V1, predicate: vsa(), signer: { key: 'rebuilderC' } });
  return { ...e, attestations };
}

/**
 * A counting TCP relay to the registry: what the pack asks of the registry, request by request. It
 * relays bytes and reads only the request heads (request line, Content-Length) to count HTTP/1.1
 * requests, so the instrument costs the measured run little: an HTTP proxy parsing and re-sending every
 * request and response cost ~0.8 ms of CPU per request on the 2 cores the pack and registry share.
 */
async function countingProxy(
  targetPort: number,
): Promise<{ url: string; count: () => number; close: () => Promise<void> }> {
  let requests = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    // As Node's HTTP server and agents do: Nagle's delay on small request/response writes costs ~40 ms.
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const counter = new RequestCounter((line) => {
      requests++;
      if (process.env.BENCH_TRACE) process.stderr.write(`${Date.now() % 100000} ${line}\n`);
    });
    client.on('data', (chunk: Buffer) => {
      counter.feed(chunk);
      upstream.write(chunk);
    });
    upstream.pipe(client);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('end', () => upstream.end());
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    count: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Counts the HTTP/1.1 requests in a client's byte stream: a head up to CRLFCRLF, then Content-Length bytes. */
class RequestCounter {
  private head = '';
  private bodyLeft = 0;
  constructor(private readonly onRequest: (requestLine: string) => void) {}

  feed(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.bodyLeft > 0) {
        const n = Math.min(this.bodyLeft, chunk.length - at);
        this.bodyLeft -= n;
        at += n;
        continue;
      }
      const text = chunk.toString('latin1', at);
      const joined = this.head + text;
      const endOfHead = joined.indexOf('\r\n\r\n');
      if (endOfHead < 0) {
        this.head = joined;
        return;
      }
      const head = joined.slice(0, endOfHead);
      at += endOfHead + 4 - this.head.length;
      this.head = '';
      const eol = head.indexOf('\r\n');
      this.onRequest(eol < 0 ? head : head.slice(0, eol));
      // The pack only reads (GET/HEAD); a chunked body would desynchronise the count, so refuse it loudly.
      if (/\r\ntransfer-encoding:/i.test(head)) throw new Error('bench proxy: a chunked request body');
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      this.bodyLeft = length ? Number(length[1]) : 0;
    }
  }
}

function workload(
  i: number,
  image: string,
): { type: string; name: string; properties: Record<string, unknown> } {
  return {
    type: 'kubernetes:apps/v1:Deployment',
    name: `app-${i}`,
    properties: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: `app-${i}` },
      spec: {
        template: {
          metadata: { labels: { app: `app-${i}` } },
          spec: { containers: [{ name: 'app', image }] },
        },
      },
    },
  };
}

/**
 * A resource every policy of the pack looks at and lets through without work (no workload, no GKE
 * type): Remediate+Analyze of these in engine order is the floor the harness and @pulumi/policy's gRPC
 * server set, whatever the policies do.
 */
function inertResource(i: number): ResourceInput {
  return {
    type: 'random:index/randomString:RandomString',
    name: `inert-${i}`,
    properties: { length: 16, special: false },
  };
}

/** CPU seconds (user + system) a process has used: a load-independent cost next to wall time. */
function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of stat, in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** BENCH_PROFILE_DIR=dir: the measured passes' packs write V8 CPU profiles there (cold starts do not). */
function profileArgs(): string[] {
  const dir = process.env.BENCH_PROFILE_DIR;
  if (!dir) return [];
  return [
    '--cpu-prof',
    `--cpu-prof-dir=${path.resolve(dir)}`,
    '-r',
    path.join(__dirname, 'exit-on-sigterm.cjs'),
  ];
}

async function timedStart(nodeArgs: string[] = []): Promise<{ ms: number; analyzer: AnalyzerSession }> {
  const t0 = process.hrtime.bigint();
  const analyzer = await startAnalyzer({ packDir: PACK_DIR, nodeArgs });
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, analyzer };
}

interface PassResult {
  seconds: number;
  firstPassSeconds: number;
  packCpuSeconds: number;
  clientCpuSeconds: number;
  registryRequests: number;
}

/** One pass over all resources on a fresh pack: `inFlight` at a time; `engineOrder` adds Remediate first. */
async function pass(
  analyzers: AnalyzerSession[],
  config: PackConfig,
  refs: string[],
  proxy: { count: () => number },
  inFlight: number,
  engineOrder: boolean,
  resourceAt: (i: number, image: string) => ResourceInput = workload,
): Promise<PassResult> {
  const { analyzer } = await timedStart(profileArgs());
  analyzers.push(analyzer);
  await analyzer.configure(config);
  const before = proxy.count();
  let next = 0;
  let done = 0;
  let violations = 0;
  let firstPassSeconds = NaN;
  const packCpuBefore = cpuSeconds(analyzer.pid);
  const clientCpuBefore = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < RESOURCES) {
        const i = next++;
        // Encoded once per resource: the engine marshals in Go, at a cost that is not the pack's.
        const resource = analyzer.prepare(resourceAt(i, refs[i % refs.length]!));
        if (engineOrder) {
          const rem = await analyzer.remediate(resource);
          violations += rem.remediations.length;
        }
        const r = await analyzer.analyze(resource);
        violations += r.diagnostics.length;
        // Once every image has been seen (and verified) once, the rest is cached.
        if (++done === refs.length) firstPassSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const packCpuSeconds = cpuSeconds(analyzer.pid) - packCpuBefore;
  const clientCpu = process.cpuUsage(clientCpuBefore);
  // The harness plays the engine: its CPU is what the Go engine would spend, not the pack's.
  const clientCpuSeconds = (clientCpu.user + clientCpu.system) / 1e6;
  const registryRequests = proxy.count() - before;
  if (violations > 0) throw new Error(`${violations} diagnostics or remediations on compliant workloads`);
  await analyzer.close();
  analyzers.splice(analyzers.indexOf(analyzer), 1);
  return { seconds, firstPassSeconds, packCpuSeconds, clientCpuSeconds, registryRequests };
}

async function main(): Promise<void> {
  const world = await startWorld();
  const proxy = await countingProxy(world.registry.port);
  const analyzers: AnalyzerSession[] = [];
  try {
    process.stderr.write(`bench:pack: publishing ${IMAGES + 1} signed images...\n`);
    const refs: string[] = [];
    for (let i = 0; i < IMAGES + 1; i++)
      refs.push((await publish(world, 'referrer', compliantEvidence(), { repo: `acme/app${i}` })).ref);
    const spare = refs.pop()!;
    const trustPolicy = parseYaml(
      world.policyYaml({ extra: 'trustedRoot:\n  file: ./trusted_root.json\n' }),
    ) as TrustPolicy;
    const config: PackConfig = buildPackConfig({
      trustPolicy,
      trustPolicyBaseDir: world.dir,
      allowedPrefixes: [world.registry.host],
      registry: { mirrors: { [world.registry.host]: proxy.url } },
    });

    const starts: number[] = [];
    for (let i = 0; i < 3; i++) {
      const s = await timedStart();
      starts.push(s.ms);
      analyzers.push(s.analyzer);
    }
    const coldStartMs = Math.round([...starts].sort((a, b) => a - b)[1]!);
    await Promise.all(analyzers.splice(1).map((a) => a.close()));

    // One image's worth of registry requests, in a fresh pack.
    const single = analyzers[0]!;
    await single.configure(config);
    const beforeOne = proxy.count();
    const one = await single.analyze(workload(0, spare));
    const requestsForOneImage = proxy.count() - beforeOne;
    if (one.diagnostics.length)
      throw new Error(`the spare image did not pass: ${one.diagnostics.map((d) => d.message).join('\n')}`);
    await single.close();
    analyzers.pop();

    const engineOrder = await pass(analyzers, config, refs, proxy, 1, true);
    const concurrent = await pass(analyzers, config, refs, proxy, CONCURRENT_IN_FLIGHT, false);
    // The same calls for resources no policy of the pack inspects: what the protocol itself costs here.
    const floor = await pass(analyzers, config, refs, proxy, 1, true, inertResource);
    const { seconds, firstPassSeconds, packCpuSeconds, clientCpuSeconds, registryRequests } = engineOrder;
    const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
    process.stderr.write(
      `bench:pack: cold starts ${starts.map((m) => Math.round(m)).join(', ')} ms; ${RESOURCES} resources over ${refs.length} images in ${seconds.toFixed(2)} s in engine order, ${concurrent.seconds.toFixed(2)} s with ${CONCURRENT_IN_FLIGHT} in flight (first ${refs.length} in ${firstPassSeconds.toFixed(2)} s; pack CPU ${packCpuSeconds.toFixed(2)} s; harness CPU ${clientCpuSeconds.toFixed(2)} s; load average ${load}); protocol floor ${floor.seconds.toFixed(2)} s; ${registryRequests} registry requests (${requestsForOneImage} for one image)\n`,
    );
    console.log(
      JSON.stringify({
        coldStartMs,
        resources: RESOURCES,
        images: refs.length,
        seconds: Number(seconds.toFixed(3)),
        registryRequests,
        requestsForOneImage,
        firstPassSeconds: Number(firstPassSeconds.toFixed(3)),
        packCpuSeconds: Number(packCpuSeconds.toFixed(2)),
        harnessCpuSeconds: Number(clientCpuSeconds.toFixed(2)),
        secondsConcurrent: Number(concurrent.seconds.toFixed(3)),
        protocolFloorSeconds: Number(floor.seconds.toFixed(3)),
      }),
    );
  } finally {
    await Promise.all(analyzers.map((a) => a.close()));
    await proxy.close();
    await world.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
