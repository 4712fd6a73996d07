// 工单类型 (type designer): the list of work-order types and an editor for one: names, custom fields (kind,
// required, options), priority rules, default and fallback units, calendar, SLA minutes per priority,
// reminders and escalation, callback required, active.
import { useEffect, useState } from 'react';
import {
  Alert,
  App,
  Button,
  Card,
  Col,
  Divider,
  Drawer,
  Form,
  Input,
  InputNumber,
  Row,
  Select,
  Space,
  Switch,
  Table,
  Tag,
  Typography,
} from 'antd';
import { ArrowDownOutlined, ArrowUpOutlined, DeleteOutlined, EditOutlined, PlusOutlined } from '@ant-design/icons';
import {
  api,
  FIELD_KINDS,
  WO_PRIORITIES,
  type BusinessCalendar,
  type FieldDef,
  type PriorityRule,
  type WoPriority,
  type WorkOrderType,
  type WorkOrderTypeInput,
} from '../api';
import { useI18n, type MessageKey } from '../i18n';
import { applyProblemToForm } from '../components/common';
import { isConflict, localized, priorityLabel, useUnits, useWorkOrderTypes } from '../components/workorders';

type Targets = { accept_mins?: number | null; first_feedback_mins?: number | null; resolve_mins?: number | null };

interface SlaForm {
  targets: Record<WoPriority, Targets>;
  emergency_always_open: boolean;
  remind_at_percent: (string | number)[];
  escalate_on_breach: boolean;
  reassign_unaccepted_after_mins?: number | null;
}

interface TypeForm {
  code: string;
  name: string;
  name_en?: string;
  description?: string;
  active: boolean;
  callback_required: boolean;
  sort: number;
  default_priority: WoPriority;
  default_unit_id?: string | null;
  fallback_unit_id?: string | null;
  calendar_id?: string;
  fields: (FieldDef & { options?: { value: string; label: string; label_en?: string | null }[] })[];
  priority_rules: PriorityRule[];
  sla: SlaForm;
}

const TARGETS: { key: keyof Targets; label: MessageKey }[] = [
  { key: 'accept_mins', label: 'wo.sla.accept' },
  { key: 'first_feedback_mins', label: 'wo.sla.feedback' },
  { key: 'resolve_mins', label: 'wo.sla.resolve' },
];

function slaToForm(sla: Record<string, unknown> | undefined): SlaForm {
  const s = (sla ?? {}) as Partial<{
    targets: Partial<Record<WoPriority, Targets>>;
    emergency_always_open: boolean;
    remind_at_percent: number[];
    escalate_on_breach: boolean;
    reassign_unaccepted_after_mins: number | null;
  }>;
  const targets = {} as Record<WoPriority, Targets>;
  for (const p of WO_PRIORITIES) targets[p] = { ...(s.targets?.[p] ?? {}) };
  return {
    targets,
    emergency_always_open: s.emergency_always_open ?? true,
    remind_at_percent: s.remind_at_percent ?? [],
    escalate_on_breach: s.escalate_on_breach ?? false,
    reassign_unaccepted_after_mins: s.reassign_unaccepted_after_mins ?? null,
  };
}

function slaFromForm(f: SlaForm): Record<string, unknown> {
  const targets: Record<string, Targets> = {};
  for (const p of WO_PRIORITIES) {
    const t: Targets = {};
    for (const { key } of TARGETS) {
      const v = f.targets?.[p]?.[key];
      if (v !== undefined && v !== null && String(v) !== '') t[key] = Number(v);
    }
    targets[p] = t;
  }
  const percents = (f.remind_at_percent ?? [])
    .map((x) => Number(x))
    .filter((x) => Number.isFinite(x))
    .sort((a, b) => a - b);
  return {
    targets,
    emergency_always_open: !!f.emergency_always_open,
    remind_at_percent: [...new Set(percents)],
    escalate_on_breach: !!f.escalate_on_breach,
    reassign_unaccepted_after_mins:
      f.reassign_unaccepted_after_mins === undefined || f.reassign_unaccepted_after_mins === null ? null : Number(f.reassign_unaccepted_after_mins),
  };
}

