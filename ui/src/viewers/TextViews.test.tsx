import { cleanup, render } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { HtmlView } from "./HtmlView";
import { MarkdownView } from "./MarkdownView";
import { MetricsTable } from "./MetricsTable";
import { formatNumber } from "./format";

afterEach(cleanup);

describe("MarkdownView", () => {
  it("renders markdown", () => {
    const { container } = render(<MarkdownView text={"# Report\n\nAccuracy is **high**.\n\n- a\n- b"} />);
    expect(container.querySelector("h1")?.textContent).toBe("Report");
    expect(container.querySelector("strong")?.textContent).toBe("high");
    expect(container.querySelectorAll("li")).toHaveLength(2);
  });

  it("renders GitHub-flavoured tables, strikethrough, task lists and autolinks", () => {
    const text = [
      "| model | accuracy |",
      "|---|---:|",
      "| small | 0.91 |",
      "| large | 0.95 |",
      "",
      "~~old~~ numbers",
      "",
      "- [x] trained",
      "- [ ] deployed",
      "",
      "See https://example.com/report for more.",
    ].join("\n");
    const { container } = render(<MarkdownView text={text} />);
    const cells = [...container.querySelectorAll("table tbody tr")].map((tr) =>
      [...tr.querySelectorAll("td")].map((td) => td.textContent),
    );
    expect(cells).toEqual([
      ["small", "0.91"],
      ["large", "0.95"],
    ]);
    expect(container.querySelector("del")?.textContent).toBe("old");
    const boxes = [...container.querySelectorAll<HTMLInputElement>("li input[type=checkbox]")];
    expect(boxes.map((b) => b.checked)).toEqual([true, false]);
    expect(container.querySelector("a")?.getAttribute("href")).toBe("https://example.com/report");
  });

  it("does not render raw HTML or script URLs", () => {
    const text = [
      "<script>window.pwned = true</script>",
      "",
      '<img src="x" onerror="window.pwned = true">',
      "",
      '<div onclick="alert(1)">hi</div>',
      "",
      "[click](javascript:alert(1))",
    ].join("\n");
    const { container } = render(<MarkdownView text={text} />);
    expect(container.querySelector("script")).toBeNull();
    expect(container.querySelector("img")).toBeNull();
    expect(container.querySelector("[onerror]")).toBeNull();
    expect(container.querySelector("[onclick]")).toBeNull();
    const link = container.querySelector("a");
    expect(link?.getAttribute("href") ?? "").not.toMatch(/javascript:/i);
    expect((window as unknown as { pwned?: boolean }).pwned).toBeUndefined();
  });
});

describe("HtmlView", () => {
  it("puts the HTML in a frame that may run scripts but never as the app's origin", () => {
    const html = "<h1>Hi</h1><script>parent.document.title = 'pwned'</script>";
    const { container } = render(<HtmlView html={html} title="Report" />);
    const frame = container.querySelector("iframe");
    expect(frame).not.toBeNull();
    expect(frame!.hasAttribute("sandbox")).toBe(true);
    expect(frame!.getAttribute("sandbox")).toBe("allow-scripts");
    expect(frame!.getAttribute("srcdoc")).toBe(html);
    expect(frame!.getAttribute("title")).toBe("Report");
  });
});

describe("MetricsTable", () => {
  it("lists metrics sorted by name, numbers formatted, other values as text", () => {
    const { container } = render(
      <MetricsTable metadata={{ recall: 0.912345678, accuracy: 0.9, f1: 2, note: "held-out", tiny: 0.0000123456 }} />,
    );
    const rows = [...container.querySelectorAll("tbody tr")].map((tr) =>
      [...tr.querySelectorAll("th, td")].map((cell) => cell.textContent),
    );
    expect(rows).toEqual([
      ["accuracy", "0.9"],
      ["f1", "2"],
      ["note", "held-out"],
      ["recall", "0.9123"],
      ["tiny", "0.00001235"],
    ]);
  });

  it("says when there are none", () => {
    const { container } = render(<MetricsTable metadata={undefined} />);
    expect(container.textContent).toMatch(/no metrics/i);
  });
});

describe("formatNumber", () => {
  it("keeps at most 4 decimals", () => {
    expect(formatNumber(1234567)).toBe("1234567");
    expect(formatNumber(3.14159265)).toBe("3.1416");
    expect(formatNumber(-0.5)).toBe("-0.5");
    expect(formatNumber(0.99999)).toBe("1");
    expect(formatNumber(Number.NaN)).toBe("NaN");
  });
});
