import { useCallback, useEffect, useState } from 'react';
import { useNavigate, useParams } from 'react-router-dom';
import {
  Alert,
  App,
  Button,
  Card,
  DatePicker,
  Descriptions,
  Empty,
  Form,
  Input,
  InputNumber,
  Modal,
  Result,
  Select,
  Space,
  Table,
  Tabs,
  Tag,
  Typography,
} from 'antd';
import { ArrowLeftOutlined, DollarOutlined, EditOutlined, FileAddOutlined } from '@ant-design/icons';
import dayjs, { type Dayjs } from 'dayjs';
import { api, ApiError, yuan, type Account, type Bill, type CustomerDetail, type Payment, type PaymentMethod } from '../api';
import { useAuth } from '../auth';
import { useEnumLabel, useT } from '../i18n';
import { applyProblemToForm, PageSpin } from '../components/common';
import { CUSTOMER_FIELDS, CustomerForm, customerToForm, diffInput, type CustomerFormValues } from '../components/CustomerForm';
import { ServiceTypeTag } from './Customers';
import { ComingSoon } from './ComingSoon';
import { CustomerWorkOrders } from '../components/CustomerWorkOrders';

export function fmtTime(s: string | null | undefined): string {
  if (!s) return '';
  const d = dayjs(s);
  return d.isValid() ? d.format('YYYY-MM-DD HH:mm:ss') : s;
}

export function BillStatusTag({ status }: { status: string }) {
  const label = useEnumLabel();
  const color = status === 'paid' ? 'green' : status === 'overdue' ? 'red' : 'gold';
  return (
    <Tag color={color} data-testid={`bill-status-${status}`}>
      {label('bill', status)}
    </Tag>
  );
}

const METHODS: PaymentMethod[] = ['counter', 'bank', 'wechat', 'alipay', 'other'];

