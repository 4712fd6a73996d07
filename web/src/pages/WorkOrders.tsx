// 工单: the list with filters, saved filters and export.
import { useCallback, useEffect, useMemo, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import {
  Alert,
  App,
  Badge,
  Button,
  Card,
  DatePicker,
  Dropdown,
  Form,
  Input,
  Modal,
  Select,
  Space,
  Switch,
  Table,
  Tag,
  Tooltip,
  Typography,
  type MenuProps,
} from 'antd';
import { DeleteOutlined, DownloadOutlined, FilterOutlined, PlusOutlined, SaveOutlined, SearchOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import {
  api,
  ApiError,
  woUrls,
  WO_PRIORITIES,
  WO_STATUSES,
  type Page,
  type SavedFilter,
  type WorkOrderSummary,
} from '../api';
import { useAuth } from '../auth';
import { useI18n } from '../i18n';
import { applyProblemToForm } from '../components/common';
import {
  DeadlineTag,
  PriorityTag,
  StatusTag,
  localized,
  priorityLabel,
  statusLabel,
  useUnits,
  useWorkOrderTypes,
} from '../components/workorders';

/** The list's filters as URL parameters (and as a saved filter's query). */
const FILTER_KEYS = ['q', 'status', 'type_id', 'unit_id', 'priority', 'overdue', 'open', 'from', 'to', 'customer_no', 'phone'] as const;

function filterOf(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of FILTER_KEYS) {
    const v = params.get(k);
    if (v) out[k] = v;
  }
  return out;
}

function queryOfSaved(q: SavedFilter['query']): Record<string, string> {
  if (typeof q === 'string') return filterOf(new URLSearchParams(q));
  const out: Record<string, string> = {};
  for (const k of FILTER_KEYS) {
    const v = (q as Record<string, unknown>)?.[k];
    if (v !== undefined && v !== null && v !== '') out[k] = String(v);
  }
  return out;
}

export default function WorkOrdersPage() {
  const { t, lang } = useI18n();
  const { can } = useAuth();
  const { message, modal } = App.useApp();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const filter = filterOf(params);
  const filterKey = JSON.stringify(filter);
  const page = Number(params.get('page') ?? '1') || 1;
  const perPage = Number(params.get('per_page') ?? '20') || 20;

  const { types } = useWorkOrderTypes();
  const units = useUnits();
  const [draft, setDraft] = useState(filter.q ?? '');
  const [data, setData] = useState<Page<WorkOrderSummary> | null>(null);
  const [loadedKey, setLoadedKey] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState<SavedFilter[]>([]);
  const [saveOpen, setSaveOpen] = useState(false);

  useEffect(() => setDraft(filter.q ?? ''), [filter.q]);

  const load = useCallback(async () => {
    setLoading(true);
    setError(null);
    try {
      const f = JSON.parse(filterKey) as Record<string, string>;
      const res = await api.workOrders({ ...f, page, per_page: perPage });
      setData(res);
      setLoadedKey(filterKey);
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 403)) setError(e instanceof Error ? e.message : String(e));
    } finally {
      setLoading(false);
    }
  }, [filterKey, page, perPage]);

  useEffect(() => {
    void load();
  }, [load]);

  const loadSaved = useCallback(async () => {
    try {
      setSaved(await api.savedFilters());
    } catch {
      setSaved([]);
    }
  }, []);
  useEffect(() => {
    void loadSaved();
  }, [loadSaved]);

  const update = (patch: Record<string, string | number | undefined | null>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined || v === '' || v === null) next.delete(k);
      else next.set(k, String(v));
    }
    if (!('page' in patch)) next.delete('page');
    setParams(next);
  };

  const applySaved = (f: SavedFilter) => {
    const next = new URLSearchParams();
    for (const [k, v] of Object.entries(queryOfSaved(f.query))) next.set(k, v);
    const pp = params.get('per_page');
    if (pp) next.set('per_page', pp);
    setParams(next);
  };

  const removeSaved = (f: SavedFilter) => {
    modal.confirm({
      title: t('wo.filters.deleteConfirm', { name: f.name }),
      okText: t('common.delete'),
      okButtonProps: { danger: true, 'data-testid': 'saved-filter-delete-ok' },
      cancelText: t('common.cancel'),
      onOk: async () => {
        try {
          await api.deleteSavedFilter(f.id);
          message.success(t('wo.filters.deleted'));
          void loadSaved();
        } catch (e) {
          message.error(e instanceof Error ? e.message : String(e));
        }
      },
    });
  };

  const statuses = filter.status ? filter.status.split(',').filter(Boolean) : [];
  const range: [dayjs.Dayjs, dayjs.Dayjs] | null =
    filter.from && filter.to ? [dayjs(filter.from), dayjs(filter.to)] : filter.from ? [dayjs(filter.from), dayjs(filter.from)] : null;

  const exportQuery = useMemo(() => JSON.parse(filterKey) as Record<string, string>, [filterKey]);

  const savedMenu: MenuProps['items'] = saved.length
    ? saved.map((f) => ({
        key: f.id,
        label: (
          <Space style={{ width: '100%', justifyContent: 'space-between' }} data-testid="saved-filter-item" data-name={f.name}>
            <span data-testid="saved-filter-name">{f.name}</span>
            <Button
              size="small"
              type="text"
              danger
              icon={<DeleteOutlined />}
              aria-label={t('common.delete')}
              data-testid="saved-filter-delete"
              onClick={(e) => {
                e.stopPropagation();
                removeSaved(f);
              }}
            />
          </Space>
        ),
      }))
    : [{ key: 'none', disabled: true, label: t('wo.filters.none') }];

  const columns = [
    {
      title: t('wo.no'),
      dataIndex: 'no',
      key: 'no',
      width: 150,
      render: (v: string, r: WorkOrderSummary) => (
        <Link to={`/work-orders/${r.id}`} data-testid="cell-wo-no" onClick={(e) => e.stopPropagation()}>
          {v}
        </Link>
      ),
    },
    {
      title: t('wo.type'),
      dataIndex: 'type_name',
      key: 'type_name',
      width: 110,
      render: (v: string, r: WorkOrderSummary) => {
        const ty = types.find((x) => x.id === r.type_id);
        return ty ? localized(lang, ty.name, ty.name_en) : v;
      },
    },
    {
      title: t('wo.title'),
      dataIndex: 'title',
      key: 'title',
      ellipsis: true,
      render: (v: string) => <span data-testid="cell-wo-title">{v}</span>,
    },
    {
      title: t('wo.customer'),
      key: 'customer',
      width: 170,
      ellipsis: true,
      render: (_: unknown, r: WorkOrderSummary) => (
        <span data-testid="cell-wo-customer">
          {r.customer_name ?? r.contact_name ?? ''}
          {r.customer_no ? <Typography.Text type="secondary"> {r.customer_no}</Typography.Text> : null}
        </span>
      ),
    },
    {
      title: t('common.status'),
      dataIndex: 'status',
      key: 'status',
      width: 100,
      render: (v: string) => <StatusTag status={v} />,
    },
    {
      title: t('wo.priority'),
      dataIndex: 'priority',
      key: 'priority',
      width: 80,
      render: (v: string) => <PriorityTag priority={v} />,
    },
    {
      title: t('wo.unit'),
      dataIndex: 'unit_name',
      key: 'unit_name',
      width: 120,
      render: (v: string | null, r: WorkOrderSummary) => (
        <span>
          {v ?? ''}
          {r.assignee_name ? <Typography.Text type="secondary"> · {r.assignee_name}</Typography.Text> : null}
        </span>
      ),
    },
    {
      title: t('wo.dueAt'),
      dataIndex: 'due_at',
      key: 'due_at',
      width: 200,
      render: (v: string | null, r: WorkOrderSummary) => (
        <Space size={4} wrap>
          <DeadlineTag at={v} />
          {r.breached ? (
            <Tag color="volcano" data-testid="wo-breached">
              {t('wo.breached')}
            </Tag>
          ) : null}
        </Space>
      ),
    },
    {
      title: t('wo.urges'),
      dataIndex: 'urge_count',
      key: 'urge_count',
      width: 70,
      align: 'center' as const,
      render: (v: number) =>
        v > 0 ? (
          <Tooltip title={t('wo.urgeCount', { n: v })}>
            <Badge count={v} color="orange" data-testid="cell-wo-urges" data-count={v} />
          </Tooltip>
        ) : (
          <span data-testid="cell-wo-urges" data-count={0} />
        ),
    },
    {
      title: t('wo.createdAt'),
      dataIndex: 'created_at',
      key: 'created_at',
      width: 150,
      render: (v: string) => dayjs(v).format('YYYY-MM-DD HH:mm'),
    },
  ];

  return (
    <Card
      title={t('wo.listTitle')}
      data-testid="work-orders-page"
      data-loaded={loadedKey ?? undefined}
      data-loading={loading ? 'true' : 'false'}
      extra={
        <Space wrap>
          {can('work_orders.export') ? (
            <>
              <Button icon={<DownloadOutlined />} href={woUrls.export(exportQuery, 'csv')} download data-testid="wo-export-csv">
                {t('wo.exportCsv')}
              </Button>
              <Button icon={<DownloadOutlined />} href={woUrls.export(exportQuery, 'xlsx')} download data-testid="wo-export-xlsx">
                {t('wo.exportXlsx')}
              </Button>
            </>
          ) : null}
          {can('work_orders.create') ? (
            <Button type="primary" icon={<PlusOutlined />} onClick={() => navigate('/work-orders/new')} data-testid="wo-new">
              {t('wo.new')}
            </Button>
          ) : null}
        </Space>
      }
    >
      <Space wrap style={{ marginBottom: 12 }} data-testid="wo-filters">
        <Input.Search
          allowClear
          enterButton={
            <span data-testid="wo-search-button">
              <SearchOutlined /> {t('common.search')}
            </span>
          }
          placeholder={t('wo.searchPlaceholder')}
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          onSearch={(v) => update({ q: v.trim() })}
          style={{ width: 320 }}
          data-testid="wo-search"
        />
        <Input
          allowClear
          placeholder={t('wo.filters.phone')}
          defaultValue={filter.phone}
          key={`phone-${filter.phone ?? ''}`}
          onChange={(e) => e.target.value === '' && filter.phone && update({ phone: undefined })}
          onPressEnter={(e) => update({ phone: (e.target as HTMLInputElement).value.trim() })}
          onBlur={(e) => e.target.value.trim() !== (filter.phone ?? '') && update({ phone: e.target.value.trim() })}
          style={{ width: 140 }}
          data-testid="wo-filter-phone"
        />
        <Input
          allowClear
          placeholder={t('wo.filters.customerNo')}
          defaultValue={filter.customer_no}
          key={`cno-${filter.customer_no ?? ''}`}
          onChange={(e) => e.target.value === '' && filter.customer_no && update({ customer_no: undefined })}
          onPressEnter={(e) => update({ customer_no: (e.target as HTMLInputElement).value.trim() })}
          onBlur={(e) => e.target.value.trim() !== (filter.customer_no ?? '') && update({ customer_no: e.target.value.trim() })}
          style={{ width: 120 }}
          data-testid="wo-filter-customer-no"
        />
        <Select
          mode="multiple"
          allowClear
          maxTagCount="responsive"
          placeholder={t('wo.filters.status')}
          value={statuses}
          onChange={(v: string[]) => update({ status: v.join(',') })}
          options={WO_STATUSES.map((s) => ({ value: s, label: statusLabel(t, s) }))}
          style={{ minWidth: 200 }}
          data-testid="wo-filter-status"
        />
        <Select
          allowClear
          placeholder={t('wo.filters.type')}
          value={filter.type_id}
          onChange={(v) => update({ type_id: v })}
          options={types.map((ty) => ({ value: ty.id, label: localized(lang, ty.name, ty.name_en) }))}
          style={{ width: 140 }}
          data-testid="wo-filter-type"
        />
        <Select
          allowClear
          showSearch
          optionFilterProp="label"
          placeholder={t('wo.filters.unit')}
          value={filter.unit_id}
          onChange={(v) => update({ unit_id: v })}
          options={units.map((u) => ({ value: u.id, label: u.name }))}
          style={{ width: 150 }}
          data-testid="wo-filter-unit"
        />
        <Select
          allowClear
          placeholder={t('wo.filters.priority')}
          value={filter.priority}
          onChange={(v) => update({ priority: v })}
          options={WO_PRIORITIES.map((p) => ({ value: p, label: priorityLabel(t, p) }))}
          style={{ width: 110 }}
          data-testid="wo-filter-priority"
        />
        <DatePicker.RangePicker
          value={range}
          onChange={(r) =>
            update({
              from: r?.[0] ? r[0].format('YYYY-MM-DD') : undefined,
              to: r?.[1] ? r[1].format('YYYY-MM-DD') : undefined,
            })
          }
          data-testid="wo-filter-range"
        />
        <Space size={4}>
          <Switch checked={filter.overdue === 'true'} onChange={(v) => update({ overdue: v ? 'true' : undefined })} data-testid="wo-filter-overdue" />
          <span>{t('wo.filters.overdue')}</span>
        </Space>
        <Space size={4}>
          <Switch checked={filter.open === 'true'} onChange={(v) => update({ open: v ? 'true' : undefined })} data-testid="wo-filter-open" />
          <span>{t('wo.filters.open')}</span>
        </Space>
        <Button onClick={() => setParams(new URLSearchParams())} data-testid="wo-filter-reset">
          {t('common.reset')}
        </Button>
        <Dropdown
          trigger={['click']}
          menu={{
            items: savedMenu,
            onClick: ({ key }) => {
              const f = saved.find((x) => x.id === key);
              if (f) applySaved(f);
            },
          }}
        >
          <Button icon={<FilterOutlined />} data-testid="saved-filters">
            {t('wo.filters.saved')}
            {saved.length ? ` (${saved.length})` : ''}
          </Button>
        </Dropdown>
        <Button icon={<SaveOutlined />} onClick={() => setSaveOpen(true)} disabled={Object.keys(filter).length === 0} data-testid="saved-filter-save">
          {t('wo.filters.save')}
        </Button>
      </Space>
      {error ? <Alert type="error" showIcon message={error} style={{ marginBottom: 16 }} data-testid="wo-list-error" /> : null}
      <Table<WorkOrderSummary>
        rowKey="id"
        size="middle"
        loading={loading}
        columns={columns}
        dataSource={data?.items ?? []}
        scroll={{ x: 1300 }}
        data-testid="wo-table"
        rowClassName={(r) => `kefu-clickable-row${r.overdue ? ' kefu-row-overdue' : r.breached ? ' kefu-row-breached' : ''}`}
        onRow={(r) =>
          ({
            onClick: () => navigate(`/work-orders/${r.id}`),
            'data-testid': 'wo-row',
            'data-no': r.no,
            'data-overdue': r.overdue ? 'true' : 'false',
            'data-breached': r.breached ? 'true' : 'false',
          }) as React.HTMLAttributes<HTMLElement>
        }
        pagination={{
          current: data?.page ?? page,
          pageSize: data?.per_page ?? perPage,
          total: data?.total ?? 0,
          showSizeChanger: true,
          pageSizeOptions: [10, 20, 50, 100],
          showTotal: (n) => <span data-testid="wo-total">{t('common.total', { n })}</span>,
          onChange: (p, size) => update({ page: p === 1 ? undefined : p, per_page: size === 20 ? undefined : size }),
        }}
      />
      <SaveFilterModal
        open={saveOpen}
        query={filter}
        onClose={() => setSaveOpen(false)}
        onSaved={() => {
          setSaveOpen(false);
          void loadSaved();
        }}
      />
    </Card>
  );
}

