// 知识库文章 (/kb/articles/:id): the rendered body (sanitized by the server, and again here), attachments,
// tags, category path, validity, visibility, favorite, helpful votes and views. Editors read the latest
// version and see its status, the review actions their permissions allow, and the version history with
// diffs and restore.
import { useCallback, useEffect, useState } from 'react';
import { useNavigate, useParams } from 'react-router-dom';
import { Alert, App, Button, Card, Col, Divider, Form, Input, Modal, Popconfirm, Result, Row, Space, Typography } from 'antd';
import { ArrowLeftOutlined, CheckOutlined, CloseOutlined, EditOutlined, InboxOutlined, SendOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import { ApiError } from '../api';
import { useAuth } from '../auth';
import { useI18n } from '../i18n';
import { PageSpin } from '../components/common';
import { problemText } from '../acd/common';
import { kbApi, type KbArticle } from '../kb/api';
import {
  ArticleBody,
  ArticleFacts,
  ArticleStatusTag,
  AttachmentList,
  categoryNames,
  FavoriteButton,
  useKbCategories,
  VoteButtons,
} from '../kb/common';
import { VersionHistory } from '../kb/history';

type ReviewAction = 'submit' | 'approve' | 'publish' | 'reject' | 'archive';

/**
 * The workflow steps worth offering for the article's state and the user's permissions, as
 * `kefu_kb::workflow` allows them (the server decides): submit a draft; approve or reject what is in
 * review; publish a draft or an archived article directly; archive. Approving or publishing one's own
 * version is for administrators only.
 */
export function reviewActions(
  a: Pick<KbArticle, 'status' | 'published_version'>,
  can: (p: 'kb.edit' | 'kb.approve') => boolean,
  ownVersion: boolean,
): ReviewAction[] {
  const out: ReviewAction[] = [];
  const approver = can('kb.approve');
  if (can('kb.edit') && a.status === 'draft') out.push('submit');
  if (approver && !ownVersion && a.status === 'in_review') out.push('approve');
  if (approver && a.status === 'in_review') out.push('reject');
  if (approver && !ownVersion && (a.status === 'draft' || a.status === 'archived')) out.push('publish');
  if (approver && (a.status === 'published' || (a.status !== 'archived' && !!a.published_version))) out.push('archive');
  return out;
}

export default function KbArticlePage() {
  const { id = '' } = useParams();
  const { t } = useI18n();
  const { can, me } = useAuth();
  const navigate = useNavigate();
  const { message } = App.useApp();
  const editor = can('kb.edit');
  const [article, setArticle] = useState<KbArticle | null>(null);
  // Editors read the latest version; when a newer one waits for approval, the published one is what agents
  // and customers read, so it is shown first and the latest one a click away.
  const [published, setPublished] = useState<KbArticle | null>(null);
  const [showLatest, setShowLatest] = useState(false);
  const [error, setError] = useState<ApiError | string | null>(null);
  const [busy, setBusy] = useState<ReviewAction | null>(null);
  const [rejecting, setRejecting] = useState(false);
  const cats = useKbCategories();

  const load = useCallback(
    async (count: boolean) => {
      try {
        const a = await kbApi.article(id, { latest: editor, count });
        const pending = editor && a.status !== 'archived' && !!a.published_version && a.version !== a.published_version;
        setPublished(pending ? await kbApi.article(id, { count: false }).catch(() => null) : null);
        setArticle(a);
        setError(null);
      } catch (e) {
        setError(e instanceof ApiError ? e : problemText(e));
      }
    },
    [id, editor],
  );

  useEffect(() => {
    setArticle(null);
    setShowLatest(false);
    void load(true);
  }, [load]);

  const act = async (action: ReviewAction, comment?: string) => {
    if (!article) return;
    setBusy(action);
    try {
      if (action === 'submit') await kbApi.submit(article.id);
      else if (action === 'approve') await kbApi.approve(article.id);
      else if (action === 'publish') await kbApi.publish(article.id);
      else if (action === 'reject') await kbApi.reject(article.id, comment ?? '');
      else await kbApi.archive(article.id);
      message.success(t(`kb.review.done.${action}`));
      await load(false);
    } catch (e) {
      message.error(problemText(e));
    } finally {
      setBusy(null);
    }
  };

  if (error) {
    const status = error instanceof ApiError ? error.status : 0;
    return (
      <Result
        status={status === 404 ? '404' : 'error'}
        title={status === 404 ? t('kb.article.notFound') : t('common.error')}
        subTitle={status === 404 ? undefined : problemText(error)}
        extra={<Button onClick={() => navigate('/kb')}>{t('kb.backToKb')}</Button>}
        data-testid="kb-article-error"
      />
    );
  }
  if (!article) return <PageSpin />;

  const ownVersion = !!me && !!article.version_by && article.version_by === me.id && me.role !== 'admin';
  const actions = reviewActions(article, (p) => can(p), ownVersion);
  const shown: KbArticle = published && !showLatest ? { ...published, favorite: article.favorite, views: article.views, helpful: article.helpful, unhelpful: article.unhelpful, my_vote: article.my_vote } : article;

  return (
    <Row gutter={[12, 12]} data-testid="kb-article" data-id={article.id} data-version={article.version} data-status={article.status}>
      <Col xs={24} xl={editor ? 14 : 18}>
        <Card
          title={
            <Space wrap>
              <Button type="text" icon={<ArrowLeftOutlined />} onClick={() => navigate(-1)} data-testid="kb-back" aria-label={t('common.back')} />
              <span data-testid="kb-article-title" style={{ whiteSpace: 'normal' }}>
                {shown.title}
              </span>
              {editor ? <ArticleStatusTag status={article.status} testId="kb-article-status" /> : null}
            </Space>
          }
          extra={
            <Space wrap>
              <FavoriteButton article={article} onChanged={(on) => setArticle((a) => (a ? { ...a, favorite: on } : a))} />
              {editor ? (
                <Button icon={<EditOutlined />} onClick={() => navigate(`/kb/articles/${encodeURIComponent(article.id)}/edit`)} data-testid="kb-edit">
                  {t('common.edit')}
                </Button>
              ) : null}
            </Space>
          }
        >
          <Space direction="vertical" size={12} style={{ width: '100%' }}>
            <ArticleFacts article={shown} path={categoryNames(cats.tree, shown.category_id).join(' / ')} />
            {published ? (
              <Alert
                type="info"
                showIcon
                data-testid="kb-newer-than-published"
                data-showing={showLatest ? 'latest' : 'published'}
                message={
                  showLatest
                    ? t('kb.article.showingLatest', { v: article.version, p: article.published_version ?? '' })
                    : t('kb.article.showingPublished', { v: article.version, p: article.published_version ?? '', status: t(`kb.status.${article.status}`) })
                }
                action={
                  <Button size="small" onClick={() => setShowLatest((x) => !x)} data-testid={showLatest ? 'kb-show-published' : 'kb-show-latest'}>
                    {showLatest ? t('kb.article.viewPublished', { p: article.published_version ?? '' }) : t('kb.article.viewLatest', { v: article.version })}
                  </Button>
                }
              />
            ) : null}
            {article.review_comment && article.status === 'draft' ? (
              <Alert type="warning" showIcon data-testid="kb-review-comment" message={t('kb.review.rejectedWith')} description={article.review_comment} />
            ) : null}
            <ArticleBody article={shown} />
            <AttachmentList article={shown} />
            <Divider style={{ margin: '8px 0' }} />
            <VoteButtons article={article} onChanged={(v) => setArticle((a) => (a ? { ...a, ...v } : a))} />
          </Space>
        </Card>
      </Col>
      {editor ? (
        <Col xs={24} xl={10}>
          <Space direction="vertical" size={12} style={{ width: '100%' }}>
            <Card size="small" title={t('kb.review.title')} data-testid="kb-review">
              <Space direction="vertical" style={{ width: '100%' }}>
                <Typography.Text type="secondary">
                  {t('kb.review.state', { status: t(`kb.status.${article.status}`), v: article.version })}
                  {article.published_version ? ` · ${t('kb.review.published', { v: article.published_version })}` : ''}
                  {article.updated_at ? ` · ${dayjs(article.updated_at).format('YYYY-MM-DD HH:mm')}` : ''}
                </Typography.Text>
                <Space wrap>
                  {actions.includes('submit') ? (
                    <Button icon={<SendOutlined />} loading={busy === 'submit'} onClick={() => void act('submit')} data-testid="kb-submit">
                      {t('kb.review.submit')}
                    </Button>
                  ) : null}
                  {actions.includes('approve') ? (
                    <Button type="primary" icon={<CheckOutlined />} loading={busy === 'approve'} onClick={() => void act('approve')} data-testid="kb-approve">
                      {t('kb.review.approve')}
                    </Button>
                  ) : null}
                  {actions.includes('publish') ? (
                    <Popconfirm title={t('kb.review.publishConfirm')} onConfirm={() => act('publish')} okButtonProps={{ 'data-testid': 'kb-publish-ok' }}>
                      <Button icon={<CheckOutlined />} loading={busy === 'publish'} data-testid="kb-publish">
                        {t('kb.review.publish')}
                      </Button>
                    </Popconfirm>
                  ) : null}
                  {actions.includes('reject') ? (
                    <Button danger icon={<CloseOutlined />} loading={busy === 'reject'} onClick={() => setRejecting(true)} data-testid="kb-reject">
                      {t('kb.review.reject')}
                    </Button>
                  ) : null}
                  {actions.includes('archive') ? (
                    <Button icon={<InboxOutlined />} loading={busy === 'archive'} onClick={() => void act('archive')} data-testid="kb-archive">
                      {t('kb.review.archive')}
                    </Button>
                  ) : null}
                  {!actions.length ? <Typography.Text type="secondary">{t('kb.review.nothing')}</Typography.Text> : null}
                </Space>
                {ownVersion && can('kb.approve') && (article.status === 'in_review' || article.status === 'draft') ? (
                  <Typography.Text type="secondary" data-testid="kb-own-version">
                    {t('kb.review.ownVersion')}
                  </Typography.Text>
                ) : null}
              </Space>
            </Card>
            <VersionHistory articleId={article.id} currentVersion={article.version} canRestore={can('kb.edit')} onRestored={() => void load(false)} />
          </Space>
        </Col>
      ) : null}
      <RejectDialog
        open={rejecting}
        onClose={() => setRejecting(false)}
        onReject={async (comment) => {
          setRejecting(false);
          await act('reject', comment);
        }}
      />
    </Row>
  );
}

function RejectDialog({ open, onClose, onReject }: { open: boolean; onClose: () => void; onReject: (comment: string) => Promise<void> }) {
  const { t } = useI18n();
  const [form] = Form.useForm<{ comment: string }>();
  return (
    <Modal
      open={open}
      title={t('kb.review.reject')}
      onCancel={onClose}
      onOk={async () => {
        const v = await form.validateFields();
        await onReject(v.comment.trim());
        form.resetFields();
      }}
      okText={t('kb.review.reject')}
      okButtonProps={{ danger: true, 'data-testid': 'kb-reject-ok' }}
      cancelText={t('common.cancel')}
      destroyOnHidden
    >
      <Form form={form} layout="vertical">
        <Form.Item name="comment" label={t('kb.review.comment')} rules={[{ required: true, whitespace: true, message: t('kb.review.commentRequired') }]}>
          <Input.TextArea rows={4} maxLength={1000} data-testid="kb-reject-comment" />
        </Form.Item>
      </Form>
    </Modal>
  );
}
