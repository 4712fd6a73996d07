// The versions drawer: every saved version, which one is published, view one on the canvas, compare
// two (nodes added, removed, changed with the changed fields side by side), roll back (= publish an
// older one).
import { useCallback, useEffect, useState } from 'react';
import { Alert, App, Button, Drawer, Empty, Popconfirm, Select, Space, Table, Tag, Typography } from 'antd';
import dayjs from 'dayjs';
import { ApiError } from '../api';
import { useT } from '../i18n';
import { ivrApi, type IvrFlowSummary, type IvrVersionSummary } from './api';
import { kindLabel } from './FlowNode';
import { diffFlows, type Flow, type FlowDiff } from './model';

function show(v: unknown): string {
  if (v === undefined) return '—';
  return typeof v === 'string' ? v : JSON.stringify(v, null, 1);
}

function DiffView({ diff }: { diff: FlowDiff }) {
  const t = useT();
  if (!diff.added.length && !diff.removed.length && !diff.changed.length && !diff.flow.length) {
    return <Alert type="success" message={t('ivr.noDiff')} data-testid="ivr-diff-none" />;
  }
  const cell = { verticalAlign: 'top', padding: 4, border: '1px solid #f0f0f0', fontSize: 12, whiteSpace: 'pre-wrap' as const, wordBreak: 'break-all' as const };
  return (
    <div data-testid="ivr-diff">
      {diff.added.length ? (
        <>
          <Typography.Title level={5}>{t('ivr.added')}</Typography.Title>
          {diff.added.map((n) => (
            <Tag color="green" key={n.id} data-testid="ivr-diff-added" data-node={n.id}>
              + {n.id} ({kindLabel(t, n.kind)})
            </Tag>
          ))}
        </>
      ) : null}
      {diff.removed.length ? (
        <>
          <Typography.Title level={5}>{t('ivr.removed')}</Typography.Title>
          {diff.removed.map((n) => (
            <Tag color="red" key={n.id} data-testid="ivr-diff-removed" data-node={n.id}>
              − {n.id} ({kindLabel(t, n.kind)})
            </Tag>
          ))}
        </>
      ) : null}
      {diff.changed.length || diff.flow.length ? (
        <>
          <Typography.Title level={5}>{t('ivr.changed')}</Typography.Title>
          <table style={{ width: '100%', borderCollapse: 'collapse' }}>
            <thead>
              <tr>
                <th style={cell}>{t('ivr.funnel.node')}</th>
                <th style={cell}>{t('ivr.before')}</th>
                <th style={cell}>{t('ivr.after')}</th>
              </tr>
            </thead>
            <tbody>
              {diff.flow.map((f) => (
                <tr key={`flow-${f.field}`} data-testid="ivr-diff-changed" data-node="">
                  <td style={cell}>
                    {t('ivr.flowChanged')}.{f.field}
                  </td>
                  <td style={{ ...cell, background: '#fff1f0' }}>{show(f.before)}</td>
                  <td style={{ ...cell, background: '#f6ffed' }}>{show(f.after)}</td>
                </tr>
              ))}
              {diff.changed.flatMap((c) =>
                c.fields.map((f) => (
                  <tr key={`${c.id}-${f.field}`} data-testid="ivr-diff-changed" data-node={c.id}>
                    <td style={cell}>
                      {c.id}.{f.field}
                    </td>
                    <td style={{ ...cell, background: '#fff1f0' }}>{show(f.before)}</td>
                    <td style={{ ...cell, background: '#f6ffed' }}>{show(f.after)}</td>
                  </tr>
                )),
              )}
            </tbody>
          </table>
        </>
      ) : null}
    </div>
  );
}

