// The right panel: properties of the selected node, edited in place (every change goes straight into
// the flow, which is validated as it changes).
import { useEffect, useState, type ReactNode } from 'react';
import { Alert, Button, Checkbox, Divider, Form, Input, InputNumber, Popconfirm, Select, Space, Tag, Typography } from 'antd';
import { DeleteOutlined, FlagOutlined, PlusOutlined, SoundOutlined } from '@ant-design/icons';
import { useT, type MessageKey } from '../i18n';
import { ivrUrls, type Issue, type Known, type KnownItem } from './api';
import { branchLabel, issueText, kindLabel } from './FlowNode';
import {
  branches,
  CHANNELS,
  DIGITS_RULES,
  IDENTIFY_BY,
  OPS,
  SAY_AS,
  sortedKeys,
  type IvrNode,
  type Op,
  type PromptRef,
  type SayAs,
  type SayPart,
  type Settings,
  type TransferTarget,
} from './model';

function options(list: KnownItem[], current?: string) {
  const out = list.map((k) => ({ value: k.key, label: k.name && k.name !== k.key ? `${k.name} (${k.key})` : k.key }));
  if (current && !list.some((k) => k.key === current)) out.unshift({ value: current, label: current });
  return out;
}

export function KnownSelect({
  list,
  value,
  onChange,
  testId,
  disabled,
  allowClear,
  placeholder,
}: {
  list: KnownItem[];
  value?: string;
  onChange: (v: string) => void;
  testId: string;
  disabled?: boolean;
  allowClear?: boolean;
  placeholder?: string;
}) {
  return (
    <Select
      showSearch
      allowClear={allowClear}
      disabled={disabled}
      placeholder={placeholder}
      value={value || undefined}
      onChange={(v) => onChange(v ?? '')}
      options={options(list, value)}
      optionFilterProp="label"
      data-testid={testId}
      style={{ width: '100%' }}
    />
  );
}

function PromptList({
  value,
  onChange,
  known,
  testId,
  disabled,
  language = 'zh-CN',
}: {
  value: PromptRef[];
  onChange: (v: PromptRef[]) => void;
  known: Known;
  testId: string;
  disabled?: boolean;
  /** The flow's language: which recording the listen button plays. */
  language?: string;
}) {
  const t = useT();
  const set = (i: number, p: PromptRef) => onChange(value.map((x, j) => (j === i ? p : x)));
  return (
    <div data-testid={testId}>
      {value.map((p, i) => {
        const isPrompt = 'prompt' in p;
        return (
          <Space.Compact key={i} style={{ width: '100%', marginBottom: 4 }}>
            <Select
              value={isPrompt ? 'prompt' : 'text'}
              disabled={disabled}
              style={{ width: 80 }}
              onChange={(k) => set(i, k === 'prompt' ? { prompt: '' } : { text: '' })}
              options={[
                { value: 'text', label: t('ivr.promptText') },
                { value: 'prompt', label: t('ivr.promptKey') },
              ]}
              data-testid={`${testId}-${i}-type`}
            />
            {isPrompt ? (
              <Select
                showSearch
                disabled={disabled}
                placeholder={t('ivr.pickPrompt')}
                value={p.prompt || undefined}
                onChange={(v) => set(i, { prompt: v })}
                options={options(known.prompts, p.prompt)}
                optionFilterProp="label"
                style={{ flex: 1, minWidth: 0 }}
                data-testid={`${testId}-${i}-prompt`}
              />
            ) : (
              <Input.TextArea
                autoSize={{ minRows: 1, maxRows: 4 }}
                disabled={disabled}
                placeholder={t('ivr.textPlaceholder')}
                value={p.text}
                onChange={(e) => set(i, { text: e.target.value })}
                style={{ flex: 1 }}
                data-testid={`${testId}-${i}-text`}
              />
            )}
            {isPrompt && p.prompt ? (
              <Button
                icon={<SoundOutlined />}
                title={t('ivr.listen')}
                aria-label={t('ivr.listen')}
                onClick={() => void new Audio(ivrUrls.promptAudio(p.prompt, language)).play().catch(() => undefined)}
                data-testid={`${testId}-${i}-listen`}
              />
            ) : null}
            <Button
              icon={<DeleteOutlined />}
              disabled={disabled}
              onClick={() => onChange(value.filter((_, j) => j !== i))}
              aria-label={t('ivr.remove')}
            />
          </Space.Compact>
        );
      })}
      <Button
        size="small"
        type="dashed"
        icon={<PlusOutlined />}
        disabled={disabled}
        onClick={() => onChange([...value, { text: '' }])}
        data-testid={`${testId}-add`}
      >
        {t('ivr.addPrompt')}
      </Button>
    </div>
  );
}

