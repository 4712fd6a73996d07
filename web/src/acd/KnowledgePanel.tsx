// 知识库 on the agent desktop: a compact search with suggestions, the top hits with their highlighted
// snippets, an article opened in a drawer (favorite, helpful) without leaving the call, and this week's hot
// articles while the box is empty. `query` is what the desk knows about the call (the queue, the IVR
// path): offered as a one-click search, never run on its own.
import { useEffect, useState } from 'react';
import { Alert, Button, Card, List, Space, Tag, Typography } from 'antd';
import { BookOutlined, ThunderboltOutlined } from '@ant-design/icons';
import { useAuth } from '../auth';
import { useI18n } from '../i18n';
import { problemText } from './common';
import { kbApi, type SearchResults } from '../kb/api';
import { KbSearchBox, VisibilityTag } from '../kb/common';
import { Highlighted } from '../kb/html';
import { HotArticles } from '../kb/hot';
import { ArticleDrawer } from '../kb/ArticleDrawer';

const TOP = 5;

export function KnowledgePanel({ query }: { query?: string }) {
  const { t } = useI18n();
  const { can } = useAuth();
  const [text, setText] = useState('');
  const [q, setQ] = useState('');
  const [res, setRes] = useState<SearchResults | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);

  useEffect(() => {
    if (!q) {
      setRes(null);
      setError(null);
      return;
    }
    let alive = true;
    setLoading(true);
    kbApi
      .search({ q, limit: TOP })
      .then((r) => {
        if (!alive) return;
        setRes(r);
        setError(null);
      })
      .catch((e) => alive && setError(problemText(e)))
      .finally(() => alive && setLoading(false));
    return () => {
      alive = false;
    };
  }, [q]);

  const search = (v: string) => {
    setText(v);
    setQ(v.trim());
  };

  const title = (
    <span>
      <BookOutlined /> {t('menu.knowledge')}
    </span>
  );

  if (!can('kb.read')) {
    return (
      <Card size="small" data-testid="knowledge-panel" title={title}>
        <Typography.Text type="secondary">{t('kb.panel.noAccess')}</Typography.Text>
      </Card>
    );
  }

  const suggested = (query ?? '').trim();

  return (
    <Card size="small" data-testid="knowledge-panel" title={title}>
      <Space direction="vertical" size={8} style={{ width: '100%' }}>
        <KbSearchBox
          value={text}
          onChange={setText}
          onSearch={search}
          onPick={(s) => {
            void kbApi.click(s.id, text).catch(() => undefined);
            setOpen(s.id);
          }}
          testId="kb-panel-search"
          style={{ width: '100%' }}
        />
        {suggested && suggested !== q ? (
          <Button size="small" type="dashed" icon={<ThunderboltOutlined />} onClick={() => search(suggested)} data-testid="kb-panel-call-query">
            {t('kb.panel.searchCall', { q: suggested })}
          </Button>
        ) : null}
        {error ? <Alert type="error" showIcon message={error} /> : null}
        {q ? (
          <List
            size="small"
            loading={loading}
            dataSource={res?.hits ?? []}
            data-testid="kb-panel-results"
            locale={{ emptyText: <span data-testid="kb-panel-none">{t('kb.search.none')}</span> }}
            footer={
              res && res.total > TOP ? (
                <a href={`/kb?q=${encodeURIComponent(q)}`} target="_blank" rel="noreferrer" data-testid="kb-panel-more">
                  {t('kb.panel.more', { n: res.total })}
                </a>
              ) : null
            }
            renderItem={(h) => (
              <List.Item key={h.id} style={{ paddingInline: 0, display: 'block' }} data-testid="kb-panel-hit" data-id={h.id} data-slug={h.slug}>
                <a
                  href={`/kb/articles/${encodeURIComponent(h.id)}`}
                  onClick={(e) => {
                    e.preventDefault();
                    void kbApi.click(h.id, q).catch(() => undefined);
                    setOpen(h.id);
                  }}
                  data-testid="kb-panel-hit-title"
                >
                  <Highlighted html={h.title_html || h.title} />
                </a>
                {h.visibility === 'public' ? null : (
                  <span style={{ marginInlineStart: 6 }}>
                    <VisibilityTag visibility={h.visibility} />
                  </span>
                )}
                <div style={{ fontSize: 12, color: 'rgba(0,0,0,0.55)' }}>
                  <Highlighted html={h.snippet_html} testId="kb-panel-snippet" />
                </div>
                {(h.tags ?? []).slice(0, 3).map((tg) => (
                  <Tag key={tg} style={{ fontSize: 11, marginTop: 2 }}>
                    {tg}
                  </Tag>
                ))}
              </List.Item>
            )}
          />
        ) : (
          <HotArticles compact periods={['week']} onOpen={setOpen} />
        )}
      </Space>
      <ArticleDrawer id={open} onClose={() => setOpen(null)} />
    </Card>
  );
}
