// 知识库 (/kb): the category tree on the left (drag and drop to move and reorder, add, rename, delete for
// kb.manage), the search box with suggestions, the results with highlighted snippets and filters in the
// middle — or, with an empty search box, the selected category's articles — and hot articles and the
// user's favorites on the right. The search and filters live in the URL, so Back returns to them.
import { useCallback, useEffect, useMemo, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import {
  Alert,
  App,
  Button,
  Card,
  Col,
  Empty,
  Form,
  Input,
  List,
  Modal,
  Pagination,
  Row,
  Select,
  Space,
  Table,
  Tag,
  Tooltip,
  Tree,
  Typography,
  type TreeProps,
} from 'antd';
import { DeleteOutlined, EditOutlined, FolderAddOutlined, PlusOutlined, SettingOutlined, StarOutlined } from '@ant-design/icons';
import type { DataNode } from 'antd/es/tree';
import dayjs from 'dayjs';
import { useAuth } from '../auth';
import { useI18n } from '../i18n';
import { problemText } from '../acd/common';
import {
  ARTICLE_STATUSES,
  kbApi,
  pathText,
  VISIBILITIES,
  type KbArticleSummary,
  type KbCategory,
  type SearchResults,
} from '../kb/api';
import { ArticleStatusTag, categoryNames, findCategory, KbSearchBox, kbLabel, useKbCategories, VisibilityTag } from '../kb/common';
import { Highlighted } from '../kb/html';
import { HotArticles } from '../kb/hot';

const PAGE_SIZE = 20;

export default function KbBrowserPage() {
  const { t } = useI18n();
  const { can } = useAuth();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const category = params.get('category') ?? '';
  const tag = params.get('tag') ?? '';
  const visibility = params.get('visibility') ?? '';
  const status = params.get('status') ?? '';
  const page = Number(params.get('page') ?? '1') || 1;
  const [text, setText] = useState(q);
  useEffect(() => setText(q), [q]);

  const cats = useKbCategories();

  const setParam = useCallback(
    (patch: Record<string, string | null>) => {
      const next = new URLSearchParams(params);
      for (const [k, v] of Object.entries(patch)) {
        if (v) next.set(k, v);
        else next.delete(k);
      }
      if (!('page' in patch)) next.delete('page');
      setParams(next);
    },
    [params, setParams],
  );

  const openArticle = (id: string) => navigate(`/kb/articles/${encodeURIComponent(id)}`);

  return (
    <Row gutter={[12, 12]} data-testid="kb-browser">
      <Col xs={24} lg={6} xl={5}>
        <CategoryTree
          cats={cats}
          selected={category}
          onSelect={(id) => setParam({ category: id })}
          manage={can('kb.manage')}
        />
      </Col>
      <Col xs={24} lg={18} xl={13}>
        <Card
          size="small"
          title={t('menu.knowledge')}
          extra={
            <Space>
              {can('kb.edit') ? (
                <Button type="primary" icon={<PlusOutlined />} onClick={() => navigate('/kb/new' + (category ? `?category=${category}` : ''))} data-testid="kb-new">
                  {t('kb.newArticle')}
                </Button>
              ) : null}
              {can('kb.edit') || can('kb.manage') ? (
                <Button icon={<SettingOutlined />} onClick={() => navigate('/kb/admin')} data-testid="kb-admin-link">
                  {t('kb.admin.title')}
                </Button>
              ) : null}
            </Space>
          }
        >
          <Space direction="vertical" size={12} style={{ width: '100%' }}>
            <KbSearchBox
              value={text}
              onChange={setText}
              size="large"
              style={{ width: '100%' }}
              onSearch={(v) => setParam({ q: v.trim() || null })}
              onPick={(s) => {
                void kbApi.click(s.id, text).catch(() => undefined);
                openArticle(s.id);
              }}
            />
            <Space wrap data-testid="kb-filters">
              <Typography.Text type="secondary">{t('kb.filter.category')}:</Typography.Text>
              {category ? (
                <Tag closable onClose={() => setParam({ category: null })} data-testid="kb-filter-category">
                  {categoryNames(cats.tree, category).join(' / ') || category}
                </Tag>
              ) : (
                <Typography.Text data-testid="kb-filter-category-all">{t('kb.allCategories')}</Typography.Text>
              )}
              <Select
                mode="tags"
                maxCount={1}
                allowClear
                style={{ minWidth: 140 }}
                placeholder={t('kb.filter.tag')}
                value={tag ? [tag] : []}
                onChange={(v: string[]) => setParam({ tag: v[v.length - 1]?.trim() || null })}
                data-testid="kb-filter-tag"
                open={false}
                suffixIcon={null}
              />
              <Select
                allowClear
                style={{ width: 120 }}
                placeholder={t('kb.filter.visibility')}
                value={visibility || undefined}
                onChange={(v?: string) => setParam({ visibility: v ?? null })}
                options={VISIBILITIES.map((v) => ({ value: v, label: kbLabel(t, 'kb.visibility', v) }))}
                data-testid="kb-filter-visibility"
              />
              {!q && can('kb.edit') ? (
                <Select
                  allowClear
                  style={{ width: 120 }}
                  placeholder={t('kb.filter.status')}
                  value={status || undefined}
                  onChange={(v?: string) => setParam({ status: v ?? null })}
                  options={ARTICLE_STATUSES.map((s) => ({ value: s, label: kbLabel(t, 'kb.status', s) }))}
                  data-testid="kb-filter-status"
                />
              ) : null}
            </Space>
            {q ? (
              <SearchResultList
                q={q}
                category={category}
                tag={tag}
                visibility={visibility}
                page={page}
                onPage={(p) => setParam({ page: String(p) })}
                onOpen={(id) => {
                  void kbApi.click(id, q).catch(() => undefined);
                  openArticle(id);
                }}
              />
            ) : (
              <CategoryArticles
                category={category}
                tag={tag}
                visibility={visibility}
                status={status}
                page={page}
                onPage={(p) => setParam({ page: String(p) })}
                showStatus={can('kb.edit')}
                title={category ? categoryNames(cats.tree, category).join(' / ') : t('kb.allArticles')}
              />
            )}
          </Space>
        </Card>
      </Col>
      <Col xs={24} xl={6}>
        <Space direction="vertical" size={12} style={{ width: '100%' }}>
          <HotArticles onOpen={openArticle} />
          <Favorites onOpen={openArticle} />
        </Space>
      </Col>
    </Row>
  );
}

// ---------------------------------------------------------------------------------------------

function SearchResultList({
  q,
  category,
  tag,
  visibility,
  page,
  onPage,
  onOpen,
}: {
  q: string;
  category: string;
  tag: string;
  visibility: string;
  page: number;
  onPage: (p: number) => void;
  onOpen: (id: string) => void;
}) {
  const { t } = useI18n();
  const [res, setRes] = useState<SearchResults | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let alive = true;
    setLoading(true);
    kbApi
      .search({
        q,
        category: category || undefined,
        tag: tag || undefined,
        visibility: (visibility || undefined) as 'internal' | 'public' | undefined,
        limit: PAGE_SIZE,
        offset: (page - 1) * PAGE_SIZE,
      })
      .then((r) => {
        if (!alive) return;
        setRes(r);
        setError(null);
      })
      .catch((e) => alive && setError(problemText(e)))
      .finally(() => alive && setLoading(false));
    return () => {
      alive = false;
    };
  }, [q, category, tag, visibility, page]);

  if (error) return <Alert type="error" showIcon message={error} data-testid="kb-search-error" />;
  return (
    <div data-testid="kb-results" data-loading={loading ? '1' : '0'}>
      <Typography.Text type="secondary" data-testid="kb-results-total">
        {res ? t('kb.search.total', { n: res.total, q }) : t('common.loading')}
      </Typography.Text>
      <List
        loading={loading}
        itemLayout="vertical"
        dataSource={res?.hits ?? []}
        locale={{ emptyText: <Empty description={<span data-testid="kb-no-results">{t('kb.search.none')}</span>} /> }}
        renderItem={(h) => (
          <List.Item key={h.id} data-testid="kb-hit" data-id={h.id} data-slug={h.slug}>
            <Space direction="vertical" size={2} style={{ width: '100%' }}>
              <Space wrap>
                <a
                  href={`/kb/articles/${encodeURIComponent(h.id)}`}
                  onClick={(e) => {
                    e.preventDefault();
                    onOpen(h.id);
                  }}
                  data-testid="kb-hit-title"
                  style={{ fontSize: 16 }}
                >
                  <Highlighted html={h.title_html || h.title} />
                </a>
                <VisibilityTag visibility={h.visibility} />
              </Space>
              <Typography.Paragraph style={{ margin: 0 }} type="secondary">
                <Highlighted html={h.snippet_html} testId="kb-hit-snippet" />
              </Typography.Paragraph>
              <Space wrap size={4}>
                {h.category_path ? <Typography.Text type="secondary">{pathText(h.category_path)}</Typography.Text> : null}
                {(h.tags ?? []).map((tg) => (
                  <Tag key={tg}>{tg}</Tag>
                ))}
              </Space>
            </Space>
          </List.Item>
        )}
      />
      {res && res.total > PAGE_SIZE ? (
        <Pagination size="small" current={page} pageSize={PAGE_SIZE} total={res.total} showSizeChanger={false} onChange={onPage} />
      ) : null}
    </div>
  );
}

