// 站点工单 (the site's inbox): the unit's orders that are with it (dispatched, accepted, in progress, waiting for
// the customer), as big cards that work on a phone: accept, report progress, submit feedback with photos.
import { useCallback, useEffect, useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { Alert, App, Badge, Button, Card, Empty, Grid, Segmented, Space, Spin, Tag, Typography } from 'antd';
import { EnvironmentOutlined, PhoneOutlined, ReloadOutlined, RightOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import { api, SITE_STATUSES, type WoAction, type WorkOrder, type WorkOrderSummary } from '../api';
import { useAuth } from '../auth';
import { useI18n } from '../i18n';
import { ActionModal, actionLabel, DeadlineTag, PriorityTag, StatusTag } from '../components/workorders';
import { NOTIFICATION_EVENT } from '../components/NotificationBell';

type View = 'todo' | 'doing' | 'all';

const RANK: Record<string, number> = { emergency: 0, urgent: 1, normal: 2, low: 3 };

/** The actions a card offers for a status (the server decides in the end). */
function cardActions(status: string): WoAction[] {
  switch (status) {
    case 'dispatched':
      return ['accept'];
    case 'accepted':
    case 'in_progress':
      return ['progress', 'submit_feedback', 'wait_customer'];
    case 'waiting_customer':
      return ['resume'];
    default:
      return [];
  }
}

export default function SiteInboxPage() {
  const { t } = useI18n();
  const { me } = useAuth();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const screens = Grid.useBreakpoint();
  const mobile = !screens.md;
  const [view, setView] = useState<View>('all');
  const [items, setItems] = useState<WorkOrderSummary[] | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [acting, setActing] = useState<{ order: WorkOrder; action: WoAction } | null>(null);
  const [opening, setOpening] = useState<string | null>(null);

  const load = useCallback(async () => {
    setLoading(true);
    try {
      const page = await api.workOrders({ status: SITE_STATUSES.join(','), per_page: 100 });
      setItems(page.items);
      setError(null);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    void load();
    // Keep the inbox fresh while it is open (the bell brings news at once; this catches the rest).
    const h = window.setInterval(() => void load(), 60_000);
    const onNotice = () => void load();
    window.addEventListener(NOTIFICATION_EVENT, onNotice);
    return () => {
      window.clearInterval(h);
      window.removeEventListener(NOTIFICATION_EVENT, onNotice);
    };
  }, [load]);

  const start = async (s: WorkOrderSummary, action: WoAction) => {
    setOpening(`${s.id}:${action}`);
    try {
      const order = await api.workOrder(s.id);
      if (!order.allowed_actions.includes(action)) {
        message.warning(t('wo.stale'));
        void load();
        return;
      }
      setActing({ order, action });
    } catch (e) {
      message.error(e instanceof Error ? e.message : String(e));
    } finally {
      setOpening(null);
    }
  };

  const shown = (items ?? [])
    .filter((i) => (view === 'todo' ? i.status === 'dispatched' : view === 'doing' ? i.status !== 'dispatched' : true))
    .sort(
      (a, b) =>
        Number(b.overdue) - Number(a.overdue) ||
        (RANK[a.priority] ?? 9) - (RANK[b.priority] ?? 9) ||
        (a.due_at ?? '9').localeCompare(b.due_at ?? '9') ||
        a.created_at.localeCompare(b.created_at),
    );
  const todo = (items ?? []).filter((i) => i.status === 'dispatched').length;
  const doing = (items ?? []).length - todo;

  return (
    <div data-testid="site-inbox" data-count={items?.length ?? -1} style={{ maxWidth: 760, margin: '0 auto' }}>
      <Space style={{ width: '100%', justifyContent: 'space-between', marginBottom: 12 }} wrap>
        <Typography.Title level={4} style={{ margin: 0 }}>
          {t('site.title')}
          <Typography.Text type="secondary" style={{ fontSize: 14, fontWeight: 400, marginInlineStart: 8 }}>
            {me?.unit_name}
          </Typography.Text>
        </Typography.Title>
        <Button icon={<ReloadOutlined />} onClick={() => void load()} loading={loading} size="large" aria-label={t('wo.refresh')} data-testid="site-refresh" />
      </Space>
      <Segmented<View>
        block
        size="large"
        value={view}
        onChange={setView}
        style={{ marginBottom: 12 }}
        data-testid="site-view"
        options={[
          { value: 'all', label: `${t('site.all')} ${items ? items.length : ''}` },
          { value: 'todo', label: `${t('site.todo')} ${items ? todo : ''}` },
          { value: 'doing', label: `${t('site.doing')} ${items ? doing : ''}` },
        ]}
      />
      {error ? <Alert type="error" showIcon message={error} style={{ marginBottom: 12 }} /> : null}
      {items === null ? (
        <div style={{ textAlign: 'center', padding: 48 }}>
          <Spin size="large" />
        </div>
      ) : shown.length === 0 ? (
        <Card>
          <Empty description={t('site.empty')} data-testid="site-empty" />
        </Card>
      ) : (
        <Space direction="vertical" size={12} style={{ width: '100%' }}>
          {shown.map((s) => (
            <Card
              key={s.id}
              className={`kefu-site-card${s.overdue ? ' kefu-site-card-overdue' : ''}`}
              data-testid="site-card"
              data-no={s.no}
              data-status={s.status}
              styles={{ body: { padding: mobile ? 14 : 18 } }}
            >
              <div
                className="kefu-site-card-head"
                role="button"
                tabIndex={0}
                onClick={() => navigate(`/work-orders/${s.id}`)}
                onKeyDown={(e) => e.key === 'Enter' && navigate(`/work-orders/${s.id}`)}
              >
                <Space wrap size={6} style={{ marginBottom: 6 }}>
                  <Typography.Text strong style={{ fontSize: 16 }} data-testid="site-card-no">
                    {s.no}
                  </Typography.Text>
                  <PriorityTag priority={s.priority} />
                  <StatusTag status={s.status} />
                  {s.urge_count > 0 ? (
                    <Badge count={t('wo.urgeCount', { n: s.urge_count })} color="orange" data-testid="site-card-urges" />
                  ) : null}
                  {s.breached ? <Tag color="volcano">{t('wo.breached')}</Tag> : null}
                </Space>
                <div style={{ fontSize: 17, fontWeight: 500, marginBottom: 6, wordBreak: 'break-word' }} data-testid="site-card-title">
                  {s.title}
                  <RightOutlined style={{ float: 'right', color: 'rgba(0,0,0,0.3)', marginTop: 4 }} />
                </div>
                <div style={{ color: 'rgba(0,0,0,0.65)', marginBottom: 4 }}>
                  {s.type_name}
                  {s.customer_name ? ` · ${s.customer_name}` : s.contact_name ? ` · ${s.contact_name}` : ''}
                </div>
                {s.address ? (
                  <div style={{ marginBottom: 4, wordBreak: 'break-word' }} data-testid="site-card-address">
                    <EnvironmentOutlined /> {s.address}
                  </div>
                ) : null}
                <Space wrap size={6} style={{ marginBottom: 4 }}>
                  <DeadlineTag at={s.due_at} />
                  <Typography.Text type="secondary">{dayjs(s.created_at).format('MM-DD HH:mm')}</Typography.Text>
                </Space>
              </div>
              <Space wrap style={{ marginTop: 10, width: '100%' }} size={8}>
                {s.contact_phone ? (
                  <Button size="large" icon={<PhoneOutlined />} href={`tel:${s.contact_phone}`} data-testid="site-card-call">
                    {s.contact_phone}
                  </Button>
                ) : null}
                {cardActions(s.status).map((a) => (
                  <Button
                    key={a}
                    size="large"
                    type={a === 'accept' || a === 'submit_feedback' ? 'primary' : 'default'}
                    loading={opening === `${s.id}:${a}`}
                    onClick={() => void start(s, a)}
                    data-testid={`site-action-${a}`}
                    style={{ minWidth: 96 }}
                  >
                    {actionLabel(t, a)}
                  </Button>
                ))}
              </Space>
            </Card>
          ))}
        </Space>
      )}
      <ActionModal
        order={acting?.order ?? null}
        action={acting?.action ?? null}
        mobile={mobile}
        onClose={() => setActing(null)}
        onDone={() => {
          setActing(null);
          void load();
        }}
        onStale={() => {
          setActing(null);
          void load();
        }}
      />
    </div>
  );
}
