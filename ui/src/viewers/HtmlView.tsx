export interface HtmlViewProps {
  html: string;
  /** The frame's accessible title (default "HTML artifact"). */
  title?: string;
}

/** An HTML artifact in a fully sandboxed frame: the empty sandbox allows no scripts, no
 * forms and no same-origin access, so the page cannot reach the app or its token. */
export function HtmlView({ html, title = "HTML artifact" }: HtmlViewProps) {
  return (
    <div className="dy-viewer-html">
      <iframe className="dy-viewer-html-frame" sandbox="" srcDoc={html} title={title} />
    </div>
  );
}
