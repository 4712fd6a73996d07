// Pieces the knowledge-base screens share: tags for visibility and status, the category tree hook and its
// helpers, the search box with suggestions, and the reader (body, attachments, favorite, votes) used by
// the article page and the agent desktop's drawer.
import { useCallback, useEffect, useMemo, useRef, useState, type CSSProperties, type ReactNode } from 'react';
import { App, AutoComplete, Button, Input, Space, Tag, Tooltip, Typography } from 'antd';
import {
  DislikeFilled,
  DislikeOutlined,
  EyeOutlined,
  LikeFilled,
  LikeOutlined,
  PaperClipOutlined,
  SearchOutlined,
  StarFilled,
  StarOutlined,
} from '@ant-design/icons';
import { useI18n, type MessageKey, type TFunc } from '../i18n';
import { problemText } from '../acd/common';
import { kbApi, kbUrls, pathText, voteOf, type KbArticle, type KbCategory, type Suggestion } from './api';
import { ArticleHtml, Highlighted } from './html';
import './kb.css';

export function kbLabel(t: TFunc, prefix: string, value: string | null | undefined): string {
  if (!value) return '';
  const key = `${prefix}.${value}` as MessageKey;
  const v = t(key);
  return v === key ? value : v;
}

export function VisibilityTag({ visibility, testId }: { visibility: string; testId?: string }) {
  const { t } = useI18n();
  return (
    <Tag color={visibility === 'public' ? 'green' : 'orange'} data-testid={testId} data-visibility={visibility}>
      {kbLabel(t, 'kb.visibility', visibility)}
    </Tag>
  );
}

const STATUS_COLORS: Record<string, string> = { draft: 'default', in_review: 'processing', published: 'success', archived: 'warning' };

export function ArticleStatusTag({ status, testId }: { status: string; testId?: string }) {
  const { t } = useI18n();
  return (
    <Tag color={STATUS_COLORS[status] ?? 'default'} data-testid={testId} data-status={status}>
      {kbLabel(t, 'kb.status', status)}
    </Tag>
  );
}

