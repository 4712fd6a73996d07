// 知识库管理 (/kb/admin): synonyms (one group per line; kb.manage edits), searches that found nothing
// (kb.edit), import of a Markdown-folder zip or an Excel workbook with every bad row shown, and export
// (kb.manage).
import { useCallback, useEffect, useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { Alert, App, Button, Card, Col, DatePicker, Descriptions, Input, Row, Space, Table, Typography, Upload } from 'antd';
import { ArrowLeftOutlined, CloudUploadOutlined, DownloadOutlined, ReloadOutlined, SaveOutlined } from '@ant-design/icons';
import dayjs, { type Dayjs } from 'dayjs';
import { ApiError } from '../api';
import { useAuth } from '../auth';
import { useI18n } from '../i18n';
import { problemText } from '../acd/common';
import { kbApi, kbUrls, normSynonyms, type NoResultQuery, type SynonymGroup } from '../kb/api';

/** Text → groups: one group per line, words separated by commas (`,` `，` `、`) or spaces. */
export function parseSynonyms(text: string): { groups: SynonymGroup[]; errors: { line: number; reason: 'single' | 'long' }[] } {
  const groups: SynonymGroup[] = [];
  const errors: { line: number; reason: 'single' | 'long' }[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const words = [...new Set(raw.split(/[,，、\s]+/).map((w) => w.trim()).filter(Boolean))];
    if (!words.length) return;
    if (words.length < 2) errors.push({ line: i + 1, reason: 'single' });
    else if (words.some((w) => [...w].length > 20)) errors.push({ line: i + 1, reason: 'long' });
    else groups.push({ words });
  });
  return { groups, errors };
}

export default function KbAdminPage() {
  const { t } = useI18n();
  const { can } = useAuth();
  const navigate = useNavigate();
  return (
    <Space direction="vertical" size={12} style={{ width: '100%' }} data-testid="kb-admin">
      <Space>
        <Button type="text" icon={<ArrowLeftOutlined />} onClick={() => navigate('/kb')} aria-label={t('kb.backToKb')} />
        <Typography.Title level={4} style={{ margin: 0 }}>
          {t('kb.admin.title')}
        </Typography.Title>
      </Space>
      <Row gutter={[12, 12]}>
        <Col xs={24} xl={12}>
          <Synonyms editable={can('kb.manage')} />
        </Col>
        <Col xs={24} xl={12}>
          <Space direction="vertical" size={12} style={{ width: '100%' }}>
            {can('kb.edit') ? <NoResults /> : null}
            {can('kb.manage') ? <ImportExport /> : null}
          </Space>
        </Col>
      </Row>
    </Space>
  );
}

