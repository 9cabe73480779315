import { cleanup, render } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import type { TooltipContentProps } from "recharts";
import { RocCurve, RocTooltip, rocSeries } from "./RocCurve";

afterEach(cleanup);

describe("rocSeries", () => {
  it("extracts the points and sorts them by false positive rate", () => {
    const series = rocSeries("run 1", {
      confidenceMetrics: [
        { confidenceThreshold: 0.2, recall: 0.95, falsePositiveRate: 0.6 },
        { confidenceThreshold: 0.9, recall: 0.3, falsePositiveRate: 0.0 },
        { confidenceThreshold: 0.5, recall: 0.8, falsePositiveRate: 0.2 },
        { confidenceThreshold: 0.0, recall: 1.0, falsePositiveRate: 1.0 },
      ],
    });
    expect(series.label).toBe("run 1");
    expect(series.points).toEqual([
      { falsePositiveRate: 0.0, recall: 0.3, confidenceThreshold: 0.9 },
      { falsePositiveRate: 0.2, recall: 0.8, confidenceThreshold: 0.5 },
      { falsePositiveRate: 0.6, recall: 0.95, confidenceThreshold: 0.2 },
      { falsePositiveRate: 1.0, recall: 1.0, confidenceThreshold: 0.0 },
    ]);
  });

  it("breaks FPR ties by recall and leaves out entries without both rates", () => {
    const series = rocSeries("x", {
      confidenceMetrics: [
        { recall: 0.7, falsePositiveRate: 0.1 },
        { recall: 0.4, falsePositiveRate: 0.1, confidenceThreshold: 0.8 },
        { recall: "high", falsePositiveRate: 0.3 },
        { falsePositiveRate: 0.5 },
        null,
        7,
      ],
    });
    expect(series.points).toEqual([
      { falsePositiveRate: 0.1, recall: 0.4, confidenceThreshold: 0.8 },
      { falsePositiveRate: 0.1, recall: 0.7 },
    ]);
  });

  it("gives no points when there are no confidence metrics", () => {
    expect(rocSeries("a", undefined).points).toEqual([]);
    expect(rocSeries("a", {}).points).toEqual([]);
    expect(rocSeries("a", { confidenceMetrics: { recall: 1 } }).points).toEqual([]);
  });
});

describe("RocCurve", () => {
  const one = rocSeries("run 1", {
    confidenceMetrics: [
      { confidenceThreshold: 1, recall: 0, falsePositiveRate: 0 },
      { confidenceThreshold: 0.5, recall: 0.8, falsePositiveRate: 0.2 },
      { confidenceThreshold: 0, recall: 1, falsePositiveRate: 1 },
    ],
  });
  const two = { ...one, label: "run 2" };

  it("draws a chart, with a legend only when comparing", () => {
    const single = render(<RocCurve series={[one]} />);
    expect(single.container.querySelector("svg")).not.toBeNull();
    expect(single.container.querySelector(".recharts-legend-wrapper")).toBeNull();
    // The chance diagonal and the curve itself.
    expect(single.container.querySelector(".recharts-reference-line")).not.toBeNull();
    expect(single.container.querySelectorAll(".recharts-scatter-line")).toHaveLength(1);
    single.unmount();

    const compared = render(<RocCurve series={[one, two]} />);
    const legend = compared.container.querySelector(".recharts-legend-wrapper");
    expect(legend).not.toBeNull();
    expect(legend!.textContent).toContain("run 1");
    expect(legend!.textContent).toContain("run 2");
    expect(compared.container.querySelectorAll(".recharts-scatter-line")).toHaveLength(2);
  });

  it("says so when there is nothing to draw", () => {
    const { container } = render(<RocCurve series={[{ label: "empty", points: [] }]} />);
    expect(container.textContent).toMatch(/no roc curve data/i);
  });
});

describe("RocTooltip", () => {
  it("shows the series, the threshold and both rates of the point", () => {
    const props = {
      active: true,
      payload: [{ payload: { x: 0.2, y: 0.8123456, threshold: 0.5, series: "run 1" } }],
    } as unknown as TooltipContentProps;
    const { container } = render(<RocTooltip {...props} />);
    expect(container.textContent).toContain("run 1");
    expect(container.textContent).toContain("threshold: 0.5");
    expect(container.textContent).toContain("false positive rate: 0.2");
    expect(container.textContent).toContain("true positive rate: 0.8123");
  });
});
