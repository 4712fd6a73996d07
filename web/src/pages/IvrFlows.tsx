// 语音导航: the flows (create, import an exported JSON file, open in the designer).
import { useCallback, useEffect, useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { Alert, App, Button, Card, Form, Input, Modal, Space, Table, Tag, Typography, Upload } from 'antd';
import { ImportOutlined, PlusOutlined, SoundOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import { useAuth } from '../auth';
import { useT } from '../i18n';
import { applyProblemToForm } from '../components/common';
import { ivrApi, type FlowDocument, type IvrFlowSummary } from '../ivr/api';

export default function IvrFlowsPage() {
  const t = useT();
  const { can } = useAuth();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const canManage = can('ivr.manage');
  const [rows, setRows] = useState<IvrFlowSummary[]>([]);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [createOpen, setCreateOpen] = useState(false);
  const [importDoc, setImportDoc] = useState<FlowDocument | null>(null);
  const [busy, setBusy] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const [form] = Form.useForm();
  const [importForm] = Form.useForm();

  const load = useCallback(async () => {
    setLoading(true);
    setError(null);
    try {
      setRows(await ivrApi.flows());
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setLoading(false);
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const create = async () => {
    const v = await form.validateFields();
    setBusy(true);
    setFormError(null);
    try {
      const f = await ivrApi.createFlow({ key: v.key.trim(), name: v.name.trim(), description: v.description?.trim() ?? '' });
      message.success(t('ivr.created'));
      setCreateOpen(false);
      navigate(`/ivr/flows/${f.id}`);
    } catch (e) {
      setFormError(applyProblemToForm(form, e, ['key', 'name', 'description']));
    } finally {
      setBusy(false);
    }
  };

  const doImport = async () => {
    if (!importDoc) return;
    const v = await importForm.validateFields();
    setBusy(true);
    setFormError(null);
    try {
      // Only the document's own fields (the server refuses unknown ones).
      const r = await ivrApi.importFlow({
        key: v.key.trim(),
        name: v.name.trim(),
        description: v.description ?? '',
        note: typeof importDoc.note === 'string' ? importDoc.note : '',
        graph: importDoc.graph,
      });
      message.success(`${r.flow.name} v${r.version}`);
      setImportDoc(null);
      navigate(`/ivr/flows/${r.flow.id}`);
    } catch (e) {
      setFormError(applyProblemToForm(importForm, e, ['key', 'name', 'description']));
    } finally {
      setBusy(false);
    }
  };

  const readFile = async (file: File) => {
    try {
      const j = JSON.parse(await file.text());
      // An export document ({key, name, graph}) or a bare graph ({start, nodes}).
      const doc: FlowDocument = j && j.graph ? j : { key: '', name: '', description: '', graph: j };
      if (!doc.graph || !Array.isArray(doc.graph.nodes)) throw new Error('no nodes');
      setFormError(null);
      importForm.setFieldsValue({ key: doc.key ?? '', name: doc.name ?? '', description: doc.description ?? '' });
      setImportDoc(doc);
    } catch {
      message.error(t('ivr.importBadFile'));
    }
    return false;
  };

  return (
    <Card
      title={t('ivr.flows')}
      data-testid="ivr-flows"
      extra={
        <Space>
          <Button icon={<SoundOutlined />} onClick={() => navigate('/ivr/prompts')} data-testid="ivr-prompts-link">
            {t('ivr.prompts')}
          </Button>
          {canManage ? (
            <>
              <Upload accept=".json,application/json" showUploadList={false} beforeUpload={readFile}>
                <Button icon={<ImportOutlined />} data-testid="ivr-import">
                  {t('ivr.import')}
                </Button>
              </Upload>
              <Button
                type="primary"
                icon={<PlusOutlined />}
                onClick={() => {
                  setFormError(null);
                  setCreateOpen(true);
                }}
                data-testid="ivr-new-flow"
              >
                {t('ivr.newFlow')}
              </Button>
            </>
          ) : null}
        </Space>
      }
    >
      {error ? <Alert type="error" showIcon message={error} style={{ marginBottom: 12 }} /> : null}
      <Table<IvrFlowSummary>
        rowKey="id"
        size="middle"
        loading={loading}
        dataSource={rows}
        pagination={false}
        onRow={(r) => ({ 'data-testid': 'ivr-flow-row', 'data-key': r.key }) as React.HTMLAttributes<HTMLElement>}
        columns={[
          {
            title: t('ivr.name'),
            dataIndex: 'name',
            render: (v: string, r) => (
              <Typography.Link onClick={() => navigate(`/ivr/flows/${r.id}`)} data-testid="ivr-flow-open">
                {v}
              </Typography.Link>
            ),
          },
          { title: t('ivr.key'), dataIndex: 'key', render: (v: string) => <Tag>{v}</Tag> },
          { title: t('ivr.description'), dataIndex: 'description', ellipsis: true },
          {
            title: t('ivr.publishedVersion'),
            dataIndex: 'published_version',
            render: (v?: number | null) => (v ? <Tag color="green">v{v}</Tag> : <Tag>{t('ivr.notPublished')}</Tag>),
          },
          { title: t('ivr.latestVersion'), dataIndex: 'latest_version', render: (v?: number | null) => (v ? `v${v}` : '—') },
          { title: t('ivr.updatedAt'), dataIndex: 'updated_at', render: (v: string) => dayjs(v).format('YYYY-MM-DD HH:mm') },
          {
            title: t('common.actions'),
            key: 'a',
            render: (_, r) => (
              <Button size="small" onClick={() => navigate(`/ivr/flows/${r.id}`)}>
                {t('ivr.open')}
              </Button>
            ),
          },
        ]}
      />

      <Modal
        open={createOpen}
        title={t('ivr.newFlow')}
        onCancel={() => setCreateOpen(false)}
        onOk={create}
        confirmLoading={busy}
        okText={t('common.create')}
        cancelText={t('common.cancel')}
        okButtonProps={{ 'data-testid': 'ivr-new-flow-ok' }}
        destroyOnHidden
      >
        <Form form={form} layout="vertical" preserve={false}>
          <Form.Item
            name="key"
            label={t('ivr.key')}
            extra={t('ivr.keyHelp')}
            rules={[
              { required: true, message: t('common.required') },
              { pattern: /^[a-z0-9_-]{1,40}$/, message: t('ivr.keyHelp') },
            ]}
          >
            <Input data-testid="ivr-new-key" />
          </Form.Item>
          <Form.Item name="name" label={t('ivr.name')} rules={[{ required: true, message: t('common.required') }]}>
            <Input data-testid="ivr-new-name" maxLength={100} />
          </Form.Item>
          <Form.Item name="description" label={t('ivr.description')}>
            <Input.TextArea data-testid="ivr-new-description" autoSize={{ minRows: 2 }} />
          </Form.Item>
          {formError ? <Alert type="error" showIcon message={formError} /> : null}
        </Form>
      </Modal>

      <Modal
        open={!!importDoc}
        title={t('ivr.importTitle')}
        onCancel={() => setImportDoc(null)}
        onOk={doImport}
        confirmLoading={busy}
        okText={t('ivr.import')}
        cancelText={t('common.cancel')}
        okButtonProps={{ 'data-testid': 'ivr-import-ok' }}
        destroyOnHidden
      >
        <Form form={importForm} layout="vertical">
          <Form.Item
            name="key"
            label={t('ivr.key')}
            extra={t('ivr.keyHelp')}
            rules={[
              { required: true, message: t('common.required') },
              { pattern: /^[a-z0-9_-]{1,40}$/, message: t('ivr.keyHelp') },
            ]}
          >
            <Input data-testid="ivr-import-key" />
          </Form.Item>
          <Form.Item name="name" label={t('ivr.name')} rules={[{ required: true, message: t('common.required') }]}>
            <Input data-testid="ivr-import-name" />
          </Form.Item>
          <Form.Item name="description" label={t('ivr.description')}>
            <Input.TextArea autoSize={{ minRows: 2 }} />
          </Form.Item>
          <Typography.Text type="secondary">
            {t('ivr.nodes')}: {importDoc?.graph.nodes.length ?? 0}
          </Typography.Text>
          {formError ? <Alert type="error" showIcon message={formError} style={{ marginTop: 8 }} /> : null}
        </Form>
      </Modal>
    </Card>
  );
}
