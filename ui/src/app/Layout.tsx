// The frame of every page: the navigation (folded behind a Menu button in a narrow
// window), a banner while the server cannot be reached, a header naming the caller and
// the current namespace (a switcher when there is a choice) and, when the server wants
// an API token, a prompt for it (kept for this browser session only).

import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent } from "react";
import { NavLink, Outlet, useLocation } from "react-router-dom";

import { getToken, setToken } from "../api/client";
import { ALL_NAMESPACES, describeCaller, hasChoice } from "../api/namespace";
import { NamespaceProvider, useNamespace } from "../api/namespaceContext";
import { ConnectionBanner } from "./ConnectionBanner";

const LINKS: [string, string][] = [
  ["/pipelines", "Pipelines"],
  ["/experiments", "Experiments"],
  ["/runs", "Runs"],
  ["/recurring", "Recurring runs"],
  ["/artifacts", "Artifacts"],
  ["/archive", "Archive"],
  ["/work", "Work"],
];

export function Layout() {
  return (
    <NamespaceProvider>
      <Frame />
    </NamespaceProvider>
  );
}

function Frame() {
  const { namespace } = useNamespace();
  // Narrow windows fold the navigation away (styles.css); the Menu button opens it, and
  // going to any page closes it again.
  const [navOpen, setNavOpen] = useState(false);
  const { pathname } = useLocation();
  useEffect(() => setNavOpen(false), [pathname]);
  return (
    <div className="dy-app">
      <nav id="dy-nav" className={`dy-nav${navOpen ? " open" : ""}`} aria-label="Pages">
        <div className="dy-brand">Dagyard</div>
        {LINKS.map(([to, label]) => (
          <NavLink key={to} to={to} className={({ isActive }) => (isActive ? "active" : "")}>
            {label}
          </NavLink>
        ))}
      </nav>
      {navOpen && <div className="dy-nav-backdrop" onClick={() => setNavOpen(false)} />}
      <main className="dy-main">
        <button
          type="button"
          className="dy-nav-toggle"
          aria-controls="dy-nav"
          aria-expanded={navOpen}
          onClick={() => setNavOpen((open) => !open)}
        >
          ☰ Menu
        </button>
        <ConnectionBanner />
        <CallerBar />
        {/* Another namespace starts every page afresh: its filters, pages and selection
            were the other namespace's. */}
        <Outlet key={namespace} />
      </main>
      <TokenPrompt />
    </div>
  );
}

function CallerBar() {
  const { who, namespace, readOnly, choose } = useNamespace();
  if (!who) return null;
  return (
    <header className="dy-caller" data-testid="caller">
      <span className="dy-muted">Signed in as</span> <strong>{describeCaller(who, namespace)}</strong>
      <span className="dy-muted">Namespace</span>
      {hasChoice(who) ? (
        <select aria-label="Namespace" value={namespace} onChange={(e) => choose(e.target.value)}>
          {who.admin && <option value={ALL_NAMESPACES}>all namespaces</option>}
          {who.namespaces.map((n) => (
            <option key={n.name} value={n.name}>
              {n.name}
              {who.admin ? "" : ` (${n.role})`}
            </option>
          ))}
        </select>
      ) : (
        <strong data-testid="namespace-current">{namespace || "all namespaces"}</strong>
      )}
      {readOnly && <span className="dy-badge" title={readOnly}>read-only</span>}
    </header>
  );
}

function TokenPrompt() {
  const [asked, setAsked] = useState(false);
  const [value, setValue] = useState("");
  const client = useQueryClient();

  useEffect(() => {
    const ask = () => setAsked(true);
    window.addEventListener("dagyard-unauthorized", ask);
    return () => window.removeEventListener("dagyard-unauthorized", ask);
  }, []);

  if (!asked) return null;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setToken(value.trim());
    setAsked(false);
    void client.invalidateQueries();
  };
  return (
    <div className="dy-modal-backdrop">
      <form className="dy-modal" onSubmit={submit} aria-label="API token">
        <h2>API token</h2>
        <p>
          This server needs its API token (<code>DAGYARD_AUTH_TOKEN</code>). It is kept for this
          browser session only.
          {getToken() ? " The token given before was refused." : ""}
        </p>
        <input
          type="password"
          name="token"
          autoFocus
          value={value}
          onChange={(event) => setValue(event.target.value)}
          placeholder="token"
        />
        <div className="dy-actions">
          <button type="submit" className="primary" disabled={!value.trim()}>
            Use token
          </button>
        </div>
      </form>
    </div>
  );
}
