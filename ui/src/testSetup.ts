// Shared by every unit test. Laying a graph out in jsdom takes a few hundred
// milliseconds on an idle machine and over a second on a busy one: waiting for an
// element is bounded by 10 s, not testing-library's 1 s, so a slow machine is not
// mistaken for a broken graph.
import { configure } from "@testing-library/react";

configure({ asyncUtilTimeout: 10_000 });
