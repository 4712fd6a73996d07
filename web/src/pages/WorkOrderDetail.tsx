// 工单详情: facts, customer, SLA deadlines, custom fields, feedback, attachments, the timeline, and the actions
// the server allows now (each with its dialog), 修改 and 打印工单.
import { useCallback, useEffect, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import {
  Alert,
  App,
  Button,
  Card,
  Col,
  Descriptions,
  Empty,
  Form,
  Grid,
  Input,
  Modal,
  Rate,
  Result,
  Row,
  Select,
  Space,
  Tag,
  Timeline,
  Typography,
} from 'antd';
import { ArrowLeftOutlined, EditOutlined, PrinterOutlined, ReloadOutlined } from '@ant-design/icons';
import {
  api,
  ApiError,
  nameOf,
  woUrls,
  WO_PRIORITIES,
  type WoAction,
  type WoPriority,
  type WorkOrder,
  type WorkOrderType,
} from '../api';
import { useI18n, type TFunc } from '../i18n';
import { applyProblemToForm, PageSpin } from '../components/common';
import {
  ACTION_ORDER,
  ActionModal,
  actionLabel,
  AttachmentLink,
  channelLabel,
  CustomFieldItems,
  DeadlineTag,
  FieldValue,
  isConflict,
  isDangerAction,
  isPrimaryAction,
  localized,
  PriorityTag,
  priorityLabel,
  statusLabel,
  StatusTag,
  useUnits,
  useWorkOrderTypes,
} from '../components/workorders';
import { fmtTime } from './CustomerDetail';

export default function WorkOrderDetailPage() {
  const { id = '' } = useParams();
  const { t, lang } = useI18n();
  const navigate = useNavigate();
  const screens = Grid.useBreakpoint();
  const mobile = !screens.md;
  const [order, setOrder] = useState<WorkOrder | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<Error | null>(null);
  const [action, setAction] = useState<WoAction | null>(null);
  const [editOpen, setEditOpen] = useState(false);
  const { types } = useWorkOrderTypes();
  const units = useUnits();

  const load = useCallback(async () => {
    setLoading(true);
    try {
      setOrder(await api.workOrder(id));
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

  if (loading && !order) return <PageSpin />;
  if (error && !order) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 422)) {
      return (
        <Result
          status="404"
          title={<span data-testid="wo-not-found">{t('wo.notFound')}</span>}
          extra={<Button onClick={() => navigate('/work-orders')}>{t('common.back')}</Button>}
        />
      );
    }
    if (error instanceof ApiError && error.status === 403) return null;
    return <Alert type="error" showIcon message={error.message} />;
  }
  if (!order) return null;

  const o = order;
  const type = types.find((ty) => ty.id === o.type_id);
  const actions = ACTION_ORDER.filter((a) => o.allowed_actions.includes(a));
  const canEdit = o.allowed_actions.includes('update');
  const fieldKeys = [...new Set([...(type?.fields.map((f) => f.key) ?? []), ...Object.keys(o.fields ?? {})])];
  const attachmentById = (aid: string) => o.attachments.find((a) => a.id === aid);
  const sla = o.sla;
  const status = o.status;
  const accepted = !['new', 'dispatched'].includes(status);
  const fedBack = !!o.feedback || ['closed', 'callback_done', 'archived'].includes(status);
  const resolved = ['closed', 'callback_done', 'archived', 'cancelled', 'merged'].includes(status);
  const originKind = o.origin?.kind ?? o.origin_kind;
  const originRef = o.origin?.ref ?? o.origin_ref;

  return (
    <Space direction="vertical" size={16} style={{ width: '100%' }} data-testid="wo-detail" data-status={o.status} data-version={o.version}>
      <Card
        title={
          <Space wrap>
            <Button type="text" icon={<ArrowLeftOutlined />} onClick={() => navigate(-1)} aria-label={t('common.back')} />
            <span data-testid="wo-no">{o.no}</span>
            <StatusTag status={o.status} />
            <PriorityTag priority={o.priority} />
            {o.overdue ? (
              <Tag color="red" data-testid="wo-overdue">
                {t('wo.overdue')}
              </Tag>
            ) : null}
            {o.breached ? (
              <Tag color="volcano" data-testid="wo-breached">
                {t('wo.breached')}
              </Tag>
            ) : null}
            {o.urge_count > 0 ? (
              <Tag color="orange" data-testid="wo-urge-count">
                {t('wo.urgeCount', { n: o.urge_count })}
              </Tag>
            ) : null}
          </Space>
        }
        extra={
          mobile ? null : (
            <Space>
              <Button icon={<ReloadOutlined />} onClick={() => void load()} aria-label={t('wo.refresh')} data-testid="wo-refresh" />
              <Button icon={<PrinterOutlined />} href={woUrls.pdf(o.id, lang)} target="_blank" data-testid="wo-print">
                {t('wo.print')}
              </Button>
            </Space>
          )
        }
      >
        <Space wrap style={{ marginBottom: 16 }} data-testid="wo-actions">
          {actions.map((a) => (
            <Button
              key={a}
              type={isPrimaryAction(a) ? 'primary' : 'default'}
              danger={isDangerAction(a)}
              size={mobile ? 'large' : 'middle'}
              onClick={() => setAction(a)}
              data-testid={`wo-action-${a}`}
            >
              {actionLabel(t, a)}
            </Button>
          ))}
          {canEdit ? (
            <Button icon={<EditOutlined />} size={mobile ? 'large' : 'middle'} onClick={() => setEditOpen(true)} data-testid="wo-action-update">
              {actionLabel(t, 'update')}
            </Button>
          ) : null}
          {mobile ? (
            <Button icon={<PrinterOutlined />} size="large" href={woUrls.pdf(o.id, lang)} target="_blank" data-testid="wo-print">
              {t('wo.print')}
            </Button>
          ) : null}
        </Space>
        <Descriptions bordered size="small" column={{ xs: 1, sm: 1, md: 2, lg: 3 }} data-testid="wo-facts">
          <Descriptions.Item label={t('wo.type')}>
            <span data-testid="wo-type">{type ? localized(lang, type.name, type.name_en) : o.type_name}</span>
          </Descriptions.Item>
          <Descriptions.Item label={t('wo.channel')}>
            {channelLabel(t, o.channel)}
            {originKind ? (
              <Typography.Text type="secondary">
                {' '}
                ({originKind}
                {originRef ? `: ${originRef}` : ''})
              </Typography.Text>
            ) : null}
          </Descriptions.Item>
          <Descriptions.Item label={t('wo.createdBy')}>{o.created_by_name ?? ''}</Descriptions.Item>
          <Descriptions.Item label={t('wo.title')} span={3}>
            <span data-testid="wo-title">{o.title}</span>
          </Descriptions.Item>
          <Descriptions.Item label={t('wo.description')} span={3}>
            <span className="kefu-pre" data-testid="wo-description">
              {o.description}
            </span>
          </Descriptions.Item>
          <Descriptions.Item label={t('wo.customer')}>
            {o.customer ? (
              <Link to={`/customers/${o.customer.id}`} data-testid="wo-customer">
                {o.customer.name} ({o.customer.customer_no})
              </Link>
            ) : (
              <span data-testid="wo-customer" />
            )}
          </Descriptions.Item>
          <Descriptions.Item label={t('wo.contactName')}>
            <span data-testid="wo-contact-name">{o.contact_name ?? ''}</span>
          </Descriptions.Item>
          <Descriptions.Item label={t('wo.contactPhone')}>
            {o.contact_phone ? (
              <a href={`tel:${o.contact_phone}`} data-testid="wo-contact-phone">
                {o.contact_phone}
              </a>
            ) : null}
          </Descriptions.Item>
          <Descriptions.Item label={t('wo.address')} span={3}>
            <span data-testid="wo-address">{o.address ?? o.customer?.address ?? ''}</span>
          </Descriptions.Item>
          <Descriptions.Item label={t('wo.unit')}>
            <span data-testid="wo-unit">{nameOf(o.unit)}</span>
          </Descriptions.Item>
          <Descriptions.Item label={t('wo.assignee')}>
            <span data-testid="wo-assignee">{nameOf(o.assignee)}</span>
          </Descriptions.Item>
          <Descriptions.Item label={t('wo.createdAt')}>{fmtTime(o.created_at)}</Descriptions.Item>
          <Descriptions.Item label={t('wo.updatedAt')}>{fmtTime(o.updated_at)}</Descriptions.Item>
          <Descriptions.Item label={t('wo.closedAt')}>{fmtTime(o.closed_at)}</Descriptions.Item>
          <Descriptions.Item label={t('wo.satisfaction')}>
            {o.satisfaction ? <Rate disabled value={o.satisfaction} data-testid="wo-satisfaction" /> : null}
          </Descriptions.Item>
          <Descriptions.Item label={t('wo.urges')}>
            <span data-testid="wo-urges">{o.urge_count}</span>
          </Descriptions.Item>
          <Descriptions.Item label={t('wo.customerQueries')}>{o.customer_query_count ?? 0}</Descriptions.Item>
          {o.merged_into ? (
            <Descriptions.Item label={t('wo.mergedInto')}>
              <Link to={`/work-orders/${o.merged_into}`}>{t('wo.openMerged')}</Link>
            </Descriptions.Item>
          ) : null}
        </Descriptions>
      </Card>

      <Row gutter={[16, 16]}>
        <Col xs={24} lg={12}>
          <Card title={t('wo.sla')} size="small" data-testid="wo-sla" style={{ height: '100%' }}>
            <Descriptions size="small" column={1}>
              <Descriptions.Item label={t('wo.sla.accept')}>
                <DeadlineTag at={sla?.accept_due_at} paused={sla?.paused} met={accepted || resolved} testId="wo-sla-accept" />
              </Descriptions.Item>
              <Descriptions.Item label={t('wo.sla.feedback')}>
                <DeadlineTag at={sla?.feedback_due_at} paused={sla?.paused} met={fedBack || resolved} testId="wo-sla-feedback" />
              </Descriptions.Item>
              <Descriptions.Item label={t('wo.sla.resolve')}>
                <DeadlineTag at={sla?.resolve_due_at} paused={sla?.paused} met={resolved} testId="wo-sla-resolve" />
              </Descriptions.Item>
              {sla?.paused ? (
                <Descriptions.Item label={t('common.status')}>
                  <Tag data-testid="wo-sla-paused">{t('wo.slaPaused')}</Tag>
                </Descriptions.Item>
              ) : null}
            </Descriptions>
          </Card>
        </Col>
        <Col xs={24} lg={12}>
          <Card title={t('wo.customFields')} size="small" data-testid="wo-fields" style={{ height: '100%' }}>
            {fieldKeys.length === 0 ? (
              <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} />
            ) : (
              <Descriptions size="small" column={1}>
                {fieldKeys.map((k) => {
                  const def = type?.fields.find((f) => f.key === k);
                  return (
                    <Descriptions.Item key={k} label={def ? localized(lang, def.label, def.label_en) : k}>
                      <span data-testid={`wo-field-${k}`}>
                        <FieldValue def={def} value={o.fields?.[k]} attachments={o.attachments} />
                      </span>
                    </Descriptions.Item>
                  );
                })}
              </Descriptions>
            )}
          </Card>
        </Col>
      </Row>

      {o.feedback ? (
        <Card title={t('wo.feedback')} size="small" data-testid="wo-feedback">
          <Descriptions size="small" column={1} bordered>
            <Descriptions.Item label={t('wo.fb.result')}>
              <span className="kefu-pre" data-testid="wo-feedback-result">
                {o.feedback.result}
              </span>
            </Descriptions.Item>
            <Descriptions.Item label={t('wo.fb.cause')}>
              <span className="kefu-pre" data-testid="wo-feedback-cause">
                {o.feedback.cause ?? ''}
              </span>
            </Descriptions.Item>
            <Descriptions.Item label={t('wo.fb.materials')}>
              <span className="kefu-pre" data-testid="wo-feedback-materials">
                {o.feedback.materials ?? ''}
              </span>
            </Descriptions.Item>
            <Descriptions.Item label={t('wo.fb.photos')}>
              <Space direction="vertical" size={4} data-testid="wo-feedback-attachments">
                {o.feedback.attachments.map((aid) => {
                  const a = attachmentById(aid);
                  return <AttachmentLink key={aid} id={aid} filename={a?.filename} size={a?.size} />;
                })}
              </Space>
            </Descriptions.Item>
            <Descriptions.Item label={t('wo.fb.by')}>
              {o.feedback.submitted_by} · {fmtTime(o.feedback.submitted_at)}
            </Descriptions.Item>
          </Descriptions>
        </Card>
      ) : null}

      {o.attachments.length ? (
        <Card title={t('wo.attachments')} size="small" data-testid="wo-attachments">
          <Space direction="vertical" size={4}>
            {o.attachments.map((a) => (
              <AttachmentLink key={a.id} id={a.id} filename={a.filename} size={a.size} />
            ))}
          </Space>
        </Card>
      ) : null}

      <Card title={t('wo.timeline')} size="small" data-testid="wo-timeline">
        <Timeline
          items={o.timeline.map((e) => ({
            key: e.id,
            color: e.action === 'urge' || e.action === 'escalate' ? 'red' : e.action === 'remind' ? 'orange' : e.action === 'comment' ? 'gray' : 'blue',
            children: (
              <div data-testid="wo-timeline-entry" data-action={e.action}>
                <Space wrap size={6}>
                  <Typography.Text strong>{actionLabel(t, e.action)}</Typography.Text>
                  <Typography.Text type="secondary">{actorName(t, e.actor_name)}</Typography.Text>
                  <Typography.Text type="secondary">{fmtTime(e.at)}</Typography.Text>
                  {e.from_status && e.from_status !== e.to_status ? (
                    <Typography.Text type="secondary">
                      {statusLabel(t, e.from_status)} → {statusLabel(t, e.to_status)}
                    </Typography.Text>
                  ) : null}
                  {units.some((u) => u.id === unitOfEntry(e.data)) ? (
                    <Tag data-testid="wo-timeline-unit">{units.find((u) => u.id === unitOfEntry(e.data))!.name}</Tag>
                  ) : null}
                  {byCustomer(e.data) ? <Tag color="orange">{t('wo.byCustomer')}</Tag> : null}
                </Space>
                {e.note ? (
                  <div className="kefu-pre" data-testid="wo-timeline-note">
                    {e.note}
                  </div>
                ) : null}
              </div>
            ),
          }))}
        />
      </Card>

      <ActionModal
        order={action ? o : null}
        action={action}
        mobile={mobile}
        defaultUnitId={type?.default_unit_id}
        onClose={() => setAction(null)}
        onDone={(next) => {
          setAction(null);
          setOrder(next);
        }}
        onStale={() => {
          setAction(null);
          void load();
        }}
      />
      <EditOrderModal
        open={editOpen}
        order={o}
        type={type}
        onClose={() => setEditOpen(false)}
        onSaved={(next) => {
          setEditOpen(false);
          setOrder(next);
        }}
        onStale={() => {
          setEditOpen(false);
          void load();
        }}
      />
    </Space>
  );
}

