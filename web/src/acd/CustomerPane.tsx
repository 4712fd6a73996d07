// The customer pane of the agent desktop: identity, accounts and bills (the endpoints the customer page
// uses), and one service history merging past calls, work orders and recordings.
import { useCallback, useEffect, useState } from 'react';
import { Alert, Button, Card, Descriptions, Empty, Space, Spin, Table, Tabs, Tag, Timeline, Typography } from 'antd';
import {
  CloseOutlined,
  CustomerServiceOutlined,
  ExportOutlined,
  FileTextOutlined,
  PhoneOutlined,
  PlayCircleOutlined,
  PrinterOutlined,
  ReloadOutlined,
} from '@ant-design/icons';
import dayjs from 'dayjs';
import { api, ApiError, woUrls, yuan, type Bill, type CustomerDetail, type WorkOrderSummary } from '../api';
import { useAuth } from '../auth';
import { useEnumLabel, useI18n, type MessageKey } from '../i18n';
import { StatusTag } from '../components/workorders';
import { ServiceTypeTag } from '../pages/Customers';
import { BillStatusTag } from '../pages/CustomerDetail';
import { acdApi, acdUrls, type CallRecord, type Recording } from './api';
import { fmtClock } from './common';

export function CustomerPane({
  customerId,
  version,
  onClear,
  onLoaded,
}: {
  customerId: string;
  /** Bumped by the desk after it created an order or a task: the history is read again. */
  version: number;
  onClear: () => void;
  onLoaded?: (c: CustomerDetail) => void;
}) {
  const { t } = useI18n();
  const label = useEnumLabel();
  const [c, setC] = useState<CustomerDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);

  useEffect(() => {
    let alive = true;
    setLoading(true);
    api
      .customer(customerId)
      .then((x) => {
        if (!alive) return;
        setC(x);
        setError(null);
        onLoaded?.(x);
      })
      .catch((e) => alive && setError(e instanceof ApiError && e.status === 404 ? t('detail.notFound') : String(e instanceof Error ? e.message : e)))
      .finally(() => alive && setLoading(false));
    return () => {
      alive = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [customerId, t]);

  if (loading && !c) {
    return (
      <Card size="small" data-testid="customer-pane" data-loading="true">
        <Spin />
      </Card>
    );
  }
  if (error || !c) {
    return (
      <Card size="small" data-testid="customer-pane">
        <Alert type="error" showIcon message={error ?? ''} action={<Button size="small" onClick={onClear}>{t('common.back')}</Button>} />
      </Card>
    );
  }

  const bills = c.accounts.flatMap((a) => a.bills);
  const overdue = bills.filter((b) => b.status === 'overdue').reduce((s, b) => s + b.amount_cents, 0);
  const unpaid = bills.filter((b) => b.status === 'unpaid').reduce((s, b) => s + b.amount_cents, 0);

  return (
    <Card
      size="small"
      data-testid="customer-pane"
      data-customer-id={c.id}
      title={
        <Space wrap>
          <Typography.Text strong data-testid="pane-customer-name">
            {c.name}
          </Typography.Text>
          <Tag data-testid="pane-customer-no">{c.customer_no}</Tag>
          <ServiceTypeTag value={c.service_type} />
          {overdue > 0 ? (
            <Tag color="red" data-testid="pane-overdue">
              {t('bill.overdue')} {yuan(overdue)}
            </Tag>
          ) : null}
          {unpaid > 0 ? <Tag color="gold">{t('bill.unpaid')} {yuan(unpaid)}</Tag> : null}
        </Space>
      }
      extra={
        <Space>
          <Button size="small" type="link" icon={<ExportOutlined />} href={`/customers/${encodeURIComponent(c.id)}`} target="_blank" data-testid="pane-open-customer">
            {t('desk.pane.open')}
          </Button>
          <Button size="small" type="text" icon={<CloseOutlined />} onClick={onClear} aria-label={t('desk.pane.clear')} data-testid="pane-clear" />
        </Space>
      }
    >
      <Tabs
        size="small"
        defaultActiveKey="history"
        data-testid="pane-tabs"
        items={[
          {
            key: 'history',
            label: <span data-testid="pane-tab-history">{t('desk.pane.history')}</span>,
            children: <CustomerTimeline customer={c} version={version} />,
          },
          {
            key: 'profile',
            label: <span data-testid="pane-tab-profile">{t('desk.pane.profile')}</span>,
            children: (
              <Descriptions size="small" bordered column={{ xs: 1, md: 2 }} data-testid="pane-profile">
                <Descriptions.Item label={t('cust.no')}>{c.customer_no}</Descriptions.Item>
                <Descriptions.Item label={t('cust.name')}>{c.name}</Descriptions.Item>
                <Descriptions.Item label={t('cust.phones')}>
                  <Space wrap data-testid="pane-phones">
                    {c.phones.map((p) => (
                      <Typography.Text copyable key={p}>
                        {p}
                      </Typography.Text>
                    ))}
                  </Space>
                </Descriptions.Item>
                <Descriptions.Item label={t('cust.district')}>{c.district}</Descriptions.Item>
                <Descriptions.Item label={t('cust.address')} span={2}>
                  <span data-testid="pane-address">{c.address}</span>
                </Descriptions.Item>
                <Descriptions.Item label={t('cust.meterNo')}>{c.meter_no ?? ''}</Descriptions.Item>
                <Descriptions.Item label={t('cust.notice')}>{label('np', c.notice_preference)}</Descriptions.Item>
                <Descriptions.Item label={t('cust.remarks')} span={2}>
                  <span className="kefu-pre">{c.remarks ?? ''}</span>
                </Descriptions.Item>
              </Descriptions>
            ),
          },
          {
            key: 'bills',
            label: <span data-testid="pane-tab-bills">{t('detail.accounts')}</span>,
            children: c.accounts.length ? (
              <Space direction="vertical" style={{ width: '100%' }} data-testid="pane-accounts">
                {c.accounts.map((a) => (
                  <div key={a.id} data-testid="pane-account">
                    <Typography.Text strong>{t('detail.account', { no: a.account_no })}</Typography.Text>
                    <Table<Bill>
                      rowKey="id"
                      size="small"
                      pagination={false}
                      style={{ marginTop: 6 }}
                      dataSource={[...a.bills].sort((x, y) => y.period.localeCompare(x.period)).slice(0, 12)}
                      onRow={() => ({ 'data-testid': 'pane-bill-row' }) as React.HTMLAttributes<HTMLElement>}
                      columns={[
                        { title: t('detail.period'), dataIndex: 'period', key: 'period', width: 90 },
                        { title: t('detail.amount'), dataIndex: 'amount_cents', key: 'amount', align: 'right', render: (v: number) => yuan(v) },
                        { title: t('detail.dueDate'), dataIndex: 'due_date', key: 'due', width: 110 },
                        { title: t('common.status'), dataIndex: 'status', key: 'status', width: 80, render: (v: string) => <BillStatusTag status={v} /> },
                      ]}
                    />
                  </div>
                ))}
              </Space>
            ) : (
              <Empty description={t('detail.noAccounts')} />
            ),
          },
        ]}
      />
    </Card>
  );
}

type Entry =
  | { kind: 'call'; at: string; key: string; call: CallRecord }
  | { kind: 'work_order'; at: string; key: string; order: WorkOrderSummary }
  | { kind: 'recording'; at: string; key: string; recording: Recording };

/** Calls (by the customer's phones), work orders and recordings, newest first. */
export function CustomerTimeline({ customer, version }: { customer: CustomerDetail; version: number }) {
  const { t, lang } = useI18n();
  const { can } = useAuth();
  const [entries, setEntries] = useState<Entry[]>([]);
  const [loading, setLoading] = useState(true);
  const [playing, setPlaying] = useState<string | null>(null);
  const [tick, setTick] = useState(0);

  const load = useCallback(async () => {
    setLoading(true);
    const phones = customer.phones.slice(0, 3);
    const [orders, callPages, recs] = await Promise.all([
      can('work_orders.read')
        ? api.workOrders({ customer_id: customer.id, per_page: 20 }).then((p) => p.items).catch(() => [] as WorkOrderSummary[])
        : Promise.resolve([] as WorkOrderSummary[]),
      Promise.all(
        phones.map((p) =>
          acdApi
            .calls({ number: p, per_page: 20 })
            .then((pg) => pg.items)
            .catch(() => [] as CallRecord[]),
        ),
      ),
      can('recordings.play') ? acdApi.recordings({ customer_id: customer.id }).catch(() => [] as Recording[]) : Promise.resolve([] as Recording[]),
    ]);
    const out: Entry[] = [];
    const seen = new Set<string>();
    for (const c of callPages.flat()) {
      // One entry per call (a call's legs share its call_uuid).
      const k = c.call_uuid || c.id;
      if (seen.has(k)) continue;
      seen.add(k);
      out.push({ kind: 'call', at: c.started_at, key: `c-${c.id}`, call: c });
    }
    for (const o of orders) out.push({ kind: 'work_order', at: o.created_at, key: `w-${o.id}`, order: o });
    for (const r of recs) out.push({ kind: 'recording', at: r.started_at ?? r.created_at ?? '', key: `r-${r.id}`, recording: r });
    out.sort((a, b) => (b.at ?? '').localeCompare(a.at ?? ''));
    setEntries(out.slice(0, 60));
    setLoading(false);
  }, [customer, can]);

  useEffect(() => {
    void load();
  }, [load, version, tick]);

  const dispLabel = (d: string) => {
    const k = `desk.tl.disp.${d}` as MessageKey;
    const v = t(k);
    return v === k ? d : v;
  };
  const fmt = (s: string) => (s ? dayjs(s).format('YYYY-MM-DD HH:mm') : '');

  const item = (e: Entry) => {
    switch (e.kind) {
      case 'call': {
        const c = e.call;
        const inbound = c.direction === 'inbound';
        return {
          key: e.key,
          color: c.disposition === 'answered' ? 'green' : 'gray',
          dot: <PhoneOutlined />,
          children: (
            <div data-testid="timeline-item" data-kind="call">
              <Typography.Text type="secondary">{fmt(c.started_at)}</Typography.Text>{' '}
              <Tag>{inbound ? t('desk.tl.inbound') : t('desk.tl.outbound')}</Tag>
              {inbound ? c.caller : c.callee}
              {' · '}
              {c.disposition === 'answered' ? fmtClock(c.billable_ms || c.duration_ms) : dispLabel(c.disposition)}
              {c.extension ? <Typography.Text type="secondary"> · {t('desk.tl.extension', { ext: c.extension })}</Typography.Text> : null}
            </div>
          ),
        };
      }
      case 'work_order': {
        const o = e.order;
        return {
          key: e.key,
          color: 'blue',
          dot: <FileTextOutlined />,
          children: (
            <div data-testid="timeline-item" data-kind="work_order" data-no={o.no}>
              <Typography.Text type="secondary">{fmt(o.created_at)}</Typography.Text>{' '}
              <Typography.Link href={`/work-orders/${encodeURIComponent(o.id)}`} target="_blank">
                {o.no}
              </Typography.Link>{' '}
              <StatusTag status={o.status} /> {o.type_name} · {o.title}{' '}
              <Button size="small" type="link" icon={<PrinterOutlined />} href={woUrls.pdf(o.id, lang)} target="_blank" data-testid="timeline-wo-print">
                {t('wo.print')}
              </Button>
            </div>
          ),
        };
      }
      case 'recording': {
        const r = e.recording;
        return {
          key: e.key,
          color: 'purple',
          dot: <CustomerServiceOutlined />,
          children: (
            <div data-testid="timeline-item" data-kind="recording" data-recording-id={r.id}>
              <Typography.Text type="secondary">{fmt(e.at)}</Typography.Text> {t('desk.tl.recording')}
              {r.duration_ms ? ` · ${fmtClock(r.duration_ms)}` : ''}
              {r.agent_name ? ` · ${r.agent_name}` : ''}{' '}
              {playing === r.id ? (
                <audio
                  controls
                  autoPlay
                  preload="none"
                  src={acdUrls.recordingAudio(r.id)}
                  data-testid="recording-audio"
                  style={{ height: 28, verticalAlign: 'middle', maxWidth: '100%' }}
                />
              ) : (
                <Button size="small" type="link" icon={<PlayCircleOutlined />} onClick={() => setPlaying(r.id)} data-testid="recording-play">
                  {t('desk.tl.play')}
                </Button>
              )}
            </div>
          ),
        };
      }
    }
  };

  return (
    <div data-testid="customer-timeline" data-loading={loading ? 'true' : 'false'}>
      <Space style={{ marginBottom: 8 }}>
        <Button size="small" icon={<ReloadOutlined />} onClick={() => setTick((n) => n + 1)} loading={loading} data-testid="timeline-refresh">
          {t('desk.tl.refresh')}
        </Button>
        <Typography.Text type="secondary" style={{ fontSize: 12 }} data-testid="timeline-messages-note">
          {t('desk.tl.messagesNote')}
        </Typography.Text>
      </Space>
      {entries.length === 0 && !loading ? (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('desk.tl.empty')} />
      ) : (
        <Timeline style={{ marginTop: 8 }} items={entries.map(item)} />
      )}
    </div>
  );
}
