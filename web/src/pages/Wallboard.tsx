// 监控大屏 (/wallboard) for supervisors: per-queue tiles and charts, and every agent's state with the
// supervisor's actions. Live from the CTI wallboard feed (waiting, longest wait, agents — every second);
// GET /wallboard supplies the day's figures (service level, abandon rate, ASA, AHT) and is the
// fallback: polled every 5 s while the feed is silent, every 30 s otherwise.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Alert, App, Badge, Button, Card, Col, Empty, InputNumber, Row, Space, Statistic, Table, Tag, Tooltip, Typography } from 'antd';
import { AudioOutlined, CheckOutlined, CoffeeOutlined, EyeOutlined, LogoutOutlined, SoundOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import { useAuth } from '../auth';
import { useI18n } from '../i18n';
import { acdApi, holdsCall, pct, type AgentStateName, type SuperviseMode, type Wallboard, type WallboardAgent, type WallboardQueue } from '../acd/api';
import { fmtClock, fmtSecs, problemText, since, STATE_COLORS, StateTag, stateLabel, useReasonLabel, useReasons, useTick } from '../acd/common';
import { EChart, type EChartsOption } from '../acd/EChart';
import { useCti } from '../acd/useCti';

const POLL_MS = 5_000;
const DAY_FIGURES_MS = 30_000;
const STATE_ORDER: AgentStateName[] = ['on_call', 'reserved', 'wrap_up', 'ready', 'not_ready', 'logged_out'];

function slColor(v: number | null): string {
  if (v === null) return '#8c8c8c';
  return v >= 80 ? '#52c41a' : v >= 60 ? '#fa8c16' : '#f5222d';
}

export default function WallboardPage() {
  const { t } = useI18n();
  const { can } = useAuth();
  const { message } = App.useApp();
  const now = useTick(1000);
  const reasons = useReasons();
  const reasonLabel = useReasonLabel(reasons);
  const [threshold, setThreshold] = useState(20);
  const [rest, setRest] = useState<(Wallboard & { received: number }) | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const supervise = can('acd.supervise');
  const cti = useCti({ wallboard: true, enabled: can('agents.desk') });
  const lastRest = useRef(0);
  const liveAt = useRef(0);
  liveAt.current = cti.wallboard?.received ?? 0;

  const load = useCallback(async () => {
    lastRest.current = Date.now();
    try {
      const b = await acdApi.wallboard(threshold);
      setRest({ queues: b.queues ?? [], agents: b.agents ?? [], at: b.at, received: Date.now() });
      setError(null);
    } catch (e) {
      setError(problemText(e));
    }
  }, [threshold]);

  useEffect(() => {
    void load();
  }, [load]);

  useEffect(() => {
    const h = window.setInterval(() => {
      const liveFresh = Date.now() - liveAt.current < POLL_MS;
      if (!liveFresh || Date.now() - lastRest.current >= DAY_FIGURES_MS) void load();
    }, POLL_MS);
    return () => window.clearInterval(h);
  }, [load]);

  // The live feed's figures over the day's, whichever snapshot is newer for the live ones.
  const board = useMemo(() => {
    const live = cti.wallboard;
    const liveNewer = !!live && (!rest || live.received >= rest.received);
    const keys: string[] = [];
    const byKey = new Map<string, WallboardQueue>();
    const add = (q: WallboardQueue, over: boolean) => {
      if (!byKey.has(q.key)) keys.push(q.key);
      const old = byKey.get(q.key);
      byKey.set(q.key, over ? { ...old, ...q } : { ...q, ...old });
    };
    for (const q of rest?.queues ?? []) add(q, true);
    for (const q of live?.queues ?? []) add(q, liveNewer);
    const agents = (liveNewer ? live?.agents : rest?.agents) ?? rest?.agents ?? [];
    const at = liveNewer ? live?.at : rest?.at;
    return { queues: keys.map((k) => byKey.get(k)!), agents, at };
  }, [cti.wallboard, rest]);

  const force = async (a: WallboardAgent, state: 'ready' | 'not_ready' | 'logged_out') => {
    setBusy(`${a.id}-${state}`);
    try {
      await acdApi.forceState(a.id, state);
      message.success(t('wb.forced', { name: agentName(a), state: stateLabel(t, state) }));
      void load();
    } catch (e) {
      message.error(problemText(e));
    } finally {
      setBusy(null);
    }
  };

  const join = async (a: WallboardAgent, mode: SuperviseMode) => {
    if (!a.call_id) return;
    setBusy(`${a.id}-${mode}`);
    try {
      const r = await acdApi.supervise(a.call_id, mode);
      message.success(t('wb.joining', { phone: r?.phone ?? '' }));
    } catch (e) {
      message.error(problemText(e));
    } finally {
      setBusy(null);
    }
  };

  const names = board.queues.map((q) => q.name || q.key);
  const waitingOption = useMemo<EChartsOption>(
    () => ({
      tooltip: { trigger: 'axis' },
      grid: { left: 40, right: 16, top: 30, bottom: 30 },
      legend: { top: 0 },
      xAxis: { type: 'category', data: names },
      yAxis: { type: 'value', minInterval: 1 },
      series: [
        {
          name: t('wb.waiting'),
          type: 'bar',
          data: board.queues.map((q) => ({
            value: q.waiting ?? 0,
            itemStyle: { color: (q.longest_wait_secs ?? 0) > threshold ? '#f5222d' : '#1677ff' },
          })),
          barMaxWidth: 48,
          label: { show: true, position: 'top' },
        },
        {
          name: t('wb.callbacks'),
          type: 'bar',
          data: board.queues.map((q) => q.callbacks ?? 0),
          barMaxWidth: 48,
          itemStyle: { color: '#faad14' },
        },
      ],
    }),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [JSON.stringify(board.queues.map((q) => [q.key, q.name, q.waiting, q.callbacks, q.longest_wait_secs])), threshold, t],
  );
  const slOption = useMemo<EChartsOption>(
    () => ({
      tooltip: { trigger: 'axis', valueFormatter: (v) => `${v}%` },
      grid: { left: 40, right: 16, top: 30, bottom: 30 },
      xAxis: { type: 'category', data: names },
      yAxis: { type: 'value', min: 0, max: 100, axisLabel: { formatter: '{value}%' } },
      series: [
        {
          name: t('wb.serviceLevel'),
          type: 'bar',
          barMaxWidth: 48,
          label: { show: true, position: 'top', formatter: '{c}%' },
          data: board.queues.map((q) => {
            const v = pct(q.service_level);
            return { value: v ?? 0, itemStyle: { color: slColor(v) } };
          }),
          markLine: {
            silent: true,
            symbol: 'none',
            data: [{ yAxis: 80 }],
            label: { position: 'insideEndTop', formatter: '80%' },
            lineStyle: { type: 'dashed', color: '#52c41a' },
          },
        },
      ],
    }),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [JSON.stringify(board.queues.map((q) => [q.key, q.name, q.service_level])), t],
  );

  const agents = [...board.agents].sort(
    (a, b) =>
      STATE_ORDER.indexOf(a.state) - STATE_ORDER.indexOf(b.state) || agentName(a).localeCompare(agentName(b)),
  );
  const counts = STATE_ORDER.map((s) => [s, board.agents.filter((a) => a.state === s).length] as const);
  const statusColor = cti.status === 'open' ? 'success' : cti.status === 'connecting' ? 'processing' : 'default';

  return (
    <Space direction="vertical" size={12} style={{ width: '100%' }} data-testid="wallboard">
      <Card size="small">
        <Space wrap style={{ width: '100%', justifyContent: 'space-between' }}>
          <Space wrap>
            <Typography.Title level={4} style={{ margin: 0 }}>
              {t('menu.wallboard')}
            </Typography.Title>
            <Tooltip title={t(cti.status === 'open' ? 'wb.live' : 'wb.polling')}>
              <Badge
                status={statusColor}
                text={t(cti.status === 'open' ? 'wb.live' : 'wb.polling')}
                data-testid="wb-live"
                data-status={cti.status}
              />
            </Tooltip>
            <Typography.Text type="secondary" data-testid="wb-updated">
              {board.at ? t('wb.updatedAt', { at: dayjs(board.at).format('HH:mm:ss') }) : ''}
            </Typography.Text>
          </Space>
          <Space>
            <Typography.Text>{t('wb.threshold')}</Typography.Text>
            <InputNumber
              min={1}
              max={600}
              value={threshold}
              onChange={(v) => v && setThreshold(Math.round(v))}
              addonAfter={t('wb.seconds')}
              style={{ width: 130 }}
              data-testid="wb-threshold"
            />
          </Space>
        </Space>
      </Card>
      {error ? <Alert type="error" showIcon message={<span data-testid="wb-error">{error}</span>} /> : null}

      {board.queues.length === 0 ? (
        <Card size="small">
          <Empty description={t('wb.noQueues')} />
        </Card>
      ) : (
        <Row gutter={[12, 12]} data-testid="wb-queues">
          {board.queues.map((q) => {
            const sl = pct(q.service_level);
            const late = (q.longest_wait_secs ?? 0) > threshold;
            return (
              <Col xs={24} sm={12} lg={8} xxl={6} key={q.key}>
                <Card
                  size="small"
                  data-testid="wb-queue"
                  data-queue={q.key}
                  title={
                    <Space>
                      {q.name || q.key}
                      <Typography.Text type="secondary" style={{ fontWeight: 400 }}>
                        {q.key}
                      </Typography.Text>
                    </Space>
                  }
                  style={late ? { borderColor: '#f5222d' } : undefined}
                >
                  <Row gutter={[8, 8]}>
                    <Col span={8}>
                      <Statistic title={t('wb.waiting')} value={q.waiting ?? 0} valueStyle={{ color: q.waiting ? '#1677ff' : undefined }} data-testid="wb-waiting" />
                    </Col>
                    <Col span={8}>
                      <Statistic
                        title={t('wb.longestWait')}
                        value={fmtSecs(q.longest_wait_secs ?? 0)}
                        valueStyle={{ color: late ? '#f5222d' : undefined }}
                        data-testid="wb-longest"
                      />
                    </Col>
                    <Col span={8}>
                      <Statistic title={t('wb.serviceLevel')} value={sl === null ? '—' : `${sl}%`} valueStyle={{ color: slColor(sl) }} data-testid="wb-sl" />
                    </Col>
                    <Col span={8}>
                      <Statistic title={t('wb.abandonRate')} value={pct(q.abandon_rate) === null ? '—' : `${pct(q.abandon_rate)}%`} data-testid="wb-abandon" />
                    </Col>
                    <Col span={8}>
                      <Statistic title={t('wb.asa')} value={fmtSecs(q.asa_secs)} data-testid="wb-asa" />
                    </Col>
                    <Col span={8}>
                      <Statistic title={t('wb.aht')} value={fmtSecs(q.aht_secs)} data-testid="wb-aht" />
                    </Col>
                  </Row>
                  <Space wrap style={{ marginTop: 8 }} data-testid="wb-agents-count">
                    <Tag color={STATE_COLORS.ready} data-testid="wb-ready">
                      {t('wb.ready', { n: q.agents_ready ?? 0 })}
                    </Tag>
                    <Tag color={STATE_COLORS.on_call} data-testid="wb-busy">
                      {t('wb.busy', { n: q.agents_busy ?? 0 })}
                    </Tag>
                    {q.offered !== undefined ? (
                      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                        {t('wb.today', { offered: q.offered ?? 0, answered: q.answered ?? 0, abandoned: q.abandoned ?? 0 })}
                      </Typography.Text>
                    ) : null}
                  </Space>
                </Card>
              </Col>
            );
          })}
        </Row>
      )}

      <Row gutter={[12, 12]}>
        <Col xs={24} lg={12}>
          <Card size="small" title={t('wb.chartWaiting')}>
            <EChart option={waitingOption} testId="wb-chart-waiting" />
          </Card>
        </Col>
        <Col xs={24} lg={12}>
          <Card size="small" title={t('wb.chartServiceLevel', { s: threshold })}>
            <EChart option={slOption} testId="wb-chart-sl" />
          </Card>
        </Col>
      </Row>

      <Card
        size="small"
        title={t('wb.agents')}
        extra={
          <Space wrap size={4}>
            {counts.map(([s, n]) => (
              <Tag key={s} color={STATE_COLORS[s]} data-testid={`wb-count-${s}`}>
                {stateLabel(t, s)} {n}
              </Tag>
            ))}
          </Space>
        }
      >
        <Table<WallboardAgent>
          rowKey="id"
          size="small"
          pagination={false}
          dataSource={agents}
          data-testid="wb-agents"
          scroll={{ x: 1300 }}
          onRow={(a) =>
            ({
              'data-testid': 'wb-agent-row',
              'data-agent-id': a.id,
              'data-state': a.state,
            }) as React.HTMLAttributes<HTMLElement>
          }
          columns={[
            {
              title: t('wb.agent'),
              key: 'name',
              width: 180,
              render: (_: unknown, a) => (
                <Space size={4} style={{ whiteSpace: 'nowrap' }}>
                  <span data-testid="wb-agent-name">{agentName(a)}</span>
                  {a.extension ? <Typography.Text type="secondary">{a.extension}</Typography.Text> : null}
                </Space>
              ),
            },
            {
              title: t('common.status'),
              key: 'state',
              width: 130,
              render: (_: unknown, a) => <StateTag state={a.state} testId="wb-agent-state" />,
            },
            {
              title: t('desk.reason'),
              key: 'reason',
              width: 150,
              render: (_: unknown, a) => (
                <span data-testid="wb-agent-reason">
                  {a.state === 'not_ready' ? reasonLabel(a.reason) : ''}
                  {a.pending ? <Tag color="orange" style={{ marginInlineStart: 4 }}>{t('desk.pending', { reason: reasonLabel(a.pending) })}</Tag> : null}
                </span>
              ),
            },
            {
              title: t('wb.timeInState'),
              key: 'since',
              width: 110,
              render: (_: unknown, a) => (
                <Typography.Text code data-testid="wb-agent-time">
                  {a.since ? fmtClock(since(a.since, now)) : '—'}
                </Typography.Text>
              ),
            },
            { title: t('wb.queue'), key: 'queue', width: 110, render: (_: unknown, a) => a.queue ?? '' },
            {
              title: t('wb.handled'),
              key: 'handled',
              width: 90,
              render: (_: unknown, a) => (a.calls_handled !== undefined ? a.calls_handled : ''),
            },
            ...(supervise
              ? [
                  {
                    title: t('common.actions'),
                    key: 'actions',
                    width: 560,
                    render: (_: unknown, a: WallboardAgent) => {
                      const locked = holdsCall(a.state);
                      const onCall = a.state === 'on_call' && !!a.call_id;
                      const b = (key: string) => busy === `${a.id}-${key}`;
                      return (
                        <Space wrap size={4}>
                          <Button size="small" icon={<CheckOutlined />} disabled={locked || a.state === 'ready'} loading={b('ready')} onClick={() => void force(a, 'ready')} data-testid="wb-force-ready">
                            {t('wb.forceReady')}
                          </Button>
                          <Button
                            size="small"
                            icon={<CoffeeOutlined />}
                            disabled={locked || a.state === 'not_ready' || a.state === 'logged_out'}
                            loading={b('not_ready')}
                            onClick={() => void force(a, 'not_ready')}
                            data-testid="wb-force-not-ready"
                          >
                            {t('wb.forceNotReady')}
                          </Button>
                          <Button
                            size="small"
                            danger
                            icon={<LogoutOutlined />}
                            disabled={locked || a.state === 'logged_out'}
                            loading={b('logged_out')}
                            onClick={() => void force(a, 'logged_out')}
                            data-testid="wb-force-logout"
                          >
                            {t('wb.forceLogout')}
                          </Button>
                          <Button size="small" icon={<EyeOutlined />} disabled={!onCall} loading={b('listen')} onClick={() => void join(a, 'listen')} data-testid="wb-listen">
                            {t('wb.listen')}
                          </Button>
                          <Button size="small" icon={<SoundOutlined />} disabled={!onCall} loading={b('whisper')} onClick={() => void join(a, 'whisper')} data-testid="wb-whisper">
                            {t('wb.whisper')}
                          </Button>
                          <Button size="small" icon={<AudioOutlined />} disabled={!onCall} loading={b('barge')} onClick={() => void join(a, 'barge')} data-testid="wb-barge">
                            {t('wb.barge')}
                          </Button>
                        </Space>
                      );
                    },
                  },
                ]
              : []),
          ]}
        />
      </Card>
    </Space>
  );
}

function agentName(a: WallboardAgent): string {
  return a.name || a.display_name || a.id.slice(0, 8);
}

