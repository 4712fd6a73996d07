// The knowledge base's HTTP client (docs/kb.md, "HTTP API"): staff routes under /api/v1/kb.
// The shapes follow the contract; where it leaves a detail open (how a path or a vote is spelled), the
// readers below accept the reasonable spellings so the screens do not break on them.
import { API_BASE, request, type Page, type Query } from '../api';

export type Visibility = 'internal' | 'public';
export const VISIBILITIES: Visibility[] = ['internal', 'public'];
export type ArticleStatus = 'draft' | 'in_review' | 'published' | 'archived';
export const ARTICLE_STATUSES: ArticleStatus[] = ['draft', 'in_review', 'published', 'archived'];
export type HotPeriod = 'day' | 'week' | 'all';

export interface KbCategory {
  id: string;
  parent_id: string | null;
  name: string;
  position: number;
  article_count: number;
  children: KbCategory[];
}

/** A category path: the contract writes it joined by `/`; a list of names is read too. */
export type CategoryPath = string | string[] | null | undefined;

export interface KbArticleSummary {
  id: string;
  slug: string;
  title: string;
  category_id?: string;
  category_path?: CategoryPath;
  tags: string[];
  visibility: Visibility;
  status?: ArticleStatus;
  version?: number;
  published_version?: number | null;
  updated_at?: string;
  valid_from?: string | null;
  valid_to?: string | null;
}

export interface KbAttachment {
  id: string;
  filename: string;
  content_type?: string;
  size: number;
  created_at?: string;
}

/** `my_vote`: `true`/`false`, or `helpful`/`unhelpful`; null when the user has not voted. */
export type MyVote = boolean | 'helpful' | 'unhelpful' | null | undefined;

export interface KbArticle extends KbArticleSummary {
  category_id: string;
  body: string;
  body_html: string;
  status: ArticleStatus;
  version: number;
  published_version?: number | null;
  created_at?: string;
  updated_at?: string;
  author_name?: string | null;
  updated_by_name?: string | null;
  /** Who saved the version shown (an author may not approve their own version unless an administrator). */
  version_by?: string | null;
  review_comment?: string | null;
  favorite: boolean;
  views: number;
  helpful: number;
  unhelpful: number;
  my_vote?: MyVote;
  attachments: KbAttachment[];
}

export interface ArticleInput {
  title: string;
  category_id: string;
  body: string;
  tags: string[];
  visibility: Visibility;
  valid_from?: string | null;
  valid_to?: string | null;
  slug?: string;
}

export interface KbVersion {
  version: number;
  title?: string;
  status?: string;
  author_name?: string | null;
  created_by_name?: string | null;
  created_at?: string;
  at?: string;
  comment?: string | null;
}

export type DiffOpKind = 'equal' | 'insert' | 'delete';
export interface DiffLine {
  op: DiffOpKind;
  text: string;
}

export interface SearchHit {
  id: string;
  slug: string;
  title: string;
  title_html: string;
  snippet_html: string;
  category_path?: CategoryPath;
  tags: string[];
  visibility: Visibility;
  score: number;
}

export interface SearchResults {
  total: number;
  hits: SearchHit[];
}

export interface Suggestion {
  id: string;
  title: string;
  title_html: string;
}

export interface HotArticle {
  id: string;
  title: string;
  slug?: string;
  score?: number;
  views?: number;
  category_path?: CategoryPath;
  visibility?: Visibility;
}

export interface NoResultQuery {
  query: string;
  count: number;
  last_at: string;
}

export interface SynonymGroup {
  words: string[];
}

export interface SearchParams {
  q: string;
  category?: string;
  tag?: string;
  visibility?: Visibility;
  limit?: number;
  offset?: number;
}

const enc = encodeURIComponent;
const art = (id: string) => `/kb/articles/${enc(id)}`;

function itemsOf<T>(v: T[] | Page<T> | { items: T[] } | null | undefined): T[] {
  if (Array.isArray(v)) return v;
  return v?.items ?? [];
}

