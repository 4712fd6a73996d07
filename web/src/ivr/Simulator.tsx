// The simulator: runs the flow on the canvas (unsaved changes included) with a dial pad, showing what
// would be played and which node is active. Caller-ID lookups are real (a demo customer's phone).
import { useEffect, useRef, useState } from 'react';
import { Alert, Button, Descriptions, Input, Space, Tag, Typography } from 'antd';
import { PhoneOutlined, PoweroffOutlined, ReloadOutlined } from '@ant-design/icons';
import { api, ApiError } from '../api';
import { useT, type MessageKey } from '../i18n';
import { ivrApi, type SimEvent, type Simulation, type SimInput } from './api';
import { normalizeFlow, type Flow } from './model';

const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'];

function problemText(e: unknown): string {
  if (e instanceof ApiError) {
    const errs = e.problem.errors ?? [];
    const head = e.problem.detail || e.problem.title || e.message;
    return errs.length ? `${head}: ${errs.map((x) => `${x.field}: ${x.reason}`).join('；')}` : head;
  }
  return String(e);
}

export function Simulator({
  flowId,
  flow,
  onActive,
}: {
  flowId: string;
  flow: Flow;
  onActive: (node: string | null) => void;
}) {
  const t = useT();
  const [caller, setCaller] = useState('');
  const [sim, setSim] = useState<Simulation | null>(null);
  const [transcript, setTranscript] = useState<SimEvent[]>([]);
  const [buffer, setBuffer] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const endRef = useRef<HTMLDivElement>(null);

  // A demo customer's phone as the default caller.
  useEffect(() => {
    let live = true;
    api
      .customers({ per_page: 20 })
      .then((p) => {
        const c = p.items.find((x) => x.primary_phone);
        if (live && c?.primary_phone) setCaller((cur) => cur || c.primary_phone!);
      })
      .catch(() => {
        /* no customer access: type a number */
      });
    return () => {
      live = false;
    };
  }, []);

  useEffect(() => () => onActive(null), [onActive]);
  useEffect(() => {
    endRef.current?.scrollIntoView?.({ block: 'nearest' });
  }, [transcript]);

  const apply = (s: Simulation, reset: boolean) => {
    setSim(s);
    setTranscript((tr) => (reset ? s.output : [...tr, ...s.output]));
    onActive(s.state.waiting === 'ended' ? null : (s.state.node ?? null));
  };

  const start = async () => {
    setBusy(true);
    setError(null);
    setBuffer('');
    try {
      apply(await ivrApi.simulate({ flow_id: flowId, graph: normalizeFlow(flow), caller: caller.trim() }), true);
    } catch (e) {
      setError(problemText(e));
      setSim(null);
      onActive(null);
    } finally {
      setBusy(false);
    }
  };

  const send = async (input: SimInput) => {
    if (!sim) return;
    setBusy(true);
    setError(null);
    try {
      apply(await ivrApi.simInput(sim.id, input), false);
    } catch (e) {
      setError(problemText(e));
    } finally {
      setBusy(false);
    }
  };

  const activeKind = sim ? flow.nodes.find((n) => n.id === sim.state.node)?.kind : undefined;
  const singleKey = activeKind === 'menu' || activeKind === 'survey';
  const waiting = sim?.state.waiting ?? 'none';
  const live = !!sim && waiting !== 'ended';
  // Keys and timeouts only when the call waits for keys (the server answers 409 otherwise).
  const keysLive = !!sim && waiting === 'digits';

  const press = (k: string) => {
    if (!keysLive) return;
    if (singleKey) {
      void send({ digits: k });
      return;
    }
    const b = buffer + k;
    if (k === '#') {
      setBuffer('');
      void send({ digits: b });
    } else setBuffer(b);
  };

  return (
    <div data-testid="ivr-sim" style={{ display: 'flex', flexDirection: 'column', gap: 8 }}>
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
        {t('ivr.sim.help')}
      </Typography.Text>
      <Space.Compact style={{ width: '100%' }}>
        <Input
          prefix={<Typography.Text type="secondary">{t('ivr.sim.caller')}</Typography.Text>}
          value={caller}
          onChange={(e) => setCaller(e.target.value)}
          data-testid="ivr-sim-caller"
        />
        <Button type="primary" icon={sim ? <ReloadOutlined /> : <PhoneOutlined />} loading={busy && !sim} onClick={start} disabled={!caller.trim()} data-testid="ivr-sim-start">
          {sim ? t('ivr.sim.restart') : t('ivr.sim.start')}
        </Button>
      </Space.Compact>
      {error ? <Alert type="error" showIcon message={error} data-testid="ivr-sim-error" /> : null}
      {sim ? (
        <Descriptions size="small" column={1} bordered>
          <Descriptions.Item label={t('ivr.sim.state')}>
            <Tag color={waiting === 'ended' ? 'default' : waiting === 'digits' ? 'blue' : 'green'} data-testid="ivr-sim-state" data-state={waiting}>
              {t(`ivr.sim.waiting.${waiting}` as MessageKey)}
            </Tag>
          </Descriptions.Item>
          <Descriptions.Item label={t('ivr.sim.node')}>
            <span data-testid="ivr-sim-node">{sim.state.node ?? ''}</span>
          </Descriptions.Item>
        </Descriptions>
      ) : null}
      <div style={{ display: 'grid', gridTemplateColumns: 'repeat(3, 1fr)', gap: 4 }} data-testid="ivr-sim-pad">
        {KEYS.map((k) => (
          <Button key={k} onClick={() => press(k)} disabled={!keysLive || busy} data-testid={`ivr-sim-key-${k === '*' ? 'star' : k === '#' ? 'hash' : k}`}>
            {k}
          </Button>
        ))}
      </div>
      {buffer ? (
        <Space>
          <Typography.Text code data-testid="ivr-sim-buffer">
            {buffer}
          </Typography.Text>
          <Button size="small" type="primary" onClick={() => { const b = buffer; setBuffer(''); void send({ digits: b }); }}>
            OK
          </Button>
          <Button size="small" onClick={() => setBuffer('')}>
            ✕
          </Button>
        </Space>
      ) : null}
      <Space>
        <Button onClick={() => void send({ timeout: true })} disabled={!keysLive || busy} data-testid="ivr-sim-timeout">
          {t('ivr.sim.timeout')}
        </Button>
        <Button danger icon={<PoweroffOutlined />} onClick={() => void send({ hangup: true })} disabled={!live || busy} data-testid="ivr-sim-hangup">
          {t('ivr.sim.hangup')}
        </Button>
      </Space>
      <Typography.Text strong>{t('ivr.sim.transcript')}</Typography.Text>
      <div
        data-testid="ivr-sim-transcript"
        style={{ maxHeight: 260, overflow: 'auto', border: '1px solid #f0f0f0', borderRadius: 6, padding: 6, fontSize: 12, background: '#fafafa' }}
      >
        {transcript.map((ev, i) => (
          <div key={i} data-testid="ivr-sim-event" data-kind={ev.kind} data-node={ev.node ?? ''} style={{ padding: '2px 0', color: ev.kind === 'enter' ? '#8c8c8c' : undefined }}>
            <Tag style={{ fontSize: 10 }} color={ev.kind === 'play' ? 'blue' : ev.kind === 'end' ? 'default' : ev.kind === 'transfer' ? 'green' : undefined}>
              {ev.kind}
            </Tag>
            {ev.node ? <Typography.Text type="secondary">[{ev.node}] </Typography.Text> : null}
            {ev.text}
          </div>
        ))}
        <div ref={endRef} />
      </div>
      {sim ? (
        <>
          <Typography.Text strong>{t('ivr.sim.vars')}</Typography.Text>
          <pre data-testid="ivr-sim-vars" style={{ maxHeight: 200, overflow: 'auto', fontSize: 11, background: '#fafafa', padding: 6, margin: 0 }}>
            {JSON.stringify(sim.state.vars, null, 2)}
          </pre>
        </>
      ) : null}
    </div>
  );
}
