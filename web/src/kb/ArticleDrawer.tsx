// An article in a drawer (the agent desktop): read it without leaving the call, favorite it, vote.
import { useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { Alert, Divider, Drawer, Space, Spin } from 'antd';
import { ExportOutlined } from '@ant-design/icons';
import { useI18n } from '../i18n';
import { problemText } from '../acd/common';
import { kbApi, type KbArticle } from './api';
import { ArticleBody, ArticleFacts, AttachmentList, FavoriteButton, VoteButtons } from './common';

export function ArticleDrawer({ id, onClose }: { id: string | null; onClose: () => void }) {
  const { t } = useI18n();
  const [article, setArticle] = useState<KbArticle | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!id) return;
    let alive = true;
    setArticle(null);
    setError(null);
    kbApi
      .article(id)
      .then((a) => alive && setArticle(a))
      .catch((e) => alive && setError(problemText(e)));
    return () => {
      alive = false;
    };
  }, [id]);

  return (
    <Drawer
      open={!!id}
      onClose={onClose}
      width={Math.min(720, window.innerWidth - 24)}
      title={<span data-testid="kb-drawer-title">{article?.title ?? t('menu.knowledge')}</span>}
      extra={
        article ? (
          <Space>
            <FavoriteButton size="small" article={article} onChanged={(on) => setArticle((a) => (a ? { ...a, favorite: on } : a))} />
            <Link to={`/kb/articles/${encodeURIComponent(article.id)}`} target="_blank" data-testid="kb-drawer-open">
              <ExportOutlined /> {t('kb.openInKb')}
            </Link>
          </Space>
        ) : null
      }
      data-testid="kb-drawer"
      destroyOnHidden
    >
      {error ? <Alert type="error" showIcon message={error} /> : null}
      {!article && !error ? (
        <div style={{ textAlign: 'center', padding: 32 }}>
          <Spin />
        </div>
      ) : null}
      {article ? (
        <Space direction="vertical" size={12} style={{ width: '100%' }} data-testid="kb-drawer-article" data-id={article.id}>
          <ArticleFacts article={article} />
          <ArticleBody article={article} />
          <AttachmentList article={article} />
          <Divider style={{ margin: '8px 0' }} />
          <VoteButtons size="small" article={article} onChanged={(v) => setArticle((a) => (a ? { ...a, ...v } : a))} />
        </Space>
      ) : null}
    </Drawer>
  );
}
