import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { ConfusionMatrix, heatStyle } from "./ConfusionMatrix";

afterEach(cleanup);

const metadata = {
  confusionMatrix: {
    annotationSpecs: [{ displayName: "cat" }, { displayName: "dog" }],
    rows: [{ row: [50, 3] }, { row: [7, 40] }],
  },
};

/** The sum of the cell's background RGB channels: lower is darker (stronger). */
function darkness(cell: HTMLElement): number {
  const match = /rgb\((\d+), (\d+), (\d+)\)/.exec(cell.style.backgroundColor);
  expect(match).not.toBeNull();
  return 765 - (Number(match![1]) + Number(match![2]) + Number(match![3]));
}

describe("ConfusionMatrix", () => {
  it("labels rows (actual) and columns (predicted) and shows each count", () => {
    const { container } = render(<ConfusionMatrix metadata={metadata} />);
    const headers = [...container.querySelectorAll("thead th")].map((th) => th.textContent);
    expect(headers.slice(1)).toEqual(["cat", "dog"]);
    const rowLabels = [...container.querySelectorAll("tbody th")].map((th) => th.textContent);
    expect(rowLabels).toEqual(["cat", "dog"]);
    const cells = [...container.querySelectorAll("tbody td")].map((td) => td.textContent);
    expect(cells).toEqual(["50", "3", "7", "40"]);
    expect(screen.getByTitle("actual dog, predicted cat: 7").textContent).toBe("7");
  });

  it("colours a larger count more strongly, with readable text", () => {
    render(<ConfusionMatrix metadata={metadata} />);
    const big = screen.getByTitle("actual cat, predicted cat: 50");
    const mid = screen.getByTitle("actual dog, predicted dog: 40");
    const small = screen.getByTitle("actual cat, predicted dog: 3");
    expect(darkness(big)).toBeGreaterThan(darkness(mid));
    expect(darkness(mid)).toBeGreaterThan(darkness(small));
    // Dark cells get light text and light cells dark text.
    expect(big.style.color).toBe("rgb(255, 255, 255)");
    expect(small.style.color).toBe("rgb(17, 17, 17)");
  });

  it("says so instead of crashing on missing or malformed data", () => {
    const cases: [Record<string, unknown> | undefined, RegExp][] = [
      [undefined, /no confusion matrix/i],
      [{}, /no confusion matrix/i],
      [{ confusionMatrix: "nope" }, /malformed/i],
      [{ confusionMatrix: { rows: [{ row: [1, "x"] }, { row: [1, 2] }] } }, /malformed/i],
      [{ confusionMatrix: { rows: [{ row: [1, 2] }] } }, /not square/i],
      [{ confusionMatrix: { rows: [] } }, /empty/i],
      [{ confusionMatrix: { annotationSpecs: [{ displayName: "a" }], rows: [{ row: [1, 2] }, { row: [3, 4] }] } }, /labels/i],
    ];
    for (const [meta, message] of cases) {
      const { container, unmount } = render(<ConfusionMatrix metadata={meta} />);
      expect(container.querySelector("table")).toBeNull();
      expect(container.textContent).toMatch(message);
      unmount();
    }
  });

  it("names unlabelled classes and copes with an all-zero matrix", () => {
    const { container } = render(<ConfusionMatrix metadata={{ confusionMatrix: { rows: [{ row: [0, 0] }, { row: [0, 0] }] } }} />);
    expect([...container.querySelectorAll("thead th")].map((th) => th.textContent).slice(1)).toEqual(["class 0", "class 1"]);
    expect(container.querySelectorAll("tbody td")).toHaveLength(4);
  });

  it("heatStyle goes from light to dark", () => {
    expect(heatStyle(0).backgroundColor).toBe("rgb(247, 251, 255)");
    expect(heatStyle(1).backgroundColor).toBe("rgb(8, 48, 107)");
    expect(heatStyle(Number.NaN).backgroundColor).toBe("rgb(247, 251, 255)");
  });
});