function Synonyms({ editable }: { editable: boolean }) {
  const { t } = useI18n();
  const { message } = App.useApp();
  const [text, setText] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [lineErrors, setLineErrors] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      const g = await kbApi.synonyms();
      setText((Array.isArray(g) ? g : []).map((x) => x.words.join(', ')).join('\n'));
      setError(null);
    } catch (e) {
      setError(problemText(e));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const save = async () => {
    const { groups, errors } = parseSynonyms(text ?? '');
    setLineErrors(errors.map((e) => t(e.reason === 'single' ? 'kb.syn.single' : 'kb.syn.long', { line: e.line })));
    if (errors.length) return;
    setBusy(true);
    try {
      const saved = await kbApi.saveSynonyms(groups);
      // What the server kept (words trimmed, duplicates merged), without a second read.
      const kept = saved ? normSynonyms(saved) : groups;
      setText(kept.map((x) => x.words.join(', ')).join('\n'));
      message.success(t('kb.syn.saved', { n: kept.length }));
    } catch (e) {
      if (e instanceof ApiError && e.problem.errors?.length) setLineErrors(e.problem.errors.map((fe) => `${fe.field}: ${fe.reason}`));
      else setError(problemText(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card
      size="small"
      title={t('kb.syn.title')}
      data-testid="kb-synonyms"
      extra={
        editable ? (
          <Button type="primary" icon={<SaveOutlined />} loading={busy} disabled={text === null} onClick={() => void save()} data-testid="kb-synonyms-save">
            {t('common.save')}
          </Button>
        ) : null
      }
    >
      <Space direction="vertical" style={{ width: '100%' }}>
        <Typography.Text type="secondary">{t('kb.syn.hint')}</Typography.Text>
        {error ? <Alert type="error" showIcon message={error} /> : null}
        {lineErrors.length ? (
          <Alert type="error" showIcon data-testid="kb-synonyms-errors" message={t('kb.syn.invalid')} description={lineErrors.map((l) => <div key={l}>{l}</div>)} />
        ) : null}
        <Input.TextArea
          value={text ?? ''}
          disabled={text === null}
          readOnly={!editable}
          onChange={(e) => setText(e.target.value)}
          autoSize={{ minRows: 12, maxRows: 30 }}
          placeholder={'煤气, 燃气\n户号, 用户编号, 用户号'}
          data-testid="kb-synonyms-text"
        />
      </Space>
    </Card>
  );
}

function NoResults() {
  const { t } = useI18n();
  const [range, setRange] = useState<[Dayjs | null, Dayjs | null]>([dayjs().subtract(30, 'day'), dayjs()]);
  const [rows, setRows] = useState<NoResultQuery[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(async () => {
    setRows(null);
    try {
      const r = await kbApi.noResults(range[0]?.format('YYYY-MM-DD'), range[1]?.format('YYYY-MM-DD'));
      setRows([...r].sort((a, b) => b.count - a.count));
      setError(null);
    } catch (e) {
      setError(problemText(e));
      setRows([]);
    }
  }, [range]);
  useEffect(() => {
    void load();
  }, [load]);
  return (
    <Card
      size="small"
      title={t('kb.noResults.title')}
      data-testid="kb-no-results-card"
      extra={
        <Space>
          <DatePicker.RangePicker
            size="small"
            allowEmpty={[true, true]}
            value={range}
            onChange={(v) => setRange([v?.[0] ?? null, v?.[1] ?? null])}
            data-testid="kb-no-results-range"
          />
          <Button size="small" icon={<ReloadOutlined />} onClick={() => void load()} aria-label={t('common.search')} />
        </Space>
      }
    >
      {error ? <Alert type="error" showIcon message={error} /> : null}
      <Table<NoResultQuery>
        size="small"
        rowKey="query"
        loading={rows === null}
        dataSource={rows ?? []}
        pagination={{ pageSize: 10, showSizeChanger: false }}
        onRow={() => ({ 'data-testid': 'kb-no-result-row' }) as React.HTMLAttributes<HTMLElement>}
        columns={[
          { title: t('kb.noResults.query'), dataIndex: 'query', render: (q: string) => <Typography.Text code>{q}</Typography.Text> },
          { title: t('kb.noResults.count'), dataIndex: 'count', width: 80 },
          { title: t('kb.noResults.lastAt'), dataIndex: 'last_at', width: 150, render: (v: string) => (v ? dayjs(v).format('YYYY-MM-DD HH:mm') : '') },
        ]}
      />
    </Card>
  );
}

interface RowError {
  line?: number | string;
  field?: string;
  reason: string;
}

/**
 * The bad rows of a refused import, from a problem's `errors`: the field reads `<file>:<line>:<field>`
 * (or `<file>:<field>`), split into where and which field; a separate `line` is read too.
 */
export function rowErrors(e: unknown): RowError[] {
  if (!(e instanceof ApiError)) return [];
  return (e.problem.errors ?? []).map((fe) => {
    const x = fe as unknown as Record<string, unknown>;
    const raw = fe.field ?? '';
    const cut = raw.lastIndexOf(':');
    const line = (x.line ?? x.row) as number | string | undefined;
    if (cut > 0) return { line: line ?? raw.slice(0, cut), field: raw.slice(cut + 1), reason: fe.reason };
    return { line, field: raw, reason: fe.reason };
  });
}

function ImportExport() {
  const { t } = useI18n();
  const { message } = App.useApp();
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<Record<string, unknown> | null>(null);
  const [errors, setErrors] = useState<RowError[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const summary = result
    ? Object.entries(result).filter(([, v]) => typeof v === 'number' || typeof v === 'string')
    : [];

  return (
    <Card size="small" title={t('kb.io.title')} data-testid="kb-import-export">
      <Space direction="vertical" style={{ width: '100%' }}>
        <Space wrap>
          <Upload
            accept=".zip,.xlsx"
            showUploadList={false}
            customRequest={async (opt) => {
              const file = opt.file as File;
              setBusy(true);
              setResult(null);
              setErrors(null);
              setError(null);
              try {
                const r = await kbApi.importArchive(file);
                setResult(r && typeof r === 'object' ? r : {});
                message.success(t('kb.io.imported', { name: file.name }));
                opt.onSuccess?.(r);
              } catch (e) {
                const rows = rowErrors(e);
                if (rows.length) setErrors(rows);
                setError(problemText(e instanceof ApiError && rows.length ? new ApiError({ ...e.problem, errors: [] }) : e));
                opt.onError?.(e as Error);
              } finally {
                setBusy(false);
              }
            }}
          >
            <Button type="primary" icon={<CloudUploadOutlined />} loading={busy} data-testid="kb-import">
              {t('kb.io.import')}
            </Button>
          </Upload>
          <Button icon={<DownloadOutlined />} href={kbUrls.export('markdown')} download data-testid="kb-export-markdown">
            {t('kb.io.exportMarkdown')}
          </Button>
          <Button icon={<DownloadOutlined />} href={kbUrls.export('xlsx')} download data-testid="kb-export-xlsx">
            {t('kb.io.exportXlsx')}
          </Button>
        </Space>
        <Typography.Text type="secondary">{t('kb.io.hint')}</Typography.Text>
        {error ? <Alert type="error" showIcon message={t('kb.io.failed')} description={error} data-testid="kb-import-error" /> : null}
        {errors ? (
          <Table<RowError>
            size="small"
            rowKey={(r) => `${r.line}-${r.field}-${r.reason}`}
            dataSource={errors}
            pagination={{ pageSize: 10, showSizeChanger: false }}
            data-testid="kb-import-errors"
            columns={[
              { title: t('kb.io.line'), dataIndex: 'line', width: 220, render: (v?: string | number) => <Typography.Text code>{v ?? ''}</Typography.Text> },
              { title: t('kb.io.field'), dataIndex: 'field', width: 140 },
              { title: t('kb.io.reason'), dataIndex: 'reason' },
            ]}
          />
        ) : null}
        {result ? (
          <Descriptions size="small" bordered column={2} data-testid="kb-import-result" title={t('kb.io.result')}>
            {summary.map(([k, v]) => (
              <Descriptions.Item key={k} label={t(`kb.io.k.${k}` as 'kb.io.k.created') === `kb.io.k.${k}` ? k : t(`kb.io.k.${k}` as 'kb.io.k.created')}>
                {String(v)}
              </Descriptions.Item>
            ))}
          </Descriptions>
        ) : null}
      </Space>
    </Card>
  );
}