export default function CustomerDetailPage() {
  const { id = '' } = useParams();
  const t = useT();
  const label = useEnumLabel();
  const navigate = useNavigate();
  const { can } = useAuth();
  const [data, setData] = useState<CustomerDetail | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<ApiError | Error | null>(null);
  const [editOpen, setEditOpen] = useState(false);
  const [payFor, setPayFor] = useState<{ bill?: Bill } | null>(null);

  const load = useCallback(async () => {
    setLoading(true);
    try {
      setData(await api.customer(id));
      setError(null);
    } catch (e) {
      setError(e as Error);
    } finally {
      setLoading(false);
    }
  }, [id]);

  useEffect(() => {
    void load();
  }, [load]);

  if (loading && !data) return <PageSpin />;
  if (error && !data) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 422)) {
      return <Result status="404" title={<span data-testid="customer-not-found">{t('detail.notFound')}</span>} extra={<Button onClick={() => navigate('/customers')}>{t('common.back')}</Button>} />;
    }
    if (error instanceof ApiError && error.status === 403) return null; // the layout shows the 403 page
    return <Alert type="error" showIcon message={error.message} />;
  }
  if (!data) return null;

  const c = data;
  const unpaid = c.accounts.flatMap((a) => a.bills).filter((b) => b.status !== 'paid');

  return (
    <Space direction="vertical" size={16} style={{ width: '100%' }} data-testid="customer-detail">
      <Card
        title={
          <Space wrap>
            <Button type="text" icon={<ArrowLeftOutlined />} onClick={() => navigate(-1)} aria-label={t('common.back')} />
            <span data-testid="customer-name">{c.name}</span>
            <Tag data-testid="customer-no">{c.customer_no}</Tag>
            <ServiceTypeTag value={c.service_type} />
          </Space>
        }
        extra={
          <Space wrap>
            {can('work_orders.create') ? (
              <Button
                icon={<FileAddOutlined />}
                onClick={() => navigate(`/work-orders/new?customer_id=${encodeURIComponent(c.id)}`)}
                data-testid="customer-new-work-order"
              >
                {t('wo.new')}
              </Button>
            ) : null}
            {can('payments.write') ? (
              <Button icon={<DollarOutlined />} onClick={() => setPayFor({})} data-testid="record-payment">
                {t('detail.recordPayment')}
              </Button>
            ) : null}
            {can('customers.write') ? (
              <Button type="primary" icon={<EditOutlined />} onClick={() => setEditOpen(true)} data-testid="customer-edit">
                {t('detail.edit')}
              </Button>
            ) : null}
          </Space>
        }
      >
        <Descriptions
          title={t('detail.contact')}
          bordered
          size="small"
          column={{ xs: 1, sm: 1, md: 2, lg: 3 }}
          data-testid="customer-contact"
        >
          <Descriptions.Item label={t('cust.no')}>{c.customer_no}</Descriptions.Item>
          <Descriptions.Item label={t('cust.name')}>
            <span data-testid="detail-name">{c.name}</span>
          </Descriptions.Item>
          <Descriptions.Item label={t('cust.phones')}>
            <Space wrap data-testid="detail-phones">
              {c.phones.map((p) => (
                <Typography.Text copyable key={p}>
                  {p}
                </Typography.Text>
              ))}
            </Space>
          </Descriptions.Item>
          <Descriptions.Item label={t('cust.address')} span={2}>
            <span data-testid="detail-address">{c.address}</span>
          </Descriptions.Item>
          <Descriptions.Item label={t('cust.district')}>
            <span data-testid="detail-district">{c.district}</span>
          </Descriptions.Item>
          <Descriptions.Item label={t('cust.serviceType')}>{label('st', c.service_type)}</Descriptions.Item>
          <Descriptions.Item label={t('cust.meterNo')}>
            <span data-testid="detail-meter_no">{c.meter_no ?? ''}</span>
          </Descriptions.Item>
          <Descriptions.Item label={t('cust.notice')}>
            <span data-testid="detail-notice">{label('np', c.notice_preference)}</span>
          </Descriptions.Item>
          <Descriptions.Item label={t('cust.fax')}>
            <span data-testid="detail-fax">{c.fax ?? ''}</span>
          </Descriptions.Item>
          <Descriptions.Item label={t('cust.email')}>
            <span data-testid="detail-email">{c.email ?? ''}</span>
          </Descriptions.Item>
          <Descriptions.Item label={t('cust.language')}>{label('lang', c.language)}</Descriptions.Item>
          <Descriptions.Item label={t('cust.remarks')} span={3}>
            <span className="kefu-pre" data-testid="detail-remarks">
              {c.remarks ?? ''}
            </span>
          </Descriptions.Item>
          <Descriptions.Item label={t('cust.createdAt')}>{fmtTime(c.created_at)}</Descriptions.Item>
          <Descriptions.Item label={t('cust.updatedAt')}>{fmtTime(c.updated_at)}</Descriptions.Item>
        </Descriptions>
      </Card>

      <Card title={t('detail.accounts')} data-testid="customer-accounts">
        {c.accounts.length === 0 ? (
          <Empty description={t('detail.noAccounts')} />
        ) : (
          <Space direction="vertical" size={24} style={{ width: '100%' }}>
            {c.accounts.map((a) => (
              <AccountView
                key={a.id}
                account={a}
                canPay={can('payments.write')}
                onPay={(bill) => setPayFor({ bill })}
              />
            ))}
          </Space>
        )}
      </Card>

      <Card>
        <Tabs
          data-testid="customer-tabs"
          defaultActiveKey={can('work_orders.read') ? 'work-orders' : 'calls'}
          items={[
            { key: 'calls', label: t('detail.calls'), children: <ComingSoon titleKey="detail.calls" /> },
            {
              key: 'work-orders',
              label: <span data-testid="tab-work-orders">{t('detail.workOrders')}</span>,
              children: can('work_orders.read') ? <CustomerWorkOrders customerId={c.id} /> : <ComingSoon titleKey="detail.workOrders" />,
            },
            { key: 'messages', label: t('detail.messages'), children: <ComingSoon titleKey="detail.messages" /> },
          ]}
        />
      </Card>

      <EditCustomerModal
        open={editOpen}
        customer={c}
        onClose={() => setEditOpen(false)}
        onSaved={() => {
          setEditOpen(false);
          void load();
        }}
      />
      <PaymentModal
        open={payFor !== null}
        customerId={c.id}
        unpaid={unpaid}
        bill={payFor?.bill}
        onClose={() => setPayFor(null)}
        onSaved={() => {
          setPayFor(null);
          void load();
        }}
      />
    </Space>
  );
}