/** kefu's own steps (`system:sla`, `system:ivr` …) read as 系统 (SLA). */
function actorName(t: TFunc, name: string): string {
  const m = /^system(?::(.+))?$/.exec(name);
  if (!m) return name;
  return m[1] ? `${t('wo.system')} (${m[1].toUpperCase()})` : t('wo.system');
}

/** The unit a dispatch or reassignment sent the order to (the timeline entry's `data.unit_id`). */
function unitOfEntry(data: unknown): string | undefined {
  const u = (data as { unit_id?: unknown } | null | undefined)?.unit_id;
  return typeof u === 'string' ? u : undefined;
}

function byCustomer(data: unknown): boolean {
  return (data as { by_customer?: unknown } | null | undefined)?.by_customer === true;
}

interface EditValues {
  title: string;
  description: string;
  priority: WoPriority;
  contact_name?: string;
  contact_phone?: string;
  address?: string;
  fields?: Record<string, unknown>;
}

function EditOrderModal({
  open,
  order,
  type,
  onClose,
  onSaved,
  onStale,
}: {
  open: boolean;
  order: WorkOrder;
  type?: WorkOrderType;
  onClose: () => void;
  onSaved: (o: WorkOrder) => void;
  onStale: () => void;
}) {
  const { t } = useI18n();
  const { message } = App.useApp();
  const [form] = Form.useForm<EditValues>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (open) {
      form.resetFields();
      form.setFieldsValue({
        title: order.title,
        description: order.description,
        priority: order.priority,
        contact_name: order.contact_name ?? '',
        contact_phone: order.contact_phone ?? '',
        address: order.address ?? '',
        fields: (order.fields ?? {}) as Record<string, string>,
      });
      setError(null);
    }
  }, [open, order, form]);

  const submit = async () => {
    let v: EditValues;
    try {
      v = await form.validateFields();
    } catch {
      return;
    }
    const opt = (s?: string) => (s && s.trim() ? s.trim() : null);
    const fields: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v.fields ?? {})) {
      if (x === undefined || x === null || (typeof x === 'string' && !x.trim()) || (Array.isArray(x) && !x.length)) continue;
      fields[k] = x;
    }
    setBusy(true);
    setError(null);
    try {
      const o = await api.updateWorkOrder(order.id, {
        version: order.version,
        title: v.title.trim(),
        description: v.description.trim(),
        priority: v.priority,
        contact_name: opt(v.contact_name),
        contact_phone: opt(v.contact_phone),
        address: opt(v.address),
        fields,
      });
      message.success(t('common.saved'));
      onSaved(o);
    } catch (e) {
      if (isConflict(e)) {
        message.warning(t('wo.stale'));
        onStale();
        return;
      }
      setError(applyProblemToForm(form, e, ['title', 'description', 'priority', 'contact_name', 'contact_phone', 'address', 'fields']));
    } finally {
      setBusy(false);
    }
  };

  const req = [{ required: true, whitespace: true, message: t('common.required') }];
  return (
    <Modal
      open={open}
      title={`${actionLabel(t, 'update')} · ${order.no}`}
      width={720}
      onCancel={onClose}
      onOk={submit}
      okText={t('common.save')}
      cancelText={t('common.cancel')}
      confirmLoading={busy}
      forceRender
      okButtonProps={{ 'data-testid': 'wo-edit-submit' }}
    >
      {error ? <Alert type="error" showIcon message={<span data-testid="wo-edit-error">{error}</span>} style={{ marginBottom: 16 }} /> : null}
      <Form form={form} layout="vertical" data-testid="wo-edit-form">
        <Form.Item name="title" label={t('wo.title')} rules={req}>
          <Input maxLength={200} data-testid="we-title" />
        </Form.Item>
        <Form.Item name="description" label={t('wo.description')} rules={req}>
          <Input.TextArea autoSize={{ minRows: 3, maxRows: 10 }} maxLength={4000} data-testid="we-description" />
        </Form.Item>
        <Row gutter={16}>
          <Col span={8}>
            <Form.Item name="priority" label={t('wo.priority')} rules={[{ required: true, message: t('common.required') }]}>
              <Select data-testid="we-priority" options={WO_PRIORITIES.map((p) => ({ value: p, label: priorityLabel(t, p) }))} />
            </Form.Item>
          </Col>
          <Col span={8}>
            <Form.Item name="contact_name" label={t('wo.contactName')}>
              <Input maxLength={60} data-testid="we-contact_name" />
            </Form.Item>
          </Col>
          <Col span={8}>
            <Form.Item name="contact_phone" label={t('wo.contactPhone')}>
              <Input maxLength={32} data-testid="we-contact_phone" />
            </Form.Item>
          </Col>
        </Row>
        <Form.Item name="address" label={t('wo.address')}>
          <Input maxLength={200} data-testid="we-address" />
        </Form.Item>
        {type?.fields.length ? <CustomFieldItems defs={type.fields} /> : null}
      </Form>
    </Modal>
  );
}
