// The softphone bar at the top of the agent desktop: the agent's state and time in it, sign in/out,
// ready / not ready with a reason, and the controls of the current call (enabled by its state).
import { useEffect, useMemo, useState } from 'react';
import { App, Badge, Button, Card, Checkbox, Divider, Form, Input, Modal, Popover, Radio, Select, Space, Tag, Tooltip, Typography } from 'antd';
import {
  AudioMutedOutlined,
  AudioOutlined,
  CheckOutlined,
  CloseOutlined,
  CoffeeOutlined,
  LoginOutlined,
  LogoutOutlined,
  NumberOutlined,
  PauseCircleOutlined,
  PhoneOutlined,
  PlayCircleOutlined,
  ShareAltOutlined,
  SwapOutlined,
  TeamOutlined,
  UsergroupAddOutlined,
} from '@ant-design/icons';
import { useI18n, type MessageKey } from '../i18n';
import { acdApi, type Agent, type AgentCall, type AgentState, type CallAction, type CallCommandBody, type Reason, type TransferTarget } from './api';
import { fmtClock, problemText, since, StateTag, useReasonLabel, useTick } from './common';
import { TransferDialog, type TransferPurpose } from './TransferDialog';
import type { CtiStatus } from './useCti';

type PhoneKind = 'own' | 'extension' | 'site' | 'external';

const NOT_CHOOSABLE = new Set(['missed', 'forced', 'login']);
const DTMF_KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'];

function keyId(k: string): string {
  return k === '*' ? 'star' : k === '#' ? 'hash' : k;
}

/** The call the controls act on: a ringing one first (to answer it), else the first. */
export function currentCall(calls: AgentCall[]): AgentCall | null {
  return calls.find((c) => c.state === 'ringing') ?? calls[0] ?? null;
}

