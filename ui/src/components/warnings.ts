// A run's warnings, read from its tasks: what a task asked for that was recorded but not
// honoured here. The API gives the same list as the run's `warnings` (one per task and
// message); the UI reads the tasks it already polls, so the list follows a live run.

import type { Task } from "../api/types";

export interface WarnedTask {
  task_id: string;
  path: string;
}

/** One message and every task that has it (a loop's iterations often share one). */
export interface WarningGroup {
  message: string;
  tasks: WarnedTask[];
}

export interface RunWarnings {
  /** Warnings in all: one per task and message, as the API counts them. */
  count: number;
  /** In the order of the tasks that first give each message. */
  groups: WarningGroup[];
}

export function runWarnings(tasks: Task[]): RunWarnings {
  const groups = new Map<string, WarningGroup>();
  let count = 0;
  for (const task of tasks) {
    for (const message of new Set(task.warnings ?? [])) {
      count += 1;
      const group = groups.get(message) ?? { message, tasks: [] };
      group.tasks.push({ task_id: task.task_id, path: task.path });
      groups.set(message, group);
    }
  }
  return { count, groups: [...groups.values()] };
}

/** "1 warning", "3 warnings". */
export function warningCount(n: number): string {
  return `${n} warning${n === 1 ? "" : "s"}`;
}