function AccountView({ account, canPay, onPay }: { account: Account; canPay: boolean; onPay: (b: Bill) => void }) {
  const t = useT();
  const label = useEnumLabel();
  const bills = [...account.bills].sort((a, b) => b.period.localeCompare(a.period));
  const payments = [...account.payments].sort((a, b) => b.paid_on.localeCompare(a.paid_on));
  const overdue = bills.filter((b) => b.status === 'overdue').reduce((sum, b) => sum + b.amount_cents, 0);
  const unpaid = bills.filter((b) => b.status === 'unpaid').reduce((sum, b) => sum + b.amount_cents, 0);
  return (
    <div data-testid="account">
      <Typography.Title level={5} style={{ marginTop: 0 }}>
        {t('detail.account', { no: account.account_no })}
        <Typography.Text type="secondary" style={{ fontSize: 13, fontWeight: 400, marginInlineStart: 12 }}>
          {t('detail.openedOn')}: {account.opened_on}
        </Typography.Text>
        {overdue > 0 ? (
          <Tag color="red" style={{ marginInlineStart: 12 }} data-testid="account-overdue">
            {t('bill.overdue')} {yuan(overdue)}
          </Tag>
        ) : null}
        {unpaid > 0 ? (
          <Tag color="gold" data-testid="account-unpaid">
            {t('bill.unpaid')} {yuan(unpaid)}
          </Tag>
        ) : null}
      </Typography.Title>
      <Typography.Text strong>{t('detail.bills')}</Typography.Text>
      <Table<Bill>
        rowKey="id"
        size="small"
        dataSource={bills}
        pagination={bills.length > 12 ? { pageSize: 12 } : false}
        data-testid="bills-table"
        onRow={() => ({ 'data-testid': 'bill-row' }) as React.HTMLAttributes<HTMLElement>}
        style={{ marginBottom: 16, marginTop: 8 }}
        columns={[
          { title: t('detail.period'), dataIndex: 'period', key: 'period', width: 110 },
          {
            title: t('detail.amount'),
            dataIndex: 'amount_cents',
            key: 'amount',
            align: 'right',
            width: 130,
            render: (v: number) => <span data-testid="bill-amount">{yuan(v)}</span>,
          },
          { title: t('detail.dueDate'), dataIndex: 'due_date', key: 'due_date', width: 130 },
          { title: t('detail.paidOn'), dataIndex: 'paid_on', key: 'paid_on', width: 130, render: (v?: string | null) => v ?? '' },
          {
            title: t('common.status'),
            dataIndex: 'status',
            key: 'status',
            width: 100,
            render: (v: string) => <BillStatusTag status={v} />,
          },
          ...(canPay
            ? [
                {
                  title: t('common.actions'),
                  key: 'actions',
                  width: 120,
                  render: (_: unknown, b: Bill) =>
                    b.status !== 'paid' ? (
                      <Button size="small" type="link" onClick={() => onPay(b)} data-testid="bill-pay">
                        {t('detail.recordPayment')}
                      </Button>
                    ) : null,
                },
              ]
            : []),
        ]}
      />
      <Typography.Text strong>{t('detail.payments')}</Typography.Text>
      <Table<Payment>
        rowKey="id"
        size="small"
        dataSource={payments}
        pagination={payments.length > 10 ? { pageSize: 10 } : false}
        data-testid="payments-table"
        style={{ marginTop: 8 }}
        columns={[
          { title: t('detail.paidOn'), dataIndex: 'paid_on', key: 'paid_on', width: 130 },
          {
            title: t('detail.amount'),
            dataIndex: 'amount_cents',
            key: 'amount',
            align: 'right',
            width: 130,
            render: (v: number) => yuan(v),
          },
          { title: t('detail.method'), dataIndex: 'method', key: 'method', width: 100, render: (v: string) => label('pm', v) },
          { title: t('detail.period'), dataIndex: 'period', key: 'period', width: 110, render: (v?: string | null) => v ?? '' },
          { title: t('detail.reference'), dataIndex: 'reference', key: 'reference', render: (v?: string | null) => v ?? '' },
        ]}
      />
    </div>
  );
}

function EditCustomerModal({
  open,
  customer,
  onClose,
  onSaved,
}: {
  open: boolean;
  customer: CustomerDetail;
  onClose: () => void;
  onSaved: () => void;
}) {
  const t = useT();
  const { message } = App.useApp();
  const [form] = Form.useForm<CustomerFormValues>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (open) {
      form.resetFields();
      form.setFieldsValue(customerToForm(customer));
      setError(null);
    }
  }, [open, customer, form]);

  const submit = async () => {
    let v: CustomerFormValues;
    try {
      v = await form.validateFields();
    } catch {
      return;
    }
    const patch = diffInput(customer, v);
    if (Object.keys(patch).length === 0) {
      onClose();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await api.updateCustomer(customer.id, patch);
      message.success(t('common.saved'));
      onSaved();
    } catch (e) {
      setError(applyProblemToForm(form, e, CUSTOMER_FIELDS as string[]));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal
      open={open}
      title={t('detail.edit')}
      width={720}
      onCancel={onClose}
      onOk={submit}
      okText={t('common.save')}
      cancelText={t('common.cancel')}
      confirmLoading={busy}
      forceRender
      okButtonProps={{ 'data-testid': 'customer-form-submit' }}
    >
      {error ? <Alert type="error" showIcon message={<span data-testid="customer-form-error">{error}</span>} style={{ marginBottom: 16 }} /> : null}
      <CustomerForm form={form} editing />
    </Modal>
  );
}