export function SoftphoneBar({
  agent,
  calls,
  reasons,
  ctiStatus,
  onState,
  onCall,
  refetchCalls,
}: {
  agent: Agent;
  calls: AgentCall[];
  reasons: Reason[];
  ctiStatus: CtiStatus;
  onState: (s: AgentState) => void;
  onCall: (c: AgentCall) => void;
  refetchCalls: () => void;
}) {
  const { t } = useI18n();
  const { message } = App.useApp();
  const now = useTick(1000);
  const reasonLabel = useReasonLabel(reasons);
  const [busy, setBusy] = useState<string | null>(null);
  const [reason, setReason] = useState<string>('break');
  const [loginOpen, setLoginOpen] = useState(false);
  const [transfer, setTransfer] = useState<TransferPurpose | null>(null);
  const [dtmfOpen, setDtmfOpen] = useState(false);
  const [dialed, setDialed] = useState('');

  const st = agent.state ?? { state: 'logged_out' };
  const state = st.state;
  const loggedIn = state !== 'logged_out';
  const busyWithCall = state === 'reserved' || state === 'on_call' || state === 'wrap_up';
  const call = currentCall(calls);
  const cs = call?.state;

  // The picker follows the reason the agent is in (or will be in).
  const current = st.pending || (state === 'not_ready' ? st.reason : null);
  useEffect(() => {
    if (current && !NOT_CHOOSABLE.has(current)) setReason(current);
  }, [current]);

  const choosable = useMemo(() => {
    const list = reasons.filter((r) => r.choosable !== false && !NOT_CHOOSABLE.has(r.code));
    return list.length ? list.map((r) => r.code) : ['break', 'meal', 'training', 'meeting', 'other'];
  }, [reasons]);

  const act = async (key: string, f: () => Promise<unknown>, ok?: MessageKey) => {
    setBusy(key);
    try {
      await f();
      if (ok) message.success(t(ok));
    } catch (e) {
      message.error(problemText(e));
    } finally {
      setBusy(null);
    }
  };

  const setState = (s: 'ready' | 'not_ready') =>
    act(s === 'ready' ? 'ready' : 'not_ready', async () => {
      const r = await acdApi.setState(s, s === 'not_ready' ? reason : undefined);
      onState(r);
      if (s === 'not_ready' && busyWithCall) message.info(t('desk.pendingSet', { reason: reasonLabel(reason) }));
    });

  const command = (action: CallAction, body?: CallCommandBody) => {
    if (!call) return Promise.resolve();
    return act(action, async () => {
      const r = await acdApi.command(call.id, action, body);
      if (r && typeof r === 'object' && 'id' in r && 'state' in r) onCall(r as AgentCall);
      refetchCalls();
    });
  };

  const submitTransfer = async (to: TransferTarget, mode: 'blind' | 'consult') => {
    if (!call) return;
    const r =
      transfer === 'conference'
        ? await acdApi.command(call.id, 'conference', { to })
        : await acdApi.command(call.id, 'transfer', { to, mode });
    if (r && typeof r === 'object' && 'id' in r && 'state' in r) onCall(r as AgentCall);
    refetchCalls();
    message.success(t(transfer === 'conference' ? 'desk.conference.started' : mode === 'consult' ? 'desk.transfer.consulting' : 'desk.transfer.done'));
  };

  const inState = since(st.since, now);
  const wrapLeft = state === 'wrap_up' && st.until ? Date.parse(st.until) - now : null;
  const ringLeft = state === 'reserved' && st.until ? Date.parse(st.until) - now : null;
  const talkFrom = call?.answered_at ?? (cs === 'ringing' ? call?.started_at : null);

  const dtmfPad = (
    <div data-testid="dtmf-pad" style={{ width: 180 }}>
      <Input value={dialed} readOnly size="small" style={{ marginBottom: 8, fontFamily: 'monospace' }} data-testid="dtmf-dialed" />
      <div style={{ display: 'grid', gridTemplateColumns: 'repeat(3, 1fr)', gap: 6 }}>
        {DTMF_KEYS.map((k) => (
          <Button
            key={k}
            data-testid={`dtmf-key-${keyId(k)}`}
            onClick={() => {
              setDialed((d) => (d + k).slice(-24));
              void command('dtmf', { digits: k });
            }}
          >
            {k}
          </Button>
        ))}
      </div>
    </div>
  );

  const ctiColor = ctiStatus === 'open' ? 'success' : ctiStatus === 'connecting' ? 'processing' : 'error';

  return (
    <Card size="small" data-testid="softphone-bar" styles={{ body: { padding: '10px 16px' } }}>
      <Space wrap size={[12, 8]} style={{ width: '100%', justifyContent: 'space-between' }}>
        <Space wrap size={[12, 8]}>
          <Tooltip title={t(`desk.cti.${ctiStatus}` as MessageKey)}>
            <Badge status={ctiColor} data-testid="cti-status" data-status={ctiStatus} />
          </Tooltip>
          <Typography.Text strong data-testid="agent-name">
            {agent.display_name}
            {agent.extension ? <Typography.Text type="secondary"> · {agent.extension}</Typography.Text> : null}
          </Typography.Text>
          <span style={{ fontSize: 16 }}>
            <StateTag state={state} reason={state === 'not_ready' ? reasonLabel(st.reason) : undefined} testId="agent-state" />
          </span>
          <Typography.Text code data-testid="agent-state-time" title={t('desk.timeInState')}>
            {fmtClock(inState)}
          </Typography.Text>
          {st.pending ? (
            <Tag color="orange" data-testid="agent-state-pending">
              {t('desk.pending', { reason: reasonLabel(st.pending) })}
            </Tag>
          ) : null}
          {ringLeft !== null ? (
            <Tag color="blue" data-testid="ring-countdown">
              {t('desk.ringing', { s: Math.max(0, Math.ceil(ringLeft / 1000)) })}
            </Tag>
          ) : null}
          {loggedIn && st.phone ? (
            <Typography.Text type="secondary" data-testid="agent-phone">
              {t('desk.phoneAt', { phone: st.phone })}
            </Typography.Text>
          ) : null}
        </Space>
        <Space wrap size={[8, 8]}>
          {!loggedIn ? (
            <Button type="primary" icon={<LoginOutlined />} onClick={() => setLoginOpen(true)} data-testid="agent-login">
              {t('desk.login')}
            </Button>
          ) : (
            <>
              <Button
                type={state === 'not_ready' ? 'primary' : 'default'}
                icon={<CheckOutlined />}
                disabled={!(state === 'not_ready' || (busyWithCall && !!st.pending && state !== 'wrap_up'))}
                loading={busy === 'ready'}
                onClick={() => void setState('ready')}
                data-testid="state-ready"
              >
                {busyWithCall && st.pending ? t('desk.cancelPending') : t('desk.ready')}
              </Button>
              <Select
                value={reason}
                onChange={setReason}
                style={{ width: 110 }}
                data-testid="state-reason"
                options={choosable.map((c) => ({ value: c, label: reasonLabel(c) }))}
                aria-label={t('desk.reason')}
              />
              <Button
                icon={<CoffeeOutlined />}
                loading={busy === 'not_ready'}
                onClick={() => void setState('not_ready')}
                data-testid="state-not-ready"
              >
                {t('desk.notReady')}
              </Button>
              <Button
                icon={<LogoutOutlined />}
                disabled={busyWithCall}
                loading={busy === 'logout'}
                onClick={() =>
                  void act('logout', async () => {
                    onState(await acdApi.logout());
                  })
                }
                data-testid="agent-logout"
              >
                {t('desk.logout')}
              </Button>
            </>
          )}
        </Space>
      </Space>

      {loggedIn ? (
        <>
          <Divider style={{ margin: '10px 0' }} />
          <Space wrap size={[8, 8]} data-testid="call-controls" data-call-state={cs ?? 'idle'} data-call-id={call?.id ?? ''}>
            <Typography.Text data-testid="call-caller" strong style={{ minWidth: 110, display: 'inline-block' }}>
              {call ? (
                <>
                  <PhoneOutlined /> {call.caller}
                </>
              ) : (
                <Typography.Text type="secondary">{t('desk.noCall')}</Typography.Text>
              )}
            </Typography.Text>
            {call ? <Tag data-testid="call-state">{t(`desk.callState.${call.state}` as MessageKey)}</Tag> : null}
            <Typography.Text code data-testid="call-timer" title={t('desk.talkTime')}>
              {talkFrom ? fmtClock(since(talkFrom, now)) : '0:00'}
            </Typography.Text>
            <Button
              type="primary"
              icon={<PhoneOutlined />}
              disabled={cs !== 'ringing'}
              loading={busy === 'answer'}
              onClick={() => void command('answer')}
              data-testid="call-answer"
              style={cs === 'ringing' ? { background: '#52c41a' } : undefined}
            >
              {t('desk.call.answer')}
            </Button>
            {cs === 'held' ? (
              <Button icon={<PlayCircleOutlined />} loading={busy === 'resume'} onClick={() => void command('resume')} data-testid="call-resume">
                {t('desk.call.resume')}
              </Button>
            ) : (
              <Button
                icon={<PauseCircleOutlined />}
                disabled={!(cs === 'talking' || cs === 'conference')}
                loading={busy === 'hold'}
                onClick={() => void command('hold')}
                data-testid="call-hold"
              >
                {t('desk.call.hold')}
              </Button>
            )}
            {call?.muted ? (
              <Button icon={<AudioOutlined />} loading={busy === 'unmute'} onClick={() => void command('unmute')} data-testid="call-unmute">
                {t('desk.call.unmute')}
              </Button>
            ) : (
              <Button
                icon={<AudioMutedOutlined />}
                disabled={!call || cs === 'ringing'}
                loading={busy === 'mute'}
                onClick={() => void command('mute')}
                data-testid="call-mute"
              >
                {t('desk.call.mute')}
              </Button>
            )}
            {cs === 'consulting' ? (
              <>
                <Button
                  type="primary"
                  icon={<SwapOutlined />}
                  loading={busy === 'transfer-complete'}
                  onClick={() => void command('transfer-complete')}
                  data-testid="call-transfer-complete"
                >
                  {t('desk.call.transferComplete')}
                </Button>
                <Button
                  icon={<CloseOutlined />}
                  loading={busy === 'transfer-cancel'}
                  onClick={() => void command('transfer-cancel')}
                  data-testid="call-transfer-cancel"
                >
                  {t('desk.call.transferCancel')}
                </Button>
              </>
            ) : (
              <Button
                icon={<ShareAltOutlined />}
                disabled={!(cs === 'talking' || cs === 'held' || cs === 'conference')}
                onClick={() => setTransfer('transfer')}
                data-testid="call-transfer"
              >
                {t('desk.call.transfer')}
              </Button>
            )}
            <Button
              icon={<UsergroupAddOutlined />}
              disabled={!(cs === 'talking' || cs === 'held' || cs === 'conference')}
              onClick={() => setTransfer('conference')}
              data-testid="call-conference"
            >
              {t('desk.call.conference')}
            </Button>
            <Popover trigger="click" open={dtmfOpen && !!call && cs !== 'ringing'} onOpenChange={setDtmfOpen} content={dtmfPad} title={t('desk.call.dtmf')}>
              <Button icon={<NumberOutlined />} disabled={!call || cs === 'ringing' || cs === 'held'} data-testid="call-dtmf">
                {t('desk.call.dtmf')}
              </Button>
            </Popover>
            {call?.recording ? (
              <Button
                icon={<PauseCircleOutlined />}
                loading={busy === 'recording'}
                onClick={() => void command('recording', { paused: true })}
                data-testid="call-recording-pause"
              >
                {t('desk.call.recordingPause')}
              </Button>
            ) : (
              <Button
                icon={<PlayCircleOutlined />}
                disabled={!call || cs === 'ringing'}
                loading={busy === 'recording'}
                onClick={() => void command('recording', { paused: false })}
                data-testid="call-recording-resume"
              >
                {t('desk.call.recordingResume')}
              </Button>
            )}
            <Button
              danger
              type="primary"
              icon={<PhoneOutlined rotate={135} />}
              disabled={!call}
              loading={busy === 'hangup'}
              onClick={() => void command('hangup')}
              data-testid="call-hangup"
            >
              {t('desk.call.hangup')}
            </Button>
            {call && (call.legs ?? 0) > 2 ? (
              <Tag icon={<TeamOutlined />} data-testid="call-legs">
                {t('desk.call.parties', { n: call.legs ?? 0 })}
              </Tag>
            ) : null}
            {state === 'wrap_up' ? (
              <>
                <Tag color="purple" data-testid="wrapup-countdown">
                  {t('desk.wrapUpLeft', { t: wrapLeft !== null ? fmtClock(wrapLeft) : '—' })}
                </Tag>
                <Button
                  type="primary"
                  loading={busy === 'ready'}
                  onClick={() => void setState('ready')}
                  data-testid="wrapup-end"
                >
                  {t('desk.endWrapUp')}
                </Button>
              </>
            ) : null}
          </Space>
        </>
      ) : null}

      <LoginDialog
        open={loginOpen}
        extension={agent.extension ?? null}
        onClose={() => setLoginOpen(false)}
        onDone={(s) => {
          onState(s);
          setLoginOpen(false);
        }}
      />
      <TransferDialog
        open={transfer !== null}
        purpose={transfer ?? 'transfer'}
        call={call}
        selfId={agent.id}
        onClose={() => setTransfer(null)}
        onSubmit={submitTransfer}
      />
    </Card>
  );
}

