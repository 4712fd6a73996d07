// 服务记录: the record of the current call — its category (a work-order type), notes — turned with one
// button into a work order prefilled with the customer and the call (POST /work-orders, as the new
// order form does), or added as a note to an open order of the same customer.
import { useEffect, useMemo, useRef, useState } from 'react';
import { Alert, App, Button, Card, Divider, Form, Input, Select, Space, Typography } from 'antd';
import { FileAddOutlined, MessageOutlined, PrinterOutlined } from '@ant-design/icons';
import { api, newUuid, woUrls, type CustomerDetail, type NewWorkOrder, type WorkOrder, type WorkOrderSummary, type WoStatus } from '../api';
import { useAuth } from '../auth';
import { useI18n } from '../i18n';
import { applyProblemToForm } from '../components/common';
import { CustomFieldItems, localized, statusLabel, useWorkOrderTypes } from '../components/workorders';

const CLOSED: WoStatus[] = ['closed', 'callback_done', 'archived', 'cancelled', 'merged'];
const TOP_FIELDS = ['type_id', 'title', 'description', 'fields', 'contact_phone', 'customer_id', 'origin'];

/** A number the work-order API takes as a contact phone (the canonical mobile or landline form). */
function isPhone(s: string | undefined | null): s is string {
  return !!s && /^(1\d{10}|0\d{9,11})$/.test(s);
}

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

interface Values {
  type_id?: string;
  title?: string;
  description?: string;
  fields?: Record<string, unknown>;
}

export interface CallRef {
  callId: string;
  caller: string;
}

