// The editor's live preview: a small Markdown reader that builds React elements (never an HTML string),
// so whatever the author types is shown as text. It knows what the toolbar writes — headings, bold,
// italic, inline code, links, lists, numbered lists, quotes, tables, code blocks, rules — and shows the
// rest as plain paragraphs. The saved article is rendered by the server (pulldown-cmark + ammonia); this
// is only the preview, and raw HTML in the body shows here as the text it is.
import type { ReactNode } from 'react';

const SAFE_HREF = /^(https?:|mailto:|tel:|\/|#)/i;

/** Inline Markdown: `**bold**`, `*italic*` / `_italic_`, `` `code` ``, `[text](url)`. */
export function inline(text: string, keyBase = 'i'): ReactNode[] {
  const out: ReactNode[] = [];
  const re = /(\*\*([^*]+)\*\*|__([^_]+)__|\*([^*\s][^*]*)\*|_([^_\s][^_]*)_|`([^`]+)`|\[([^\]]+)\]\(([^)\s]+)\))/g;
  let last = 0;
  let m: RegExpExecArray | null;
  let n = 0;
  while ((m = re.exec(text))) {
    if (m.index > last) out.push(text.slice(last, m.index));
    const key = `${keyBase}-${n++}`;
    if (m[2] !== undefined || m[3] !== undefined) out.push(<strong key={key}>{inline(m[2] ?? m[3], key)}</strong>);
    else if (m[4] !== undefined || m[5] !== undefined) out.push(<em key={key}>{inline(m[4] ?? m[5], key)}</em>);
    else if (m[6] !== undefined) out.push(<code key={key}>{m[6]}</code>);
    else if (m[7] !== undefined) {
      const href = m[8];
      out.push(
        SAFE_HREF.test(href) ? (
          <a key={key} href={href} target="_blank" rel="noopener noreferrer">
            {inline(m[7], key)}
          </a>
        ) : (
          <span key={key}>{m[0]}</span>
        ),
      );
    }
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

const cells = (line: string) =>
  line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split('|')
    .map((c) => c.trim());
const isTableRule = (line: string) => /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/.test(line);

export function renderMarkdown(md: string): ReactNode[] {
  const lines = (md ?? '').replace(/\r\n?/g, '\n').split('\n');
  const out: ReactNode[] = [];
  let i = 0;
  let k = 0;
  const key = () => `b${k++}`;
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) {
      i++;
      continue;
    }
    // Fenced code.
    if (/^\s*```/.test(line)) {
      const body: string[] = [];
      i++;
      while (i < lines.length && !/^\s*```/.test(lines[i])) body.push(lines[i++]);
      i++;
      out.push(
        <pre key={key()}>
          <code>{body.join('\n')}</code>
        </pre>,
      );
      continue;
    }
    const h = /^(#{1,6})\s+(.*)$/.exec(line);
    if (h) {
      const Tag = `h${h[1].length}` as 'h1';
      out.push(<Tag key={key()}>{inline(h[2].replace(/\s+#+\s*$/, ''))}</Tag>);
      i++;
      continue;
    }
    if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) {
      out.push(<hr key={key()} />);
      i++;
      continue;
    }
    if (/^\s*>/.test(line)) {
      const body: string[] = [];
      while (i < lines.length && /^\s*>/.test(lines[i])) body.push(lines[i++].replace(/^\s*>\s?/, ''));
      out.push(<blockquote key={key()}>{renderMarkdown(body.join('\n'))}</blockquote>);
      continue;
    }
    if (line.includes('|') && i + 1 < lines.length && isTableRule(lines[i + 1])) {
      const head = cells(line);
      i += 2;
      const rows: string[][] = [];
      while (i < lines.length && lines[i].includes('|') && lines[i].trim()) rows.push(cells(lines[i++]));
      out.push(
        <table key={key()}>
          <thead>
            <tr>
              {head.map((c, j) => (
                <th key={j}>{inline(c)}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((r, ri) => (
              <tr key={ri}>
                {head.map((_, j) => (
                  <td key={j}>{inline(r[j] ?? '')}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>,
      );
      continue;
    }
    const ul = /^\s*[-*+]\s+/;
    const ol = /^\s*\d+[.)]\s+/;
    if (ul.test(line) || ol.test(line)) {
      const ordered = ol.test(line);
      const re = ordered ? ol : ul;
      const items: string[] = [];
      while (i < lines.length && re.test(lines[i])) items.push(lines[i++].replace(re, ''));
      const lis = items.map((it, j) => <li key={j}>{inline(it)}</li>);
      out.push(ordered ? <ol key={key()}>{lis}</ol> : <ul key={key()}>{lis}</ul>);
      continue;
    }
    const para: string[] = [];
    while (
      i < lines.length &&
      lines[i].trim() &&
      !/^(#{1,6}\s|\s*>|\s*```|\s*[-*+]\s+|\s*\d+[.)]\s+)/.test(lines[i])
    )
      para.push(lines[i++]);
    if (!para.length) para.push(lines[i++]);
    out.push(
      <p key={key()}>
        {para.map((p, j) => (
          <span key={j}>
            {j ? <br /> : null}
            {inline(p, `p${j}`)}
          </span>
        ))}
      </p>,
    );
  }
  return out;
}

/** What a toolbar button does to the text: wraps the selection, or prefixes the selected lines. */
export type MdAction = 'bold' | 'italic' | 'heading' | 'list' | 'numbered' | 'link' | 'table' | 'quote';

export function applyMarkdown(
  value: string,
  start: number,
  end: number,
  action: MdAction,
  placeholder: string,
): { value: string; start: number; end: number } {
  const sel = value.slice(start, end);
  const wrap = (before: string, after: string) => {
    const inner = sel || placeholder;
    const v = value.slice(0, start) + before + inner + after + value.slice(end);
    return { value: v, start: start + before.length, end: start + before.length + inner.length };
  };
  const prefixLines = (prefix: (n: number) => string) => {
    const ls = value.lastIndexOf('\n', start - 1) + 1;
    const le = value.indexOf('\n', end);
    const lineEnd = le === -1 ? value.length : le;
    const block = value.slice(ls, lineEnd) || placeholder;
    const next = block
      .split('\n')
      .map((l, n) => prefix(n) + l)
      .join('\n');
    return { value: value.slice(0, ls) + next + value.slice(lineEnd), start: ls, end: ls + next.length };
  };
  switch (action) {
    case 'bold':
      return wrap('**', '**');
    case 'italic':
      return wrap('*', '*');
    case 'link': {
      const inner = sel || placeholder;
      const v = value.slice(0, start) + `[${inner}](https://)` + value.slice(end);
      const urlAt = start + inner.length + 3;
      return { value: v, start: urlAt, end: urlAt + 8 };
    }
    case 'heading':
      return prefixLines(() => '## ');
    case 'list':
      return prefixLines(() => '- ');
    case 'numbered':
      return prefixLines((n) => `${n + 1}. `);
    case 'quote':
      return prefixLines(() => '> ');
    case 'table': {
      const tpl = '\n\n| 项目 | 说明 |\n| --- | --- |\n|  |  |\n';
      const v = value.slice(0, end) + tpl + value.slice(end);
      return { value: v, start: end + tpl.length, end: end + tpl.length };
    }
  }
}
