// Pieces shared by the work-order screens: tags, deadlines, attachments, custom fields and the action dialogs.
import { useEffect, useMemo, useState, type ReactNode } from 'react';
import {
  Alert,
  App,
  Button,
  DatePicker,
  Form,
  Input,
  InputNumber,
  Modal,
  Rate,
  Select,
  Spin,
  Tag,
  Tooltip,
  Upload,
  type UploadFile,
} from 'antd';
import { CameraOutlined, PaperClipOutlined, UploadOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import {
  api,
  ApiError,
  woUrls,
  type ActionInput,
  type Attachment,
  type ChoiceOption,
  type CustomerSummary,
  type FieldDef,
  type Unit,
  type WoAction,
  type WoPriority,
  type WoStatus,
  type WorkOrderType,
} from '../api';
import { useI18n, useT, type Lang, type MessageKey, type TFunc } from '../i18n';
import { applyProblemToForm } from './common';

// ---------------------------------------------------------------------------------------------
// Labels and tags

export function statusLabel(t: TFunc, s: string): string {
  const key = `woStatus.${s}` as MessageKey;
  const v = t(key);
  return v === key ? s : v;
}

export function priorityLabel(t: TFunc, p: string): string {
  const key = `woPriority.${p}` as MessageKey;
  const v = t(key);
  return v === key ? p : v;
}

export function actionLabel(t: TFunc, a: string): string {
  const key = `woAction.${a}` as MessageKey;
  const v = t(key);
  return v === key ? a : v;
}

export function channelLabel(t: TFunc, c: string): string {
  const key = `woChannel.${c}` as MessageKey;
  const v = t(key);
  return v === key ? c : v;
}

const STATUS_COLORS: Record<WoStatus, string> = {
  new: 'blue',
  dispatched: 'geekblue',
  accepted: 'cyan',
  in_progress: 'processing',
  waiting_customer: 'gold',
  feedback_submitted: 'purple',
  closed: 'green',
  callback_done: 'lime',
  archived: 'default',
  cancelled: 'default',
  merged: 'default',
};

export function StatusTag({ status }: { status: string }) {
  const t = useT();
  return (
    <Tag color={STATUS_COLORS[status as WoStatus] ?? 'default'} data-testid="wo-status" data-status={status}>
      {statusLabel(t, status)}
    </Tag>
  );
}

const PRIORITY_COLORS: Record<WoPriority, string | undefined> = {
  emergency: 'red',
  urgent: 'orange',
  normal: undefined,
  low: 'default',
};

export function PriorityTag({ priority }: { priority: string }) {
  const t = useT();
  return (
    <Tag color={PRIORITY_COLORS[priority as WoPriority]} data-testid="wo-priority" data-priority={priority}>
      {priorityLabel(t, priority)}
    </Tag>
  );
}

/** Localized label of a type, a field or an option (`name_en` / `label_en` in English when set). */
export function localized(lang: Lang, zh: string, en?: string | null): string {
  return lang === 'en' && en ? en : zh;
}

// ---------------------------------------------------------------------------------------------
// Deadlines

/** Re-renders every `ms` so countdowns move. */
export function useNow(ms = 30_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const h = window.setInterval(() => setNow(Date.now()), ms);
    return () => window.clearInterval(h);
  }, [ms]);
  return now;
}

export function fmtDuration(t: TFunc, ms: number): string {
  const mins = Math.max(1, Math.round(Math.abs(ms) / 60_000));
  const d = Math.floor(mins / 1440);
  const h = Math.floor((mins % 1440) / 60);
  const m = mins % 60;
  const parts: string[] = [];
  if (d) parts.push(t('wo.dur.d', { n: d }));
  if (h) parts.push(t('wo.dur.h', { n: h }));
  if (m && !d) parts.push(t('wo.dur.m', { n: m }));
  return parts.join(' ');
}

/** A deadline as a tag: time left (green/orange), or how long overdue (red). */
export function DeadlineTag({
  at,
  paused,
  met,
  testId = 'wo-deadline',
}: {
  at?: string | null;
  paused?: boolean;
  /** The milestone is already reached: show the time only. */
  met?: boolean;
  testId?: string;
}) {
  const t = useT();
  const now = useNow();
  if (!at) return <span data-testid={testId}>—</span>;
  const due = dayjs(at);
  const time = due.format('MM-DD HH:mm');
  if (met) {
    return (
      <span data-testid={testId} data-state="met">
        {time}
      </span>
    );
  }
  if (paused) {
    return (
      <Tooltip title={due.format('YYYY-MM-DD HH:mm:ss')}>
        <Tag data-testid={testId} data-state="paused">
          {time} · {t('wo.paused')}
        </Tag>
      </Tooltip>
    );
  }
  const left = due.valueOf() - now;
  const overdue = left <= 0;
  return (
    <Tooltip title={due.format('YYYY-MM-DD HH:mm:ss')}>
      <Tag color={overdue ? 'red' : left < 3_600_000 ? 'orange' : 'green'} data-testid={testId} data-state={overdue ? 'overdue' : 'running'}>
        {time} · {overdue ? t('wo.overdueBy', { d: fmtDuration(t, left) }) : t('wo.timeLeft', { d: fmtDuration(t, left) })}
      </Tag>
    </Tooltip>
  );
}

