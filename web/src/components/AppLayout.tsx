import { useEffect, useMemo, useState } from 'react';
import { Outlet, useLocation, useNavigate } from 'react-router-dom';
import { App, Button, Dropdown, Form, Grid, Input, Layout, Menu, Modal, Space, Tag, Typography, type MenuProps } from 'antd';
import {
  AuditOutlined,
  ClockCircleOutlined,
  BarChartOutlined,
  BookOutlined,
  CalendarOutlined,
  CloudUploadOutlined,
  ControlOutlined,
  CustomerServiceOutlined,
  DownOutlined,
  FileTextOutlined,
  InboxOutlined,
  KeyOutlined,
  LogoutOutlined,
  PartitionOutlined,
  SettingOutlined,
  TeamOutlined,
  TranslationOutlined,
  UserOutlined,
} from '@ant-design/icons';
import { ApiError, FORBIDDEN_EVENT, type Problem } from '../api';
import { api } from '../api';
import { useAuth, type Permission } from '../auth';
import { useEnumLabel, useI18n, type MessageKey } from '../i18n';
import { Forbidden } from '../pages/Errors';
import { NotificationBell } from './NotificationBell';

const { Header, Sider, Content } = Layout;

interface MenuEntry {
  key: string;
  path: string;
  label: MessageKey;
  icon: React.ReactNode;
  testId: string;
  perm?: Permission;
  /** Only for these roles. */
  roles?: string[];
  /** A page that follows later: shown disabled. */
  soon?: boolean;
}

const MAIN: MenuEntry[] = [
  { key: '/desk', path: '/desk', label: 'menu.desktop', icon: <CustomerServiceOutlined />, testId: 'menu-desktop', perm: 'agents.desk' },
  { key: '/site/inbox', path: '/site/inbox', label: 'menu.siteInbox', icon: <InboxOutlined />, testId: 'menu-site-inbox', perm: 'work_orders.read', roles: ['site_staff'] },
  { key: '/customers', path: '/customers', label: 'menu.customers', icon: <UserOutlined />, testId: 'menu-customers', perm: 'customers.read' },
  { key: '/work-orders', path: '/work-orders', label: 'menu.workOrders', icon: <FileTextOutlined />, testId: 'menu-work-orders', perm: 'work_orders.read' },
  { key: '/kb', path: '/kb', label: 'menu.knowledge', icon: <BookOutlined />, testId: 'menu-knowledge', perm: 'kb.read' },
  { key: '/ivr', path: '/ivr', label: 'menu.ivr', icon: <PartitionOutlined />, testId: 'menu-ivr', perm: 'ivr.read' },
  { key: '/wallboard', path: '/wallboard', label: 'menu.wallboard', icon: <BarChartOutlined />, testId: 'menu-wallboard', perm: 'acd.reports' },
];

const ADMIN: MenuEntry[] = [
  { key: '/admin/users', path: '/admin/users', label: 'menu.users', icon: <TeamOutlined />, testId: 'menu-users', perm: 'users.read' },
  { key: '/admin/audit', path: '/admin/audit', label: 'menu.audit', icon: <AuditOutlined />, testId: 'menu-audit', perm: 'audit.read' },
  { key: '/admin/imports', path: '/admin/imports', label: 'menu.imports', icon: <CloudUploadOutlined />, testId: 'menu-imports', perm: 'imports.run' },
  { key: '/admin/work-order-types', path: '/admin/work-order-types', label: 'menu.woTypes', icon: <ControlOutlined />, testId: 'menu-wo-types', perm: 'work_order_types.manage' },
  { key: '/admin/calendars', path: '/admin/calendars', label: 'menu.calendars', icon: <CalendarOutlined />, testId: 'menu-calendars', perm: 'calendars.manage' },
];

function selectedKey(pathname: string): string {
  const all = [...MAIN, ...ADMIN];
  const hit = all
    .filter((e) => pathname === e.path || pathname.startsWith(e.path + '/'))
    .sort((a, b) => b.path.length - a.path.length)[0];
  return hit?.key ?? pathname;
}

