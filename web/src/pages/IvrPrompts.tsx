// 提示音库: every prompt per language with its text and recording; admins upload their own recording
// (WAV or MP3), listen to it, or go back to the system one; new custom prompts.
import { useCallback, useEffect, useMemo, useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { Alert, App, Button, Card, Form, Input, Modal, Popconfirm, Select, Space, Table, Tag, Typography, Upload } from 'antd';
import { ArrowLeftOutlined, PlusOutlined, UndoOutlined, UploadOutlined } from '@ant-design/icons';
import { ApiError } from '../api';
import { useAuth } from '../auth';
import { useT } from '../i18n';
import { applyProblemToForm } from '../components/common';
import { ivrApi, ivrUrls, type Prompt } from '../ivr/api';

function problemText(e: unknown): string {
  if (e instanceof ApiError) {
    const errs = e.problem.errors ?? [];
    return errs.length ? errs.map((x) => `${x.field}: ${x.reason}`).join('；') : e.message;
  }
  return String(e);
}

export default function IvrPromptsPage() {
  const t = useT();
  const { can } = useAuth();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const canManage = can('ivr.manage');
  const [language, setLanguage] = useState<string>('zh-CN');
  const [q, setQ] = useState('');
  const [rows, setRows] = useState<Prompt[]>([]);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // Bumped per prompt after an upload or reset, so the player fetches the new recording.
  const [bust, setBust] = useState<Record<string, number>>({});
  const [newOpen, setNewOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const [form] = Form.useForm();

  const load = useCallback(async () => {
    setLoading(true);
    setError(null);
    try {
      setRows(await ivrApi.prompts(language));
    } catch (e) {
      setError(problemText(e));
    } finally {
      setLoading(false);
    }
  }, [language]);
  useEffect(() => {
    void load();
  }, [load]);

  const shown = useMemo(() => {
    const s = q.trim().toLowerCase();
    return s ? rows.filter((r) => r.key.toLowerCase().includes(s) || r.text.toLowerCase().includes(s)) : rows;
  }, [rows, q]);

  const upload = async (p: Prompt, file: File) => {
    if (!/\.(wav|mp3)$/i.test(file.name) && !/audio\/(wav|x-wav|wave|mpeg|mp3)/.test(file.type)) {
      message.error(t('ivr.pr.badFile'));
      return false;
    }
    try {
      await ivrApi.uploadPromptAudio(p.key, p.language, file);
      message.success(t('ivr.pr.uploaded'));
      setBust((b) => ({ ...b, [`${p.key}/${p.language}`]: Date.now() }));
      await load();
    } catch (e) {
      message.error(problemText(e));
    }
    return false;
  };

  const reset = async (p: Prompt) => {
    try {
      await ivrApi.resetPromptAudio(p.key, p.language);
      message.success(t('ivr.pr.resetDone'));
      setBust((b) => ({ ...b, [`${p.key}/${p.language}`]: Date.now() }));
      await load();
    } catch (e) {
      message.error(problemText(e));
    }
  };

  const create = async () => {
    const v = await form.validateFields();
    setBusy(true);
    setFormError(null);
    try {
      await ivrApi.createPrompt({ key: v.key.trim(), language: v.language, text: v.text.trim() });
      setNewOpen(false);
      if (v.language !== language) setLanguage(v.language);
      else await load();
    } catch (e) {
      setFormError(applyProblemToForm(form, e, ['key', 'language', 'text']));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card
      data-testid="ivr-prompts"
      title={
        <Space>
          <Button size="small" icon={<ArrowLeftOutlined />} onClick={() => navigate('/ivr')} />
          {t('ivr.prompts')}
        </Space>
      }
      extra={
        canManage ? (
          <Button
            type="primary"
            icon={<PlusOutlined />}
            onClick={() => {
              setFormError(null);
              setNewOpen(true);
            }}
            data-testid="ivr-prompt-new"
          >
            {t('ivr.pr.new')}
          </Button>
        ) : null
      }
    >
      <Space style={{ marginBottom: 12 }} wrap>
        <Select
          value={language}
          onChange={setLanguage}
          style={{ width: 120 }}
          data-testid="ivr-prompt-language"
          options={[
            { value: 'zh-CN', label: '中文' },
            { value: 'en', label: 'English' },
          ]}
        />
        <Input.Search allowClear placeholder={t('ivr.pr.filter')} value={q} onChange={(e) => setQ(e.target.value)} style={{ width: 280 }} data-testid="ivr-prompt-filter" />
      </Space>
      {error ? <Alert type="error" showIcon message={error} style={{ marginBottom: 12 }} /> : null}
      <Table<Prompt>
        rowKey={(r) => `${r.key}/${r.language}`}
        size="small"
        loading={loading}
        dataSource={shown}
        pagination={{ pageSize: 50, showSizeChanger: false }}
        onRow={(r) => ({ 'data-testid': 'ivr-prompt-row', 'data-key': r.key, 'data-source': r.source }) as React.HTMLAttributes<HTMLElement>}
        columns={[
          { title: t('ivr.pr.key'), dataIndex: 'key', width: 200, render: (v: string) => <Typography.Text code>{v}</Typography.Text> },
          { title: t('ivr.pr.text'), dataIndex: 'text' },
          {
            title: t('ivr.pr.source'),
            dataIndex: 'source',
            width: 90,
            render: (v: string) => <Tag color={v === 'custom' ? 'purple' : undefined}>{v === 'custom' ? t('ivr.pr.source.custom') : t('ivr.pr.source.system')}</Tag>,
          },
          {
            title: t('ivr.pr.audio'),
            key: 'audio',
            width: 320,
            render: (_, r) =>
              r.has_audio ? (
                <Space direction="vertical" size={0}>
                  <audio
                    controls
                    preload="none"
                    src={ivrUrls.promptAudio(r.key, r.language, bust[`${r.key}/${r.language}`])}
                    data-testid="ivr-prompt-player"
                    style={{ height: 32, width: 280 }}
                  />
                  {r.seconds ? <Typography.Text type="secondary">{t('ivr.pr.seconds', { s: Number(r.seconds).toFixed(1) })}</Typography.Text> : null}
                </Space>
              ) : (
                <Typography.Text type="secondary">{t('ivr.pr.noAudio')}</Typography.Text>
              ),
          },
          ...(canManage
            ? [
                {
                  title: t('common.actions'),
                  key: 'actions',
                  width: 230,
                  render: (_: unknown, r: Prompt) => (
                    <Space size="small" wrap>
                      <Upload accept=".wav,.mp3,audio/wav,audio/mpeg" showUploadList={false} beforeUpload={(f) => upload(r, f)}>
                        <Button size="small" icon={<UploadOutlined />} data-testid="ivr-prompt-upload" title={t('ivr.pr.uploadHelp')}>
                          {t('ivr.pr.upload')}
                        </Button>
                      </Upload>
                      {r.source === 'custom' && (r.system || r.has_audio) ? (
                        <Popconfirm title={r.system ? t('ivr.pr.resetConfirm') : t('ivr.pr.deleteConfirm')} onConfirm={() => reset(r)}>
                          <Button size="small" icon={<UndoOutlined />} data-testid="ivr-prompt-reset">
                            {r.system ? t('ivr.pr.reset') : t('ivr.pr.deleteAudio')}
                          </Button>
                        </Popconfirm>
                      ) : null}
                    </Space>
                  ),
                },
              ]
            : []),
        ]}
      />

      <Modal
        open={newOpen}
        title={t('ivr.pr.new')}
        onCancel={() => setNewOpen(false)}
        onOk={create}
        confirmLoading={busy}
        okText={t('common.create')}
        cancelText={t('common.cancel')}
        okButtonProps={{ 'data-testid': 'ivr-prompt-new-ok' }}
        destroyOnHidden
      >
        <Form form={form} layout="vertical" preserve={false} initialValues={{ language }}>
          <Form.Item name="key" label={t('ivr.pr.key')} rules={[{ required: true, message: t('common.required') }]}>
            <Input data-testid="ivr-prompt-new-key" />
          </Form.Item>
          <Form.Item name="language" label={t('ivr.pr.language')} rules={[{ required: true, message: t('common.required') }]}>
            <Select
              options={[
                { value: 'zh-CN', label: '中文' },
                { value: 'en', label: 'English' },
              ]}
            />
          </Form.Item>
          <Form.Item name="text" label={t('ivr.pr.text')} rules={[{ required: true, message: t('common.required') }]}>
            <Input.TextArea autoSize={{ minRows: 2 }} data-testid="ivr-prompt-new-text" />
          </Form.Item>
          {formError ? <Alert type="error" showIcon message={formError} /> : null}
        </Form>
      </Modal>
    </Card>
  );
}