// ---------------------------------------------------------------------------------------------
// Reference data

let unitsCache: Promise<Unit[]> | null = null;
/** The units (cached for the page's life; `GET /units` is open to everyone signed in). */
export function useUnits(): Unit[] {
  const [units, setUnits] = useState<Unit[]>([]);
  useEffect(() => {
    let alive = true;
    unitsCache ??= api.units().catch((e) => {
      unitsCache = null;
      throw e;
    });
    unitsCache.then((u) => alive && setUnits(u)).catch(() => undefined);
    return () => {
      alive = false;
    };
  }, []);
  return units;
}

/** The units a work order can be dispatched to: active ones that are not the call center. */
export function dispatchUnits(units: Unit[]): Unit[] {
  return units.filter((u) => u.active && u.kind !== 'call_center');
}

export function useWorkOrderTypes(): { types: WorkOrderType[]; loading: boolean; error: string | null; reload: () => void } {
  const [types, setTypes] = useState<WorkOrderType[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let alive = true;
    setLoading(true);
    // Inactive ones too: old orders name them; the create form offers only the active ones.
    api
      .workOrderTypes(true)
      .then((ts) => {
        if (!alive) return;
        setTypes([...ts].sort((a, b) => (a.sort ?? 0) - (b.sort ?? 0) || a.name.localeCompare(b.name)));
        setError(null);
      })
      .catch((e) => alive && setError(e instanceof Error ? e.message : String(e)))
      .finally(() => alive && setLoading(false));
    return () => {
      alive = false;
    };
  }, [tick]);
  return { types, loading, error, reload: () => setTick((n) => n + 1) };
}

// ---------------------------------------------------------------------------------------------
// Attachments

