// 编辑文章 (/kb/new, /kb/articles/:id/edit): title, category, tags, visibility, validity dates and the
// Markdown body with a toolbar and a live preview (built as React elements: the text stays text), the
// attachments of a saved article, save as draft (with the version read, so a concurrent change answers
// 409 and is said so) and submit for review. The server's field errors land on the fields.
import { useCallback, useEffect, useRef, useState } from 'react';
import { useNavigate, useParams, useSearchParams } from 'react-router-dom';
import {
  Alert,
  App,
  Button,
  Card,
  Col,
  DatePicker,
  Form,
  Input,
  Popconfirm,
  Radio,
  Result,
  Row,
  Select,
  Space,
  Tooltip,
  TreeSelect,
  Typography,
  Upload,
} from 'antd';
import type { TextAreaRef } from 'antd/es/input/TextArea';
import {
  ArrowLeftOutlined,
  BoldOutlined,
  DeleteOutlined,
  FontSizeOutlined,
  ItalicOutlined,
  LinkOutlined,
  OrderedListOutlined,
  SaveOutlined,
  SendOutlined,
  TableOutlined,
  UnorderedListOutlined,
  UploadOutlined,
} from '@ant-design/icons';
import dayjs, { type Dayjs } from 'dayjs';
import { ApiError } from '../api';
import { useI18n, type MessageKey } from '../i18n';
import { applyProblemToForm, PageSpin } from '../components/common';
import { problemText } from '../acd/common';
import { kbApi, VISIBILITIES, type ArticleInput, type KbArticle, type Visibility } from '../kb/api';
import { AttachmentList, kbLabel, treeSelectData, useKbCategories } from '../kb/common';
import { applyMarkdown, renderMarkdown, type MdAction } from '../kb/markdown';

const BODY_MAX = 256 * 1024;
const FILE_MAX = 20 * 1024 * 1024;
const FIELDS = ['title', 'category_id', 'tags', 'visibility', 'valid_from', 'valid_to', 'slug', 'body'];

interface FormValues {
  title: string;
  category_id?: string;
  tags: string[];
  visibility: Visibility;
  valid_from?: Dayjs | null;
  valid_to?: Dayjs | null;
  slug?: string;
  body: string;
}

const TOOLBAR: { action: MdAction; icon: React.ReactNode; label: MessageKey }[] = [
  { action: 'bold', icon: <BoldOutlined />, label: 'kb.md.bold' },
  { action: 'italic', icon: <ItalicOutlined />, label: 'kb.md.italic' },
  { action: 'heading', icon: <FontSizeOutlined />, label: 'kb.md.heading' },
  { action: 'list', icon: <UnorderedListOutlined />, label: 'kb.md.list' },
  { action: 'numbered', icon: <OrderedListOutlined />, label: 'kb.md.numbered' },
  { action: 'link', icon: <LinkOutlined />, label: 'kb.md.link' },
  { action: 'table', icon: <TableOutlined />, label: 'kb.md.table' },
  { action: 'quote', icon: <span style={{ fontWeight: 700, fontFamily: 'serif' }}>❝</span>, label: 'kb.md.quote' },
];