/** A line diff as the server sends it (a list, or `{ ops }` / `{ lines }`), each line normalised. */
export function diffLines(v: unknown): DiffLine[] {
  const list: unknown[] = Array.isArray(v)
    ? v
    : v && typeof v === 'object'
      ? (((v as Record<string, unknown>).ops ?? (v as Record<string, unknown>).lines ?? []) as unknown[])
      : [];
  const out: DiffLine[] = [];
  for (const raw of list) {
    if (!raw || typeof raw !== 'object') continue;
    const r = raw as Record<string, unknown>;
    const op = String(r.op ?? r.kind ?? r.tag ?? 'equal') as DiffOpKind;
    const text = r.text ?? r.line ?? r.value ?? '';
    // One op may carry several lines.
    for (const line of String(text).replace(/\n$/, '').split('\n')) out.push({ op: op === 'insert' || op === 'delete' ? op : 'equal', text: line });
  }
  return out;
}

type Raw = Record<string, unknown>;

/**
 * An article as the API sends it, in the contract's flat shape. A version's fields nested under
 * `content` (the store's shape) are lifted, and the store's names are read too.
 */
export function normArticle<T extends KbArticleSummary = KbArticle>(raw: unknown): T {
  const r = (raw ?? {}) as Raw;
  const content = (r.content && typeof r.content === 'object' ? r.content : {}) as Raw;
  const out = { ...content, ...r } as Raw;
  delete out.content;
  out.id ??= r.article_id;
  out.tags ??= [];
  out.review_comment ??= r.reject_comment;
  out.author_name ??= r.version_by_name ?? r.created_by_name;
  out.attachments ??= [];
  return out as unknown as T;
}

function normVersion(raw: unknown): KbVersion {
  const r = (raw ?? {}) as Raw;
  const content = (r.content && typeof r.content === 'object' ? r.content : {}) as Raw;
  return { ...r, title: (r.title ?? content.title) as string | undefined } as KbVersion;
}

function normHot(raw: unknown): HotArticle {
  const r = normArticle<KbArticleSummary>(raw) as unknown as Raw;
  const a = (r.article && typeof r.article === 'object' ? normArticle<KbArticleSummary>(r.article) : {}) as Raw;
  return { ...a, ...r, id: (r.id ?? a.id) as string, title: (r.title ?? a.title ?? '') as string } as HotArticle;
}

/** Synonym groups: `[{ words }]` (the contract), or `{ groups: [[…]] }` / `[[…]]`. */
export function normSynonyms(raw: unknown): SynonymGroup[] {
  const list = Array.isArray(raw) ? raw : ((raw as Raw)?.groups as unknown[]) ?? [];
  return list
    .map((g) => (Array.isArray(g) ? { words: g.map(String) } : { words: (((g as Raw)?.words as unknown[]) ?? []).map(String) }))
    .filter((g) => g.words.length);
}

export const kbUrls = {
  attachment: (id: string) => `${API_BASE}/kb/attachments/${enc(id)}`,
  export: (format: 'markdown' | 'xlsx') => `${API_BASE}/kb/export?format=${format}`,
};

function upload<T>(method: string, path: string, file: File): Promise<T> {
  const fd = new FormData();
  fd.append('file', file, file.name);
  return request<T>(method, path, { rawBody: fd });
}

