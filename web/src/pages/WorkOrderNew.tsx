// 新建工单: type, channel, customer and contact, title and description, the type's custom fields, and an
// optional unit to dispatch to at once. `?customer_id=` prefills the customer, phone and address.
import { useEffect, useMemo, useRef, useState } from 'react';
import { useNavigate, useSearchParams } from 'react-router-dom';
import { Alert, App, Button, Card, Col, Divider, Form, Input, Row, Select, Space, Spin, Typography } from 'antd';
import { ArrowLeftOutlined } from '@ant-design/icons';
import {
  api,
  newUuid,
  WO_CHANNELS,
  WO_PRIORITIES,
  type CustomerDetail,
  type CustomerSummary,
  type NewWorkOrder,
  type WoChannel,
  type WoPriority,
} from '../api';
import { useI18n } from '../i18n';
import { applyProblemToForm, PageSpin } from '../components/common';
import {
  channelLabel,
  CustomFieldItems,
  dispatchUnits,
  localized,
  priorityLabel,
  useUnits,
  useWorkOrderTypes,
} from '../components/workorders';

interface FormValues {
  type_id?: string;
  channel: WoChannel;
  customer_id?: string;
  contact_name?: string;
  contact_phone?: string;
  address?: string;
  title?: string;
  description?: string;
  fields?: Record<string, unknown>;
  priority?: WoPriority;
  unit_id?: string;
}

const TOP_FIELDS = ['type_id', 'channel', 'customer_id', 'contact_name', 'contact_phone', 'address', 'title', 'description', 'fields', 'priority', 'unit_id'];

function cleanFields(v: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v ?? {})) {
    if (x === undefined || x === null) continue;
    if (typeof x === 'string' && x.trim() === '') continue;
    if (Array.isArray(x) && x.length === 0) continue;
    out[k] = typeof x === 'string' ? x.trim() : x;
  }
  return out;
}

