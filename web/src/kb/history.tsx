// An article's version history: the versions, a line diff between any two (inserted lines green,
// deleted lines red) and restore (a new version copying an old one).
import { useCallback, useEffect, useState } from 'react';
import { Alert, App, Button, Card, Empty, Popconfirm, Select, Space, Table, Typography } from 'antd';
import { DiffOutlined, RollbackOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import { useI18n } from '../i18n';
import { problemText } from '../acd/common';
import { kbApi, type DiffLine, type KbVersion } from './api';

export function DiffView({ lines }: { lines: DiffLine[] }) {
  const { t } = useI18n();
  if (!lines.length) return <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('kb.diff.empty')} />;
  const changed = lines.some((l) => l.op !== 'equal');
  return (
    <div className="kb-diff" data-testid="kb-diff">
      {!changed ? <Typography.Text type="secondary">{t('kb.diff.same')}</Typography.Text> : null}
      {lines.map((l, i) => (
        <div key={i} className={`kb-diff-line kb-diff-${l.op}`} data-testid="kb-diff-line" data-op={l.op}>
          <span className="kb-diff-sign" aria-hidden>
            {l.op === 'insert' ? '+' : l.op === 'delete' ? '−' : ' '}
          </span>
          <span className="kb-diff-text">{l.text || '\u00a0'}</span>
        </div>
      ))}
    </div>
  );
}

export function VersionHistory({
  articleId,
  currentVersion,
  canRestore,
  onRestored,
}: {
  articleId: string;
  currentVersion: number;
  canRestore: boolean;
  onRestored: () => void;
}) {
  const { t } = useI18n();
  const { message } = App.useApp();
  const [versions, setVersions] = useState<KbVersion[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [from, setFrom] = useState<number | undefined>();
  const [to, setTo] = useState<number | undefined>();
  const [diff, setDiff] = useState<DiffLine[] | null>(null);
  const [diffing, setDiffing] = useState(false);

  const load = useCallback(async () => {
    try {
      const v = [...(await kbApi.versions(articleId))].sort((a, b) => b.version - a.version);
      setVersions(v);
      setError(null);
      if (v.length >= 2) {
        setTo(v[0].version);
        setFrom(v[1].version);
      } else if (v.length === 1) {
        setTo(v[0].version);
        setFrom(v[0].version);
      }
    } catch (e) {
      setError(problemText(e));
    }
  }, [articleId]);

  useEffect(() => {
    setDiff(null);
    void load();
  }, [load, currentVersion]);

  const compare = async (a = from, b = to) => {
    if (a === undefined || b === undefined) return;
    setDiffing(true);
    try {
      setDiff(await kbApi.diff(articleId, a, b));
    } catch (e) {
      message.error(problemText(e));
    } finally {
      setDiffing(false);
    }
  };

  const options = (versions ?? []).map((v) => ({ value: v.version, label: `v${v.version}` }));

  return (
    <Card size="small" title={t('kb.history.title')} data-testid="kb-history">
      {error ? <Alert type="error" showIcon message={error} /> : null}
      <Table<KbVersion>
        size="small"
        rowKey="version"
        loading={versions === null && !error}
        dataSource={versions ?? []}
        pagination={false}
        onRow={(v) => ({ 'data-testid': 'kb-version-row', 'data-version': v.version }) as React.HTMLAttributes<HTMLElement>}
        columns={[
          {
            title: t('kb.history.version'),
            dataIndex: 'version',
            width: 90,
            render: (n: number, v) => (
              <span title={v.title} style={{ whiteSpace: 'nowrap' }}>
                v{n}
                {n === currentVersion ? <Typography.Text type="secondary"> ({t('kb.history.current')})</Typography.Text> : null}
              </span>
            ),
          },
          {
            title: t('kb.history.by'),
            key: 'by',
            ellipsis: true,
            render: (_: unknown, v) => v.author_name ?? v.created_by_name ?? '',
          },
          {
            title: t('kb.history.at'),
            key: 'at',
            width: 140,
            render: (_: unknown, v) => {
              const at = v.created_at ?? v.at;
              return at ? dayjs(at).format('YYYY-MM-DD HH:mm') : '';
            },
          },
          {
            title: t('common.actions'),
            key: 'actions',
            width: 170,
            render: (_: unknown, v) => (
              <Space size={0}>
                <Button
                  size="small"
                  type="link"
                  icon={<DiffOutlined />}
                  data-testid="kb-version-diff-prev"
                  disabled={v.version <= 1}
                  onClick={() => {
                    setFrom(v.version - 1);
                    setTo(v.version);
                    void compare(v.version - 1, v.version);
                  }}
                >
                  {t('kb.history.changes')}
                </Button>
                {canRestore && v.version !== currentVersion ? (
                  <Popconfirm
                    title={t('kb.history.restoreConfirm', { v: v.version })}
                    okButtonProps={{ 'data-testid': 'kb-restore-ok' }}
                    onConfirm={async () => {
                      try {
                        await kbApi.restore(articleId, v.version);
                        message.success(t('kb.history.restored', { v: v.version }));
                        onRestored();
                      } catch (e) {
                        message.error(problemText(e));
                      }
                    }}
                  >
                    <Button size="small" type="link" icon={<RollbackOutlined />} data-testid="kb-version-restore">
                      {t('kb.history.restore')}
                    </Button>
                  </Popconfirm>
                ) : null}
              </Space>
            ),
          },
        ]}
      />
      <Space wrap style={{ marginTop: 12 }}>
        <Typography.Text>{t('kb.diff.compare')}</Typography.Text>
        <Select style={{ width: 90 }} value={from} onChange={setFrom} options={options} data-testid="kb-diff-from" />
        <Typography.Text>→</Typography.Text>
        <Select style={{ width: 90 }} value={to} onChange={setTo} options={options} data-testid="kb-diff-to" />
        <Button icon={<DiffOutlined />} loading={diffing} disabled={from === undefined || to === undefined} onClick={() => void compare()} data-testid="kb-diff-run">
          {t('kb.diff.run')}
        </Button>
      </Space>
      {diff ? (
        <div style={{ marginTop: 12 }}>
          <Typography.Text type="secondary">{t('kb.diff.between', { from: from ?? '', to: to ?? '' })}</Typography.Text>
          <DiffView lines={diff} />
        </div>
      ) : null}
    </Card>
  );
}
