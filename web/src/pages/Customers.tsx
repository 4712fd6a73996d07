import { useCallback, useEffect, useState } from 'react';
import { useNavigate, useSearchParams } from 'react-router-dom';
import { Alert, App, AutoComplete, Button, Card, Form, Input, Modal, Select, Space, Table, Tag, Typography } from 'antd';
import { PlusOutlined, SearchOutlined } from '@ant-design/icons';
import { api, ApiError, yuan, type CustomerSummary, type Page } from '../api';
import { useAuth } from '../auth';
import { useEnumLabel, useT } from '../i18n';
import { applyProblemToForm } from '../components/common';
import {
  CUSTOMER_FIELDS,
  CustomerForm,
  DISTRICTS,
  formToInput,
  type CustomerFormValues,
} from '../components/CustomerForm';

export function ServiceTypeTag({ value }: { value: string }) {
  const label = useEnumLabel();
  return (
    <Tag color={value === 'bottled' ? 'orange' : 'geekblue'} data-testid="service-type">
      {label('st', value)}
    </Tag>
  );
}

export default function CustomersPage() {
  const t = useT();
  const { can } = useAuth();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const district = params.get('district') ?? '';
  const serviceType = params.get('service_type') ?? '';
  const page = Number(params.get('page') ?? '1') || 1;
  const perPage = Number(params.get('per_page') ?? '20') || 20;

  const [draft, setDraft] = useState(q);
  const [data, setData] = useState<Page<CustomerSummary> | null>(null);
  // Which search the shown rows answer (tests wait on it): the `q` of the last finished load.
  const [loadedQ, setLoadedQ] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [createOpen, setCreateOpen] = useState(false);

  useEffect(() => setDraft(q), [q]);

  const load = useCallback(async () => {
    setLoading(true);
    setError(null);
    try {
      const res = await api.customers({ q, district, service_type: serviceType, page, per_page: perPage });
      setData(res);
      setLoadedQ(q);
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 403)) setError(e instanceof Error ? e.message : String(e));
    } finally {
      setLoading(false);
    }
  }, [q, district, serviceType, page, perPage]);

  useEffect(() => {
    void load();
  }, [load]);

  const update = (patch: Record<string, string | number | undefined>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined || v === '' || v === null) next.delete(k);
      else next.set(k, String(v));
    }
    setParams(next);
  };

  const columns = [
    {
      title: t('cust.no'),
      dataIndex: 'customer_no',
      key: 'customer_no',
      width: 140,
      render: (v: string) => <span data-testid="cell-customer_no">{v}</span>,
    },
    {
      title: t('cust.name'),
      dataIndex: 'name',
      key: 'name',
      render: (v: string) => <span data-testid="cell-name">{v}</span>,
    },
    {
      title: t('cust.phone'),
      dataIndex: 'primary_phone',
      key: 'primary_phone',
      width: 150,
      render: (v: string | null) => <span data-testid="cell-phone">{v ?? ''}</span>,
    },
    {
      title: t('cust.address'),
      dataIndex: 'address',
      key: 'address',
      ellipsis: true,
      render: (v: string) => <span data-testid="cell-address">{v}</span>,
    },
    { title: t('cust.district'), dataIndex: 'district', key: 'district', width: 100 },
    {
      title: t('cust.serviceType'),
      dataIndex: 'service_type',
      key: 'service_type',
      width: 100,
      render: (v: string) => <ServiceTypeTag value={v} />,
    },
    {
      title: t('cust.overdue'),
      dataIndex: 'overdue_cents',
      key: 'overdue_cents',
      width: 120,
      align: 'right' as const,
      render: (v: number) =>
        v > 0 ? (
          <Typography.Text type="danger" data-testid="cell-overdue">
            {yuan(v)}
          </Typography.Text>
        ) : (
          <Typography.Text type="secondary" data-testid="cell-overdue">
            {yuan(0)}
          </Typography.Text>
        ),
    },
  ];

  return (
    <Card
      title={t('cust.title')}
      data-testid="customers-page"
      data-loaded-q={loadedQ ?? undefined}
      data-loading={loading ? 'true' : 'false'}
      extra={
        can('customers.write') ? (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreateOpen(true)} data-testid="customer-new">
            {t('cust.new')}
          </Button>
        ) : null
      }
    >
      <Space wrap style={{ marginBottom: 16 }}>
        <Input.Search
          allowClear
          enterButton={
            <span data-testid="customer-search-button">
              <SearchOutlined /> {t('common.search')}
            </span>
          }
          placeholder={t('cust.searchPlaceholder')}
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          onSearch={(v) => update({ q: v.trim(), page: undefined })}
          style={{ width: 380 }}
          data-testid="customer-search"
        />
        <AutoComplete
          allowClear
          placeholder={t('cust.districtAll')}
          options={DISTRICTS.map((d) => ({ value: d }))}
          value={district || undefined}
          onSelect={(v?: string) => update({ district: v, page: undefined })}
          onChange={(v: string | undefined) => {
            if (!v) update({ district: undefined, page: undefined });
          }}
          onBlur={(e) => {
            const v = (e.target as HTMLInputElement).value?.trim();
            if (v !== district) update({ district: v || undefined, page: undefined });
          }}
          style={{ width: 160 }}
          data-testid="customer-district"
        />
        <Select
          allowClear
          placeholder={t('cust.serviceAll')}
          value={serviceType || undefined}
          onChange={(v) => update({ service_type: v, page: undefined })}
          options={[
            { value: 'bottled', label: t('st.bottled') },
            { value: 'pipeline', label: t('st.pipeline') },
          ]}
          style={{ width: 140 }}
          data-testid="customer-service-type"
        />
      </Space>
      {error ? <Alert type="error" showIcon message={error} style={{ marginBottom: 16 }} data-testid="customers-error" /> : null}
      <Table<CustomerSummary>
        rowKey="id"
        size="middle"
        loading={loading}
        columns={columns}
        dataSource={data?.items ?? []}
        data-testid="customers-table"
        rowClassName={() => 'kefu-clickable-row'}
        onRow={(record) =>
          ({
            onClick: () => navigate(`/customers/${record.id}`),
            'data-testid': 'customer-row',
          }) as React.HTMLAttributes<HTMLElement>
        }
        pagination={{
          current: data?.page ?? page,
          pageSize: data?.per_page ?? perPage,
          total: data?.total ?? 0,
          showSizeChanger: true,
          pageSizeOptions: [10, 20, 50, 100],
          showTotal: (n) => <span data-testid="customers-total">{t('common.total', { n })}</span>,
          onChange: (p, size) => update({ page: p === 1 ? undefined : p, per_page: size === 20 ? undefined : size }),
        }}
      />
      <CreateCustomerModal
        open={createOpen}
        onClose={() => setCreateOpen(false)}
        onCreated={(id) => {
          setCreateOpen(false);
          navigate(`/customers/${id}`);
        }}
      />
    </Card>
  );
}

function CreateCustomerModal({ open, onClose, onCreated }: { open: boolean; onClose: () => void; onCreated: (id: string) => void }) {
  const t = useT();
  const { message } = App.useApp();
  const [form] = Form.useForm<CustomerFormValues>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async () => {
    let v: CustomerFormValues;
    try {
      v = await form.validateFields();
    } catch {
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const c = await api.createCustomer(formToInput(v));
      message.success(t('cust.created'));
      form.resetFields();
      onCreated(c.id);
    } catch (e) {
      setError(applyProblemToForm(form, e, CUSTOMER_FIELDS as string[]));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal
      open={open}
      title={t('cust.new')}
      width={720}
      onCancel={() => {
        setError(null);
        onClose();
      }}
      onOk={submit}
      okText={t('common.save')}
      cancelText={t('common.cancel')}
      confirmLoading={busy}
      forceRender
      okButtonProps={{ 'data-testid': 'customer-form-submit' }}
    >
      {error ? <Alert type="error" showIcon message={<span data-testid="customer-form-error">{error}</span>} style={{ marginBottom: 16 }} /> : null}
      <CustomerForm form={form} />
    </Modal>
  );
}