export default function WorkOrderNewPage() {
  const { t, lang } = useI18n();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const customerId = params.get('customer_id') ?? undefined;
  const [form] = Form.useForm<FormValues>();
  const { types, loading: typesLoading, error: typesError } = useWorkOrderTypes();
  const units = dispatchUnits(useUnits());
  const [customer, setCustomer] = useState<CustomerDetail | null>(null);
  const [customerOptions, setCustomerOptions] = useState<{ value: string; label: string }[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // One key per form: a retried submission (timeout, lost answer) returns the order already made.
  const idemKey = useRef(newUuid());
  const titleTouched = useRef(false);
  const searchTimer = useRef<number | undefined>(undefined);

  const typeId = Form.useWatch('type_id', form);
  const active = useMemo(() => types.filter((ty) => ty.active), [types]);
  const type = types.find((ty) => ty.id === typeId);

  // The first active type is the default choice.
  useEffect(() => {
    if (!form.getFieldValue('type_id') && active.length) {
      form.setFieldValue('type_id', active[0].id);
      suggestTitle();
      prefillAddressFields();
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [active, form]);

  // Prefill from the customer.
  useEffect(() => {
    if (!customerId) return;
    let alive = true;
    api
      .customer(customerId)
      .then((c) => {
        if (!alive) return;
        setCustomer(c);
        setCustomerOptions([{ value: c.id, label: `${c.customer_no} ${c.name}` }]);
        form.setFieldsValue({
          customer_id: c.id,
          contact_name: c.name,
          contact_phone: c.phones[0] ?? '',
          address: c.address,
        });
        prefillAddressFields();
      })
      .catch(() => undefined);
    return () => {
      alive = false;
    };
  }, [customerId, form]);

  // A suggested title: the type's name and the first chosen option, until the agent types one.
  const suggestTitle = () => {
    const type = types.find((ty) => ty.id === form.getFieldValue('type_id'));
    if (titleTouched.current || !type) return;
    const fields = (form.getFieldValue('fields') ?? {}) as Record<string, unknown>;
    const choice = type.fields.find((f) => f.kind === 'choice' && fields[f.key]);
    const opt = choice?.options?.find((o) => o.value === fields[choice.key]);
    const name = localized(lang, type.name, type.name_en);
    form.setFieldValue('title', opt ? `${name} - ${localized(lang, opt.label, opt.label_en)}` : name);
  };

  // The type's address fields (故障地点 …) start as the order's address; they follow it while unchanged.
  const lastAddress = useRef('');
  const prefillAddressFields = () => {
    const type = types.find((ty) => ty.id === form.getFieldValue('type_id'));
    const address = ((form.getFieldValue('address') as string | undefined) ?? '').trim();
    if (type && address) {
      const fields = { ...((form.getFieldValue('fields') ?? {}) as Record<string, unknown>) };
      let changed = false;
      for (const f of type.fields) {
        if (f.kind !== 'address') continue;
        const v = fields[f.key];
        if (v === undefined || v === null || v === '' || v === lastAddress.current) {
          fields[f.key] = address;
          changed = true;
        }
      }
      if (changed) form.setFieldValue('fields', fields);
    }
    lastAddress.current = address;
  };

  const searchCustomers = (q: string) => {
    window.clearTimeout(searchTimer.current);
    if (!q.trim()) return;
    searchTimer.current = window.setTimeout(async () => {
      try {
        const page = await api.customers({ q: q.trim(), per_page: 20 });
        setCustomerOptions(page.items.map((c: CustomerSummary) => ({ value: c.id, label: `${c.customer_no} ${c.name} ${c.address}` })));
      } catch {
        /* keep the old options */
      }
    }, 300);
  };

  const pickCustomer = async (id?: string) => {
    if (!id) {
      setCustomer(null);
      return;
    }
    try {
      const c = await api.customer(id);
      setCustomer(c);
      form.setFieldsValue({
        contact_name: form.getFieldValue('contact_name') || c.name,
        contact_phone: form.getFieldValue('contact_phone') || c.phones[0] || '',
        address: form.getFieldValue('address') || c.address,
      });
      prefillAddressFields();
    } catch {
      /* the server checks the id on submit */
    }
  };

  const submit = async () => {
    let v: FormValues;
    try {
      v = await form.validateFields();
    } catch {
      return;
    }
    const body: NewWorkOrder = {
      type_id: v.type_id!,
      channel: v.channel,
      title: (v.title ?? '').trim(),
      description: (v.description ?? '').trim(),
      fields: cleanFields(v.fields),
      ...(v.customer_id ? { customer_id: v.customer_id } : {}),
      ...(v.contact_name?.trim() ? { contact_name: v.contact_name.trim() } : {}),
      ...(v.contact_phone?.trim() ? { contact_phone: v.contact_phone.trim() } : {}),
      ...(v.address?.trim() ? { address: v.address.trim() } : {}),
      ...(v.priority ? { priority: v.priority } : {}),
      ...(v.unit_id ? { unit_id: v.unit_id } : {}),
    };
    setBusy(true);
    setError(null);
    try {
      const o = await api.createWorkOrder(body, idemKey.current);
      idemKey.current = newUuid();
      message.success(t('wo.created', { no: o.no }));
      navigate(`/work-orders/${o.id}`, { replace: true });
    } catch (e) {
      setError(applyProblemToForm(form, e, TOP_FIELDS));
    } finally {
      setBusy(false);
    }
  };

  if (typesLoading && !types.length) return <PageSpin />;
  const req = [{ required: true, whitespace: true, message: t('common.required') }];

  return (
    <Card
      data-testid="wo-new-page"
      title={
        <Space>
          <Button type="text" icon={<ArrowLeftOutlined />} onClick={() => navigate(-1)} aria-label={t('common.back')} />
          {t('wo.new')}
          {customer ? (
            <Typography.Text type="secondary" data-testid="wo-new-customer">
              {customer.customer_no} {customer.name}
            </Typography.Text>
          ) : null}
        </Space>
      }
    >
      {typesError ? <Alert type="error" showIcon message={typesError} style={{ marginBottom: 16 }} /> : null}
      {error ? (
        <Alert type="error" showIcon message={<span data-testid="wo-form-error">{error}</span>} style={{ marginBottom: 16 }} />
      ) : null}
      <Form<FormValues>
        form={form}
        layout="vertical"
        initialValues={{ channel: 'phone' }}
        data-testid="wo-form"
        onValuesChange={(changed) => {
          if ('type_id' in changed) {
            form.setFieldValue('fields', {});
            lastAddress.current = '';
            suggestTitle();
            prefillAddressFields();
          } else if ('fields' in changed) suggestTitle();
          if ('address' in changed) prefillAddressFields();
          if ('title' in changed) titleTouched.current = true;
        }}
        style={{ maxWidth: 1000 }}
      >
        <Row gutter={16}>
          <Col xs={24} md={8}>
            <Form.Item name="type_id" label={t('wo.type')} rules={[{ required: true, message: t('common.required') }]}>
              <Select
                data-testid="wf-type"
                options={active.map((ty) => ({ value: ty.id, label: localized(lang, ty.name, ty.name_en) }))}
              />
            </Form.Item>
          </Col>
          <Col xs={24} md={8}>
            <Form.Item name="channel" label={t('wo.channel')} rules={[{ required: true, message: t('common.required') }]}>
              <Select data-testid="wf-channel" options={WO_CHANNELS.map((c) => ({ value: c, label: channelLabel(t, c) }))} />
            </Form.Item>
          </Col>
          <Col xs={24} md={8}>
            <Form.Item name="priority" label={t('wo.priority')} extra={t('wo.priorityAuto')}>
              <Select
                allowClear
                placeholder={t('wo.priorityAutoPlaceholder')}
                data-testid="wf-priority"
                options={WO_PRIORITIES.map((p) => ({ value: p, label: priorityLabel(t, p) }))}
              />
            </Form.Item>
          </Col>
        </Row>
        <Row gutter={16}>
          <Col xs={24} md={8}>
            <Form.Item name="customer_id" label={t('wo.customer')}>
              <Select
                showSearch
                allowClear
                filterOption={false}
                onSearch={searchCustomers}
                onChange={(v?: string) => void pickCustomer(v)}
                options={customerOptions}
                placeholder={t('cust.searchPlaceholder')}
                notFoundContent={null}
                data-testid="wf-customer"
              />
            </Form.Item>
          </Col>
          <Col xs={24} md={8}>
            <Form.Item name="contact_name" label={t('wo.contactName')}>
              <Input maxLength={60} data-testid="wf-contact_name" />
            </Form.Item>
          </Col>
          <Col xs={24} md={8}>
            <Form.Item name="contact_phone" label={t('wo.contactPhone')}>
              <Input maxLength={32} data-testid="wf-contact_phone" />
            </Form.Item>
          </Col>
        </Row>
        <Form.Item name="address" label={t('wo.address')}>
          <Input maxLength={200} data-testid="wf-address" />
        </Form.Item>
        {type && type.fields.length ? (
          <>
            <Divider orientation="left" plain style={{ marginTop: 0 }}>
              {t('wo.customFields')}
            </Divider>
            <Row gutter={16} data-testid="wf-custom-fields">
              {type.fields.map((d) => (
                <Col xs={24} md={d.kind === 'text' || d.kind === 'address' || d.kind === 'attachment' ? 24 : 8} key={d.key}>
                  <CustomFieldItems defs={[d]} />
                </Col>
              ))}
            </Row>
            <Divider style={{ marginTop: 0 }} />
          </>
        ) : null}
        <Form.Item name="title" label={t('wo.title')} rules={req}>
          <Input maxLength={200} data-testid="wf-title" />
        </Form.Item>
        <Form.Item name="description" label={t('wo.description')} rules={req}>
          <Input.TextArea autoSize={{ minRows: 3, maxRows: 12 }} maxLength={4000} data-testid="wf-description" />
        </Form.Item>
        <Form.Item
          name="unit_id"
          label={t('wo.dispatchNow')}
          extra={
            type?.default_unit_id && units.some((u) => u.id === type.default_unit_id)
              ? `${t('wo.dispatchNowHint')}${t('wo.typeDefaultUnit', { unit: units.find((u) => u.id === type.default_unit_id)!.name })}`
              : t('wo.dispatchNowHint')
          }
        >
          <Select
            allowClear
            showSearch
            optionFilterProp="label"
            placeholder={t('wo.notDispatched')}
            data-testid="wf-unit"
            options={units.map((u) => ({ value: u.id, label: u.name }))}
          />
        </Form.Item>
        <Space>
          <Button type="primary" onClick={submit} loading={busy} data-testid="wo-form-submit">
            {t('wo.submitCreate')}
          </Button>
          <Button onClick={() => navigate(-1)}>{t('common.cancel')}</Button>
          {busy ? <Spin size="small" /> : null}
        </Space>
      </Form>
    </Card>
  );
}
