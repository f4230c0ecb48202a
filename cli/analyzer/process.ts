import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AnalyzerError } from './errors';

/** A started pack process and the port it serves on. */
export interface PackProcess {
  child: ChildProcess;
  port: number;
  /** Everything the pack wrote to stderr so far (last 64 KiB): shown in errors. */
  stderr(): string;
  /** Kills the process (TERM, then KILL after a grace period) and waits for its exit. Idempotent. */
  kill(): Promise<void>;
}

export interface SpawnPackOptions {
  packDir: string;
  /** Address the engine would pass; run-policy-pack drops it and the pack never calls back. */
  engineAddress: string;
  env?: Record<string, string>;
  /** Extra node flags for the pack process (`--cpu-prof`, `--max-old-space-size=...`). */
  nodeArgs?: string[];
  startTimeoutMs: number;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Last resort: a harness that exits without close() still takes its packs down with it. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

/** The run-policy-pack the Pulumi CLI would use: the pack's own @pulumi/pulumi (node resolution from the pack). */
export function runPolicyPackEntry(packDir: string): string {
  try {
    return require.resolve('@pulumi/pulumi/cmd/run-policy-pack', { paths: [packDir] });
  } catch (cause) {
    throw new AnalyzerError(
      'PACK_NOT_FOUND',
      `no @pulumi/pulumi reachable from ${packDir}: expected node_modules/@pulumi/pulumi/cmd/run-policy-pack; run npm install in the pack`,
      { cause },
    );
  }
}

/** Starts `node <@pulumi/pulumi>/cmd/run-policy-pack <engine> <packDir>` with cwd = packDir and waits for its port. */
export async function spawnPack(opts: SpawnPackOptions): Promise<PackProcess> {
  const packDir = path.resolve(opts.packDir);
  if (!fs.existsSync(path.join(packDir, 'package.json')) && !fs.existsSync(path.join(packDir, 'index.js'))) {
    throw new AnalyzerError(
      'PACK_NOT_FOUND',
      `${packDir} holds no policy pack (no package.json or index.js)`,
    );
  }
  const entry = runPolicyPackEntry(packDir);
  installExitHook();
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), entry, opts.engineAddress, packDir], {
    cwd: packDir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env },
  });
  live.add(child);
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-65536);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => live.delete(child));

  let killing: Promise<void> | undefined;
  const kill = (): Promise<void> => {
    killing ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(timer);
      }
      live.delete(child);
    })();
    return killing;
  };

  try {
    const port = await readPort(child, () => err, opts.startTimeoutMs);
    return { child, port, stderr: () => err, kill };
  } catch (e) {
    await kill();
    throw e;
  }
}

function readPort(child: ChildProcess, stderr: () => string, timeoutMs: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let out = '';
    const cleanup = (): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
    };
    const onData = (d: Buffer): void => {
      out += d.toString();
      const newline = out.indexOf('\n');
      if (newline < 0) return;
      cleanup();
      const first = out.slice(0, newline).trim();
      const port = Number(first);
      if (!/^\d+$/.test(first) || port <= 0 || port > 65535) {
        reject(
          new AnalyzerError(
            'START_FAILED',
            `the pack printed ${JSON.stringify(first)} instead of a port\n${stderr()}`,
          ),
        );
      } else {
        // Keep draining stdout so a chatty pack never blocks on a full pipe.
        child.stdout?.resume();
        resolve(port);
      }
    };
    const onExit = (code: number | null, signal: string | null): void => {
      cleanup();
      reject(
        new AnalyzerError('START_FAILED', `the pack exited (${signal ?? code}) before serving:\n${stderr()}`),
      );
    };
    const onError = (e: Error): void => {
      cleanup();
      reject(new AnalyzerError('START_FAILED', `cannot start the pack: ${e.message}`, { cause: e }));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(
        new AnalyzerError('START_TIMEOUT', `the pack printed no port within ${timeoutMs} ms:\n${stderr()}`),
      );
    }, timeoutMs);
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}
