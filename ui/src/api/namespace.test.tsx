import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, cleanup, render, screen } from "@testing-library/react";
import { MemoryRouter, useLocation, useNavigate } from "react-router-dom";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import {
  hasChoice,
  readOnlyReason,
  resolveNamespace,
  storedNamespace,
  storeNamespace,
  withNamespace,
} from "./namespace";
import { NamespaceProvider, useNamespace } from "./namespaceContext";
import type { WhoAmI } from "./types";

const ADMIN: WhoAmI = {
  admin: true,
  namespaces: [
    { name: "team-a", role: "admin" },
    { name: "team-b", role: "admin" },
  ],
};
const A_VIEW: WhoAmI = { admin: false, namespaces: [{ name: "team-a", role: "view" }] };
const USER: WhoAmI = {
  admin: false,
  user: "ada",
  namespaces: [
    { name: "team-a", role: "edit" },
    { name: "team-b", role: "view" },
  ],
};

beforeEach(() => sessionStorage.clear());
afterEach(cleanup);

describe("the current namespace", () => {
  it("is the address's when the caller reaches it, else the stored one, else the default", () => {
    expect(resolveNamespace(ADMIN, "team-b", "team-a")).toBe("team-b");
    expect(resolveNamespace(ADMIN, null, "team-a")).toBe("team-a");
    expect(resolveNamespace(ADMIN, null, null)).toBe("");
    expect(resolveNamespace(ADMIN, "", "team-a")).toBe(""); // ?ns= : all namespaces
    expect(resolveNamespace(ADMIN, "team-z", null)).toBe("");
    expect(resolveNamespace(USER, null, null)).toBe("team-a");
    expect(resolveNamespace(USER, "team-b", null)).toBe("team-b");
    // Only the admin has "all namespaces"; nobody gets a namespace it does not reach.
    expect(resolveNamespace(USER, "", "team-b")).toBe("team-b");
    expect(resolveNamespace(A_VIEW, "team-b", "team-b")).toBe("team-a");
  });

  it("is a choice for the admin once a namespace exists, and for a user with several", () => {
    expect(hasChoice(ADMIN)).toBe(true);
    expect(hasChoice({ admin: true, namespaces: [] })).toBe(false);
    expect(hasChoice(USER)).toBe(true);
    expect(hasChoice(A_VIEW)).toBe(false);
  });

  it("is stored for the session and written into the query with the rest kept", () => {
    expect(storedNamespace()).toBeNull();
    storeNamespace("team-b");
    expect(storedNamespace()).toBe("team-b");
    expect(withNamespace(new URLSearchParams("runs=1,2&ns=team-a"), "team-b").toString()).toBe(
      "runs=1%2C2&ns=team-b",
    );
  });

  it("is read-only where the caller has the view role only", () => {
    expect(readOnlyReason(A_VIEW, "team-a")).toMatch(/token may only view namespace team-a/);
    expect(readOnlyReason(USER, "team-b")).toMatch(/ada may only view namespace team-b/);
    expect(readOnlyReason(USER, "team-a")).toBeUndefined();
    expect(readOnlyReason(ADMIN, "team-a")).toBeUndefined();
  });
});

/** Shows the provider's namespace and the address; its buttons choose and go back. */
function Probe() {
  const { namespace, readOnly, choose } = useNamespace();
  const location = useLocation();
  const navigate = useNavigate();
  return (
    <>
      <output data-testid="namespace">{namespace}</output>
      <output data-testid="address">{`${location.pathname}${location.search}`}</output>
      <output data-testid="read-only">{readOnly ?? ""}</output>
      <button type="button" onClick={() => choose("team-b")}>
        team-b
      </button>
      <button type="button" onClick={() => navigate(-1)}>
        back
      </button>
      <button type="button" onClick={() => navigate("/experiments")}>
        in-app link
      </button>
    </>
  );
}

function renderAt(address: string, who: WhoAmI) {
  // Who the caller is is in the cache already: nothing is fetched.
  const client = new QueryClient({ defaultOptions: { queries: { staleTime: Infinity } } });
  client.setQueryData(["whoami"], who);
  render(
    <QueryClientProvider client={client}>
      <MemoryRouter initialEntries={[address]}>
        <NamespaceProvider>
          <Probe />
        </NamespaceProvider>
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

const shown = (id: string) => screen.getByTestId(id).textContent;

describe("the namespace provider", () => {
  it("puts the stored namespace into an address without one", () => {
    storeNamespace("team-a");
    renderAt("/runs", ADMIN);
    expect(shown("namespace")).toBe("team-a");
    expect(shown("address")).toBe("/runs?ns=team-a");
  });

  it("takes the address's namespace over the stored one, and stores it", () => {
    storeNamespace("team-a");
    renderAt("/runs?ns=team-b", ADMIN);
    expect(shown("namespace")).toBe("team-b");
    expect(storedNamespace()).toBe("team-b");
  });

  it("keeps a choice in the address and the storage, and Back returns to the one before", () => {
    renderAt("/runs?ns=team-a", USER);
    act(() => screen.getByRole("button", { name: "team-b" }).click());
    expect(shown("address")).toBe("/runs?ns=team-b");
    expect(storedNamespace()).toBe("team-b");
    expect(shown("read-only")).toMatch(/view namespace team-b/);

    act(() => screen.getByRole("button", { name: "in-app link" }).click());
    expect(shown("address")).toBe("/experiments?ns=team-b");

    act(() => screen.getByRole("button", { name: "back" }).click());
    act(() => screen.getByRole("button", { name: "back" }).click());
    expect(shown("address")).toBe("/runs?ns=team-a");
    expect(shown("namespace")).toBe("team-a");
    expect(storedNamespace()).toBe("team-a");
  });

  it("leaves the address of a caller with one namespace alone", () => {
    renderAt("/runs", A_VIEW);
    expect(shown("namespace")).toBe("team-a");
    expect(shown("address")).toBe("/runs");
    expect(storedNamespace()).toBeNull();
  });
});