function CategoryArticles({
  category,
  tag,
  visibility,
  status,
  page,
  onPage,
  showStatus,
  title,
}: {
  category: string;
  tag: string;
  visibility: string;
  status: string;
  page: number;
  onPage: (p: number) => void;
  showStatus: boolean;
  title: string;
}) {
  const { t } = useI18n();
  const [items, setItems] = useState<KbArticleSummary[]>([]);
  const [total, setTotal] = useState(0);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let alive = true;
    setLoading(true);
    kbApi
      .articles({ category: category || undefined, tag: tag || undefined, visibility: visibility || undefined, status: status || undefined, page, per_page: PAGE_SIZE })
      .then((r) => {
        if (!alive) return;
        setItems(r.items);
        setTotal(r.total);
        setError(null);
      })
      .catch((e) => alive && setError(problemText(e)))
      .finally(() => alive && setLoading(false));
    return () => {
      alive = false;
    };
  }, [category, tag, visibility, status, page]);

  if (error) return <Alert type="error" showIcon message={error} />;
  return (
    <div data-testid="kb-category-articles">
      <Typography.Title level={5} style={{ marginTop: 0 }} data-testid="kb-list-title">
        {title}
      </Typography.Title>
      <Table<KbArticleSummary>
        size="small"
        rowKey="id"
        loading={loading}
        dataSource={items}
        onRow={(a) => ({ 'data-testid': 'kb-article-row', 'data-id': a.id }) as React.HTMLAttributes<HTMLElement>}
        pagination={{ current: page, pageSize: PAGE_SIZE, total, showSizeChanger: false, onChange: onPage, showTotal: (n) => t('common.total', { n }) }}
        columns={[
          {
            title: t('kb.field.title'),
            dataIndex: 'title',
            render: (v: string, a) => (
              <Link to={`/kb/articles/${encodeURIComponent(a.id)}`} data-testid="kb-article-link">
                {v}
              </Link>
            ),
          },
          ...(showStatus
            ? [{ title: t('kb.field.status'), dataIndex: 'status', width: 90, render: (s?: string) => (s ? <ArticleStatusTag status={s} /> : null) }]
            : []),
          { title: t('kb.field.visibility'), dataIndex: 'visibility', width: 80, render: (v: string) => <VisibilityTag visibility={v} /> },
          {
            title: t('kb.field.tags'),
            dataIndex: 'tags',
            responsive: ['md'],
            render: (tags: string[]) => (tags ?? []).slice(0, 4).map((tg) => <Tag key={tg}>{tg}</Tag>),
          },
          {
            title: t('kb.field.updatedAt'),
            dataIndex: 'updated_at',
            width: 140,
            responsive: ['lg'],
            render: (v?: string) => (v ? dayjs(v).format('YYYY-MM-DD HH:mm') : ''),
          },
        ]}
      />
    </div>
  );
}

