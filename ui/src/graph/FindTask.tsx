// The run graph's find box: type part of a task's name or path, pick one of the matches
// (arrows and Enter, or the mouse), and the graph shows that task (RunGraph expands what
// encloses it, zooms to it and selects it).

import { useId, useMemo, useState, type KeyboardEvent } from "react";
import { naturalCompare } from "./order";
import { stateClass, stateLabel } from "./nodes";

export interface FindCandidate {
  path: string;
  label: string;
  taskId?: string;
  state: string;
}

/** Matches shown at once; typing more narrows them. */
const SHOWN = 20;

/** Candidates whose label or path contains `query` (any case): labels starting with it
 * first, then in natural order of their paths. */
export function findMatches(candidates: FindCandidate[], query: string): FindCandidate[] {
  const q = query.trim().toLowerCase();
  if (!q) return [];
  const found = candidates.filter((c) => c.label.toLowerCase().includes(q) || c.path.toLowerCase().includes(q));
  const starts = (c: FindCandidate) => (c.label.toLowerCase().startsWith(q) ? 0 : 1);
  return found.sort((a, b) => starts(a) - starts(b) || naturalCompare(a.path, b.path));
}

export function FindTask({
  candidates,
  onPick,
}: {
  candidates: FindCandidate[];
  onPick: (candidate: FindCandidate) => void;
}) {
  const [query, setQuery] = useState("");
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const listId = useId();
  const matches = useMemo(() => findMatches(candidates, query), [candidates, query]);
  const shown = matches.slice(0, SHOWN);
  const showList = open && query.trim() !== "";

  const pick = (c: FindCandidate | undefined) => {
    if (!c) return;
    onPick(c);
    setQuery(c.label);
    setOpen(false);
  };
  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      setOpen(true);
      if (!shown.length) return;
      const step = e.key === "ArrowDown" ? 1 : -1;
      setActive((i) => (i + step + shown.length) % shown.length);
    } else if (e.key === "Enter") {
      e.preventDefault();
      pick(shown[Math.min(active, shown.length - 1)]);
    } else if (e.key === "Escape") {
      if (open) setOpen(false);
      else setQuery("");
    }
  };

  return (
    <div className="dy-find nowheel nopan" onKeyDown={(e) => e.stopPropagation()}>
      <input
        type="search"
        role="combobox"
        aria-label="Find a task"
        aria-expanded={showList}
        aria-controls={listId}
        aria-autocomplete="list"
        aria-activedescendant={showList && shown.length ? `${listId}-${active}` : undefined}
        placeholder="Find a task…"
        value={query}
        onChange={(e) => {
          setQuery(e.target.value);
          setActive(0);
          setOpen(true);
        }}
        onFocus={() => setOpen(true)}
        onBlur={() => setOpen(false)}
        onKeyDown={onKeyDown}
      />
      {showList && (
        <ul id={listId} role="listbox" aria-label="Matching tasks" className="dy-find-list">
          {shown.map((c, i) => (
            <li
              key={c.path}
              id={`${listId}-${i}`}
              role="option"
              aria-selected={i === active}
              className={`${stateClass(c.state)}${i === active ? " dy-active" : ""}`}
              // Before the input's blur closes the list.
              onMouseDown={(e) => {
                e.preventDefault();
                pick(c);
              }}
              onMouseEnter={() => setActive(i)}
            >
              <span className="dy-dot" />
              <span className="dy-find-label">{c.label}</span>
              <span className="dy-find-path">{c.path}</span>
              <span className="dy-find-state">{stateLabel(c.state)}</span>
            </li>
          ))}
          {matches.length > shown.length && (
            <li className="dy-find-more" aria-disabled="true">
              {matches.length - shown.length} more: type more of the name
            </li>
          )}
          {!matches.length && <li className="dy-find-more">No task matches “{query.trim()}”</li>}
        </ul>
      )}
    </div>
  );
}