interface PaymentFormValues {
  amount: number;
  paid_on: Dayjs;
  method: PaymentMethod;
  period?: string;
  reference?: string;
}

function PaymentModal({
  open,
  customerId,
  unpaid,
  bill,
  onClose,
  onSaved,
}: {
  open: boolean;
  customerId: string;
  unpaid: Bill[];
  bill?: Bill;
  onClose: () => void;
  onSaved: () => void;
}) {
  const t = useT();
  const label = useEnumLabel();
  const { message } = App.useApp();
  const [form] = Form.useForm<PaymentFormValues>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (open) {
      form.resetFields();
      form.setFieldsValue({
        paid_on: dayjs(),
        method: 'counter',
        period: bill?.period,
        amount: bill ? bill.amount_cents / 100 : undefined,
      });
      setError(null);
    }
  }, [open, bill, form]);

  const submit = async () => {
    let v: PaymentFormValues;
    try {
      v = await form.validateFields();
    } catch {
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await api.recordPayment(customerId, {
        amount_cents: Math.round(v.amount * 100),
        paid_on: v.paid_on.format('YYYY-MM-DD'),
        method: v.method,
        ...(v.period ? { period: v.period } : {}),
        ...(v.reference && v.reference.trim() ? { reference: v.reference.trim() } : {}),
      });
      message.success(t('detail.paymentRecorded'));
      onSaved();
    } catch (e) {
      const fieldMap: Record<string, string> = { amount_cents: 'amount' };
      if (e instanceof ApiError && e.problem.errors) {
        e.problem.errors = e.problem.errors.map((fe) => ({ ...fe, field: fieldMap[fe.field] ?? fe.field }));
      }
      setError(applyProblemToForm(form, e, ['amount', 'paid_on', 'method', 'period', 'reference']));
    } finally {
      setBusy(false);
    }
  };

  const periods = [...new Set(unpaid.map((b) => b.period))].sort().reverse();

  return (
    <Modal
      open={open}
      title={t('detail.recordPayment')}
      onCancel={onClose}
      onOk={submit}
      okText={t('common.save')}
      cancelText={t('common.cancel')}
      confirmLoading={busy}
      forceRender
      okButtonProps={{ 'data-testid': 'payment-submit' }}
    >
      {error ? <Alert type="error" showIcon message={<span data-testid="payment-error">{error}</span>} style={{ marginBottom: 16 }} /> : null}
      <Form form={form} layout="vertical" data-testid="payment-form">
        <Form.Item name="period" label={t('detail.periodOptional')}>
          <Select
            allowClear
            data-testid="payment-period"
            options={periods.map((p) => {
              const b = unpaid.find((x) => x.period === p)!;
              return { value: p, label: `${p} · ${yuan(b.amount_cents)} · ${label('bill', b.status)}` };
            })}
            onChange={(p?: string) => {
              const b = unpaid.find((x) => x.period === p);
              if (b) form.setFieldValue('amount', b.amount_cents / 100);
            }}
          />
        </Form.Item>
        <Form.Item name="amount" label={t('detail.amountYuan')} rules={[{ required: true, message: t('common.required') }]}>
          <InputNumber min={0.01} precision={2} step={1} style={{ width: '100%' }} prefix="¥" data-testid="payment-amount" />
        </Form.Item>
        <Form.Item name="paid_on" label={t('detail.paidOn')} rules={[{ required: true, message: t('common.required') }]}>
          <DatePicker style={{ width: '100%' }} data-testid="payment-paid_on" />
        </Form.Item>
        <Form.Item name="method" label={t('detail.method')} rules={[{ required: true, message: t('common.required') }]}>
          <Select data-testid="payment-method" options={METHODS.map((m) => ({ value: m, label: t(`pm.${m}`) }))} />
        </Form.Item>
        <Form.Item name="reference" label={t('detail.reference')}>
          <Input data-testid="payment-reference" maxLength={64} />
        </Form.Item>
      </Form>
    </Modal>
  );
}