function typeToForm(ty: WorkOrderType): TypeForm {
  return {
    code: ty.code,
    name: ty.name,
    name_en: ty.name_en ?? '',
    description: ty.description ?? '',
    active: ty.active,
    callback_required: ty.callback_required,
    sort: ty.sort ?? 0,
    default_priority: ty.default_priority,
    default_unit_id: ty.default_unit_id ?? undefined,
    fallback_unit_id: ty.fallback_unit_id ?? undefined,
    calendar_id: ty.calendar_id,
    fields: ty.fields.map((f) => ({ ...f, label_en: f.label_en ?? '', options: f.options ?? [] })),
    priority_rules: ty.priority_rules ?? [],
    sla: slaToForm(ty.sla),
  };
}

const blank = (s?: string | null) => (s && s.trim() ? s.trim() : null);

function formToInput(v: TypeForm): WorkOrderTypeInput {
  return {
    code: v.code.trim(),
    name: v.name.trim(),
    name_en: blank(v.name_en),
    description: blank(v.description),
    active: !!v.active,
    callback_required: !!v.callback_required,
    sort: Number(v.sort ?? 0),
    default_priority: v.default_priority,
    default_unit_id: v.default_unit_id || null,
    fallback_unit_id: v.fallback_unit_id || null,
    calendar_id: v.calendar_id!,
    fields: (v.fields ?? []).map((f) => {
      const out: FieldDef = { key: f.key.trim(), label: f.label.trim(), kind: f.kind, required: !!f.required };
      const en = blank(f.label_en);
      if (en) out.label_en = en;
      if (f.kind === 'choice')
        out.options = (f.options ?? []).map((o) => {
          const oen = blank(o.label_en);
          return { value: o.value.trim(), label: o.label.trim(), ...(oen ? { label_en: oen } : {}) };
        });
      return out;
    }),
    priority_rules: (v.priority_rules ?? []).filter((r) => r && r.field && r.equals && r.priority),
    sla: slaFromForm(v.sla),
  };
}

export default function AdminWorkOrderTypesPage() {
  const { t, lang } = useI18n();
  const { types, loading, error, reload } = useWorkOrderTypes();
  const units = useUnits();
  const [editing, setEditing] = useState<WorkOrderType | 'new' | null>(null);

  const unitName = (id?: string | null) => units.find((u) => u.id === id)?.name ?? '';

  return (
    <Card
      title={t('woType.title')}
      data-testid="wo-types-page"
      extra={
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')} data-testid="type-new">
          {t('woType.new')}
        </Button>
      }
    >
      {error ? <Alert type="error" showIcon message={error} style={{ marginBottom: 16 }} /> : null}
      <Table<WorkOrderType>
        rowKey="id"
        size="middle"
        loading={loading}
        dataSource={types}
        pagination={false}
        data-testid="types-table"
        onRow={(r) => ({ 'data-testid': 'type-row', 'data-name': r.name }) as React.HTMLAttributes<HTMLElement>}
        columns={[
          { title: t('woType.sort'), dataIndex: 'sort', key: 'sort', width: 70 },
          { title: t('woType.code'), dataIndex: 'code', key: 'code', width: 140 },
          {
            title: t('woType.name'),
            key: 'name',
            render: (_: unknown, r) => <span data-testid="type-name">{localized(lang, r.name, r.name_en)}</span>,
          },
          {
            title: t('woType.fields'),
            key: 'fields',
            render: (_: unknown, r) => (
              <Space size={[4, 4]} wrap>
                {r.fields.map((f) => (
                  <Tag key={f.key} color={f.required ? 'blue' : undefined}>
                    {localized(lang, f.label, f.label_en)}
                  </Tag>
                ))}
              </Space>
            ),
          },
          {
            title: t('woType.defaultPriority'),
            dataIndex: 'default_priority',
            key: 'default_priority',
            width: 100,
            render: (v: string) => priorityLabel(t, v),
          },
          { title: t('woType.defaultUnit'), key: 'unit', width: 130, render: (_: unknown, r) => unitName(r.default_unit_id) },
          {
            title: t('woType.callbackRequired'),
            dataIndex: 'callback_required',
            key: 'callback_required',
            width: 90,
            render: (v: boolean) => (v ? t('common.yes') : t('common.no')),
          },
          {
            title: t('common.status'),
            dataIndex: 'active',
            key: 'active',
            width: 80,
            render: (v: boolean) => (v ? <Tag color="green">{t('common.active')}</Tag> : <Tag>{t('common.inactive')}</Tag>),
          },
          {
            title: t('common.actions'),
            key: 'actions',
            width: 90,
            render: (_: unknown, r) => (
              <Button size="small" type="link" icon={<EditOutlined />} onClick={() => setEditing(r)} data-testid="type-edit">
                {t('common.edit')}
              </Button>
            ),
          },
        ]}
      />
      <TypeEditor
        open={editing !== null}
        type={editing === 'new' ? null : editing}
        onClose={() => setEditing(null)}
        onSaved={() => {
          setEditing(null);
          reload();
        }}
        onStale={() => {
          setEditing(null);
          reload();
        }}
      />
    </Card>
  );
}

