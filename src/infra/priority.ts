import fs from 'node:fs';
import os from 'node:os';

/**
 * Sets the CPU priority (nice value) of every thread of process `pid`. On Linux a nice value
 * belongs to a thread, not a process: `os.setPriority(pid)` alone changes only the main thread,
 * and the runtime's other threads (libuv's pool, the Temporal SDK's core, Go's) keep theirs.
 * Threads started later inherit from the thread that starts them. Throws when not permitted
 * (raising a priority needs root or CAP_SYS_NICE).
 */
export function setProcessPriority(pid: number, priority: number): void {
  os.setPriority(pid, priority);
  let tasks: string[];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return; // not Linux, or already exited
  }
  for (const tid of tasks) {
    try {
      os.setPriority(Number(tid), priority);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err; // that thread ended meanwhile
    }
  }
}

/**
 * The priorities the benchmarks showed matter on a shared host (README, "Benchmarks"): the API
 * (the acknowledgement path) ahead of the worker, Temporal and PostgreSQL, so a request does not
 * wait for CPU behind a burst of workflow activations. Raises the API to -10 where permitted
 * (root), otherwise lowers the others to +10: the same order either way. Returns what it did.
 */
export function prioritizeApi(pids: { api: number; others: number[] }): string {
  try {
    setProcessPriority(pids.api, -10);
    return 'the API runs at CPU priority -10, the worker, Temporal and PostgreSQL at 0';
  } catch {
    const lowered: number[] = [];
    for (const pid of pids.others.flatMap((p) => [p, ...childrenOf(p)])) {
      try {
        setProcessPriority(pid, 10);
        lowered.push(pid);
      } catch {
        // gone or not ours: left as it is
      }
    }
    return lowered.length
      ? 'the API runs at CPU priority 0, the worker, Temporal and PostgreSQL at 10 (raising the API needs root)'
      : 'all processes run at the same CPU priority (changing them was not permitted)';
  }
}

/** The direct children of `pid` (PostgreSQL's backends and helpers), from /proc on Linux. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return out;
  }
  for (const e of entries) {
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(e));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}