export default function KbEditorPage() {
  const { id } = useParams();
  const [params] = useSearchParams();
  const { t } = useI18n();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const [form] = Form.useForm<FormValues>();
  const cats = useKbCategories();
  const [article, setArticle] = useState<KbArticle | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [saving, setSaving] = useState<'save' | 'submit' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [conflict, setConflict] = useState(false);
  const body = Form.useWatch('body', form) ?? '';
  const bodyRef = useRef<TextAreaRef>(null) as React.RefObject<TextAreaRef>;

  const fill = useCallback(
    (a: KbArticle) => {
      setArticle(a);
      form.setFieldsValue({
        title: a.title,
        category_id: a.category_id,
        tags: a.tags ?? [],
        visibility: a.visibility,
        valid_from: a.valid_from ? dayjs(a.valid_from) : null,
        valid_to: a.valid_to ? dayjs(a.valid_to) : null,
        slug: a.slug,
        body: a.body ?? '',
      });
    },
    [form],
  );

  const load = useCallback(async () => {
    if (!id) return;
    try {
      fill(await kbApi.article(id, { latest: true, count: false }));
      setLoadError(null);
      setConflict(false);
      setError(null);
    } catch (e) {
      setLoadError(problemText(e));
    }
  }, [id, fill]);

  useEffect(() => {
    if (id) void load();
    else {
      setArticle(null);
      form.setFieldsValue({ title: '', tags: [], visibility: 'internal', body: '', category_id: params.get('category') || undefined });
    }
  }, [id, load, form, params]);

  const toolbar = (action: MdAction) => {
    const el = bodyRef.current?.resizableTextArea?.textArea;
    const value = form.getFieldValue('body') ?? '';
    const start = el?.selectionStart ?? value.length;
    const end = el?.selectionEnd ?? value.length;
    const next = applyMarkdown(value, start, end, action, t('kb.md.placeholder'));
    form.setFieldValue('body', next.value);
    requestAnimationFrame(() => {
      el?.focus();
      el?.setSelectionRange(next.start, next.end);
    });
  };

  const save = async (then: 'save' | 'submit') => {
    let v: FormValues;
    try {
      v = await form.validateFields();
    } catch {
      return;
    }
    setSaving(then);
    setError(null);
    const input: ArticleInput = {
      title: v.title.trim(),
      category_id: v.category_id ?? '',
      body: v.body ?? '',
      tags: (v.tags ?? []).map((s) => s.trim()).filter(Boolean),
      visibility: v.visibility,
      valid_from: v.valid_from ? v.valid_from.format('YYYY-MM-DD') : null,
      valid_to: v.valid_to ? v.valid_to.format('YYYY-MM-DD') : null,
    };
    if (!article && v.slug?.trim()) input.slug = v.slug.trim();
    try {
      const saved = article
        ? await kbApi.updateArticle(article.id, { ...input, expected_version: article.version })
        : await kbApi.createArticle(input);
      if (then === 'submit') {
        // Saved either way; a refused submit is told on the article's page, which offers it again.
        try {
          await kbApi.submit(saved.id);
          message.success(t('kb.editor.submitted'));
        } catch (e) {
          message.error(problemText(e));
        }
        navigate(`/kb/articles/${encodeURIComponent(saved.id)}`, { replace: true });
        return;
      }
      message.success(t('kb.editor.saved', { v: saved.version ?? '' }));
      if (article) {
        // Keeps what the server made of it (the rendered body, the version to send next time).
        setArticle({ ...article, ...saved, attachments: saved.attachments ?? article.attachments });
      } else {
        navigate(`/kb/articles/${encodeURIComponent(saved.id)}/edit`, { replace: true });
      }
    } catch (e) {
      if (e instanceof ApiError && e.status === 409 && article) {
        setConflict(true);
      } else {
        setError(applyProblemToForm(form, e, FIELDS));
      }
    } finally {
      setSaving(null);
    }
  };

  if (loadError) {
    return <Result status="error" title={t('common.error')} subTitle={loadError} extra={<Button onClick={() => navigate('/kb')}>{t('kb.backToKb')}</Button>} />;
  }
  if (id && !article) return <PageSpin />;

  return (
    <Card
      data-testid="kb-editor"
      title={
        <Space>
          <Button type="text" icon={<ArrowLeftOutlined />} onClick={() => navigate(article ? `/kb/articles/${encodeURIComponent(article.id)}` : '/kb')} aria-label={t('common.back')} />
          {article ? t('kb.editor.editTitle', { v: article.version }) : t('kb.newArticle')}
        </Space>
      }
      extra={
        <Space>
          <Button icon={<SaveOutlined />} loading={saving === 'save'} disabled={!!saving} onClick={() => void save('save')} data-testid="kb-save">
            {t('kb.editor.saveDraft')}
          </Button>
          <Button type="primary" icon={<SendOutlined />} loading={saving === 'submit'} disabled={!!saving} onClick={() => void save('submit')} data-testid="kb-save-submit">
            {t('kb.editor.saveSubmit')}
          </Button>
        </Space>
      }
    >
      {conflict ? (
        <Alert
          type="warning"
          showIcon
          style={{ marginBottom: 12 }}
          data-testid="kb-conflict"
          message={t('kb.editor.conflict')}
          description={t('kb.editor.conflictHint')}
          action={
            <Popconfirm title={t('kb.editor.reloadConfirm')} onConfirm={() => void load()}>
              <Button size="small">{t('kb.editor.reload')}</Button>
            </Popconfirm>
          }
        />
      ) : null}
      {error ? <Alert type="error" showIcon style={{ marginBottom: 12 }} message={error} data-testid="kb-editor-error" /> : null}
      <Form form={form} layout="vertical" initialValues={{ visibility: 'internal', tags: [], body: '' }}>
        <Row gutter={16}>
          <Col xs={24} lg={12}>
            <Form.Item
              name="title"
              label={t('kb.field.title')}
              rules={[
                { required: true, whitespace: true, message: t('common.required') },
                { max: 200, message: t('kb.editor.titleTooLong') },
              ]}
            >
              <Input maxLength={200} showCount data-testid="kb-field-title" />
            </Form.Item>
          </Col>
          <Col xs={24} lg={12}>
            <Form.Item name="category_id" label={t('kb.field.category')} rules={[{ required: true, message: t('common.required') }]}>
              <TreeSelect
                treeData={treeSelectData(cats.tree)}
                treeDefaultExpandAll
                showSearch
                treeNodeFilterProp="title"
                loading={cats.loading}
                placeholder={t('kb.editor.pickCategory')}
                data-testid="kb-field-category"
              />
            </Form.Item>
          </Col>
          <Col xs={24} lg={12}>
            <Form.Item
              name="tags"
              label={t('kb.field.tags')}
              rules={[
                {
                  validator: (_, v: string[] | undefined) => {
                    const tags = v ?? [];
                    if (tags.length > 20) return Promise.reject(new Error(t('kb.editor.tooManyTags')));
                    if (tags.some((s) => s.trim().length > 20)) return Promise.reject(new Error(t('kb.editor.tagTooLong')));
                    return Promise.resolve();
                  },
                },
              ]}
            >
              <Select mode="tags" tokenSeparators={[',', '，']} open={false} suffixIcon={null} placeholder={t('kb.editor.tagsHint')} data-testid="kb-field-tags" />
            </Form.Item>
          </Col>
          <Col xs={24} sm={12} lg={4}>
            <Form.Item name="visibility" label={t('kb.field.visibility')} rules={[{ required: true }]}>
              <Radio.Group data-testid="kb-field-visibility">
                {VISIBILITIES.map((v) => (
                  <Radio.Button key={v} value={v} data-testid={`kb-visibility-${v}`}>
                    {kbLabel(t, 'kb.visibility', v)}
                  </Radio.Button>
                ))}
              </Radio.Group>
            </Form.Item>
          </Col>
          <Col xs={12} sm={6} lg={4}>
            <Form.Item name="valid_from" label={t('kb.field.validFrom')}>
              <DatePicker style={{ width: '100%' }} data-testid="kb-field-valid-from" />
            </Form.Item>
          </Col>
          <Col xs={12} sm={6} lg={4}>
            <Form.Item
              name="valid_to"
              label={t('kb.field.validTo')}
              dependencies={['valid_from']}
              rules={[
                ({ getFieldValue }) => ({
                  validator: (_, v: Dayjs | null | undefined) => {
                    const from: Dayjs | null | undefined = getFieldValue('valid_from');
                    return v && from && v.isBefore(from, 'day') ? Promise.reject(new Error(t('kb.editor.validToBeforeFrom'))) : Promise.resolve();
                  },
                }),
              ]}
            >
              <DatePicker style={{ width: '100%' }} data-testid="kb-field-valid-to" />
            </Form.Item>
          </Col>
          {!article ? (
            <Col xs={24} lg={12}>
              <Form.Item
                name="slug"
                label={t('kb.field.slug')}
                extra={t('kb.editor.slugHint')}
                rules={[{ pattern: /^[a-z0-9-]{1,80}$/, message: t('kb.editor.slugInvalid') }]}
              >
                <Input maxLength={80} data-testid="kb-field-slug" />
              </Form.Item>
            </Col>
          ) : null}
        </Row>
        <Row gutter={16}>
          <Col xs={24} lg={12}>
            <Form.Item
              name="body"
              label={t('kb.field.body')}
              rules={[
                { required: true, whitespace: true, message: t('common.required') },
                {
                  validator: (_, v: string | undefined) =>
                    new Blob([v ?? '']).size > BODY_MAX ? Promise.reject(new Error(t('kb.editor.bodyTooLong'))) : Promise.resolve(),
                },
              ]}
            >
              <BodyEditor bodyRef={bodyRef} onTool={toolbar} />
            </Form.Item>
          </Col>
          <Col xs={24} lg={12}>
            <div className="ant-form-item-label" style={{ paddingBottom: 8 }}>
              <label>{t('kb.editor.preview')}</label>
            </div>
            <div className="kb-preview kb-article-body" data-testid="kb-preview">
              {body.trim() ? renderMarkdown(body) : <Typography.Text type="secondary">{t('kb.editor.previewEmpty')}</Typography.Text>}
            </div>
            <Typography.Paragraph type="secondary" style={{ fontSize: 12, marginTop: 4 }}>
              {t('kb.editor.previewNote')}
            </Typography.Paragraph>
          </Col>
        </Row>
      </Form>
      <Attachments article={article} setArticle={setArticle} />
    </Card>
  );
}