export const kbApi = {
  categories: () => request<KbCategory[]>('GET', '/kb/categories'),
  createCategory: (name: string, parent_id?: string | null) =>
    request<KbCategory>('POST', '/kb/categories', { body: { name, parent_id: parent_id ?? null } }),
  updateCategory: (id: string, patch: { name?: string; parent_id?: string | null; position?: number }) =>
    request<KbCategory>('PATCH', `/kb/categories/${enc(id)}`, { body: patch }),
  deleteCategory: (id: string) => request<void>('DELETE', `/kb/categories/${enc(id)}`),

  articles: async (q: Query) => {
    const r = await request<Page<unknown> | unknown[]>('GET', '/kb/articles', { query: q });
    const page = Array.isArray(r) ? { items: r, total: r.length, page: 1, per_page: r.length } : r;
    return { ...page, items: (page.items ?? []).map((x) => normArticle<KbArticleSummary>(x)) };
  },
  article: async (id: string, opts: { latest?: boolean; count?: boolean } = {}) =>
    normArticle(
      await request<unknown>('GET', art(id), { query: { latest: opts.latest ? 1 : undefined, count: opts.count === false ? 0 : undefined } }),
    ),
  createArticle: async (a: ArticleInput) => normArticle(await request<unknown>('POST', '/kb/articles', { body: a })),
  updateArticle: async (id: string, a: Partial<ArticleInput> & { expected_version: number }) =>
    normArticle(await request<unknown>('PATCH', art(id), { body: a })),
  submit: (id: string) => request<unknown>('POST', `${art(id)}/submit`, { body: {} }),
  approve: (id: string) => request<unknown>('POST', `${art(id)}/approve`, { body: {} }),
  /** Publishes the latest version without review (kb.approve): from draft, in review or archived. */
  publish: (id: string) => request<unknown>('POST', `${art(id)}/publish`, { body: {} }),
  reject: (id: string, comment: string) => request<unknown>('POST', `${art(id)}/reject`, { body: { comment } }),
  archive: (id: string) => request<unknown>('POST', `${art(id)}/archive`, { body: {} }),

  versions: async (id: string) => itemsOf(await request<unknown[] | Page<unknown>>('GET', `${art(id)}/versions`)).map(normVersion),
  version: async (id: string, n: number) => normArticle(await request<unknown>('GET', `${art(id)}/versions/${n}`)),
  diff: async (id: string, from: number, to: number) =>
    diffLines(await request<unknown>('GET', `${art(id)}/diff`, { query: { from, to } })),
  restore: (id: string, version: number) => request<unknown>('POST', `${art(id)}/restore`, { body: { version } }),

  uploadAttachment: (id: string, file: File) => upload<KbAttachment>('POST', `${art(id)}/attachments`, file),
  deleteAttachment: (id: string) => request<void>('DELETE', `/kb/attachments/${enc(id)}`),

  search: (p: SearchParams) => request<SearchResults>('GET', '/kb/search', { query: { ...p } }),
  suggest: (q: string) => request<Suggestion[]>('GET', '/kb/suggest', { query: { q } }),
  click: (id: string, q: string) => request<void>('POST', `${art(id)}/click`, { body: { q } }),
  vote: (id: string, helpful: boolean) =>
    request<{ helpful: number; unhelpful: number; my_vote: boolean | null } | undefined>('POST', `${art(id)}/vote`, { body: { helpful } }),
  favorite: (id: string, on: boolean) => request<void>(on ? 'PUT' : 'DELETE', `${art(id)}/favorite`),
  favorites: async () => itemsOf(await request<unknown[] | Page<unknown>>('GET', '/kb/favorites')).map((x) => normArticle<KbArticleSummary>(x)),
  hot: async (period: HotPeriod, limit = 10) =>
    itemsOf(await request<unknown[] | Page<unknown>>('GET', '/kb/hot', { query: { period, limit } })).map(normHot),

  noResults: async (from?: string, to?: string) =>
    itemsOf(await request<NoResultQuery[] | Page<NoResultQuery>>('GET', '/kb/no-results', { query: { from, to } })),
  synonyms: async () => normSynonyms(await request<unknown>('GET', '/kb/synonyms')),
  saveSynonyms: (groups: SynonymGroup[]) => request<SynonymGroup[] | void>('PUT', '/kb/synonyms', { body: groups }),
  importArchive: (file: File) => upload<Record<string, unknown>>('POST', '/kb/import', file),
};

/** The path's text, `燃气安全 / 报警器`. */
export function pathText(p: CategoryPath, sep = ' / '): string {
  if (!p) return '';
  const parts = Array.isArray(p) ? p : p.split('/');
  return parts
    .map((s) => s.trim())
    .filter(Boolean)
    .join(sep);
}

/** The user's vote as `true` (helpful), `false` (not helpful) or null. */
export function voteOf(v: MyVote): boolean | null {
  if (v === true || v === 'helpful') return true;
  if (v === false || v === 'unhelpful') return false;
  return null;
}
