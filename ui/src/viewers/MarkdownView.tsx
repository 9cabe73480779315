import Markdown from "react-markdown";

export interface MarkdownViewProps {
  text: string;
}

/** Markdown with react-markdown's safe defaults: raw HTML in the text is not rendered as
 * HTML (no rehype-raw), and unsafe URLs (javascript:) are dropped. */
export function MarkdownView({ text }: MarkdownViewProps) {
  return (
    <div className="dy-viewer-markdown">
      <Markdown>{text}</Markdown>
    </div>
  );
}