function LoginDialog({
  open,
  extension,
  onClose,
  onDone,
}: {
  open: boolean;
  extension: string | null;
  onClose: () => void;
  onDone: (s: AgentState) => void;
}) {
  const { t } = useI18n();
  const [form] = Form.useForm<{ kind: PhoneKind; number?: string; ready: boolean }>();
  const kind = Form.useWatch('kind', form) ?? 'own';
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async () => {
    let v: { kind: PhoneKind; number?: string; ready: boolean };
    try {
      v = await form.validateFields();
    } catch {
      return;
    }
    const n = (v.number ?? '').trim();
    const phone = v.kind === 'own' ? undefined : v.kind === 'extension' ? n : `${v.kind}:${n}`;
    setBusy(true);
    setError(null);
    try {
      onDone(await acdApi.login({ ...(phone ? { phone } : {}), ready: !!v.ready }));
      form.resetFields();
    } catch (e) {
      setError(problemText(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal
      open={open}
      title={t('desk.login')}
      onCancel={onClose}
      onOk={submit}
      okText={t('desk.login')}
      cancelText={t('common.cancel')}
      confirmLoading={busy}
      forceRender
      okButtonProps={{ 'data-testid': 'login-submit' } as Record<string, string>}
    >
      <div data-testid="login-dialog">
        {error ? (
          <Typography.Paragraph type="danger" data-testid="login-error">
            {error}
          </Typography.Paragraph>
        ) : null}
        <Form form={form} layout="vertical" initialValues={{ kind: extension ? 'own' : 'extension', ready: true }}>
          <Form.Item name="kind" label={t('desk.loginPhone')}>
            <Radio.Group data-testid="login-phone-kind">
              <Radio value="own" disabled={!extension}>
                <span data-testid="login-phone-own">
                  {t('desk.phone.own')}
                  {extension ? ` (${extension})` : ''}
                </span>
              </Radio>
              <Radio value="extension">
                <span data-testid="login-phone-extension">{t('desk.phone.extension')}</span>
              </Radio>
              <Radio value="site">
                <span data-testid="login-phone-site">{t('desk.phone.site')}</span>
              </Radio>
              <Radio value="external">
                <span data-testid="login-phone-external">{t('desk.phone.external')}</span>
              </Radio>
            </Radio.Group>
          </Form.Item>
          {kind !== 'own' ? (
            <Form.Item
              name="number"
              label={t(kind === 'external' ? 'desk.phone.externalNumber' : kind === 'site' ? 'desk.phone.siteNumber' : 'desk.phone.extensionNumber')}
              rules={[
                { required: true, whitespace: true, message: t('common.required') },
                { pattern: /^\+?[0-9]{2,32}$/, message: t('desk.transfer.digitsOnly') },
              ]}
            >
              <Input data-testid="login-phone-number" inputMode="tel" maxLength={32} />
            </Form.Item>
          ) : null}
          <Form.Item name="ready" valuePropName="checked">
            <Checkbox>
              <span data-testid="login-ready">{t('desk.loginReady')}</span>
            </Checkbox>
          </Form.Item>
        </Form>
      </div>
    </Modal>
  );
}