function TypeEditor({
  open,
  type,
  onClose,
  onSaved,
  onStale,
}: {
  open: boolean;
  type: WorkOrderType | null;
  onClose: () => void;
  onSaved: () => void;
  onStale: () => void;
}) {
  const { t, lang } = useI18n();
  const { message } = App.useApp();
  const [form] = Form.useForm<TypeForm>();
  const units = useUnits();
  const [calendars, setCalendars] = useState<BusinessCalendar[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!open) return;
    api
      .calendars()
      .then(setCalendars)
      .catch(() => setCalendars([]));
  }, [open]);

  useEffect(() => {
    if (!open) return;
    form.resetFields();
    setError(null);
    if (type) form.setFieldsValue(typeToForm(type));
    else
      form.setFieldsValue({
        active: true,
        callback_required: false,
        sort: 100,
        default_priority: 'normal',
        fields: [],
        priority_rules: [],
        sla: slaToForm({}),
      });
  }, [open, type, form]);

  useEffect(() => {
    if (open && !type && calendars.length && !form.getFieldValue('calendar_id')) form.setFieldValue('calendar_id', calendars[0].id);
  }, [open, type, calendars, form]);

  const submit = async () => {
    let v: TypeForm;
    try {
      v = await form.validateFields();
    } catch {
      return;
    }
    const input = formToInput(v);
    setBusy(true);
    setError(null);
    try {
      if (type) {
        const { code: _code, ...patch } = input;
        void _code;
        await api.updateWorkOrderType(type.id, { ...patch, version: type.version });
      } else {
        await api.createWorkOrderType(input);
      }
      message.success(t('common.saved'));
      onSaved();
    } catch (e) {
      if (isConflict(e)) {
        message.warning(t('woType.stale'));
        onStale();
        return;
      }
      setError(
        applyProblemToForm(form, e, [
          'code',
          'name',
          'name_en',
          'description',
          'active',
          'callback_required',
          'sort',
          'default_priority',
          'default_unit_id',
          'fallback_unit_id',
          'calendar_id',
          'fields',
          'priority_rules',
          'sla',
        ]),
      );
    } finally {
      setBusy(false);
    }
  };

  const req = [{ required: true, whitespace: true, message: t('common.required') }];
  const unitOptions = units.filter((u) => u.active).map((u) => ({ value: u.id, label: u.name }));

  return (
    <Drawer
      open={open}
      width={Math.min(980, window.innerWidth)}
      title={type ? `${t('woType.edit')} · ${type.name}` : t('woType.new')}
      onClose={onClose}
      forceRender
      destroyOnHidden={false}
      extra={
        <Space>
          <Button onClick={onClose}>{t('common.cancel')}</Button>
          <Button type="primary" loading={busy} onClick={submit} data-testid="type-form-submit">
            {t('common.save')}
          </Button>
        </Space>
      }
    >
      {error ? <Alert type="error" showIcon message={<span data-testid="type-form-error">{error}</span>} style={{ marginBottom: 16 }} /> : null}
      <Form<TypeForm> form={form} layout="vertical" data-testid="type-form">
        <Row gutter={16}>
          <Col xs={24} md={6}>
            <Form.Item name="code" label={t('woType.code')} rules={req} extra={type ? undefined : t('woType.codeHint')}>
              <Input maxLength={32} disabled={!!type} data-testid="tf-code" />
            </Form.Item>
          </Col>
          <Col xs={24} md={6}>
            <Form.Item name="name" label={t('woType.name')} rules={req}>
              <Input maxLength={40} data-testid="tf-name" />
            </Form.Item>
          </Col>
          <Col xs={24} md={6}>
            <Form.Item name="name_en" label={t('woType.nameEn')}>
              <Input maxLength={60} data-testid="tf-name_en" />
            </Form.Item>
          </Col>
          <Col xs={12} md={3}>
            <Form.Item name="sort" label={t('woType.sort')}>
              <InputNumber min={0} max={10000} style={{ width: '100%' }} data-testid="tf-sort" />
            </Form.Item>
          </Col>
          <Col xs={12} md={3}>
            <Form.Item name="active" label={t('common.active')} valuePropName="checked">
              <Switch data-testid="tf-active" />
            </Form.Item>
          </Col>
        </Row>
        <Form.Item name="description" label={t('woType.description')}>
          <Input.TextArea autoSize={{ minRows: 1, maxRows: 4 }} maxLength={500} data-testid="tf-description" />
        </Form.Item>
        <Row gutter={16}>
          <Col xs={24} md={6}>
            <Form.Item name="default_priority" label={t('woType.defaultPriority')} rules={[{ required: true, message: t('common.required') }]}>
              <Select data-testid="tf-default_priority" options={WO_PRIORITIES.map((p) => ({ value: p, label: priorityLabel(t, p) }))} />
            </Form.Item>
          </Col>
          <Col xs={24} md={6}>
            <Form.Item name="default_unit_id" label={t('woType.defaultUnit')}>
              <Select allowClear showSearch optionFilterProp="label" options={unitOptions} data-testid="tf-default_unit" />
            </Form.Item>
          </Col>
          <Col xs={24} md={6}>
            <Form.Item name="fallback_unit_id" label={t('woType.fallbackUnit')}>
              <Select allowClear showSearch optionFilterProp="label" options={unitOptions} data-testid="tf-fallback_unit" />
            </Form.Item>
          </Col>
          <Col xs={24} md={6}>
            <Form.Item name="calendar_id" label={t('woType.calendar')} rules={[{ required: true, message: t('common.required') }]}>
              <Select options={calendars.map((c) => ({ value: c.id, label: c.name }))} data-testid="tf-calendar" />
            </Form.Item>
          </Col>
        </Row>
        <Form.Item name="callback_required" label={t('woType.callbackRequired')} valuePropName="checked">
          <Switch data-testid="tf-callback_required" />
        </Form.Item>

        <Divider orientation="left">{t('woType.fields')}</Divider>
        <Form.List name="fields">
          {(fields, { add, remove, move }) => (
            <Space direction="vertical" style={{ width: '100%' }} size={8} data-testid="tf-fields">
              {fields.map((f, i) => (
                <Card key={f.key} size="small" data-testid="tf-field" styles={{ body: { paddingBottom: 0 } }}>
                  <Row gutter={8} align="top">
                    <Col xs={12} md={4}>
                      <Form.Item name={[f.name, 'key']} label={t('woType.field.key')} rules={[...req, { pattern: /^[a-z][a-z0-9_]{0,31}$/, message: t('woType.field.keyRule') }]}>
                        <Input maxLength={32} data-testid={`tf-field-key-${i}`} />
                      </Form.Item>
                    </Col>
                    <Col xs={12} md={5}>
                      <Form.Item name={[f.name, 'label']} label={t('woType.field.label')} rules={req}>
                        <Input maxLength={40} data-testid={`tf-field-label-${i}`} />
                      </Form.Item>
                    </Col>
                    <Col xs={12} md={5}>
                      <Form.Item name={[f.name, 'label_en']} label={t('woType.field.labelEn')}>
                        <Input maxLength={60} data-testid={`tf-field-label_en-${i}`} />
                      </Form.Item>
                    </Col>
                    <Col xs={12} md={4}>
                      <Form.Item name={[f.name, 'kind']} label={t('woType.field.kind')} rules={[{ required: true, message: t('common.required') }]}>
                        <Select data-testid={`tf-field-kind-${i}`} options={FIELD_KINDS.map((k) => ({ value: k, label: t(`fieldKind.${k}` as MessageKey) }))} />
                      </Form.Item>
                    </Col>
                    <Col xs={8} md={2}>
                      <Form.Item name={[f.name, 'required']} label={t('woType.field.required')} valuePropName="checked">
                        <Switch data-testid={`tf-field-required-${i}`} />
                      </Form.Item>
                    </Col>
                    <Col xs={16} md={4}>
                      <Form.Item label=" ">
                        <Space size={2}>
                          <Button size="small" icon={<ArrowUpOutlined />} disabled={i === 0} onClick={() => move(i, i - 1)} aria-label={t('woType.moveUp')} />
                          <Button size="small" icon={<ArrowDownOutlined />} disabled={i === fields.length - 1} onClick={() => move(i, i + 1)} aria-label={t('woType.moveDown')} />
                          <Button size="small" danger icon={<DeleteOutlined />} onClick={() => remove(f.name)} aria-label={t('common.delete')} data-testid={`tf-field-remove-${i}`} />
                        </Space>
                      </Form.Item>
                    </Col>
                  </Row>
                  <Form.Item noStyle shouldUpdate={(a, b) => a.fields?.[f.name]?.kind !== b.fields?.[f.name]?.kind}>
                    {() =>
                      form.getFieldValue(['fields', f.name, 'kind']) === 'choice' ? (
                        <Form.List name={[f.name, 'options']}>
                          {(opts, { add: addOpt, remove: removeOpt }, { errors }) => (
                            <div style={{ marginBottom: 12, paddingInlineStart: 12, borderInlineStart: '3px solid #f0f0f0' }}>
                              <Typography.Text type="secondary">{t('woType.field.options')}</Typography.Text>
                              {opts.map((o, j) => (
                                <Row gutter={8} key={o.key} style={{ marginTop: 6 }}>
                                  <Col span={7}>
                                    <Form.Item name={[o.name, 'value']} rules={[...req, { pattern: /^[a-z][a-z0-9_]{0,31}$/, message: t('woType.field.keyRule') }]} style={{ marginBottom: 4 }}>
                                      <Input placeholder={t('woType.option.value')} maxLength={32} data-testid={`tf-field-${i}-option-value-${j}`} />
                                    </Form.Item>
                                  </Col>
                                  <Col span={7}>
                                    <Form.Item name={[o.name, 'label']} rules={req} style={{ marginBottom: 4 }}>
                                      <Input placeholder={t('woType.option.label')} maxLength={40} data-testid={`tf-field-${i}-option-label-${j}`} />
                                    </Form.Item>
                                  </Col>
                                  <Col span={7}>
                                    <Form.Item name={[o.name, 'label_en']} style={{ marginBottom: 4 }}>
                                      <Input placeholder={t('woType.option.labelEn')} maxLength={60} />
                                    </Form.Item>
                                  </Col>
                                  <Col span={3}>
                                    <Button size="small" danger icon={<DeleteOutlined />} onClick={() => removeOpt(o.name)} aria-label={t('common.delete')} />
                                  </Col>
                                </Row>
                              ))}
                              <Button size="small" type="dashed" icon={<PlusOutlined />} onClick={() => addOpt({ value: '', label: '' })} style={{ marginTop: 6 }} data-testid={`tf-field-${i}-option-add`}>
                                {t('woType.option.add')}
                              </Button>
                              <Form.ErrorList errors={errors} />
                            </div>
                          )}
                        </Form.List>
                      ) : null
                    }
                  </Form.Item>
                </Card>
              ))}
              <Button
                type="dashed"
                block
                icon={<PlusOutlined />}
                onClick={() => add({ key: '', label: '', label_en: '', kind: 'text', required: false, options: [] })}
                data-testid="tf-field-add"
              >
                {t('woType.field.add')}
              </Button>
            </Space>
          )}
        </Form.List>

        <Divider orientation="left">{t('woType.rules')}</Divider>
        <Typography.Paragraph type="secondary">{t('woType.rulesHint')}</Typography.Paragraph>
        <Form.List name="priority_rules">
          {(rules, { add, remove }) => (
            <Space direction="vertical" style={{ width: '100%' }} size={4}>
              {rules.map((r, i) => (
                <Form.Item key={r.key} noStyle shouldUpdate>
                  {() => {
                    const defs = ((form.getFieldValue('fields') ?? []) as FieldDef[]).filter((d) => d && d.kind === 'choice' && d.key);
                    const chosen = defs.find((d) => d.key === form.getFieldValue(['priority_rules', r.name, 'field']));
                    return (
                      <Row gutter={8} data-testid="tf-rule">
                        <Col xs={24} md={8}>
                          <Form.Item name={[r.name, 'field']} rules={[{ required: true, message: t('common.required') }]} style={{ marginBottom: 8 }}>
                            <Select
                              placeholder={t('woType.rule.field')}
                              options={defs.map((d) => ({ value: d.key, label: localized(lang, d.label, d.label_en) }))}
                              data-testid={`tf-rule-field-${i}`}
                            />
                          </Form.Item>
                        </Col>
                        <Col xs={24} md={7}>
                          <Form.Item name={[r.name, 'equals']} rules={[{ required: true, message: t('common.required') }]} style={{ marginBottom: 8 }}>
                            <Select
                              placeholder={t('woType.rule.equals')}
                              options={(chosen?.options ?? []).filter((o) => o && o.value).map((o) => ({ value: o.value, label: localized(lang, o.label, o.label_en) }))}
                              data-testid={`tf-rule-equals-${i}`}
                            />
                          </Form.Item>
                        </Col>
                        <Col xs={20} md={7}>
                          <Form.Item name={[r.name, 'priority']} rules={[{ required: true, message: t('common.required') }]} style={{ marginBottom: 8 }}>
                            <Select
                              placeholder={t('wo.priority')}
                              options={WO_PRIORITIES.map((p) => ({ value: p, label: priorityLabel(t, p) }))}
                              data-testid={`tf-rule-priority-${i}`}
                            />
                          </Form.Item>
                        </Col>
                        <Col xs={4} md={2}>
                          <Button danger icon={<DeleteOutlined />} onClick={() => remove(r.name)} aria-label={t('common.delete')} />
                        </Col>
                      </Row>
                    );
                  }}
                </Form.Item>
              ))}
              <Button type="dashed" icon={<PlusOutlined />} onClick={() => add({})} data-testid="tf-rule-add">
                {t('woType.rule.add')}
              </Button>
            </Space>
          )}
        </Form.List>

        <Divider orientation="left">{t('woType.sla')}</Divider>
        <Typography.Paragraph type="secondary">{t('woType.slaHint')}</Typography.Paragraph>
        <table className="kefu-sla-table" data-testid="tf-sla">
          <thead>
            <tr>
              <th />
              {TARGETS.map((x) => (
                <th key={x.key}>{t(x.label)}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {WO_PRIORITIES.map((p) => (
              <tr key={p}>
                <th>{priorityLabel(t, p)}</th>
                {TARGETS.map((x) => (
                  <td key={x.key}>
                    <Form.Item name={['sla', 'targets', p, x.key]} style={{ marginBottom: 0 }}>
                      <InputNumber min={1} max={366 * 24 * 60} addonAfter={t('woType.minutes')} style={{ width: '100%' }} data-testid={`tf-sla-${p}-${x.key}`} />
                    </Form.Item>
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
        <Row gutter={16} style={{ marginTop: 16 }}>
          <Col xs={24} md={6}>
            <Form.Item name={['sla', 'emergency_always_open']} label={t('woType.sla.emergency247')} valuePropName="checked">
              <Switch data-testid="tf-sla-emergency247" />
            </Form.Item>
          </Col>
          <Col xs={24} md={6}>
            <Form.Item name={['sla', 'escalate_on_breach']} label={t('woType.sla.escalate')} valuePropName="checked">
              <Switch data-testid="tf-sla-escalate" />
            </Form.Item>
          </Col>
          <Col xs={24} md={6}>
            <Form.Item name={['sla', 'remind_at_percent']} label={t('woType.sla.remind')}>
              <Select mode="tags" tokenSeparators={[',', ' ', '，']} options={[50, 75, 80, 90].map((n) => ({ value: n, label: `${n}%` }))} data-testid="tf-sla-remind" />
            </Form.Item>
          </Col>
          <Col xs={24} md={6}>
            <Form.Item name={['sla', 'reassign_unaccepted_after_mins']} label={t('woType.sla.reassign')}>
              <InputNumber min={1} addonAfter={t('woType.minutes')} style={{ width: '100%' }} data-testid="tf-sla-reassign" />
            </Form.Item>
          </Col>
        </Row>
      </Form>
    </Drawer>
  );
}