function SaveFilterModal({
  open,
  query,
  onClose,
  onSaved,
}: {
  open: boolean;
  query: Record<string, string>;
  onClose: () => void;
  onSaved: () => void;
}) {
  const { t } = useI18n();
  const { message } = App.useApp();
  const [form] = Form.useForm<{ name: string }>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (open) {
      form.resetFields();
      setError(null);
    }
  }, [open, form]);
  const submit = async () => {
    let v: { name: string };
    try {
      v = await form.validateFields();
    } catch {
      return;
    }
    setBusy(true);
    try {
      await api.createSavedFilter(v.name.trim(), query);
      message.success(t('wo.filters.savedOk'));
      onSaved();
    } catch (e) {
      setError(applyProblemToForm(form, e, ['name']));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal
      open={open}
      title={t('wo.filters.save')}
      onCancel={onClose}
      onOk={submit}
      okText={t('common.save')}
      cancelText={t('common.cancel')}
      confirmLoading={busy}
      forceRender
      okButtonProps={{ 'data-testid': 'saved-filter-submit' }}
    >
      {error ? <Alert type="error" showIcon message={error} style={{ marginBottom: 16 }} /> : null}
      <Form form={form} layout="vertical">
        <Form.Item name="name" label={t('wo.filters.name')} rules={[{ required: true, whitespace: true, message: t('common.required') }]}>
          <Input maxLength={40} data-testid="saved-filter-name-input" />
        </Form.Item>
      </Form>
    </Modal>
  );
}