function SayParts({
  value,
  onChange,
  known,
  disabled,
}: {
  value: SayPart[];
  onChange: (v: SayPart[]) => void;
  known: Known;
  disabled?: boolean;
}) {
  const t = useT();
  const set = (i: number, p: SayPart) => onChange(value.map((x, j) => (j === i ? p : x)));
  return (
    <div data-testid="ivr-prop-parts">
      {value.map((p, i) => {
        const type = 'prompt' in p ? 'prompt' : 'text' in p ? 'text' : 'var';
        return (
          <Space.Compact key={i} style={{ width: '100%', marginBottom: 4 }}>
            <Select
              value={type}
              disabled={disabled}
              style={{ width: 80 }}
              onChange={(k) => set(i, k === 'prompt' ? { prompt: '' } : k === 'text' ? { text: '' } : { var: '', as: 'number' })}
              options={[
                { value: 'text', label: t('ivr.promptText') },
                { value: 'prompt', label: t('ivr.promptKey') },
                { value: 'var', label: t('ivr.partValue') },
              ]}
            />
            {'prompt' in p ? (
              <Select
                showSearch
                disabled={disabled}
                value={p.prompt || undefined}
                onChange={(v) => set(i, { prompt: v })}
                options={options(known.prompts, p.prompt)}
                style={{ flex: 1, minWidth: 0 }}
              />
            ) : 'text' in p ? (
              <Input disabled={disabled} value={p.text} onChange={(e) => set(i, { text: e.target.value })} style={{ flex: 1 }} />
            ) : (
              <>
                <Input
                  disabled={disabled}
                  value={p.var}
                  placeholder="customer.amount_due"
                  onChange={(e) => set(i, { ...p, var: e.target.value })}
                  style={{ flex: 1 }}
                />
                <Select
                  disabled={disabled}
                  value={p.as}
                  style={{ width: 90 }}
                  onChange={(v: SayAs) => set(i, { ...p, as: v })}
                  options={SAY_AS.map((s) => ({ value: s, label: t(`ivr.sayAs.${s}` as MessageKey) }))}
                />
              </>
            )}
            <Button icon={<DeleteOutlined />} disabled={disabled} onClick={() => onChange(value.filter((_, j) => j !== i))} />
          </Space.Compact>
        );
      })}
      <Button size="small" type="dashed" icon={<PlusOutlined />} disabled={disabled} onClick={() => onChange([...value, { text: '' }])}>
        {t('ivr.addPart')}
      </Button>
    </div>
  );
}