export function fmtSize(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function AttachmentLink({ id, filename, size }: { id: string; filename?: string; size?: number }) {
  return (
    <a href={woUrls.attachment(id)} target="_blank" rel="noreferrer" data-testid="wo-attachment-link" data-attachment-id={id}>
      <PaperClipOutlined /> {filename ?? id}
      {size !== undefined ? <span style={{ color: 'rgba(0,0,0,0.45)', marginInlineStart: 4 }}>({fmtSize(size)})</span> : null}
    </a>
  );
}

export const MAX_UPLOAD = 10 * 1024 * 1024;
export const UPLOAD_ACCEPT = 'image/*,application/pdf,audio/*,.docx,.xlsx,.txt';

/**
 * An upload control whose form value is the list of uploaded attachment ids. `camera` asks phones to open
 * the camera (`accept="image/*" capture`).
 */
export function AttachmentUpload({
  value,
  onChange,
  camera,
  testId = 'wo-upload',
  max = 10,
}: {
  value?: string[];
  onChange?: (ids: string[]) => void;
  camera?: boolean;
  testId?: string;
  max?: number;
}) {
  const t = useT();
  const [files, setFiles] = useState<UploadFile<Attachment>[]>([]);
  // Keep the list in step when the form is reset from outside.
  useEffect(() => {
    if (!value || value.length === 0) setFiles((fs) => (fs.some((f) => f.status === 'uploading') ? fs : []));
  }, [value]);

  const emit = (fs: UploadFile<Attachment>[]) => {
    onChange?.(fs.filter((f) => f.status === 'done' && f.response).map((f) => f.response!.id));
  };

  return (
    <Upload<Attachment>
      multiple
      accept={camera ? 'image/*' : UPLOAD_ACCEPT}
      capture={camera ? 'environment' : undefined}
      fileList={files}
      listType={camera ? 'picture' : 'text'}
      maxCount={max}
      data-testid={testId}
      beforeUpload={(file) => {
        if (file.size > MAX_UPLOAD) {
          setFiles((fs) => [...fs, { uid: file.uid, name: file.name, status: 'error', error: new Error(t('wo.upload.tooBig')), response: undefined }]);
          return Upload.LIST_IGNORE;
        }
        return true;
      }}
      customRequest={({ file, onSuccess, onError }) => {
        api
          .uploadAttachment(file as File)
          .then((a) => onSuccess?.(a))
          .catch((e: unknown) => {
            const msg = e instanceof ApiError ? (e.status === 413 ? t('wo.upload.tooBig') : e.status === 415 ? t('wo.upload.badType') : e.message) : String(e);
            onError?.(new Error(msg));
          });
      }}
      onChange={({ fileList }) => {
        const fs = fileList.map((f) => (f.status === 'error' && f.error instanceof Error ? { ...f, response: undefined } : f));
        setFiles(fs);
        emit(fs);
      }}
      onRemove={(f) => {
        const fs = files.filter((x) => x.uid !== f.uid);
        setFiles(fs);
        emit(fs);
        return true;
      }}
    >
      <Button icon={camera ? <CameraOutlined /> : <UploadOutlined />} size={camera ? 'large' : 'middle'} data-testid={`${testId}-button`}>
        {camera ? t('wo.upload.photo') : t('wo.upload.file')}
      </Button>
    </Upload>
  );
}

// ---------------------------------------------------------------------------------------------
// Custom fields

function CustomerPicker({ value, onChange, testId }: { value?: string; onChange?: (v?: string) => void; testId?: string }) {
  const [options, setOptions] = useState<{ value: string; label: string }[]>([]);
  const [loading, setLoading] = useState(false);
  const search = useMemo(() => {
    let h: number | undefined;
    return (q: string) => {
      window.clearTimeout(h);
      if (!q.trim()) return;
      h = window.setTimeout(async () => {
        setLoading(true);
        try {
          const page = await api.customers({ q: q.trim(), per_page: 20 });
          setOptions(page.items.map((c: CustomerSummary) => ({ value: c.id, label: `${c.customer_no} ${c.name} ${c.address}` })));
        } catch {
          /* keep the old options */
        } finally {
          setLoading(false);
        }
      }, 300);
    };
  }, []);
  return (
    <Select
      showSearch
      allowClear
      value={value}
      onChange={onChange}
      filterOption={false}
      onSearch={search}
      options={options.length || !value ? options : [{ value, label: value }]}
      notFoundContent={loading ? <Spin size="small" /> : null}
      data-testid={testId}
    />
  );
}

/** The input for one custom field (its form value is what the API stores). */
export function CustomFieldInput({ def, lang, ...rest }: { def: FieldDef; lang: Lang; value?: unknown; onChange?: (v: unknown) => void }) {
  const testId = `wf-field-${def.key}`;
  const value = rest.value;
  const onChange = rest.onChange;
  switch (def.kind) {
    case 'number':
      return <InputNumber style={{ width: '100%' }} value={value as number | undefined} onChange={(v) => onChange?.(v ?? undefined)} data-testid={testId} />;
    case 'date':
      return (
        <DatePicker
          style={{ width: '100%' }}
          value={typeof value === 'string' && value ? dayjs(value) : undefined}
          onChange={(d) => onChange?.(d ? d.format('YYYY-MM-DD') : undefined)}
          data-testid={testId}
        />
      );
    case 'choice':
      return (
        <Select
          allowClear
          value={value as string | undefined}
          onChange={(v) => onChange?.(v)}
          options={(def.options ?? []).map((o: ChoiceOption) => ({ value: o.value, label: localized(lang, o.label, o.label_en) }))}
          data-testid={testId}
        />
      );
    case 'customer':
      return <CustomerPicker value={value as string | undefined} onChange={(v) => onChange?.(v)} testId={testId} />;
    case 'attachment':
      return <AttachmentUpload value={value as string[] | undefined} onChange={(ids) => onChange?.(ids)} testId={testId} />;
    case 'address':
      return <Input value={value as string | undefined} onChange={(e) => onChange?.(e.target.value)} maxLength={200} data-testid={testId} />;
    default:
      return <Input.TextArea autoSize={{ minRows: 1, maxRows: 6 }} value={value as string | undefined} onChange={(e) => onChange?.(e.target.value)} maxLength={2000} data-testid={testId} />;
  }
}

/** Form items for a type's custom fields, under the form name `['fields', key]`. */
export function CustomFieldItems({ defs }: { defs: FieldDef[] }) {
  const { lang, t } = useI18n();
  return (
    <>
      {defs.map((d) => (
        <Form.Item
          key={d.key}
          name={['fields', d.key]}
          label={localized(lang, d.label, d.label_en)}
          required={d.required}
          rules={d.required ? [{ required: true, message: t('common.required') }] : undefined}
          data-testid={`wf-item-${d.key}`}
        >
          <CustomFieldInput def={d} lang={lang} />
        </Form.Item>
      ))}
    </>
  );
}

/** A custom field's value for reading: option labels, attachment links, plain text otherwise. */
export function FieldValue({
  def,
  value,
  attachments,
}: {
  def?: FieldDef;
  value: unknown;
  attachments?: Attachment[];
}): ReactNode {
  const { lang } = useI18n();
  if (value === null || value === undefined || value === '') return '';
  if (def?.kind === 'choice') {
    const o = def.options?.find((x) => x.value === value);
    return o ? localized(lang, o.label, o.label_en) : String(value);
  }
  if (def?.kind === 'attachment' && Array.isArray(value)) {
    return (
      <span style={{ display: 'inline-flex', flexDirection: 'column', gap: 4 }}>
        {value.map((id) => {
          const a = attachments?.find((x) => x.id === id);
          return <AttachmentLink key={String(id)} id={String(id)} filename={a?.filename} size={a?.size} />;
        })}
      </span>
    );
  }
  if (def?.kind === 'customer' && typeof value === 'string') {
    return <a href={`/customers/${encodeURIComponent(value)}`}>{value}</a>;
  }
  if (typeof value === 'object') return JSON.stringify(value);
  return <span className="kefu-pre">{String(value)}</span>;
}

// ---------------------------------------------------------------------------------------------
// Actions

/** Actions shown as buttons (update has its own edit dialog). */
export const ACTION_ORDER: WoAction[] = [
  'dispatch',
  'accept',
  'progress',
  'submit_feedback',
  'wait_customer',
  'resume',
  'close',
  'callback',
  'return',
  'reassign',
  'urge',
  'comment',
  'archive',
  'reopen',
  'merge',
  'cancel',
];

const PRIMARY: WoAction[] = ['dispatch', 'accept', 'submit_feedback', 'close', 'callback'];
export function isPrimaryAction(a: WoAction) {
  return PRIMARY.includes(a);
}
export function isDangerAction(a: WoAction) {
  return a === 'cancel' || a === 'return';
}

/** Which inputs each action asks for. */
const NOTE_REQUIRED: WoAction[] = ['progress', 'return', 'comment'];

interface ActionFormValues {
  note?: string;
  unit_id?: string;
  reason?: string;
  into?: string;
  satisfaction?: number;
  result?: string;
  cause?: string;
  materials?: string;
  attachments?: string[];
}

export function isConflict(e: unknown): boolean {
  return e instanceof ApiError && e.status === 409 && !(e.problem.errors ?? []).some((fe) => fe.field === 'action');
}

/**
 * The dialog of one action: asks for its inputs, sends it with the order's version, and reports the new
 * order. A stale version (409) says so and asks the caller to reload.
 */
export function ActionModal({
  order,
  action,
  onClose,
  onDone,
  onStale,
  mobile,
  defaultUnitId,
}: {
  order: { id: string; version: number; no: string } | null;
  /** Preselected unit for dispatch (the type's default unit). */
  defaultUnitId?: string | null;
  action: WoAction | null;
  onClose: () => void;
  onDone: (o: import('../api').WorkOrder) => void;
  onStale: () => void;
  mobile?: boolean;
}) {
  const t = useT();
  const { message } = App.useApp();
  const [form] = Form.useForm<ActionFormValues>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const units = dispatchUnits(useUnits());
  const open = !!order && !!action;

  useEffect(() => {
    if (open) {
      form.resetFields();
      setError(null);
    }
  }, [open, form, action, order?.id]);
  // The type's default unit is proposed for a dispatch, unless one is chosen already (the type may load
  // after the dialog opened).
  useEffect(() => {
    if (open && action === 'dispatch' && defaultUnitId && !form.getFieldValue('unit_id')) form.setFieldValue('unit_id', defaultUnitId);
  }, [open, form, action, order?.id, defaultUnitId]);

  if (!action) return null;

  const submit = async () => {
    if (!order) return;
    let v: ActionFormValues;
    try {
      v = await form.validateFields();
    } catch {
      return;
    }
    const body: ActionInput = { action, version: order.version };
    const note = v.note?.trim();
    if (note) body.note = note;
    if (action === 'dispatch' || action === 'reassign') body.unit_id = v.unit_id;
    if (action === 'cancel') body.reason = v.reason?.trim();
    if (action === 'merge') body.into = v.into?.trim();
    if (action === 'callback') body.satisfaction = v.satisfaction;
    if (action === 'submit_feedback') {
      body.feedback = {
        result: (v.result ?? '').trim(),
        ...(v.cause?.trim() ? { cause: v.cause.trim() } : {}),
        ...(v.materials?.trim() ? { materials: v.materials.trim() } : {}),
        ...(v.attachments?.length ? { attachments: v.attachments } : {}),
      };
    }
    setBusy(true);
    setError(null);
    try {
      const o = await api.actOnWorkOrder(order.id, body);
      message.success(t('wo.actionDone', { action: actionLabel(t, action) }));
      onDone(o);
    } catch (e) {
      if (isConflict(e)) {
        message.warning(t('wo.stale'));
        setError(t('wo.stale'));
        onStale();
        return;
      }
      if (e instanceof ApiError && e.problem.errors) {
        // feedback.result → result, so the message sits under the input.
        e.problem.errors = e.problem.errors.map((fe) => ({ ...fe, field: fe.field.replace(/^feedback\./, '') }));
      }
      setError(applyProblemToForm(form, e, ['note', 'unit_id', 'reason', 'into', 'satisfaction', 'result', 'cause', 'materials', 'attachments']));
    } finally {
      setBusy(false);
    }
  };

  const req = [{ required: true, message: t('common.required') }];
  const noteRequired = NOTE_REQUIRED.includes(action);
  const large = mobile ? ('large' as const) : undefined;

  return (
    <Modal
      open={open}
      title={`${actionLabel(t, action)} · ${order?.no ?? ''}`}
      onCancel={onClose}
      onOk={submit}
      okText={actionLabel(t, action)}
      cancelText={t('common.cancel')}
      confirmLoading={busy}
      forceRender
      okButtonProps={{ 'data-testid': 'action-submit', size: large, danger: isDangerAction(action) }}
      cancelButtonProps={{ size: large }}
      width={mobile ? '100%' : 560}
      style={mobile ? { top: 8, maxWidth: 'calc(100vw - 16px)' } : undefined}
    >
      {error ? <Alert type="error" showIcon message={<span data-testid="action-error">{error}</span>} style={{ marginBottom: 16 }} /> : null}
      <Form form={form} layout="vertical" data-testid={`action-form-${action}`} size={large}>
        {action === 'dispatch' || action === 'reassign' ? (
          <Form.Item name="unit_id" label={t('wo.unit')} rules={req}>
            <Select
              showSearch
              optionFilterProp="label"
              data-testid="action-unit"
              options={units.map((u) => ({ value: u.id, label: u.name }))}
            />
          </Form.Item>
        ) : null}
        {action === 'submit_feedback' ? (
          <>
            <Form.Item name="result" label={t('wo.fb.result')} rules={req}>
              <Input.TextArea autoSize={{ minRows: 2, maxRows: 6 }} maxLength={2000} data-testid="action-result" />
            </Form.Item>
            <Form.Item name="cause" label={t('wo.fb.cause')}>
              <Input.TextArea autoSize={{ minRows: 1, maxRows: 4 }} maxLength={2000} data-testid="action-cause" />
            </Form.Item>
            <Form.Item name="materials" label={t('wo.fb.materials')}>
              <Input.TextArea autoSize={{ minRows: 1, maxRows: 4 }} maxLength={2000} data-testid="action-materials" />
            </Form.Item>
            <Form.Item name="attachments" label={t('wo.fb.photos')}>
              <AttachmentUpload camera testId="action-photos" />
            </Form.Item>
          </>
        ) : null}
        {action === 'callback' ? (
          <Form.Item name="satisfaction" label={t('wo.satisfaction')} rules={req}>
            <Rate count={5} data-testid="action-satisfaction" />
          </Form.Item>
        ) : null}
        {action === 'cancel' ? (
          <Form.Item name="reason" label={t('wo.reason')} rules={req}>
            <Input.TextArea autoSize={{ minRows: 2, maxRows: 6 }} maxLength={500} data-testid="action-reason" />
          </Form.Item>
        ) : null}
        {action === 'merge' ? (
          <Form.Item name="into" label={t('wo.mergeInto')} rules={req} extra={t('wo.mergeIntoHint')}>
            <Input maxLength={20} placeholder="GD2611260001" data-testid="action-into" />
          </Form.Item>
        ) : null}
        {action !== 'archive' ? (
          <Form.Item name="note" label={t('wo.note')} rules={noteRequired ? req : undefined}>
            <Input.TextArea autoSize={{ minRows: 2, maxRows: 8 }} maxLength={2000} data-testid="action-note" />
          </Form.Item>
        ) : (
          <p>{t('wo.confirmAction', { action: actionLabel(t, action) })}</p>
        )}
      </Form>
    </Modal>
  );
}
