// 热门文章: the most read articles of the day, the week or all time (views + 2 × clicks + 3 × helpful).
import { useEffect, useState } from 'react';
import { Card, List, Tabs, Tag, Typography } from 'antd';
import { FireOutlined } from '@ant-design/icons';
import { useI18n, type MessageKey } from '../i18n';
import { problemText } from '../acd/common';
import { kbApi, type HotArticle, type HotPeriod } from './api';

export function HotArticles({ onOpen, compact, periods = ['day', 'week', 'all'] }: { onOpen: (id: string) => void; compact?: boolean; periods?: HotPeriod[] }) {
  const { t } = useI18n();
  const [period, setPeriod] = useState<HotPeriod>(periods.includes('week') ? 'week' : periods[0]);
  const [items, setItems] = useState<HotArticle[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let alive = true;
    setItems(null);
    kbApi
      .hot(period, compact ? 5 : 10)
      .then((r) => {
        if (!alive) return;
        setItems(r);
        setError(null);
      })
      .catch((e) => alive && setError(problemText(e)));
    return () => {
      alive = false;
    };
  }, [period, compact]);
  const list = (
    <List
      size="small"
      loading={items === null && !error}
      dataSource={items ?? []}
      locale={{ emptyText: error ?? t('kb.hot.none') }}
      renderItem={(a, i) => (
        <List.Item key={a.id} style={{ paddingInline: 0 }} data-testid="kb-hot-item" data-id={a.id}>
          <Typography.Text ellipsis style={{ width: '100%' }}>
            <Tag color={i < 3 ? 'red' : 'default'} style={{ marginInlineEnd: 6 }}>
              {i + 1}
            </Tag>
            <a
              href={`/kb/articles/${encodeURIComponent(a.id)}`}
              onClick={(e) => {
                e.preventDefault();
                onOpen(a.id);
              }}
            >
              {a.title}
            </a>
          </Typography.Text>
        </List.Item>
      )}
    />
  );
  return (
    <Card
      size="small"
      data-testid="kb-hot"
      title={
        <span>
          <FireOutlined style={{ color: '#f5222d' }} /> {periods.length === 1 ? t(`kb.hot.${periods[0]}.title` as MessageKey) : t('kb.hot.title')}
        </span>
      }
    >
      {periods.length > 1 ? (
        <Tabs
          size="small"
          activeKey={period}
          onChange={(k) => setPeriod(k as HotPeriod)}
          items={periods.map((p) => ({ key: p, label: <span data-testid={`kb-hot-${p}`}>{t(`kb.hot.${p}` as MessageKey)}</span> }))}
        />
      ) : null}
      {list}
    </Card>
  );
}