/** Key → template pairs (work-order fields, set values). Keeps row order while typing. */
function PairList({
  value,
  onChange,
  addLabel,
  disabled,
  testId,
}: {
  value: Record<string, string>;
  onChange: (v: Record<string, string>) => void;
  addLabel: string;
  disabled?: boolean;
  testId: string;
}) {
  const [rows, setRows] = useState<[string, string][]>(() => Object.entries(value));
  useEffect(() => {
    // Take outside changes (another node) but keep half-typed rows of our own.
    const cur = Object.fromEntries(rows.filter(([k]) => k));
    if (JSON.stringify(cur) !== JSON.stringify(value)) setRows(Object.entries(value));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [value]);
  const push = (r: [string, string][]) => {
    setRows(r);
    onChange(Object.fromEntries(r.filter(([k]) => k)));
  };
  return (
    <div data-testid={testId}>
      {rows.map(([k, v], i) => (
        <Space.Compact key={i} style={{ width: '100%', marginBottom: 4 }}>
          <Input
            disabled={disabled}
            value={k}
            style={{ width: '40%' }}
            onChange={(e) => push(rows.map((r, j) => (j === i ? [e.target.value, r[1]] : r)))}
          />
          <Input disabled={disabled} value={v} onChange={(e) => push(rows.map((r, j) => (j === i ? [r[0], e.target.value] : r)))} />
          <Button icon={<DeleteOutlined />} disabled={disabled} onClick={() => push(rows.filter((_, j) => j !== i))} />
        </Space.Compact>
      ))}
      <Button size="small" type="dashed" icon={<PlusOutlined />} disabled={disabled} onClick={() => setRows([...rows, ['', '']])}>
        {addLabel}
      </Button>
    </div>
  );
}

function Num({ value, onChange, min, max, disabled, testId }: { value?: number | null; onChange: (v: number) => void; min?: number; max?: number; disabled?: boolean; testId?: string }) {
  return (
    <InputNumber
      disabled={disabled}
      min={min}
      max={max}
      value={value ?? undefined}
      onChange={(v) => onChange(typeof v === 'number' ? v : (min ?? 0))}
      style={{ width: '100%' }}
      data-testid={testId}
    />
  );
}

function Item({ label, children, issues, field }: { label: ReactNode; children: ReactNode; issues?: Issue[]; field?: string }) {
  const t = useT();
  const mine = field ? (issues ?? []).filter((i) => i.field === field || i.field.startsWith(`${field}[`) || i.field.startsWith(`${field}.`)) : [];
  return (
    <Form.Item
      label={label}
      validateStatus={mine.length ? 'error' : undefined}
      help={mine.length ? mine.map((i) => issueText(t, i)).join('；') : undefined}
      style={{ marginBottom: 10 }}
    >
      {children}
    </Form.Item>
  );
}

export interface PropertyFormProps {
  node: IvrNode;
  /** The flow's language (settings.language). */
  language: string;
  isStart: boolean;
  known: Known;
  issues: Issue[];
  readOnly: boolean;
  idTaken: (id: string) => boolean;
  onChange: (n: IvrNode) => void;
  onRename: (id: string) => void;
  onSetStart: () => void;
  onDelete: () => void;
  onSelectTarget: (id: string) => void;
}

export function PropertyForm(p: PropertyFormProps) {
  const t = useT();
  const { node: n, known, readOnly: ro, issues } = p;
  const [idDraft, setIdDraft] = useState(n.id);
  useEffect(() => setIdDraft(n.id), [n.id]);
  const patch = (x: Record<string, unknown>) => p.onChange({ ...n, ...x } as IvrNode);
  const idOk = /^[A-Za-z0-9_-]{1,64}$/.test(idDraft) && (idDraft === n.id || !p.idTaken(idDraft));
  const commitId = () => {
    if (idDraft !== n.id && idOk) p.onRename(idDraft);
    else setIdDraft(n.id);
  };

  let body: ReactNode = null;
  switch (n.kind) {
    case 'play':
      body = (
        <>
          <Item label={t('ivr.prompts.field')} issues={issues} field="prompts">
            <PromptList value={n.prompts} onChange={(v) => patch({ prompts: v })} known={known} language={p.language} testId="ivr-prop-prompts" disabled={ro} />
          </Item>
          <Checkbox checked={n.interruptible ?? true} disabled={ro} onChange={(e) => patch({ interruptible: e.target.checked })}>
            {t('ivr.interruptible')}
          </Checkbox>
        </>
      );
      break;
    case 'hangup':
      body = (
        <Item label={t('ivr.prompts.field')} issues={issues} field="prompts">
          <PromptList value={n.prompts ?? []} onChange={(v) => patch({ prompts: v })} known={known} language={p.language} testId="ivr-prop-prompts" disabled={ro} />
        </Item>
      );
      break;
    case 'menu': {
      const keys = sortedKeys(n.options);
      body = (
        <>
          <Item label={t('ivr.prompts.field')} issues={issues} field="prompts">
            <PromptList value={n.prompts} onChange={(v) => patch({ prompts: v })} known={known} language={p.language} testId="ivr-prop-prompts" disabled={ro} />
          </Item>
          <Item label={t('ivr.options')} issues={issues} field="options">
            <div data-testid="ivr-prop-options">
              {keys.map((k) => (
                <Space key={k} style={{ display: 'flex', marginBottom: 4 }}>
                  <Select
                    disabled={ro}
                    value={k}
                    style={{ width: 70 }}
                    onChange={(nk: string) => {
                      if (nk === k || nk in n.options) return;
                      const o: Record<string, string> = {};
                      for (const kk of keys) o[kk === k ? nk : kk] = n.options[kk];
                      patch({ options: o });
                    }}
                    options={'1234567890*#'.split('').map((x) => ({ value: x, label: x, disabled: x !== k && x in n.options }))}
                  />
                  <Typography.Text type={n.options[k] ? undefined : 'danger'}>→ {n.options[k] || t('ivr.unconnected')}</Typography.Text>
                  <Button
                    size="small"
                    icon={<DeleteOutlined />}
                    disabled={ro}
                    onClick={() => {
                      const o = { ...n.options };
                      delete o[k];
                      patch({ options: o });
                    }}
                  />
                </Space>
              ))}
              <Button
                size="small"
                type="dashed"
                icon={<PlusOutlined />}
                disabled={ro || keys.length >= 12}
                data-testid="ivr-prop-options-add"
                onClick={() => {
                  const free = '1234567890*#'.split('').find((x) => !(x in n.options));
                  if (free) patch({ options: { ...n.options, [free]: '' } });
                }}
              >
                {t('ivr.addOption')}
              </Button>
            </div>
          </Item>
          <Space>
            <Item label={t('ivr.timeoutSecs')} issues={issues} field="timeout_secs">
              <Num value={n.timeout_secs ?? 5} min={1} max={60} disabled={ro} onChange={(v) => patch({ timeout_secs: v })} />
            </Item>
            <Item label={t('ivr.retries')} issues={issues} field="retries">
              <Num value={n.retries ?? 2} min={0} max={9} disabled={ro} onChange={(v) => patch({ retries: v })} />
            </Item>
          </Space>
          <Item label={t('ivr.invalidPrompts')} issues={issues} field="invalid_prompts">
            <PromptList value={n.invalid_prompts ?? []} onChange={(v) => patch({ invalid_prompts: v })} known={known} language={p.language} testId="ivr-prop-invalid" disabled={ro} />
          </Item>
          <Item label={t('ivr.timeoutPrompts')} issues={issues} field="timeout_prompts">
            <PromptList value={n.timeout_prompts ?? []} onChange={(v) => patch({ timeout_prompts: v })} known={known} language={p.language} testId="ivr-prop-timeout" disabled={ro} />
          </Item>
        </>
      );
      break;
    }
    case 'collect':
      body = (
        <>
          <Item label={t('ivr.prompts.field')} issues={issues} field="prompts">
            <PromptList value={n.prompts} onChange={(v) => patch({ prompts: v })} known={known} language={p.language} testId="ivr-prop-prompts" disabled={ro} />
          </Item>
          <Item label={t('ivr.var')} issues={issues} field="var">
            <Input disabled={ro} value={n.var} onChange={(e) => patch({ var: e.target.value })} data-testid="ivr-prop-var" />
          </Item>
          <Space wrap>
            <Item label={t('ivr.minLen')} issues={issues} field="min_len">
              <Num value={n.min_len ?? 1} min={0} max={32} disabled={ro} onChange={(v) => patch({ min_len: v })} />
            </Item>
            <Item label={t('ivr.maxLen')} issues={issues} field="max_len">
              <Num value={n.max_len} min={1} max={32} disabled={ro} onChange={(v) => patch({ max_len: v })} />
            </Item>
            <Item label={t('ivr.terminator')} issues={issues} field="terminator">
              <Select
                disabled={ro}
                style={{ width: 80 }}
                value={n.terminator === undefined ? '#' : (n.terminator ?? '')}
                onChange={(v: string) => patch({ terminator: v || null })}
                options={[
                  { value: '#', label: '#' },
                  { value: '*', label: '*' },
                  { value: '', label: t('common.none') },
                ]}
              />
            </Item>
            <Item label={t('ivr.timeoutSecs')} issues={issues} field="timeout_secs">
              <Num value={n.timeout_secs ?? 5} min={1} max={60} disabled={ro} onChange={(v) => patch({ timeout_secs: v })} />
            </Item>
            <Item label={t('ivr.interDigitSecs')} issues={issues} field="inter_digit_secs">
              <Num value={n.inter_digit_secs ?? 3} min={1} max={30} disabled={ro} onChange={(v) => patch({ inter_digit_secs: v })} />
            </Item>
            <Item label={t('ivr.retries')} issues={issues} field="retries">
              <Num value={n.retries ?? 2} min={0} max={9} disabled={ro} onChange={(v) => patch({ retries: v })} />
            </Item>
          </Space>
          <Item label={t('ivr.rule')}>
            <Select
              disabled={ro}
              value={n.rule ?? 'any'}
              onChange={(v) => patch({ rule: v })}
              options={DIGITS_RULES.map((r) => ({ value: r, label: t(`ivr.rule.${r}` as MessageKey) }))}
            />
          </Item>
          <Item label={t('ivr.invalidPrompts')} issues={issues} field="invalid_prompts">
            <PromptList value={n.invalid_prompts ?? []} onChange={(v) => patch({ invalid_prompts: v })} known={known} language={p.language} testId="ivr-prop-invalid" disabled={ro} />
          </Item>
        </>
      );
      break;
    case 'identify':
      body = (
        <>
          <Item label={t('ivr.by')}>
            <Select
              disabled={ro}
              value={n.by}
              onChange={(v) => patch({ by: v })}
              options={IDENTIFY_BY.map((r) => ({ value: r, label: t(`ivr.by.${r}` as MessageKey) }))}
            />
          </Item>
          <Item label={t('ivr.entryPrompts')} issues={issues} field="entry_prompts">
            <PromptList value={n.entry_prompts ?? []} onChange={(v) => patch({ entry_prompts: v })} known={known} language={p.language} testId="ivr-prop-entry" disabled={ro} />
          </Item>
          <Space>
            <Item label={t('ivr.confirmDigits')} issues={issues} field="confirm_digits">
              <Num value={n.confirm_digits ?? 0} min={0} max={8} disabled={ro} onChange={(v) => patch({ confirm_digits: v })} />
            </Item>
            <Item label={t('ivr.retries')} issues={issues} field="retries">
              <Num value={n.retries ?? 2} min={0} max={9} disabled={ro} onChange={(v) => patch({ retries: v })} />
            </Item>
          </Space>
          <Item label={t('ivr.confirmPrompts')} issues={issues} field="confirm_prompts">
            <PromptList value={n.confirm_prompts ?? []} onChange={(v) => patch({ confirm_prompts: v })} known={known} language={p.language} testId="ivr-prop-confirm" disabled={ro} />
          </Item>
          <Item label={t('ivr.invalidPrompts')} issues={issues} field="invalid_prompts">
            <PromptList value={n.invalid_prompts ?? []} onChange={(v) => patch({ invalid_prompts: v })} known={known} language={p.language} testId="ivr-prop-invalid" disabled={ro} />
          </Item>
        </>
      );
      break;
    case 'say':
      body = (
        <Item label={t('ivr.prompts.field')} issues={issues} field="parts">
          <SayParts value={n.parts} onChange={(v) => patch({ parts: v })} known={known} disabled={ro} />
        </Item>
      );
      break;
    case 'record':
      body = (
        <>
          <Item label={t('ivr.prompts.field')} issues={issues} field="prompts">
            <PromptList value={n.prompts} onChange={(v) => patch({ prompts: v })} known={known} language={p.language} testId="ivr-prop-prompts" disabled={ro} />
          </Item>
          <Item label={t('ivr.var')} issues={issues} field="var">
            <Input disabled={ro} value={n.var ?? 'recording'} onChange={(e) => patch({ var: e.target.value })} />
          </Item>
          <Space>
            <Item label={t('ivr.maxSecs')} issues={issues} field="max_secs">
              <Num value={n.max_secs ?? 60} min={1} max={600} disabled={ro} onChange={(v) => patch({ max_secs: v })} />
            </Item>
            <Item label={t('ivr.silenceSecs')} issues={issues} field="silence_secs">
              <Num value={n.silence_secs ?? 4} min={1} max={60} disabled={ro} onChange={(v) => patch({ silence_secs: v })} />
            </Item>
          </Space>
          <Checkbox checked={n.beep ?? true} disabled={ro} onChange={(e) => patch({ beep: e.target.checked })}>
            {t('ivr.beep')}
          </Checkbox>
        </>
      );
      break;
    case 'create_work_order':
      body = (
        <>
          <Item label={t('ivr.orderType')} issues={issues} field="order_type">
            <KnownSelect list={known.order_types} value={n.order_type} disabled={ro} onChange={(v) => patch({ order_type: v })} testId="ivr-prop-order-type" />
          </Item>
          <Item label={t('ivr.priority')} issues={issues} field="priority">
            <Select
              disabled={ro}
              value={n.priority ?? ''}
              onChange={(v) => patch({ priority: v })}
              options={[
                { value: '', label: t('ivr.priorityAuto') },
                ...['emergency', 'urgent', 'normal', 'low'].map((x) => ({ value: x, label: t(`woPriority.${x}` as MessageKey) })),
              ]}
            />
          </Item>
          <Item label={t('ivr.title')} issues={issues} field="title">
            <Input disabled={ro} value={n.title} onChange={(e) => patch({ title: e.target.value })} data-testid="ivr-prop-title" />
          </Item>
          <Item label={t('ivr.description')} issues={issues} field="description">
            <Input.TextArea disabled={ro} autoSize={{ minRows: 2 }} value={n.description ?? ''} onChange={(e) => patch({ description: e.target.value })} />
          </Item>
          <Item label={t('ivr.attach')} issues={issues} field="attach">
            <Input disabled={ro} value={n.attach ?? ''} placeholder="recording" onChange={(e) => patch({ attach: e.target.value })} />
          </Item>
          <Item label={t('ivr.fields')} issues={issues} field="fields">
            <PairList value={n.fields ?? {}} onChange={(v) => patch({ fields: v })} addLabel={t('ivr.addField')} disabled={ro} testId="ivr-prop-fields" />
          </Item>
          <Checkbox checked={n.sms ?? true} disabled={ro} onChange={(e) => patch({ sms: e.target.checked })}>
            {t('ivr.sms')}
          </Checkbox>
        </>
      );
      break;
    case 'order_status':
      body = (
        <>
          <Item label={t('ivr.orderBy')}>
            <Select
              disabled={ro}
              value={n.by}
              onChange={(v) => patch({ by: v })}
              options={(['order_no', 'customer'] as const).map((r) => ({ value: r, label: t(`ivr.orderBy.${r}`) }))}
            />
          </Item>
          {n.by === 'order_no' ? (
            <Item label={t('ivr.var')} issues={issues} field="var">
              <Input disabled={ro} value={n.var ?? ''} placeholder="order_no" onChange={(e) => patch({ var: e.target.value })} />
            </Item>
          ) : null}
        </>
      );
      break;
    case 'send_document':
      body = (
        <>
          <Item label={t('ivr.channel')}>
            <Select
              disabled={ro}
              value={n.channel}
              onChange={(v) => patch({ channel: v })}
              options={CHANNELS.map((c) => ({ value: c, label: t(`ivr.channel.${c}` as MessageKey) }))}
            />
          </Item>
          <Item label={t('ivr.document')} issues={issues} field="document">
            <KnownSelect list={known.documents} value={n.document} disabled={ro} onChange={(v) => patch({ document: v })} testId="ivr-prop-document" />
          </Item>
          <Item label={t('ivr.toVar')} issues={issues} field="to_var">
            <Input disabled={ro} value={n.to_var ?? ''} onChange={(e) => patch({ to_var: e.target.value })} />
          </Item>
        </>
      );
      break;
    case 'hours':
      body = (
        <Item label={t('ivr.calendar')} issues={issues} field="calendar">
          <KnownSelect list={known.calendars} value={n.calendar} disabled={ro} onChange={(v) => patch({ calendar: v })} testId="ivr-prop-calendar" />
        </Item>
      );
      break;
    case 'condition':
      body = (
        <Item label={t('ivr.rules')} issues={issues} field="rules">
          <div data-testid="ivr-prop-rules">
            {n.rules.map((r, i) => (
              <Space.Compact key={i} style={{ width: '100%', marginBottom: 4 }}>
                <Input
                  disabled={ro}
                  value={r.var}
                  placeholder="customer.amount_due"
                  onChange={(e) => patch({ rules: n.rules.map((x, j) => (j === i ? { ...x, var: e.target.value } : x)) })}
                />
                <Select
                  disabled={ro}
                  value={r.op}
                  style={{ width: 80 }}
                  onChange={(v: Op) => patch({ rules: n.rules.map((x, j) => (j === i ? { ...x, op: v } : x)) })}
                  options={OPS.map((o) => ({ value: o, label: o }))}
                />
                <Input
                  disabled={ro || r.op === 'set' || r.op === 'unset'}
                  value={r.value ?? ''}
                  style={{ width: 90 }}
                  onChange={(e) => patch({ rules: n.rules.map((x, j) => (j === i ? { ...x, value: e.target.value } : x)) })}
                />
                <Button icon={<DeleteOutlined />} disabled={ro} onClick={() => patch({ rules: n.rules.filter((_, j) => j !== i) })} />
              </Space.Compact>
            ))}
            <Button
              size="small"
              type="dashed"
              icon={<PlusOutlined />}
              disabled={ro}
              onClick={() => patch({ rules: [...n.rules, { var: '', op: 'eq', value: '', next: '' }] })}
            >
              {t('ivr.addRule')}
            </Button>
          </div>
        </Item>
      );
      break;
    case 'set':
      body = (
        <Item label={t('ivr.values')} issues={issues} field="values">
          <PairList value={n.values} onChange={(v) => patch({ values: v })} addLabel={t('ivr.addValue')} disabled={ro} testId="ivr-prop-values" />
        </Item>
      );
      break;
    case 'transfer': {
      const tg = n.target;
      const setTarget = (x: TransferTarget) => patch({ target: x });
      body = (
        <>
          <Item label={t('ivr.target')}>
            <Select
              disabled={ro}
              value={tg.to}
              data-testid="ivr-prop-target"
              onChange={(to: TransferTarget['to']) =>
                setTarget(
                  to === 'queue'
                    ? { to, queue: '', priority: 0 }
                    : to === 'extension'
                      ? { to, extension: '' }
                      : to === 'site'
                        ? { to, site: '' }
                        : { to, number: '' },
                )
              }
              options={(['queue', 'extension', 'site', 'external'] as const).map((x) => ({ value: x, label: t(`ivr.target.${x}`) }))}
            />
          </Item>
          {tg.to === 'queue' ? (
            <>
              <Item label={t('ivr.queue')} issues={issues} field="target.queue">
                <KnownSelect list={known.queues} value={tg.queue} disabled={ro} onChange={(v) => setTarget({ ...tg, queue: v })} testId="ivr-prop-queue" />
              </Item>
              <Item label={t('ivr.queuePriority')} issues={issues} field="target.priority">
                <Num value={tg.priority ?? 0} min={0} max={9} disabled={ro} onChange={(v) => setTarget({ ...tg, priority: v })} />
              </Item>
            </>
          ) : tg.to === 'extension' ? (
            <Item label={t('ivr.extension')} issues={issues} field="target.extension">
              <KnownSelect list={known.extensions} value={tg.extension} disabled={ro} onChange={(v) => setTarget({ ...tg, extension: v })} testId="ivr-prop-extension" />
            </Item>
          ) : tg.to === 'site' ? (
            <Item label={t('ivr.site')} issues={issues} field="target.site">
              <KnownSelect list={known.sites} value={tg.site} disabled={ro} onChange={(v) => setTarget({ ...tg, site: v })} testId="ivr-prop-site" />
            </Item>
          ) : (
            <Item label={t('ivr.number')} issues={issues} field="target.number">
              <Input disabled={ro} value={tg.number} onChange={(e) => setTarget({ ...tg, number: e.target.value })} />
            </Item>
          )}
          <Item label={t('ivr.ringSecs')} issues={issues} field="timeout_secs">
            <Num value={n.timeout_secs ?? 30} min={5} max={600} disabled={ro} onChange={(v) => patch({ timeout_secs: v })} />
          </Item>
        </>
      );
      break;
    }
    case 'survey':
      body = (
        <>
          <Item label={t('ivr.prompts.field')} issues={issues} field="prompts">
            <PromptList value={n.prompts} onChange={(v) => patch({ prompts: v })} known={known} language={p.language} testId="ivr-prop-prompts" disabled={ro} />
          </Item>
          <Space>
            <Item label={t('ivr.surveyMax')} issues={issues} field="max">
              <Num value={n.max ?? 5} min={1} max={9} disabled={ro} onChange={(v) => patch({ max: v })} />
            </Item>
            <Item label={t('ivr.retries')} issues={issues} field="retries">
              <Num value={n.retries ?? 2} min={0} max={9} disabled={ro} onChange={(v) => patch({ retries: v })} />
            </Item>
          </Space>
          <Item label={t('ivr.invalidPrompts')} issues={issues} field="invalid_prompts">
            <PromptList value={n.invalid_prompts ?? []} onChange={(v) => patch({ invalid_prompts: v })} known={known} language={p.language} testId="ivr-prop-invalid" disabled={ro} />
          </Item>
        </>
      );
      break;
  }

  const br = branches(n);
  return (
    <Form layout="vertical" size="small" data-testid="ivr-props" component="div">
      <Space style={{ marginBottom: 8 }} wrap>
        <Tag color="blue">{kindLabel(t, n.kind)}</Tag>
        {p.isStart ? (
          <Tag color="green" data-testid="ivr-prop-is-start">
            {t('ivr.isStart')}
          </Tag>
        ) : (
          <Button size="small" icon={<FlagOutlined />} disabled={ro} onClick={p.onSetStart} data-testid="ivr-set-start">
            {t('ivr.setStart')}
          </Button>
        )}
        <Popconfirm title={t('ivr.deleteNode')} onConfirm={p.onDelete} disabled={ro}>
          <Button size="small" danger icon={<DeleteOutlined />} disabled={ro} data-testid="ivr-delete-node">
            {t('ivr.deleteNode')}
          </Button>
        </Popconfirm>
      </Space>
      <Item label={t('ivr.nodeId')} issues={issues} field="id">
        <Input
          disabled={ro}
          value={idDraft}
          status={idOk ? undefined : 'error'}
          onChange={(e) => setIdDraft(e.target.value)}
          onBlur={commitId}
          onPressEnter={commitId}
          data-testid="ivr-prop-id"
        />
      </Item>
      <Item label={t('ivr.label')} issues={issues} field="label">
        <Input disabled={ro} value={n.label ?? ''} onChange={(e) => patch({ label: e.target.value })} data-testid="ivr-prop-label" />
      </Item>
      {body}
      {br.length ? (
        <>
          <Divider style={{ margin: '12px 0 8px' }}>{t('ivr.branches')}</Divider>
          {br.map(([b, target]) => (
            <div key={b} style={{ fontSize: 12 }} data-testid="ivr-prop-branch" data-branch={b}>
              {branchLabel(t, b)} →{' '}
              {target ? (
                <Typography.Link onClick={() => p.onSelectTarget(target)}>{target}</Typography.Link>
              ) : (
                <Typography.Text type="danger">{t('ivr.unconnected')}</Typography.Text>
              )}
            </div>
          ))}
        </>
      ) : null}
      {issues.length ? (
        <Alert
          style={{ marginTop: 12 }}
          type="error"
          showIcon
          data-testid="ivr-prop-issues"
          message={
            <ul style={{ margin: 0, paddingInlineStart: 16 }}>
              {issues.map((i, k) => (
                <li key={k}>{issueText(t, i)}</li>
              ))}
            </ul>
          }
        />
      ) : null}
    </Form>
  );
}

export function SettingsForm({
  settings,
  onChange,
  known,
  issues,
  readOnly,
}: {
  settings: Settings;
  onChange: (s: Settings) => void;
  known: Known;
  issues: Issue[];
  readOnly: boolean;
}) {
  const t = useT();
  return (
    <Form layout="vertical" size="small" data-testid="ivr-settings" component="div">
      <Typography.Paragraph type="secondary">{t('ivr.noSelection')}</Typography.Paragraph>
      <Divider style={{ margin: '8px 0' }}>{t('ivr.settings')}</Divider>
      <Item label={t('ivr.language')} issues={issues} field="settings.language">
        <Select
          disabled={readOnly}
          value={settings.language}
          onChange={(v) => onChange({ ...settings, language: v })}
          options={[
            { value: 'zh-CN', label: '中文' },
            { value: 'en', label: 'English' },
          ]}
        />
      </Item>
      <Item label={t('ivr.maxSteps')} issues={issues} field="settings.max_steps_without_input">
        <Num
          value={settings.max_steps_without_input}
          min={5}
          max={1000}
          disabled={readOnly}
          onChange={(v) => onChange({ ...settings, max_steps_without_input: v })}
        />
      </Item>
      <Item label={t('ivr.fallbackQueue')} issues={issues} field="settings.fallback_queue">
        <KnownSelect
          list={known.queues}
          value={settings.fallback_queue}
          disabled={readOnly}
          onChange={(v) => onChange({ ...settings, fallback_queue: v })}
          testId="ivr-settings-fallback"
        />
      </Item>
    </Form>
  );
}
