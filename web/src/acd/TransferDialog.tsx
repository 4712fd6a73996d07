// 转接 / 三方: where a call goes (an agent, a queue, a remote site, an extension, an outside number),
// blind or consultative for a transfer.
import { useEffect, useMemo, useState } from 'react';
import { Alert, Form, Input, Modal, Radio, Select, Space, Typography } from 'antd';
import { useUnits } from '../components/workorders';
import { useI18n, type MessageKey } from '../i18n';
import { acdApi, TARGET_KINDS, type Agent, type AgentCall, type QueueInfo, type TargetKind, type TransferTarget } from './api';
import { problemText, StateTag } from './common';

export type TransferPurpose = 'transfer' | 'conference';

interface Values {
  kind: TargetKind;
  target?: string;
  mode: 'blind' | 'consult';
}

export function TransferDialog({
  open,
  purpose,
  call,
  selfId,
  onClose,
  onSubmit,
}: {
  open: boolean;
  purpose: TransferPurpose;
  call: AgentCall | null;
  selfId?: string;
  onClose: () => void;
  /** Runs the command; rejects with the API's error to show it. */
  onSubmit: (to: TransferTarget, mode: 'blind' | 'consult') => Promise<void>;
}) {
  const { t } = useI18n();
  const [form] = Form.useForm<Values>();
  const kind = Form.useWatch('kind', form) ?? 'agent';
  const [agents, setAgents] = useState<Agent[]>([]);
  const [queues, setQueues] = useState<QueueInfo[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const units = useUnits();
  const sites = useMemo(
    () => units.filter((u) => u.active && (u.kind === 'branch_office' || u.kind === 'pipe_network_office' || u.kind === 'repair_crew')),
    [units],
  );

  useEffect(() => {
    if (!open) return;
    setError(null);
    form.resetFields();
    let alive = true;
    acdApi
      .agents()
      .then((as) => alive && setAgents(as))
      .catch(() => undefined);
    acdApi
      .queues()
      .then((qs) => alive && setQueues(qs.filter((q) => q.active !== false)))
      .catch(() => undefined);
    return () => {
      alive = false;
    };
  }, [open, form]);

  // Agents may not read the queue settings: the queues the roster serves stand in.
  const queueOptions = useMemo(() => {
    const keys = new Map<string, string>();
    for (const q of queues) keys.set(q.key, q.name || q.key);
    for (const a of agents) {
      for (const k of a.state?.queues ?? a.queues ?? []) if (!keys.has(k)) keys.set(k, k);
      for (const k of Object.keys(a.skills ?? {})) if (!keys.has(k)) keys.set(k, k);
    }
    return [...keys.entries()].map(([value, label]) => ({ value, label: label === value ? value : `${label} (${value})` }));
  }, [queues, agents]);

  const submit = async () => {
    let v: Values;
    try {
      v = await form.validateFields();
    } catch {
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await onSubmit({ kind: v.kind, target: (v.target ?? '').trim() }, v.mode);
      onClose();
    } catch (e) {
      setError(problemText(e));
    } finally {
      setBusy(false);
    }
  };

  const targetInput = () => {
    switch (kind) {
      case 'agent':
        return (
          <Select
            showSearch
            optionFilterProp="label"
            data-testid="transfer-target"
            placeholder={t('desk.transfer.pickAgent')}
            options={agents
              .filter((a) => a.id !== selfId && a.enabled !== false)
              .map((a) => ({
                value: a.id,
                label: `${a.display_name} ${a.extension ?? ''}`,
                state: a.state?.state ?? 'logged_out',
              }))}
            optionRender={(o) => (
              <Space>
                <span>{o.label}</span>
                <StateTag state={String(o.data.state)} />
              </Space>
            )}
          />
        );
      case 'queue':
        return <Select showSearch optionFilterProp="label" data-testid="transfer-target" options={queueOptions} placeholder={t('desk.transfer.pickQueue')} />;
      case 'site':
        return (
          <Select
            showSearch
            optionFilterProp="label"
            data-testid="transfer-target"
            placeholder={t('desk.transfer.pickSite')}
            options={sites.map((u) => ({ value: u.code, label: `${u.name} (${u.code})` }))}
          />
        );
      case 'extension':
        return <Input data-testid="transfer-target" maxLength={32} placeholder="8002" />;
      default:
        return <Input data-testid="transfer-target" maxLength={32} placeholder="13812345678" inputMode="tel" />;
    }
  };

  return (
    <Modal
      open={open}
      title={purpose === 'transfer' ? t('desk.transfer.title') : t('desk.conference.title')}
      onCancel={onClose}
      onOk={submit}
      okText={purpose === 'transfer' ? t('desk.call.transfer') : t('desk.call.conference')}
      cancelText={t('common.cancel')}
      confirmLoading={busy}
      forceRender
      okButtonProps={{ 'data-testid': 'transfer-submit' } as Record<string, string>}
      cancelButtonProps={{ 'data-testid': 'transfer-close' } as Record<string, string>}
    >
      <div data-testid="transfer-dialog" data-purpose={purpose}>
        {call ? (
          <Typography.Paragraph type="secondary">
            {t('desk.transfer.callOf', { caller: call.caller })}
          </Typography.Paragraph>
        ) : null}
        {error ? <Alert type="error" showIcon message={<span data-testid="transfer-error">{error}</span>} style={{ marginBottom: 12 }} /> : null}
        <Form<Values>
          form={form}
          layout="vertical"
          initialValues={{ kind: 'agent', mode: 'blind' }}
          onValuesChange={(c) => {
            if ('kind' in c) form.setFieldValue('target', undefined);
          }}
        >
          {purpose === 'transfer' ? (
            <Form.Item name="mode" label={t('desk.transfer.mode')}>
              <Radio.Group data-testid="transfer-mode" optionType="button">
                <Radio.Button value="blind">
                  <span data-testid="transfer-mode-blind">{t('desk.transfer.blind')}</span>
                </Radio.Button>
                <Radio.Button value="consult">
                  <span data-testid="transfer-mode-consult">{t('desk.transfer.consult')}</span>
                </Radio.Button>
              </Radio.Group>
            </Form.Item>
          ) : null}
          <Form.Item name="kind" label={t('desk.transfer.kind')}>
            <Radio.Group data-testid="transfer-kind">
              {TARGET_KINDS.map((k) => (
                <Radio value={k} key={k}>
                  <span data-testid={`transfer-kind-${k}`}>{t(`desk.target.${k}` as MessageKey)}</span>
                </Radio>
              ))}
            </Radio.Group>
          </Form.Item>
          <Form.Item
            name="target"
            label={t('desk.transfer.target')}
            rules={[
              { required: true, whitespace: true, message: t('common.required') },
              ...(kind === 'external' ? [{ pattern: /^\+?\d{3,32}$/, message: t('desk.transfer.digitsOnly') }] : []),
            ]}
          >
            {targetInput()}
          </Form.Item>
        </Form>
      </div>
    </Modal>
  );
}
