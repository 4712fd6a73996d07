// 工作日历 (business calendars): weekly working hours, public holidays (放假) and make-up working days (调休上班);
// the SLA counts business minutes on them.
import { useCallback, useEffect, useState } from 'react';
import {
  Alert,
  App,
  Button,
  Card,
  Col,
  DatePicker,
  Divider,
  Drawer,
  Form,
  Input,
  InputNumber,
  Row,
  Space,
  Switch,
  Table,
  Tag,
  Typography,
} from 'antd';
import { CopyOutlined, DeleteOutlined, EditOutlined, PlusOutlined } from '@ant-design/icons';
import dayjs, { type Dayjs } from 'dayjs';
import { api, ApiError, type BusinessCalendar, type CalendarSpec, type Span } from '../api';
import { useAuth } from '../auth';
import { useI18n, type MessageKey } from '../i18n';
import { applyProblemToForm } from '../components/common';
import { isConflict } from '../components/workorders';

const DAYS: MessageKey[] = ['cal.mon', 'cal.tue', 'cal.wed', 'cal.thu', 'cal.fri', 'cal.sat', 'cal.sun'];
const TIME = /^(([01]\d|2[0-3]):[0-5]\d|24:00)$/;

interface CalForm {
  code: string;
  name: string;
  always_open: boolean;
  utc_offset_minutes: number;
  week: Span[][];
  holidays: Dayjs[];
  workdays: Dayjs[];
}

function toForm(c: BusinessCalendar): CalForm {
  const week = Array.from({ length: 7 }, (_, d) => (c.spec.week?.[d] ?? []).map((s) => ({ ...s })));
  return {
    code: c.code,
    name: c.name,
    always_open: !!c.spec.always_open,
    utc_offset_minutes: c.spec.utc_offset_minutes ?? 480,
    week,
    holidays: (c.spec.holidays ?? []).map((d) => dayjs(d)),
    workdays: (c.spec.workdays ?? []).map((d) => dayjs(d)),
  };
}

function toSpec(v: CalForm): CalendarSpec {
  const dates = (ds?: Dayjs[]) => [...new Set((ds ?? []).map((d) => d.format('YYYY-MM-DD')))].sort();
  return {
    always_open: !!v.always_open,
    utc_offset_minutes: Number(v.utc_offset_minutes ?? 480),
    week: Array.from({ length: 7 }, (_, d) =>
      (v.week?.[d] ?? []).filter((s) => s && s.start && s.end).map((s) => ({ start: s.start.trim(), end: s.end.trim() })),
    ),
    holidays: dates(v.holidays),
    workdays: dates(v.workdays),
  };
}

const OFFICE: Span[] = [
  { start: '08:30', end: '12:00' },
  { start: '13:30', end: '17:30' },
];

function weeklyHours(spec: CalendarSpec): string {
  if (spec.always_open) return '24×7';
  let mins = 0;
  for (const day of spec.week ?? [])
    for (const s of day) {
      const [sh, sm] = s.start.split(':').map(Number);
      const [eh, em] = s.end.split(':').map(Number);
      mins += eh * 60 + em - (sh * 60 + sm);
    }
  return `${Math.round((mins / 60) * 10) / 10} h`;
}

