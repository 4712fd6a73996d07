import { useCallback, useEffect, useRef, useState } from 'react';
import { Alert, Button, Card, Checkbox, Descriptions, Form, Progress, Radio, Space, Statistic, Table, Tag, Typography, Upload } from 'antd';
import { CloudUploadOutlined, UploadOutlined } from '@ant-design/icons';
import { api, ApiError, type ImportJob, type ImportKind, type ImportRowError, type Page } from '../api';
import { useAuth } from '../auth';
import { useT } from '../i18n';
import { fmtTime } from './CustomerDetail';

function statusColor(s: string) {
  return s === 'succeeded' ? 'green' : s === 'failed' ? 'red' : s === 'running' ? 'blue' : 'default';
}

export default function ImportsPage() {
  const t = useT();
  const { can } = useAuth();
  const [kind, setKind] = useState<ImportKind>('customers');
  const [skipInvalid, setSkipInvalid] = useState(false);
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [job, setJob] = useState<ImportJob | null>(null);
  const [history, setHistory] = useState<Page<ImportJob> | null>(null);
  const timer = useRef<number | null>(null);

  const loadHistory = useCallback(async () => {
    if (!can('imports.read')) return;
    try {
      setHistory(await api.imports({ page: 1, per_page: 10 }));
    } catch {
      /* the history is a convenience */
    }
  }, [can]);

  useEffect(() => {
    void loadHistory();
  }, [loadHistory]);

  const stopPolling = () => {
    if (timer.current !== null) {
      window.clearTimeout(timer.current);
      timer.current = null;
    }
  };
  useEffect(() => stopPolling, []);

  const poll = useCallback(
    (id: string) => {
      stopPolling();
      timer.current = window.setTimeout(async () => {
        try {
          const j = await api.importJob(id);
          setJob(j);
          if (j.status === 'queued' || j.status === 'running') poll(id);
          else void loadHistory();
        } catch (e) {
          setError((e as Error).message);
        }
      }, 1000);
    },
    [loadHistory],
  );

  const start = async () => {
    if (!file) {
      setError(t('imp.noFile'));
      return;
    }
    setBusy(true);
    setError(null);
    setJob(null);
    try {
      const j = await api.startImport(kind, skipInvalid, file);
      setJob(j);
      if (j.status === 'queued' || j.status === 'running') poll(j.id);
      else void loadHistory();
    } catch (e) {
      if (e instanceof ApiError) {
        const details = (e.problem.errors ?? []).map((fe) => `${fe.field}: ${fe.reason}`);
        setError([e.message, ...details].join('；'));
      } else setError(String(e));
    } finally {
      setBusy(false);
    }
  };

  const done = job && (job.status === 'succeeded' || job.status === 'failed');

  return (
    <Space direction="vertical" size={16} style={{ width: '100%' }} data-testid="imports-page">
      <Card title={t('imp.title')}>
        <Form layout="vertical" style={{ maxWidth: 560 }}>
          <Form.Item label={t('imp.kind')}>
            <Radio.Group value={kind} onChange={(e) => setKind(e.target.value)} data-testid="import-kind">
              <Radio.Button value="customers" data-testid="import-kind-customers">
                {t('imp.kindCustomers')}
              </Radio.Button>
              <Radio.Button value="bills" data-testid="import-kind-bills">
                {t('imp.kindBills')}
              </Radio.Button>
            </Radio.Group>
          </Form.Item>
          <Form.Item label={t('imp.file')}>
            <Upload
              accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
              maxCount={1}
              beforeUpload={(f) => {
                setFile(f);
                setError(null);
                return false;
              }}
              onRemove={() => setFile(null)}
              fileList={file ? [{ uid: 'f', name: file.name, status: 'done' as const, size: file.size }] : []}
              data-testid="import-file"
            >
              <Button icon={<UploadOutlined />}>{t('imp.choose')}</Button>
            </Upload>
          </Form.Item>
          <Form.Item>
            <Checkbox checked={skipInvalid} onChange={(e) => setSkipInvalid(e.target.checked)} data-testid="import-skip-invalid">
              {t('imp.skipInvalid')}
            </Checkbox>
          </Form.Item>
          <Button type="primary" icon={<CloudUploadOutlined />} loading={busy} onClick={start} data-testid="import-start">
            {t('imp.start')}
          </Button>
        </Form>
        {error ? (
          <Alert type="error" showIcon message={<span data-testid="import-error">{error}</span>} style={{ marginTop: 16 }} />
        ) : null}
      </Card>

      {job ? (
        <Card
          title={
            <Space>
              {t('imp.progress')}
              <Typography.Text type="secondary">{job.filename}</Typography.Text>
              <Tag color={statusColor(job.status)} data-testid="import-status">
                {t(`imp.status.${job.status}`)}
              </Tag>
            </Space>
          }
          data-testid="import-job"
        >
          <Progress
            percent={Math.round(job.percent)}
            status={job.status === 'failed' ? 'exception' : job.status === 'succeeded' ? 'success' : 'active'}
            data-testid="import-progress"
          />
          <Space size={32} wrap style={{ marginTop: 16 }} data-testid="import-counts">
            <Statistic title={t('imp.total')} value={job.total_rows} />
            <Statistic title={t('imp.processed')} value={job.processed_rows} />
            <Statistic title={t('imp.inserted')} value={job.inserted} valueStyle={{ color: '#389e0d' }} />
            <Statistic title={t('imp.updated')} value={job.updated} valueStyle={{ color: '#1668dc' }} />
            <Statistic title={t('imp.skipped')} value={job.skipped} valueStyle={{ color: '#d46b08' }} />
          </Space>
          {job.failure ? (
            <Alert type="error" showIcon style={{ marginTop: 16 }} message={<span data-testid="import-failure">{job.failure}</span>} />
          ) : null}
          {done && job.errors.length > 0 ? (
            <>
              <Typography.Title level={5} style={{ marginTop: 24 }}>
                {t('imp.errors')} ({job.errors.length})
              </Typography.Title>
              <Table<ImportRowError & { k: number }>
                rowKey="k"
                size="small"
                data-testid="import-errors"
                dataSource={job.errors.map((e, k) => ({ ...e, k }))}
                pagination={job.errors.length > 20 ? { pageSize: 20 } : false}
                columns={[
                  { title: t('imp.line'), dataIndex: 'line', key: 'line', width: 90 },
                  { title: t('imp.column'), dataIndex: 'column', key: 'column', width: 160, render: (v?: string | null) => v ?? '' },
                  { title: t('imp.reason'), dataIndex: 'reason', key: 'reason' },
                ]}
              />
            </>
          ) : null}
          {done ? (
            <Descriptions size="small" style={{ marginTop: 16 }} column={2}>
              <Descriptions.Item label={t('imp.createdAt')}>{fmtTime(job.created_at)}</Descriptions.Item>
              <Descriptions.Item label={t('imp.finishedAt')}>{fmtTime(job.finished_at)}</Descriptions.Item>
            </Descriptions>
          ) : null}
        </Card>
      ) : null}

      {history && history.items.length ? (
        <Card title={t('imp.history')} data-testid="import-history">
          <Table<ImportJob>
            rowKey="id"
            size="small"
            dataSource={history.items}
            pagination={false}
            onRow={(r) => ({ onClick: () => setJob(r), style: { cursor: 'pointer' } })}
            columns={[
              { title: t('imp.createdAt'), dataIndex: 'created_at', key: 'created_at', render: (v: string) => fmtTime(v), width: 180 },
              { title: t('imp.filename'), dataIndex: 'filename', key: 'filename' },
              {
                title: t('imp.kind'),
                dataIndex: 'kind',
                key: 'kind',
                render: (k: string) => (k === 'bills' ? t('imp.kindBills') : t('imp.kindCustomers')),
              },
              {
                title: t('common.status'),
                dataIndex: 'status',
                key: 'status',
                render: (s: ImportJob['status']) => <Tag color={statusColor(s)}>{t(`imp.status.${s}`)}</Tag>,
              },
              { title: t('imp.inserted'), dataIndex: 'inserted', key: 'inserted' },
              { title: t('imp.updated'), dataIndex: 'updated', key: 'updated' },
              { title: t('imp.skipped'), dataIndex: 'skipped', key: 'skipped' },
            ]}
          />
        </Card>
      ) : null}
    </Space>
  );
}