export function VersionsDrawer({
  flowId,
  meta,
  open,
  current,
  canManage,
  onClose,
  onView,
  onPublished,
}: {
  flowId: string;
  meta: IvrFlowSummary | null;
  open: boolean;
  /** The graph on the canvas (compared as 当前编辑, version 0). */
  current: Flow;
  canManage: boolean;
  onClose: () => void;
  onView: (graph: Flow, version: number) => void;
  onPublished: () => void;
}) {
  const t = useT();
  const { message } = App.useApp();
  const [rows, setRows] = useState<IvrVersionSummary[]>([]);
  const [loading, setLoading] = useState(false);
  const [a, setA] = useState<number | undefined>();
  const [b, setB] = useState<number | undefined>();
  const [diff, setDiff] = useState<FlowDiff | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    setLoading(true);
    try {
      const vs = await ivrApi.versions(flowId);
      vs.sort((x, y) => y.version - x.version);
      setRows(vs);
      if (vs.length >= 2) {
        setA((cur) => cur ?? vs[1].version);
        setB((cur) => cur ?? vs[0].version);
      } else if (vs.length === 1) {
        setA((cur) => cur ?? vs[0].version);
        setB((cur) => cur ?? 0);
      }
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setLoading(false);
    }
  }, [flowId]);

  useEffect(() => {
    if (open) void load();
  }, [open, load, meta?.published_version, meta?.latest_version]);

  const compare = async () => {
    if (a === undefined || b === undefined) return;
    setError(null);
    try {
      const get = async (v: number) => (v === 0 ? current : (await ivrApi.version(flowId, v)).graph);
      const [x, y] = await Promise.all([get(a), get(b)]);
      setDiff(diffFlows(x, y));
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  const publish = async (v: number) => {
    try {
      await ivrApi.publish(flowId, v);
      message.success(t('ivr.publishedOk', { v }));
      onPublished();
      void load();
    } catch (e) {
      const err = e instanceof ApiError ? e.problem.errors?.map((x) => `${x.field}: ${x.reason}`).join('；') || e.message : String(e);
      setError(err);
    }
  };

  const isPublished = (r: IvrVersionSummary) => r.published ?? meta?.published_version === r.version;
  const opts = [
    { value: 0, label: t('ivr.draft') },
    ...rows.map((r) => ({ value: r.version, label: `v${r.version}${r.note ? ` · ${r.note}` : ''}` })),
  ];

  return (
    <Drawer open={open} onClose={onClose} width={720} title={t('ivr.versions')} data-testid="ivr-versions">
      {error ? <Alert type="error" showIcon message={error} style={{ marginBottom: 8 }} closable onClose={() => setError(null)} /> : null}
      <Table<IvrVersionSummary>
        size="small"
        rowKey="version"
        loading={loading}
        dataSource={rows}
        pagination={false}
        locale={{ emptyText: <Empty description={t('ivr.noVersions')} /> }}
        onRow={(r) => ({ 'data-testid': 'ivr-version-row', 'data-version': r.version, 'data-published': isPublished(r) ? 'true' : 'false' }) as React.HTMLAttributes<HTMLElement>}
        columns={[
          {
            title: t('ivr.version'),
            dataIndex: 'version',
            render: (v: number, r) => (
              <Space>
                <span>v{v}</span>
                {isPublished(r) ? (
                  <Tag color="green" data-testid="ivr-version-published">
                    {t('ivr.published')}
                  </Tag>
                ) : null}
              </Space>
            ),
          },
          { title: t('ivr.note'), dataIndex: 'note' },
          { title: t('ivr.nodes'), dataIndex: 'nodes', width: 70 },
          { title: t('ivr.createdAt'), dataIndex: 'created_at', render: (v: string) => dayjs(v).format('YYYY-MM-DD HH:mm:ss') },
          {
            title: t('common.actions'),
            key: 'actions',
            render: (_, r) => (
              <Space size="small">
                <Button
                  size="small"
                  data-testid="ivr-version-view"
                  onClick={async () => {
                    try {
                      const d = await ivrApi.version(flowId, r.version);
                      onView(d.graph, r.version);
                    } catch (e) {
                      setError(e instanceof Error ? e.message : String(e));
                    }
                  }}
                >
                  {t('ivr.view')}
                </Button>
                {canManage && !isPublished(r) ? (
                  <Popconfirm
                    title={
                      meta?.published_version && r.version < meta.published_version
                        ? t('ivr.rollbackConfirm', { v: r.version })
                        : t('ivr.publishConfirm', { v: r.version })
                    }
                    onConfirm={() => publish(r.version)}
                    okButtonProps={{ 'data-testid': 'ivr-version-publish-ok' }}
                  >
                    <Button size="small" data-testid="ivr-version-publish">
                      {meta?.published_version && r.version < meta.published_version ? t('ivr.rollback') : t('ivr.publish')}
                    </Button>
                  </Popconfirm>
                ) : null}
              </Space>
            ),
          },
        ]}
      />
      {rows.length >= 1 ? (
        <div style={{ marginTop: 16 }}>
          <Typography.Title level={5}>{t('ivr.compareTitle')}</Typography.Title>
          <Space style={{ marginBottom: 8 }}>
            <Select style={{ width: 200 }} value={a} onChange={setA} options={opts} data-testid="ivr-compare-a" />
            →
            <Select style={{ width: 200 }} value={b} onChange={setB} options={opts} data-testid="ivr-compare-b" />
            <Button onClick={compare} data-testid="ivr-compare">
              {t('ivr.compare')}
            </Button>
          </Space>
          {diff ? <DiffView diff={diff} /> : null}
        </div>
      ) : null}
    </Drawer>
  );
}