export function fmtSize(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

// ---------------------------------------------------------------------------------------------
// The category tree.

export function useKbCategories(): { tree: KbCategory[]; loading: boolean; error: string | null; reload: () => Promise<void> } {
  const [tree, setTree] = useState<KbCategory[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const reload = useCallback(async () => {
    setLoading(true);
    try {
      const r = await kbApi.categories();
      setTree(normaliseTree(Array.isArray(r) ? r : []));
      setError(null);
    } catch (e) {
      setError(problemText(e));
    } finally {
      setLoading(false);
    }
  }, []);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { tree, loading, error, reload };
}

/** The tree sorted by position; a flat list (every node with `children: []`) is nested by parent_id. */
export function normaliseTree(nodes: KbCategory[]): KbCategory[] {
  const flat = nodes.every((n) => !n.children?.length) && nodes.some((n) => n.parent_id);
  let roots = nodes;
  if (flat) {
    const byId = new Map(nodes.map((n) => [n.id, { ...n, children: [] as KbCategory[] }]));
    roots = [];
    for (const n of byId.values()) {
      const p = n.parent_id ? byId.get(n.parent_id) : undefined;
      if (p) p.children.push(n);
      else roots.push(n);
    }
  }
  const sort = (list: KbCategory[]): KbCategory[] =>
    [...list].sort((a, b) => a.position - b.position || a.name.localeCompare(b.name)).map((n) => ({ ...n, children: sort(n.children ?? []) }));
  return sort(roots);
}

export function findCategory(tree: KbCategory[], id: string | null | undefined): KbCategory | undefined {
  if (!id) return undefined;
  for (const n of tree) {
    if (n.id === id) return n;
    const c = findCategory(n.children, id);
    if (c) return c;
  }
  return undefined;
}

/** Names from the root down to `id`. */
export function categoryNames(tree: KbCategory[], id: string | null | undefined): string[] {
  const walk = (list: KbCategory[], trail: string[]): string[] | null => {
    for (const n of list) {
      const here = [...trail, n.name];
      if (n.id === id) return here;
      const d = walk(n.children, here);
      if (d) return d;
    }
    return null;
  };
  return (id && walk(tree, [])) || [];
}

export interface TreeSelectNode {
  value: string;
  title: string;
  children: TreeSelectNode[];
}

export function treeSelectData(tree: KbCategory[]): TreeSelectNode[] {
  return tree.map((n) => ({ value: n.id, title: n.name, children: treeSelectData(n.children) }));
}

// ---------------------------------------------------------------------------------------------
// The search box: suggestions as you type (debounced), Enter searches, picking a suggestion opens it.

export function KbSearchBox({
  value,
  onChange,
  onSearch,
  onPick,
  size,
  style,
  testId = 'kb-search',
  autoFocus,
}: {
  value: string;
  onChange: (v: string) => void;
  onSearch: (v: string) => void;
  onPick: (s: Suggestion) => void;
  size?: 'small' | 'middle' | 'large';
  style?: CSSProperties;
  testId?: string;
  autoFocus?: boolean;
}) {
  const { t } = useI18n();
  const [options, setOptions] = useState<Suggestion[]>([]);
  const seq = useRef(0);
  const timer = useRef<number | undefined>(undefined);

  useEffect(() => () => window.clearTimeout(timer.current), []);

  const fetchSuggestions = (q: string) => {
    window.clearTimeout(timer.current);
    const mine = ++seq.current;
    if (!q.trim()) {
      setOptions([]);
      return;
    }
    timer.current = window.setTimeout(() => {
      kbApi
        .suggest(q)
        .then((r) => {
          if (mine === seq.current) setOptions(Array.isArray(r) ? r.slice(0, 8) : []);
        })
        .catch(() => mine === seq.current && setOptions([]));
    }, 200);
  };

  return (
    <AutoComplete
      value={value}
      style={style}
      defaultActiveFirstOption={false}
      options={options.map((s) => ({
        value: `kb-suggest:${s.id}`,
        label: (
          <span data-testid="kb-suggestion" data-id={s.id}>
            <Highlighted html={s.title_html || s.title} />
          </span>
        ),
      }))}
      onSearch={(v) => {
        onChange(v);
        fetchSuggestions(v);
      }}
      onSelect={(v: string) => {
        const s = options.find((o) => `kb-suggest:${o.id}` === v);
        setOptions([]);
        if (s) onPick(s);
      }}
    >
      <Input.Search
        size={size}
        allowClear
        autoFocus={autoFocus}
        placeholder={t('kb.search.placeholder')}
        enterButton={<SearchOutlined />}
        data-testid={testId}
        onSearch={(v) => {
          // Clearing (the × button) searches the empty text too: back to the browsing view.
          window.clearTimeout(timer.current);
          seq.current++;
          setOptions([]);
          onSearch(v);
        }}
      />
    </AutoComplete>
  );
}

// ---------------------------------------------------------------------------------------------
// The reader: what every reader of an article sees and does.

export function FavoriteButton({ article, onChanged, size }: { article: KbArticle; onChanged: (on: boolean) => void; size?: 'small' | 'middle' }) {
  const { t } = useI18n();
  const { message } = App.useApp();
  const [busy, setBusy] = useState(false);
  const on = !!article.favorite;
  return (
    <Tooltip title={on ? t('kb.unfavorite') : t('kb.favorite')}>
      <Button
        size={size}
        loading={busy}
        icon={on ? <StarFilled style={{ color: '#faad14' }} /> : <StarOutlined />}
        data-testid="kb-favorite"
        data-on={on ? '1' : '0'}
        onClick={async () => {
          setBusy(true);
          try {
            await kbApi.favorite(article.id, !on);
            onChanged(!on);
            message.success(on ? t('kb.unfavorited') : t('kb.favorited'));
          } catch (e) {
            message.error(problemText(e));
          } finally {
            setBusy(false);
          }
        }}
      >
        {on ? t('kb.favorited.short') : t('kb.favorite')}
      </Button>
    </Tooltip>
  );
}

export function VoteButtons({
  article,
  onChanged,
  size,
}: {
  article: KbArticle;
  onChanged: (a: Pick<KbArticle, 'helpful' | 'unhelpful' | 'my_vote'>) => void;
  size?: 'small' | 'middle';
}) {
  const { t } = useI18n();
  const { message } = App.useApp();
  const [busy, setBusy] = useState(false);
  const mine = voteOf(article.my_vote);
  const vote = async (helpful: boolean) => {
    if (mine === helpful) return;
    setBusy(true);
    try {
      const r = await kbApi.vote(article.id, helpful);
      if (r && typeof r.helpful === 'number') {
        onChanged({ helpful: r.helpful, unhelpful: r.unhelpful, my_vote: helpful });
      } else {
        // Moves the user's one vote: the counts follow.
        let h = article.helpful ?? 0;
        let u = article.unhelpful ?? 0;
        if (mine === true) h = Math.max(0, h - 1);
        if (mine === false) u = Math.max(0, u - 1);
        if (helpful) h++;
        else u++;
        onChanged({ helpful: h, unhelpful: u, my_vote: helpful });
      }
      message.success(t('kb.voted'));
    } catch (e) {
      message.error(problemText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Space size={4} data-testid="kb-votes">
      <Typography.Text type="secondary">{t('kb.wasHelpful')}</Typography.Text>
      <Button
        size={size}
        disabled={busy}
        type={mine === true ? 'primary' : 'default'}
        icon={mine === true ? <LikeFilled /> : <LikeOutlined />}
        data-testid="kb-vote-helpful"
        data-on={mine === true ? '1' : '0'}
        onClick={() => void vote(true)}
      >
        {t('kb.helpful')} <span data-testid="kb-helpful-count">{article.helpful ?? 0}</span>
      </Button>
      <Button
        size={size}
        disabled={busy}
        danger={mine === false}
        type={mine === false ? 'primary' : 'default'}
        icon={mine === false ? <DislikeFilled /> : <DislikeOutlined />}
        data-testid="kb-vote-unhelpful"
        data-on={mine === false ? '1' : '0'}
        onClick={() => void vote(false)}
      >
        {t('kb.unhelpful')} <span data-testid="kb-unhelpful-count">{article.unhelpful ?? 0}</span>
      </Button>
    </Space>
  );
}

export function AttachmentList({ article, extra }: { article: KbArticle; extra?: (id: string) => ReactNode }) {
  const { t } = useI18n();
  if (!article.attachments?.length) return null;
  return (
    <div data-testid="kb-attachments">
      <Typography.Text strong>{t('kb.attachments')}</Typography.Text>
      <ul style={{ listStyle: 'none', paddingInlineStart: 0, margin: '4px 0 0' }}>
        {article.attachments.map((a) => (
          <li key={a.id} style={{ padding: '2px 0' }}>
            <PaperClipOutlined />{' '}
            <a href={kbUrls.attachment(a.id)} download={a.filename} data-testid="kb-attachment">
              {a.filename}
            </a>{' '}
            <Typography.Text type="secondary">({fmtSize(a.size)})</Typography.Text> {extra?.(a.id)}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** Category path, tags, visibility, validity and views on one line. */
export function ArticleFacts({ article, path }: { article: KbArticle; path?: string }) {
  const { t } = useI18n();
  const validity = useMemo(() => {
    if (!article.valid_from && !article.valid_to) return null;
    return `${article.valid_from || '…'} ~ ${article.valid_to || '…'}`;
  }, [article.valid_from, article.valid_to]);
  return (
    <Space wrap size={[8, 4]} data-testid="kb-article-facts">
      <VisibilityTag visibility={article.visibility} testId="kb-article-visibility" />
      {path || article.category_path ? (
        <Typography.Text type="secondary" data-testid="kb-article-path">
          {path || pathText(article.category_path)}
        </Typography.Text>
      ) : null}
      {(article.tags ?? []).map((tg) => (
        <Tag key={tg} data-testid="kb-article-tag">
          {tg}
        </Tag>
      ))}
      {validity ? (
        <Typography.Text type="secondary" data-testid="kb-article-validity">
          {t('kb.validity')}: {validity}
        </Typography.Text>
      ) : null}
      <Typography.Text type="secondary" data-testid="kb-article-views">
        <EyeOutlined /> {t('kb.views', { n: article.views ?? 0 })}
      </Typography.Text>
    </Space>
  );
}

export function ArticleBody({ article }: { article: KbArticle }) {
  return <ArticleHtml html={article.body_html} testId="kb-article-body" />;
}