// ---------------------------------------------------------------------------------------------

function Favorites({ onOpen }: { onOpen: (id: string) => void }) {
  const { t } = useI18n();
  const [items, setItems] = useState<KbArticleSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    kbApi
      .favorites()
      .then(setItems)
      .catch((e) => setError(problemText(e)));
  }, []);
  return (
    <Card
      size="small"
      data-testid="kb-favorites"
      title={
        <span>
          <StarOutlined style={{ color: '#faad14' }} /> {t('kb.favorites')}
        </span>
      }
    >
      <List
        size="small"
        loading={items === null && !error}
        dataSource={items ?? []}
        locale={{ emptyText: error ?? t('kb.favorites.none') }}
        renderItem={(a) => (
          <List.Item key={a.id} style={{ paddingInline: 0 }} data-testid="kb-favorite-item" data-id={a.id}>
            <Typography.Text ellipsis style={{ width: '100%' }}>
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
    </Card>
  );
}

// ---------------------------------------------------------------------------------------------
// The category tree, with drag and drop and add / rename / delete for kb.manage.

function parentOf(tree: KbCategory[], id: string, parent: string | null = null): string | null | undefined {
  for (const n of tree) {
    if (n.id === id) return parent;
    const p = parentOf(n.children, id, n.id);
    if (p !== undefined) return p;
  }
  return undefined;
}

/** Where a drop puts the dragged category: its new parent and its index among the new siblings. */
export function dropTarget(
  tree: KbCategory[],
  dragId: string,
  dropId: string,
  dropToGap: boolean,
  relative: number,
): { parent_id: string | null; position: number } | null {
  if (dragId === dropId) return null;
  if (!dropToGap) return { parent_id: dropId, position: 0 };
  const parent = parentOf(tree, dropId);
  if (parent === undefined) return null;
  const siblings = (parent ? findCategory(tree, parent)?.children ?? [] : tree).filter((s) => s.id !== dragId);
  const idx = siblings.findIndex((s) => s.id === dropId);
  if (idx < 0) return null;
  return { parent_id: parent, position: relative === -1 ? idx : idx + 1 };
}

function CategoryTree({
  cats,
  selected,
  onSelect,
  manage,
}: {
  cats: ReturnType<typeof useKbCategories>;
  selected: string;
  onSelect: (id: string | null) => void;
  manage: boolean;
}) {
  const { t } = useI18n();
  const { message, modal } = App.useApp();
  const [dialog, setDialog] = useState<{ mode: 'create' | 'rename'; parent?: string | null; node?: KbCategory } | null>(null);
  const [expanded, setExpanded] = useState<string[] | null>(null);

  const treeData = useMemo(() => {
    const map = (list: KbCategory[]): DataNode[] =>
      list.map((n) => ({
        key: n.id,
        title: (
          <span data-testid="kb-category" data-id={n.id} data-name={n.name}>
            {n.name}
            {typeof n.article_count === 'number' ? (
              <Typography.Text type="secondary" style={{ fontSize: 12, marginInlineStart: 4 }}>
                ({n.article_count})
              </Typography.Text>
            ) : null}
          </span>
        ),
        children: map(n.children),
      }));
    return map(cats.tree);
  }, [cats.tree]);

  const allKeys = useMemo(() => {
    const out: string[] = [];
    const walk = (l: KbCategory[]) => l.forEach((n) => (out.push(n.id), walk(n.children)));
    walk(cats.tree);
    return out;
  }, [cats.tree]);

  const onDrop: TreeProps['onDrop'] = async (info) => {
    const pos = info.node.pos.split('-');
    const relative = info.dropPosition - Number(pos[pos.length - 1]);
    const target = dropTarget(cats.tree, String(info.dragNode.key), String(info.node.key), info.dropToGap, relative);
    if (!target) return;
    try {
      await kbApi.updateCategory(String(info.dragNode.key), target);
      message.success(t('kb.cat.moved'));
    } catch (e) {
      message.error(problemText(e));
    }
    await cats.reload();
  };

  const selectedNode = findCategory(cats.tree, selected);

  return (
    <Card
      size="small"
      title={t('kb.categories')}
      data-testid="kb-tree-card"
      extra={
        manage ? (
          <Space size={2}>
            <Tooltip title={selectedNode ? t('kb.cat.addChild', { name: selectedNode.name }) : t('kb.cat.addRoot')}>
              <Button size="small" type="text" icon={<FolderAddOutlined />} data-testid="kb-cat-add" onClick={() => setDialog({ mode: 'create', parent: selected || null })} />
            </Tooltip>
            <Tooltip title={t('kb.cat.rename')}>
              <Button
                size="small"
                type="text"
                icon={<EditOutlined />}
                disabled={!selectedNode}
                data-testid="kb-cat-rename"
                onClick={() => selectedNode && setDialog({ mode: 'rename', node: selectedNode })}
              />
            </Tooltip>
            <Tooltip title={t('kb.cat.delete')}>
              <Button
                size="small"
                type="text"
                danger
                icon={<DeleteOutlined />}
                disabled={!selectedNode}
                data-testid="kb-cat-delete"
                onClick={() =>
                  selectedNode &&
                  modal.confirm({
                    title: t('kb.cat.deleteConfirm', { name: selectedNode.name }),
                    okButtonProps: { danger: true, 'data-testid': 'kb-cat-delete-ok' },
                    onOk: async () => {
                      try {
                        await kbApi.deleteCategory(selectedNode.id);
                        message.success(t('kb.cat.deleted'));
                        onSelect(null);
                        await cats.reload();
                      } catch (e) {
                        message.error(problemText(e));
                      }
                    },
                  })
                }
              />
            </Tooltip>
          </Space>
        ) : null
      }
    >
      {cats.error ? <Alert type="error" showIcon message={cats.error} /> : null}
      <Button
        type={selected ? 'text' : 'link'}
        size="small"
        onClick={() => onSelect(null)}
        data-testid="kb-category-all"
        style={{ paddingInline: 4, marginBottom: 4 }}
      >
        {t('kb.allCategories')}
      </Button>
      {manage && cats.tree.length ? (
        <Typography.Paragraph type="secondary" style={{ fontSize: 12, margin: '0 0 4px' }}>
          {t('kb.cat.dragHint')}
        </Typography.Paragraph>
      ) : null}
      <Tree
        blockNode
        draggable={manage ? { icon: false } : false}
        treeData={treeData}
        expandedKeys={expanded ?? allKeys}
        onExpand={(k) => setExpanded(k.map(String))}
        selectedKeys={selected ? [selected] : []}
        onSelect={(keys) => onSelect(keys.length ? String(keys[0]) : null)}
        onDrop={onDrop}
        data-testid="kb-tree"
      />
      <CategoryDialog
        state={dialog}
        onClose={() => setDialog(null)}
        onDone={async () => {
          setDialog(null);
          await cats.reload();
        }}
      />
    </Card>
  );
}

function CategoryDialog({
  state,
  onClose,
  onDone,
}: {
  state: { mode: 'create' | 'rename'; parent?: string | null; node?: KbCategory } | null;
  onClose: () => void;
  onDone: () => Promise<void>;
}) {
  const { t } = useI18n();
  const { message } = App.useApp();
  const [form] = Form.useForm<{ name: string }>();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (state) form.setFieldsValue({ name: state.mode === 'rename' ? state.node?.name ?? '' : '' });
  }, [state, form]);
  const submit = async () => {
    const v = await form.validateFields();
    setBusy(true);
    try {
      if (state?.mode === 'rename' && state.node) await kbApi.updateCategory(state.node.id, { name: v.name.trim() });
      else await kbApi.createCategory(v.name.trim(), state?.parent ?? null);
      message.success(t('common.saved'));
      await onDone();
    } catch (e) {
      form.setFields([{ name: 'name', errors: [problemText(e)] }]);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal
      open={!!state}
      title={state?.mode === 'rename' ? t('kb.cat.rename') : t('kb.cat.new')}
      onCancel={onClose}
      onOk={submit}
      confirmLoading={busy}
      okText={t('common.save')}
      cancelText={t('common.cancel')}
      okButtonProps={{ 'data-testid': 'kb-cat-save' }}
      destroyOnHidden
    >
      <Form form={form} layout="vertical">
        <Form.Item
          name="name"
          label={t('kb.cat.name')}
          rules={[
            { required: true, whitespace: true, message: t('common.required') },
            { max: 50, message: t('kb.cat.nameTooLong') },
          ]}
        >
          <Input maxLength={50} data-testid="kb-cat-name" onPressEnter={submit} />
        </Form.Item>
      </Form>
    </Modal>
  );
}
