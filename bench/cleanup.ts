/**
 * Cleanup for the long-running bench scripts (ingest.ts, peer.ts): everything registered runs once,
 * newest first, on success, error, timeout or signal, each step bounded in time; tracked child
 * processes get SIGTERM first. `abort` reports why, cleans up and exits; SIGINT/SIGTERM and the
 * overall timeout abort. Rejections nobody handles are ignored once cleanup has started.
 */
import type { ChildProcess } from 'node:child_process';

export interface Cleanup {
  /** Child processes to SIGTERM first when cleaning up (add on fork, delete on exit). */
  readonly children: Set<ChildProcess>;
  /** Registers a step; the returned function unregisters it (the caller has done it early). */
  onCleanup(name: string, fn: () => Promise<void> | void): () => void;
  /** Runs every registered step once (later calls get the same promise). */
  cleanupAll(perStepMs: number): Promise<void>;
  /** True once cleanup has started (after that, failures are the expected consequence). */
  cleaning(): boolean;
  abort(why: string, code: number): Promise<never>;
}

export function createCleanup(opts: {
  progress(msg: string): void;
  /** Per-step bound when aborting. */
  abortStepMs: number;
  /** Overall guard: abort with exit code 1 after this long. */
  timeoutS: number;
  /** Runs first on abort (e.g. silence a half-torn-down service's logger). */
  onAbort?: () => void;
}): Cleanup {
  const { progress } = opts;
  const steps: { name: string; fn: () => Promise<void> | void }[] = [];
  const children = new Set<ChildProcess>();
  let running: Promise<void> | undefined;

  function cleanupAll(perStepMs: number): Promise<void> {
    running ??= (async () => {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      while (steps.length > 0) {
        const { name, fn } = steps.pop()!;
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            fn(),
            new Promise<void>((resolve) => {
              timer = setTimeout(() => {
                progress(`cleanup "${name}" did not finish within ${perStepMs / 1000} s; moving on`);
                resolve();
              }, perStepMs);
            }),
          ]);
        } catch (err) {
          progress(`cleanup "${name}" failed: ${(err as Error).message}`);
        } finally {
          clearTimeout(timer);
        }
      }
    })();
    return running;
  }

  async function abort(why: string, code: number): Promise<never> {
    progress(why);
    opts.onAbort?.();
    const force = setTimeout(() => process.exit(code), 60_000);
    force.unref();
    await cleanupAll(opts.abortStepMs);
    process.exit(code);
  }

  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => void abort(`${sig}: cleaning up`, 130));
  // once cleanup runs, work still in flight fails as its servers go away: that must not kill the
  // process before the remaining steps (temp dirs, child servers) are done; before it, fail as usual
  process.on('unhandledRejection', (err) => {
    if (running) return;
    throw err;
  });
  const guard = setTimeout(() => void abort(`overall timeout: the benchmark did not finish within ${opts.timeoutS} s; aborting`, 1), opts.timeoutS * 1000);
  guard.unref();

  return {
    children,
    onCleanup(name, fn) {
      const entry = { name, fn };
      steps.push(entry);
      return () => {
        const i = steps.indexOf(entry);
        if (i >= 0) steps.splice(i, 1);
      };
    },
    cleanupAll,
    cleaning: () => running !== undefined,
    abort,
  };
}