/** The Markdown text area and its toolbar; a Form.Item child (value / onChange). */
function BodyEditor({
  value,
  onChange,
  bodyRef,
  onTool,
}: {
  value?: string;
  onChange?: (v: string) => void;
  bodyRef: React.RefObject<TextAreaRef>;
  onTool: (a: MdAction) => void;
}) {
  const { t } = useI18n();
  return (
    <div>
      <Space.Compact style={{ marginBottom: 4 }} data-testid="kb-md-toolbar">
        {TOOLBAR.map((b) => (
          <Tooltip key={b.action} title={t(b.label)}>
            <Button size="small" icon={b.icon} onClick={() => onTool(b.action)} data-testid={`kb-md-${b.action}`} aria-label={t(b.label)} />
          </Tooltip>
        ))}
      </Space.Compact>
      <Input.TextArea
        ref={bodyRef}
        value={value}
        onChange={(e) => onChange?.(e.target.value)}
        autoSize={{ minRows: 16, maxRows: 40 }}
        style={{ fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace' }}
        data-testid="kb-field-body"
      />
    </div>
  );
}

function Attachments({ article, setArticle }: { article: KbArticle | null; setArticle: React.Dispatch<React.SetStateAction<KbArticle | null>> }) {
  const { t } = useI18n();
  const { message } = App.useApp();
  const [busy, setBusy] = useState(false);
  return (
    <Card size="small" title={t('kb.attachments')} style={{ marginTop: 12 }} data-testid="kb-editor-attachments">
      {!article ? (
        <Typography.Text type="secondary">{t('kb.editor.attachAfterSave')}</Typography.Text>
      ) : (
        <Space direction="vertical" style={{ width: '100%' }}>
          <AttachmentList
            article={article}
            extra={(attId) => (
              <Popconfirm
                title={t('kb.editor.deleteAttachment')}
                onConfirm={async () => {
                  try {
                    await kbApi.deleteAttachment(attId);
                    setArticle((cur) => (cur ? { ...cur, attachments: (cur.attachments ?? []).filter((a) => a.id !== attId) } : cur));
                  } catch (e) {
                    message.error(problemText(e));
                  }
                }}
              >
                <Button size="small" type="text" danger icon={<DeleteOutlined />} data-testid="kb-attachment-delete" />
              </Popconfirm>
            )}
          />
          <Upload
            showUploadList={false}
            multiple
            customRequest={async (opt) => {
              const file = opt.file as File;
              if (file.size > FILE_MAX) {
                message.error(t('kb.editor.fileTooLarge', { name: file.name }));
                opt.onError?.(new Error('too large'));
                return;
              }
              setBusy(true);
              try {
                const att = await kbApi.uploadAttachment(article.id, file);
                setArticle((cur) => (cur ? { ...cur, attachments: [...(cur.attachments ?? []), att] } : cur));
                message.success(t('kb.editor.uploaded', { name: file.name }));
                opt.onSuccess?.(att);
              } catch (e) {
                message.error(e instanceof ApiError && e.status === 413 ? t('kb.editor.fileTooLarge', { name: file.name }) : problemText(e));
                opt.onError?.(e as Error);
              } finally {
                setBusy(false);
              }
            }}
          >
            <Button icon={<UploadOutlined />} loading={busy} data-testid="kb-attachment-upload">
              {t('kb.editor.upload')}
            </Button>
          </Upload>
        </Space>
      )}
    </Card>
  );
}
