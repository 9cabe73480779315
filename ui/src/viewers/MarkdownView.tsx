import Markdown from "react-markdown";
import remarkGfm from "remark-gfm";

export interface MarkdownViewProps {
  text: string;
  /** An extra class, e.g. for a description shown in a page's header. */
  className?: string;
}

/** GitHub-flavoured Markdown (tables, strikethrough, task lists, autolinks) with
 * react-markdown's safe defaults: raw HTML in the text is not rendered as HTML (no
 * rehype-raw), and unsafe URLs (javascript:) are dropped. */
export function MarkdownView({ text, className }: MarkdownViewProps) {
  return (
    <div className={`dy-viewer-markdown ${className ?? ""}`.trim()}>
      <Markdown remarkPlugins={[remarkGfm]}>{text}</Markdown>
    </div>
  );
}