export default function AdminCalendarsPage() {
  const { t } = useI18n();
  const [items, setItems] = useState<BusinessCalendar[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState<BusinessCalendar | 'new' | null>(null);

  const load = useCallback(async () => {
    setLoading(true);
    try {
      setItems(await api.calendars());
      setError(null);
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 403)) setError(e instanceof Error ? e.message : String(e));
    } finally {
      setLoading(false);
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  return (
    <Card
      title={t('cal.title')}
      data-testid="calendars-page"
      extra={
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')} data-testid="calendar-new">
          {t('cal.new')}
        </Button>
      }
    >
      {error ? <Alert type="error" showIcon message={error} style={{ marginBottom: 16 }} /> : null}
      <Table<BusinessCalendar>
        rowKey="id"
        loading={loading}
        dataSource={items}
        pagination={false}
        data-testid="calendars-table"
        onRow={(r) => ({ 'data-testid': 'calendar-row', 'data-code': r.code }) as React.HTMLAttributes<HTMLElement>}
        columns={[
          { title: t('cal.code'), dataIndex: 'code', key: 'code', width: 160 },
          { title: t('cal.name'), dataIndex: 'name', key: 'name' },
          { title: t('cal.weekly'), key: 'hours', width: 120, render: (_: unknown, r) => weeklyHours(r.spec) },
          {
            title: t('cal.holidays'),
            key: 'holidays',
            render: (_: unknown, r) => (
              <Typography.Text type="secondary">
                {t('cal.counts', { h: r.spec.holidays?.length ?? 0, w: r.spec.workdays?.length ?? 0 })}
              </Typography.Text>
            ),
          },
          {
            title: t('common.actions'),
            key: 'actions',
            width: 90,
            render: (_: unknown, r) => (
              <Button size="small" type="link" icon={<EditOutlined />} onClick={() => setEditing(r)} data-testid="calendar-edit">
                {t('common.edit')}
              </Button>
            ),
          },
        ]}
      />
      <CalendarEditor
        open={editing !== null}
        calendar={editing === 'new' ? null : editing}
        onClose={() => setEditing(null)}
        onSaved={() => {
          setEditing(null);
          void load();
        }}
        onStale={() => {
          setEditing(null);
          void load();
        }}
      />
    </Card>
  );
}

function CalendarEditor({
  open,
  calendar,
  onClose,
  onSaved,
  onStale,
}: {
  open: boolean;
  calendar: BusinessCalendar | null;
  onClose: () => void;
  onSaved: () => void;
  onStale: () => void;
}) {
  const { t } = useI18n();
  const { can } = useAuth();
  const { message } = App.useApp();
  const [form] = Form.useForm<CalForm>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const alwaysOpen = Form.useWatch('always_open', form);

  useEffect(() => {
    if (!open) return;
    form.resetFields();
    setError(null);
    form.setFieldsValue(
      calendar
        ? toForm(calendar)
        : {
            code: '',
            name: '',
            always_open: false,
            utc_offset_minutes: 480,
            week: [OFFICE, OFFICE, OFFICE, OFFICE, OFFICE, [], []].map((d) => d.map((s) => ({ ...s }))),
            holidays: [],
            workdays: [],
          },
    );
  }, [open, calendar, form]);

  const submit = async () => {
    let v: CalForm;
    try {
      v = await form.validateFields();
    } catch (e) {
      // The spans' inputs show only a red border: say what is wrong above the form.
      const first = (e as { errorFields?: { name: (string | number)[]; errors: string[] }[] }).errorFields?.[0];
      if (first && first.name[0] === 'week') setError(`${t(DAYS[Number(first.name[1])])}: ${first.errors[0]}`);
      return;
    }
    const spec = toSpec(v);
    setBusy(true);
    setError(null);
    try {
      if (calendar) await api.updateCalendar(calendar.id, { version: calendar.version, name: v.name.trim(), spec });
      else await api.createCalendar({ code: v.code.trim(), name: v.name.trim(), spec });
      message.success(t('common.saved'));
      onSaved();
    } catch (e) {
      if (isConflict(e)) {
        message.warning(t('woType.stale'));
        onStale();
        return;
      }
      if (e instanceof ApiError && e.problem.errors) {
        // spec.week[0][1].end → week[0][1].end
        e.problem.errors = e.problem.errors.map((fe) => ({ ...fe, field: fe.field.replace(/^spec\./, '') }));
      }
      setError(applyProblemToForm(form, e, ['code', 'name', 'always_open', 'utc_offset_minutes', 'week', 'holidays', 'workdays']));
    } finally {
      setBusy(false);
    }
  };

  const copyMonday = () => {
    const week = (form.getFieldValue('week') ?? []) as Span[][];
    const mon = week[0] ?? [];
    form.setFieldValue('week', week.map((d, i) => (i >= 1 && i <= 4 ? mon.map((s) => ({ ...s })) : d)));
  };

  const req = [{ required: true, whitespace: true, message: t('common.required') }];
  const timeRule = [{ required: true, message: t('common.required') }, { pattern: TIME, message: t('cal.timeRule') }];

  return (
    <Drawer
      open={open}
      width={Math.min(760, window.innerWidth)}
      title={calendar ? `${t('cal.edit')} · ${calendar.name}` : t('cal.new')}
      onClose={onClose}
      forceRender
      extra={
        <Space>
          <Button onClick={onClose}>{t('common.cancel')}</Button>
          <Button type="primary" loading={busy} onClick={submit} disabled={!can('calendars.manage')} data-testid="calendar-form-submit">
            {t('common.save')}
          </Button>
        </Space>
      }
    >
      {error ? <Alert type="error" showIcon message={<span data-testid="calendar-form-error">{error}</span>} style={{ marginBottom: 16 }} /> : null}
      <Form<CalForm> form={form} layout="vertical" data-testid="calendar-form">
        <Row gutter={16}>
          <Col xs={24} md={8}>
            <Form.Item name="code" label={t('cal.code')} rules={req}>
              <Input maxLength={32} disabled={!!calendar} data-testid="cf-cal-code" />
            </Form.Item>
          </Col>
          <Col xs={24} md={8}>
            <Form.Item name="name" label={t('cal.name')} rules={req}>
              <Input maxLength={40} data-testid="cf-cal-name" />
            </Form.Item>
          </Col>
          <Col xs={12} md={4}>
            <Form.Item name="utc_offset_minutes" label={t('cal.offset')} tooltip={t('cal.offsetHint')}>
              <InputNumber min={-720} max={840} style={{ width: '100%' }} data-testid="cf-cal-offset" />
            </Form.Item>
          </Col>
          <Col xs={12} md={4}>
            <Form.Item name="always_open" label={t('cal.alwaysOpen')} valuePropName="checked">
              <Switch data-testid="cf-cal-always" />
            </Form.Item>
          </Col>
        </Row>
        <Divider orientation="left">
          {t('cal.week')}{' '}
          <Button size="small" type="link" icon={<CopyOutlined />} onClick={copyMonday} disabled={alwaysOpen} data-testid="cal-copy-monday">
            {t('cal.copyMonday')}
          </Button>
        </Divider>
        {alwaysOpen ? <Alert type="info" showIcon message={t('cal.alwaysOpenHint')} style={{ marginBottom: 12 }} /> : null}
        {DAYS.map((label, d) => (
          <Row key={label} gutter={8} wrap={false} style={{ marginBottom: 8 }} align="top" data-testid={`cal-day-${d}`}>
            <Col flex="64px" style={{ paddingTop: 5 }}>
              <Typography.Text strong>{t(label)}</Typography.Text>
            </Col>
            <Col flex="auto" style={{ minWidth: 0 }}>
              <Form.List name={['week', d]}>
                {(spans, { add, remove }) => (
                  <Space wrap size={[8, 4]}>
                    {spans.length === 0 ? <Tag>{t('cal.dayOff')}</Tag> : null}
                    {spans.map((s, i) => (
                      <Space.Compact key={s.key}>
                        <Form.Item name={[s.name, 'start']} rules={timeRule} noStyle>
                          <Input style={{ width: 70 }} placeholder="08:30" disabled={alwaysOpen} data-testid={`cal-${d}-${i}-start`} />
                        </Form.Item>
                        <Input style={{ width: 28, pointerEvents: 'none', textAlign: 'center', paddingInline: 0 }} placeholder="–" disabled />
                        <Form.Item name={[s.name, 'end']} rules={timeRule} noStyle>
                          <Input style={{ width: 70 }} placeholder="17:30" disabled={alwaysOpen} data-testid={`cal-${d}-${i}-end`} />
                        </Form.Item>
                        <Button icon={<DeleteOutlined />} onClick={() => remove(s.name)} disabled={alwaysOpen} aria-label={t('common.delete')} />
                      </Space.Compact>
                    ))}
                    <Button
                      size="small"
                      type="dashed"
                      icon={<PlusOutlined />}
                      onClick={() => add({ start: '', end: '' })}
                      disabled={alwaysOpen || spans.length >= 8}
                      data-testid={`cal-${d}-add`}
                    >
                      {t('cal.addSpan')}
                    </Button>
                  </Space>
                )}
              </Form.List>
            </Col>
          </Row>
        ))}
        <Divider orientation="left">{t('cal.exceptions')}</Divider>
        <Form.Item name="holidays" label={t('cal.holidays')} extra={t('cal.holidaysHint')}>
          <DatePicker multiple style={{ width: '100%' }} maxTagCount="responsive" disabled={alwaysOpen} data-testid="cf-cal-holidays" />
        </Form.Item>
        <Form.Item name="workdays" label={t('cal.workdays')} extra={t('cal.workdaysHint')}>
          <DatePicker multiple style={{ width: '100%' }} maxTagCount="responsive" disabled={alwaysOpen} data-testid="cf-cal-workdays" />
        </Form.Item>
      </Form>
    </Drawer>
  );
}
