/**
 * Renders Markdown (lib/markdownBlocks.ts) as React text nodes: artifact previews and registry
 * descriptions share it, and nothing from the source ever becomes HTML.
 */
import { markdownBlocks } from '../../lib/markdownBlocks';

/** `headingOffset` pushes `#` down a few levels so a document's title never outranks the page's. */
export function Markdown({ source, headingOffset = 2 }: { source: string; headingOffset?: number }) {
  return (
    <>
      {markdownBlocks(source).map((b, i) => {
        switch (b.kind) {
          case 'heading': {
            const Tag = `h${Math.min(6, b.level + headingOffset)}` as 'h3';
            return <Tag key={i}>{b.text}</Tag>;
          }
          case 'code':
            return <pre key={i}>{b.text}</pre>;
          case 'list': {
            const items = b.items.map((t, j) => <li key={j}>{t}</li>);
            return b.ordered ? <ol key={i}>{items}</ol> : <ul key={i}>{items}</ul>;
          }
          case 'quote':
            return <blockquote key={i}>{b.text}</blockquote>;
          default:
            return <p key={i}>{b.text}</p>;
        }
      })}
    </>
  );
}