export function ServiceRecord({
  call,
  customer,
  onSaved,
}: {
  call: CallRef | null;
  customer: CustomerDetail | null;
  onSaved: () => void;
}) {
  const { t, lang } = useI18n();
  const { can } = useAuth();
  const { message } = App.useApp();
  const [form] = Form.useForm<Values>();
  const { types } = useWorkOrderTypes();
  const active = useMemo(() => types.filter((ty) => ty.active), [types]);
  const typeId = Form.useWatch('type_id', form);
  const type = types.find((ty) => ty.id === typeId);
  const [busy, setBusy] = useState<'create' | 'note' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<WorkOrder | null>(null);
  const [openOrders, setOpenOrders] = useState<WorkOrderSummary[]>([]);
  const [target, setTarget] = useState<string | undefined>(undefined);
  const idemKey = useRef(newUuid());
  const titleTouched = useRef(false);

  // A new call is a new record.
  useEffect(() => {
    idemKey.current = newUuid();
    titleTouched.current = false;
    setCreated(null);
    setError(null);
    form.setFieldsValue({ description: '', fields: {} });
    suggestTitle();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [call?.callId]);

  useEffect(() => {
    if (!form.getFieldValue('type_id') && active.length) {
      form.setFieldValue('type_id', active[0].id);
      suggestTitle();
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [active]);

  // The customer's open orders (to add a note to one of them).
  useEffect(() => {
    setTarget(undefined);
    if (!customer || !can('work_orders.read')) {
      setOpenOrders([]);
      return;
    }
    let alive = true;
    api
      .workOrders({ customer_id: customer.id, per_page: 50 })
      .then((p) => alive && setOpenOrders(p.items.filter((o) => !CLOSED.includes(o.status))))
      .catch(() => alive && setOpenOrders([]));
    return () => {
      alive = false;
    };
  }, [customer, can, created]);

  const suggestTitle = () => {
    if (titleTouched.current) return;
    const ty = types.find((x) => x.id === form.getFieldValue('type_id'));
    if (!ty) return;
    const name = localized(lang, ty.name, ty.name_en);
    form.setFieldValue('title', customer ? `${name} - ${customer.name}` : name);
  };
  useEffect(() => {
    suggestTitle();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [customer?.id, types]);

  const createOrder = async () => {
    let v: Values;
    try {
      v = await form.validateFields();
    } catch {
      return;
    }
    const contactPhone = isPhone(call?.caller) ? call!.caller : customer?.phones[0];
    const description = (v.description ?? '').trim();
    const body: NewWorkOrder = {
      type_id: v.type_id!,
      channel: 'phone',
      title: (v.title ?? '').trim(),
      description: call && !isPhone(call.caller) ? `${description}\n${t('desk.sr.callerLine', { caller: call.caller })}` : description,
      fields: cleanFields(v.fields),
      ...(call ? { origin: { kind: 'call', ref: call.callId } } : {}),
      ...(customer ? { customer_id: customer.id, contact_name: customer.name, address: customer.address } : {}),
      ...(contactPhone ? { contact_phone: contactPhone } : {}),
    };
    setBusy('create');
    setError(null);
    try {
      const o = await api.createWorkOrder(body, idemKey.current);
      idemKey.current = newUuid();
      setCreated(o);
      message.success(t('wo.created', { no: o.no }));
      onSaved();
    } catch (e) {
      setError(applyProblemToForm(form, e, TOP_FIELDS));
    } finally {
      setBusy(null);
    }
  };

  const addNote = async () => {
    const note = ((form.getFieldValue('description') as string | undefined) ?? '').trim();
    if (!target) return;
    if (!note) {
      form.setFields([{ name: 'description', errors: [t('common.required')] }]);
      return;
    }
    setBusy('note');
    setError(null);
    try {
      const o = await api.workOrder(target);
      const prefix = call ? `${t('desk.sr.callerLine', { caller: call.caller })}\n` : '';
      await api.actOnWorkOrder(target, { action: 'comment', version: o.version, note: `${prefix}${note}` });
      message.success(t('desk.sr.noted', { no: o.no }));
      form.setFieldValue('description', '');
      onSaved();
    } catch (e) {
      setError(applyProblemToForm(form, e, []));
    } finally {
      setBusy(null);
    }
  };

  return (
    <Card
      size="small"
      title={t('desk.sr.title')}
      data-testid="service-record"
      data-call-id={call?.callId ?? ''}
      extra={
        call ? (
          <Typography.Text type="secondary" data-testid="sr-call">
            {t('desk.sr.forCall', { caller: call.caller })}
          </Typography.Text>
        ) : null
      }
    >
      {error ? <Alert type="error" showIcon message={<span data-testid="sr-error">{error}</span>} style={{ marginBottom: 12 }} /> : null}
      {created ? (
        <Alert
          type="success"
          showIcon
          style={{ marginBottom: 12 }}
          data-testid="sr-created"
          message={
            <Space wrap>
              {t('desk.sr.created')}
              <Typography.Link href={`/work-orders/${encodeURIComponent(created.id)}`} target="_blank" data-testid="sr-created-order">
                {created.no}
              </Typography.Link>
              <Button size="small" icon={<PrinterOutlined />} href={woUrls.pdf(created.id, lang)} target="_blank" data-testid="sr-print">
                {t('wo.print')}
              </Button>
            </Space>
          }
        />
      ) : null}
      <Form<Values>
        form={form}
        layout="vertical"
        size="small"
        data-testid="sr-form"
        onValuesChange={(changed) => {
          if ('type_id' in changed) {
            form.setFieldValue('fields', {});
            suggestTitle();
          }
          if ('title' in changed) titleTouched.current = true;
        }}
      >
        <Form.Item name="type_id" label={t('desk.sr.category')} rules={[{ required: true, message: t('common.required') }]}>
          <Select data-testid="sr-type" options={active.map((ty) => ({ value: ty.id, label: localized(lang, ty.name, ty.name_en) }))} />
        </Form.Item>
        {type && type.fields.length ? <CustomFieldItems defs={type.fields} /> : null}
        <Form.Item name="title" label={t('wo.title')} rules={[{ required: true, whitespace: true, message: t('common.required') }]}>
          <Input maxLength={200} data-testid="sr-title" />
        </Form.Item>
        <Form.Item name="description" label={t('desk.sr.notes')} rules={[{ required: true, whitespace: true, message: t('common.required') }]}>
          <Input.TextArea autoSize={{ minRows: 3, maxRows: 10 }} maxLength={4000} data-testid="sr-notes" />
        </Form.Item>
        <Button
          type="primary"
          icon={<FileAddOutlined />}
          onClick={() => void createOrder()}
          loading={busy === 'create'}
          disabled={!can('work_orders.create')}
          data-testid="sr-create-wo"
          block
        >
          {t('desk.sr.createOrder')}
        </Button>
      </Form>
      {customer ? (
        <>
          <Divider plain style={{ margin: '12px 0 8px' }}>
            {t('desk.sr.orAddNote')}
          </Divider>
          <Space.Compact style={{ width: '100%' }}>
            <Select
              size="small"
              style={{ flex: 1, minWidth: 0 }}
              value={target}
              onChange={setTarget}
              placeholder={openOrders.length ? t('desk.sr.pickOrder') : t('desk.sr.noOpenOrders')}
              disabled={!openOrders.length}
              data-testid="sr-existing-order"
              options={openOrders.map((o) => ({ value: o.id, label: `${o.no} · ${statusLabel(t, o.status)} · ${o.title}` }))}
            />
            <Button
              size="small"
              icon={<MessageOutlined />}
              disabled={!target || !can('work_orders.act')}
              loading={busy === 'note'}
              onClick={() => void addNote()}
              data-testid="sr-add-note"
            >
              {t('desk.sr.addNote')}
            </Button>
          </Space.Compact>
        </>
      ) : null}
    </Card>
  );
}