export function AppLayout() {
  const { me, can, logout } = useAuth();
  const { t, lang, toggle } = useI18n();
  const enumLabel = useEnumLabel();
  const navigate = useNavigate();
  const location = useLocation();
  const screens = Grid.useBreakpoint();
  // Phones (narrower than md): the menu folds away completely and the content uses the whole width.
  const mobile = screens.md === false;
  const [collapsed, setCollapsed] = useState(() => window.innerWidth < 768);
  const [pwdOpen, setPwdOpen] = useState(false);
  const [forbidden, setForbidden] = useState<{ path: string; problem: Problem } | null>(null);

  // An API call answered 403: show the 403 page in place of the current page until the user navigates.
  useEffect(() => {
    const on = (e: Event) => {
      const problem = (e as CustomEvent<Problem>).detail;
      setForbidden({ path: window.location.pathname, problem });
    };
    window.addEventListener(FORBIDDEN_EVENT, on);
    return () => window.removeEventListener(FORBIDDEN_EVENT, on);
  }, []);
  useEffect(() => {
    setForbidden((f) => (f && f.path !== location.pathname ? null : f));
  }, [location.pathname]);

  const items = useMemo<MenuProps['items']>(() => {
    const toItem = (e: MenuEntry) => ({
      key: e.key,
      icon: e.icon,
      disabled: !!e.soon,
      title: e.soon ? `${t(e.label)}（${t('menu.comingSoon')}）` : t(e.label),
      label: (
        <span data-testid={e.testId}>
          {t(e.label)}
          {e.soon ? (
            <ClockCircleOutlined
              title={t('menu.comingSoon')}
              aria-label={t('menu.comingSoon')}
              style={{ marginInlineStart: 8, fontSize: 11, color: 'rgba(255,255,255,0.35)' }}
            />
          ) : null}
        </span>
      ),
    });
    const visible = (e: MenuEntry) => (!e.perm || can(e.perm)) && (!e.roles || (!!me && e.roles.includes(me.role)));
    const main = MAIN.filter(visible).map(toItem);
    const admin = ADMIN.filter(visible).map(toItem);
    const out: NonNullable<MenuProps['items']> = [...main];
    if (admin.length) {
      out.push({
        type: 'group',
        key: 'admin',
        label: collapsed ? null : (
          <span data-testid="menu-admin" style={{ color: 'rgba(255,255,255,0.45)' }}>
            <SettingOutlined /> {t('menu.admin')}
          </span>
        ),
        children: admin,
      });
    }
    return out;
  }, [t, can, collapsed, me]);

  if (!me) return null;

  const userMenu: MenuProps['items'] = [
    { key: 'password', icon: <KeyOutlined />, label: <span data-testid="change-password">{t('header.changePassword')}</span> },
    { type: 'divider' },
    { key: 'logout', icon: <LogoutOutlined />, label: <span data-testid="logout">{t('header.logout')}</span> },
  ];

  return (
    <Layout style={{ minHeight: '100%' }}>
      <Sider
        collapsible
        collapsed={collapsed}
        onCollapse={setCollapsed}
        width={220}
        breakpoint="md"
        collapsedWidth={mobile ? 0 : 80}
        data-testid="sider"
        style={mobile && !collapsed ? { position: 'fixed', height: '100%', zIndex: 20 } : undefined}
      >
        <div className="kefu-logo" data-testid="app-logo">
          {collapsed ? '客服' : t('app.title')}
        </div>
        <Menu
          theme="dark"
          mode="inline"
          data-testid="main-menu"
          selectedKeys={[selectedKey(location.pathname)]}
          items={items}
          onClick={(info) => {
            navigate(info.key);
            if (mobile) setCollapsed(true);
          }}
        />
      </Sider>
      <Layout>
        <Header className={`kefu-header${mobile ? ' kefu-header-mobile' : ''}`}>
          <Typography.Text type="secondary" data-testid="header-unit" ellipsis style={{ minWidth: 0 }}>
            {me.unit_name}
          </Typography.Text>
          <Space size={mobile ? 4 : 'middle'}>
            {can('notifications.own') ? <NotificationBell /> : null}
            <Button
              size="small"
              icon={<TranslationOutlined />}
              onClick={toggle}
              data-testid="lang-toggle"
              title={lang === 'en' ? '切换到中文' : 'Switch to English'}
            >
              {mobile ? (lang === 'en' ? '中' : 'EN') : t('lang.switch')}
            </Button>
            <Dropdown
              trigger={['click']}
              menu={{
                items: userMenu,
                onClick: async ({ key }) => {
                  if (key === 'password') setPwdOpen(true);
                  if (key === 'logout') {
                    await logout();
                    navigate('/login', { replace: true });
                  }
                },
              }}
            >
              <Button type="text" data-testid="user-menu">
                <UserOutlined />
                <span data-testid="header-user">{me.display_name}</span>
                {mobile ? null : (
                  <Tag color="blue" style={{ marginInlineStart: 4 }} data-testid="header-role">
                    {lang === 'en' || !me.role_label ? enumLabel('role', me.role) : me.role_label}
                  </Tag>
                )}
                <DownOutlined style={{ fontSize: 10 }} />
              </Button>
            </Dropdown>
          </Space>
        </Header>
        <Content className={`kefu-content${mobile ? ' kefu-content-mobile' : ''}`}>
          {forbidden ? <Forbidden detail={forbidden.problem.detail} /> : <Outlet />}
        </Content>
      </Layout>
      <ChangePasswordDialog open={pwdOpen} onClose={() => setPwdOpen(false)} />
    </Layout>
  );
}

function ChangePasswordDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const { t } = useI18n();
  const { message } = App.useApp();
  const [form] = Form.useForm();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async () => {
    const v = await form.validateFields();
    setBusy(true);
    setError(null);
    try {
      await api.changePassword(v.current_password, v.new_password);
      message.success(t('pwd.changed'));
      form.resetFields();
      onClose();
    } catch (e) {
      if (e instanceof ApiError) {
        const fieldErrs = (e.problem.errors ?? []).filter((fe) => ['current_password', 'new_password'].includes(fe.field));
        if (fieldErrs.length) form.setFields(fieldErrs.map((fe) => ({ name: fe.field, errors: [fe.reason] })));
        setError(e.message);
      } else setError(String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal
      open={open}
      title={t('pwd.title')}
      onCancel={() => {
        setError(null);
        onClose();
      }}
      onOk={submit}
      confirmLoading={busy}
      okText={t('common.save')}
      cancelText={t('common.cancel')}
      destroyOnHidden
      okButtonProps={{ 'data-testid': 'pwd-submit' }}
    >
      <Form form={form} layout="vertical" preserve={false}>
        <Form.Item name="current_password" label={t('pwd.current')} rules={[{ required: true, message: t('common.required') }]}>
          <Input.Password autoComplete="current-password" data-testid="pwd-current" />
        </Form.Item>
        <Form.Item name="new_password" label={t('pwd.new')} rules={[{ required: true, message: t('common.required') }]}>
          <Input.Password autoComplete="new-password" data-testid="pwd-new" />
        </Form.Item>
        <Form.Item
          name="confirm"
          label={t('pwd.confirm')}
          dependencies={['new_password']}
          rules={[
            { required: true, message: t('common.required') },
            ({ getFieldValue }) => ({
              validator: (_, value) =>
                !value || getFieldValue('new_password') === value ? Promise.resolve() : Promise.reject(new Error(t('pwd.mismatch'))),
            }),
          ]}
        >
          <Input.Password autoComplete="new-password" data-testid="pwd-confirm" />
        </Form.Item>
        {error ? <Typography.Text type="danger" data-testid="pwd-error">{error}</Typography.Text> : null}
      </Form>
    </Modal>
  );
}
