// The banner of a run's warnings on its page: how many, each message with the paths of
// the tasks that have it, a path selecting its task. Shown only when there are some.

import { useId, useState } from "react";

import type { Task, TaskOutline } from "../api/types";
import { runWarnings, warningCount, type WarningGroup } from "./warnings";

// Task paths shown per message before "N more" (a loop of 1,000 iterations may share one).
const SHOWN_TASKS = 5;

export function RunWarnings({
  tasks,
  outline,
  selected,
  onSelect,
}: {
  tasks: Task[];
  /** A big run's outline: its tasks inside loop iterations are not all among `tasks`. */
  outline?: TaskOutline;
  selected: string | undefined;
  onSelect: (taskId: string) => void;
}) {
  const { count, groups } = runWarnings(tasks);
  const listed = tasks.filter((t) => t.warnings?.length).length;
  const unlisted = outline && !outline.complete ? Math.max(0, (outline.warned ?? 0) - listed) : 0;
  const titleId = useId();
  const listId = useId();
  const [open, setOpen] = useState(true);
  if (!count) return null;
  return (
    <section className="dy-warnings" aria-labelledby={titleId} data-testid="run-warnings">
      <header>
        <h2 id={titleId}>
          <span aria-hidden="true">⚠</span> {warningCount(count)}
        </h2>
        <span className="dy-warnings-why">
          Settings the tasks asked for that were recorded but not honoured here.
        </span>
        <button
          type="button"
          className="dy-link"
          aria-expanded={open}
          aria-controls={listId}
          onClick={() => setOpen(!open)}
        >
          {open ? "Hide" : "Show"}
        </button>
      </header>
      {unlisted > 0 && (
        <p className="dy-warnings-why" data-testid="warnings-unlisted">
          {listed} of the {listed + unlisted} tasks with warnings are listed; the others are inside loop iterations
          (expand one in the graph to list its tasks).
        </p>
      )}
      <ul id={listId} hidden={!open}>
        {groups.map((group) => (
          <Group key={group.message} group={group} selected={selected} onSelect={onSelect} />
        ))}
      </ul>
    </section>
  );
}

function Group({
  group,
  selected,
  onSelect,
}: {
  group: WarningGroup;
  selected: string | undefined;
  onSelect: (taskId: string) => void;
}) {
  const [all, setAll] = useState(false);
  const shown = all ? group.tasks : group.tasks.slice(0, SHOWN_TASKS);
  const more = group.tasks.length - shown.length;
  return (
    <li>
      <span className="dy-warning-tasks">
        {shown.map((t) => (
          <button
            key={t.task_id}
            type="button"
            className="dy-link"
            title={`Select task ${t.path}`}
            aria-current={t.task_id === selected ? "true" : undefined}
            onClick={() => onSelect(t.task_id)}
          >
            {t.path}
          </button>
        ))}
        {more > 0 && (
          <button type="button" className="dy-link dy-muted" onClick={() => setAll(true)}>
            {more} more
          </button>
        )}
      </span>
      <span className="dy-warning-message">{group.message}</span>
    </li>
  );
}
