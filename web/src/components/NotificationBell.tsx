// The bell in the header: the unread count, the latest notifications, live through the WebSocket
// (`/api/v1/notifications/ws`, reconnecting with back-off; polling while it is down).
import { useCallback, useEffect, useRef, useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { Badge, Button, Drawer, Empty, Grid, List, Popover, Space, Spin, Typography } from 'antd';
import { BellOutlined, CheckOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import { api, woUrls, type AppNotification } from '../api';
import { useI18n } from '../i18n';

/** Fired on `window` for each live notification (pages that list orders refresh on it). */
export const NOTIFICATION_EVENT = 'kefu:notification';

type WsMessage =
  | { type: 'hello'; unread: number }
  | { type: 'notification'; notification: AppNotification }
  | { type: 'resync' }
  | { type: string };

export function NotificationBell() {
  const { t } = useI18n();
  const navigate = useNavigate();
  const [unread, setUnread] = useState(0);
  const [items, setItems] = useState<AppNotification[]>([]);
  const [open, setOpen] = useState(false);
  const [loading, setLoading] = useState(false);
  const [live, setLive] = useState(false);
  const alive = useRef(true);
  const screens = Grid.useBreakpoint();
  // On a phone the list slides up from the bottom (a popover would run off the narrow screen).
  const mobile = screens.md === false;

  const refresh = useCallback(async () => {
    setLoading(true);
    try {
      const page = await api.notifications({ per_page: 20 });
      if (!alive.current) return;
      setItems(page.items);
      setUnread(page.unread);
    } catch {
      /* the bell stays as it was */
    } finally {
      if (alive.current) setLoading(false);
    }
  }, []);

  // The live connection, reconnecting with back-off (1 s doubling to 30 s).
  useEffect(() => {
    alive.current = true;
    let ws: WebSocket | null = null;
    let retry: number | undefined;
    let delay = 1000;
    let stopped = false;
    let opened = 0;

    const connect = () => {
      if (stopped) return;
      try {
        ws = new WebSocket(woUrls.notificationsWs());
      } catch {
        schedule();
        return;
      }
      ws.onopen = () => {
        delay = 1000;
        setLive(true);
        // A reconnect after a gap may have missed notifications: read the list again.
        if (opened++ > 0) void refresh();
      };
      ws.onmessage = (ev) => {
        let msg: WsMessage;
        try {
          msg = JSON.parse(String(ev.data));
        } catch {
          return;
        }
        if (msg.type === 'hello' && 'unread' in msg) {
          setUnread(msg.unread);
        } else if (msg.type === 'resync') {
          // The server dropped messages for a slow reader: read the list again.
          void refresh();
        } else if (msg.type === 'notification' && 'notification' in msg) {
          const n = msg.notification;
          setItems((xs) => [n, ...xs.filter((x) => x.id !== n.id)].slice(0, 50));
          if (!n.read_at) setUnread((u) => u + 1);
          window.dispatchEvent(new CustomEvent(NOTIFICATION_EVENT, { detail: n }));
        }
      };
      ws.onclose = () => {
        setLive(false);
        schedule();
      };
      ws.onerror = () => {
        /* onclose follows */
      };
    };
    const schedule = () => {
      if (stopped) return;
      window.clearTimeout(retry);
      retry = window.setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30_000);
    };

    void refresh();
    connect();
    return () => {
      stopped = true;
      alive.current = false;
      window.clearTimeout(retry);
      if (ws) {
        ws.onclose = null;
        ws.close();
      }
    };
  }, [refresh]);

  // While the socket is down, poll now and then.
  useEffect(() => {
    if (live) return;
    const h = window.setInterval(() => void refresh(), 30_000);
    return () => window.clearInterval(h);
  }, [live, refresh]);

  const openOne = async (n: AppNotification) => {
    setOpen(false);
    if (!n.read_at) {
      setItems((xs) => xs.map((x) => (x.id === n.id ? { ...x, read_at: new Date().toISOString() } : x)));
      setUnread((u) => Math.max(0, u - 1));
      api.readNotification(n.id).catch(() => undefined);
    }
    if (n.work_order_id) navigate(`/work-orders/${n.work_order_id}`);
  };

  const readAll = async () => {
    try {
      await api.readAllNotifications();
      const now = new Date().toISOString();
      setItems((xs) => xs.map((x) => ({ ...x, read_at: x.read_at ?? now })));
      setUnread(0);
    } catch {
      /* leave as is */
    }
  };

  const content = (
    <div style={mobile ? undefined : { width: 340 }} data-testid="notification-panel">
      <Space style={{ width: '100%', justifyContent: 'space-between', marginBottom: 8 }}>
        <Typography.Text strong>{t('notify.title')}</Typography.Text>
        <Button size="small" type="link" icon={<CheckOutlined />} onClick={readAll} disabled={unread === 0} data-testid="notification-read-all">
          {t('notify.readAll')}
        </Button>
      </Space>
      {loading && !items.length ? (
        <div style={{ textAlign: 'center', padding: 16 }}>
          <Spin />
        </div>
      ) : items.length === 0 ? (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('notify.empty')} />
      ) : (
        <List
          size="small"
          dataSource={items}
          style={mobile ? undefined : { maxHeight: 420, overflow: 'auto' }}
          renderItem={(n) => (
            <List.Item
              key={n.id}
              onClick={() => void openOne(n)}
              style={{ cursor: 'pointer', background: n.read_at ? undefined : '#e6f4ff', paddingInline: 8 }}
              data-testid="notification-item"
              data-unread={n.read_at ? 'false' : 'true'}
              data-work-order-id={n.work_order_id ?? ''}
            >
              <List.Item.Meta
                title={<span data-testid="notification-title">{n.title}</span>}
                description={
                  <>
                    <div className="kefu-pre" style={{ color: 'rgba(0,0,0,0.65)' }}>
                      {n.body}
                    </div>
                    <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                      {dayjs(n.created_at).format('MM-DD HH:mm')}
                    </Typography.Text>
                  </>
                }
              />
            </List.Item>
          )}
        />
      )}
    </div>
  );

  const bell = (
    <Button
      type="text"
      aria-label={t('notify.title')}
      title={t('notify.title')}
      data-testid="notification-bell"
      data-unread={unread}
      data-live={live ? 'true' : 'false'}
      onClick={mobile ? () => toggle(!open) : undefined}
    >
      <Badge count={unread} size="small" overflowCount={99}>
        <BellOutlined style={{ fontSize: 18 }} />
      </Badge>
    </Button>
  );

  function toggle(o: boolean) {
    setOpen(o);
    if (o) void refresh();
  }

  if (mobile) {
    return (
      <>
        {bell}
        <Drawer open={open} placement="bottom" height="75%" onClose={() => setOpen(false)} closable={false} styles={{ body: { padding: 12 } }}>
          {content}
        </Drawer>
      </>
    );
  }
  return (
    <Popover trigger="click" placement="bottomRight" open={open} onOpenChange={toggle} content={content}>
      {bell}
    </Popover>
  );
}
