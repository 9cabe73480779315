export interface HtmlViewProps {
  html: string;
  /** The frame's accessible title (default "HTML artifact"). */
  title?: string;
}

/** An HTML artifact in a sandboxed frame that may run scripts, so that reports drawn by
 * JavaScript (Plotly, Bokeh) show. Never with allow-same-origin: the frame's origin is
 * opaque, so its scripts cannot read the app's storage or cookies, reach its document,
 * or call the API as the app; no forms, popups or top-level navigation either. */
export function HtmlView({ html, title = "HTML artifact" }: HtmlViewProps) {
  return (
    <div className="dy-viewer-html">
      <iframe className="dy-viewer-html-frame" sandbox="allow-scripts" srcDoc={html} title={title} />
    </div>
  );
}
