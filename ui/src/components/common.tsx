// Small pieces every page uses: state badges, loading and error boxes, a token pager,
// and the buttons that change things (disabled for a caller with the view role, and
// while the server cannot be reached).

import { useEffect, useRef, useState } from "react";
import type { ButtonHTMLAttributes, InputHTMLAttributes, ReactNode } from "react";
import { Link } from "react-router-dom";

import { lostReason, useConnection } from "../api/connection";
import { useNamespace } from "../api/namespaceContext";
import { pageCount } from "./runsList";

export function StateBadge({ state, title }: { state: string | undefined; title?: string }) {
  const name = (state ?? "UNKNOWN").replace("RUNTIME_STATE_UNSPECIFIED", "UNKNOWN");
  return (
    <span className={`dy-badge dy-state-${name.toLowerCase()}`} data-state={name} title={title}>
      {name.toLowerCase()}
    </span>
  );
}

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  return (
    <div className="dy-error" role="alert">
      {message}
    </div>
  );
}

export function Loading({ what = "Loading" }: { what?: string }) {
  return <div className="dy-loading">{what}…</div>;
}

/** The page's heading; the browser tab's title is `documentTitle` (else the heading, when
 * it is text) followed by "Dagyard", so tabs and history tell pages apart. */
export function PageHeader({
  title,
  documentTitle,
  children,
}: {
  title: ReactNode;
  documentTitle?: string;
  children?: ReactNode;
}) {
  const tab = documentTitle ?? (typeof title === "string" ? title : undefined);
  useEffect(() => {
    document.title = tab ? `${tab} · Dagyard` : "Dagyard";
  }, [tab]);
  return (
    <header className="dy-page-header">
      <h1>{title}</h1>
      <div className="dy-actions">{children}</div>
    </header>
  );
}

/** Pages through a token-paged list: `tokens` is the stack of tokens of the pages before.
 * With `pageSize`, it says how many pages there are ("page 3 of 41"). */
export function Pager({
  tokens,
  next,
  total,
  pageSize,
  onChange,
}: {
  tokens: string[];
  next: string | undefined;
  total: number | undefined;
  pageSize?: number;
  onChange: (tokens: string[]) => void;
}) {
  const pages = pageSize ? pageCount(total, pageSize) : undefined;
  return (
    <div className="dy-pager">
      <span>{total ?? 0} in all</span>
      <button type="button" disabled={!tokens.length} onClick={() => onChange(tokens.slice(0, -1))}>
        ‹ Previous
      </button>
      <span>
        page {tokens.length + 1}
        {pages ? ` of ${pages}` : ""}
      </span>
      <button type="button" disabled={!next} onClick={() => next && onChange([...tokens, next])}>
        Next ›
      </button>
    </div>
  );
}

export function KeyValues({ values }: { values: [string, ReactNode][] }) {
  return (
    <dl className="dy-kv">
      {values.map(([key, value]) => (
        <div key={key}>
          <dt>{key}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

/** Why nothing may be created, changed or deleted now: the caller may only view the
 * current namespace, or the server cannot be reached. Undefined when changes may be made. */
export function useBlockedReason(): string | undefined {
  const { readOnly } = useNamespace();
  const lost = lostReason(useConnection());
  return readOnly ?? lost;
}

/** A button that creates, changes or deletes something: disabled, saying why, when the
 * caller may only view the current namespace or the server cannot be reached. */
export function EditButton({ disabled, title, ...props }: ButtonHTMLAttributes<HTMLButtonElement>) {
  const blocked = useBlockedReason();
  const button = <button type="button" {...props} disabled={disabled || Boolean(blocked)} title={blocked ?? title} />;
  // A disabled button gets no pointer events in some browsers: its wrapper shows the tooltip.
  return blocked ? <span title={blocked}>{button}</span> : button;
}

/** A link to a page that creates something ("Create run"), a disabled button instead
 * when changes are blocked (`useBlockedReason`). */
export function EditLink({ to, className, children }: { to: string; className?: string; children: ReactNode }) {
  const blocked = useBlockedReason();
  if (!blocked) {
    return (
      <Link className={`dy-button ${className ?? ""}`.trim()} to={to}>
        {children}
      </Link>
    );
  }
  return (
    <EditButton className={className} disabled>
      {children}
    </EditButton>
  );
}

/** A text field whose value is kept elsewhere (the address) and may arrive late: it shows
 * what is typed at once, and takes `value` only when it changes otherwise (Back). */
export function FilterInput({
  value,
  onText,
  ...props
}: Omit<InputHTMLAttributes<HTMLInputElement>, "value" | "onChange"> & {
  value: string;
  onText: (text: string) => void;
}) {
  const [text, setText] = useState(value);
  const written = useRef(value);
  useEffect(() => {
    if (value !== written.current) {
      written.current = value;
      setText(value);
    }
  }, [value]);
  return (
    <input
      {...props}
      value={text}
      onChange={(e) => {
        written.current = e.target.value;
        setText(e.target.value);
        onText(e.target.value);
      }}
    />
  );
}
