// HTML from the server, shown safely.
//
// - `Highlighted`: a search hit's `title_html` / `snippet_html` — escaped text with `<mark>` around the
//   matches. It is never given to the browser as HTML: the string is cut at `<mark>` / `</mark>` and
//   every piece is decoded as text, so anything else that might be in it shows as text.
// - `ArticleHtml`: an article's `body_html`, which the server renders and sanitizes (ammonia). As a
//   second line of defence it is parsed with DOMParser (inert: no script runs) and only an allow-list
//   of elements and attributes is kept before it reaches the page.
import { Fragment, useMemo, type CSSProperties, type ReactNode } from 'react';

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', '#39': "'" };

/** Decodes the character references of escaped text (`&amp;`, `&#39;`, `&#x4e2d;`). */
export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (m, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : m;
    }
    return NAMED[ref] ?? m;
  });
}

/** `a <mark>b</mark> c` → `[{ text: 'a ', mark: false }, { text: 'b', mark: true }, …]`. */
export function markedPieces(html: string): { text: string; mark: boolean }[] {
  const out: { text: string; mark: boolean }[] = [];
  let mark = false;
  for (const part of (html ?? '').split(/(<mark>|<\/mark>)/i)) {
    if (/^<mark>$/i.test(part)) mark = true;
    else if (/^<\/mark>$/i.test(part)) mark = false;
    else if (part) out.push({ text: decodeEntities(part), mark });
  }
  return out;
}

export function Highlighted({ html, testId, style }: { html: string; testId?: string; style?: CSSProperties }) {
  const pieces = useMemo(() => markedPieces(html), [html]);
  return (
    <span data-testid={testId} style={style}>
      {pieces.map((p, i) =>
        p.mark ? (
          <mark key={i} className="kb-mark">
            {p.text}
          </mark>
        ) : (
          <Fragment key={i}>{p.text}</Fragment>
        ),
      )}
    </span>
  );
}

const ALLOWED_TAGS = new Set(
  (
    'a abbr b blockquote br caption code col colgroup dd del div dl dt em figcaption figure h1 h2 h3 h4 h5 h6 hr i img ' +
    'ins kbd li mark ol p pre q s small span strong sub sup table tbody td tfoot th thead tr u ul input'
  ).split(' '),
);
/** Dropped with everything inside (not unwrapped). */
const DROP_WITH_CONTENT = new Set(['script', 'style', 'iframe', 'object', 'embed', 'template', 'noscript', 'frame', 'frameset', 'svg', 'math']);
const ALLOWED_ATTRS: Record<string, string[]> = {
  a: ['href', 'title'],
  img: ['src', 'alt', 'title', 'width', 'height'],
  td: ['colspan', 'rowspan', 'align'],
  th: ['colspan', 'rowspan', 'align'],
  ol: ['start'],
  input: ['type', 'checked', 'disabled'],
  code: ['class'],
};
const SAFE_URL = /^(https?:|mailto:|tel:|\/|#|\.{0,2}\/?[^:]*$)/i;

function cleanInto(src: Node, dst: Node, doc: Document) {
  for (const child of Array.from(src.childNodes)) {
    if (child.nodeType === Node.TEXT_NODE) {
      dst.appendChild(doc.createTextNode(child.textContent ?? ''));
      continue;
    }
    if (child.nodeType !== Node.ELEMENT_NODE) continue;
    const el = child as Element;
    const tag = el.tagName.toLowerCase();
    if (DROP_WITH_CONTENT.has(tag)) continue;
    if (!ALLOWED_TAGS.has(tag) || (tag === 'input' && el.getAttribute('type') !== 'checkbox')) {
      cleanInto(el, dst, doc); // unwrap: keep the text
      continue;
    }
    const out = doc.createElement(tag);
    for (const name of ALLOWED_ATTRS[tag] ?? []) {
      const v = el.getAttribute(name);
      if (v === null) continue;
      if ((name === 'href' || name === 'src') && !SAFE_URL.test(v.trim())) continue;
      out.setAttribute(name, v);
    }
    if (tag === 'a') {
      out.setAttribute('rel', 'noopener noreferrer');
      out.setAttribute('target', '_blank');
    }
    if (tag === 'input') out.setAttribute('disabled', '');
    cleanInto(el, out, doc);
    dst.appendChild(out);
  }
}

/** Keeps only allow-listed elements and attributes of `html` (parsed inert, never run). */
export function sanitizeHtml(html: string): string {
  const doc = new DOMParser().parseFromString(`<!doctype html><body>${html ?? ''}</body>`, 'text/html');
  const holder = doc.createElement('div');
  cleanInto(doc.body, holder, doc);
  return holder.innerHTML;
}

export function ArticleHtml({ html, testId }: { html: string; testId?: string }): ReactNode {
  const clean = useMemo(() => sanitizeHtml(html), [html]);
  return <div className="kb-article-body" data-testid={testId} dangerouslySetInnerHTML={{ __html: clean }} />;
}
