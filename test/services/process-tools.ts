/**
 * Process plumbing shared by the throwaway servers (local-services.ts) and the service-as-a-child
 * helper (test/helpers/platform-process.ts): signalling a process group, waiting for an exit with a
 * SIGKILL fallback, and detached watchdog shells that act when this process dies (however it dies).
 */
import { spawn, type ChildProcess } from 'node:child_process';

export const exited = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null;

/** `signal` to the child's process group (the child itself if it has none); no-op once it exited. */
export function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || exited(child)) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

/** Resolves true once the child has exited, false after `ms`. */
export async function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (exited(child)) return true;
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, ms);
    const onExit = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

/** After a stop signal: waits `graceMs` for the exit, else SIGKILLs the group and waits `killWaitMs`. */
export async function exitOrKill(child: ChildProcess, graceMs: number, killWaitMs: number): Promise<void> {
  if (await waitForExit(child, graceMs)) return;
  signalGroup(child, 'SIGKILL');
  await waitForExit(child, killWaitMs);
}

/** SIGKILL to whatever is left in process group `pid` (e.g. backends outliving their postmaster). */
export function killGroupRemnants(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* group already empty */
  }
}

/**
 * Detached `sh -c script label ...args` blocked reading a pipe from us (the script starts with
 * `read`): when this process dies, by any means including SIGKILL, the pipe hits EOF and the script
 * runs on. Kill the watchdog (killWatchdog) on a normal stop so it does nothing.
 */
export function spawnShellWatchdog(label: string, script: string, args: string[]): ChildProcess | undefined {
  try {
    const wd = spawn('/bin/sh', ['-c', script, label, ...args], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    wd.on('error', () => undefined);
    wd.stdin?.on('error', () => undefined);
    wd.unref();
    // keep the pipe open but don't let it keep the event loop alive
    (wd.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    return wd;
  } catch {
    return undefined;
  }
}

export function killWatchdog(wd: ChildProcess | undefined): void {
  if (wd?.pid === undefined) return;
  try {
    process.kill(wd.pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}
