import { useState } from 'react';
import { Navigate, useLocation, useNavigate } from 'react-router-dom';
import { Alert, Button, Card, Form, Input, Space, Typography } from 'antd';
import { LockOutlined, TranslationOutlined, UserOutlined } from '@ant-design/icons';
import { ApiError } from '../api';
import { useAuth } from '../auth';
import { useI18n } from '../i18n';
import { homePath, PageSpin } from '../components/common';

export default function LoginPage() {
  const { me, login, can } = useAuth();
  const { t, toggle } = useI18n();
  const navigate = useNavigate();
  const location = useLocation();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ message: string; detail: string } | null>(null);

  const from = (location.state as { from?: string } | null)?.from;
  const target = from && from !== '/login' && from.startsWith('/') ? from : null;

  if (me === undefined) return <PageSpin />;
  if (me) return <Navigate to={target ?? homePath(can, me.role)} replace />;

  const onFinish = async (v: { username: string; password: string }) => {
    setBusy(true);
    setError(null);
    try {
      const m = await login(v.username.trim(), v.password);
      const perms = (p: string) => m.permissions.includes(p);
      navigate(target ?? homePath(perms, m.role), { replace: true });
    } catch (e) {
      if (e instanceof ApiError) {
        const kind = (e.problem.type ?? '').split('/').pop();
        const detail = e.problem.detail || e.problem.title || '';
        if (e.status === 429) {
          const wait = e.retryAfter !== undefined && !Number.isNaN(e.retryAfter) ? e.retryAfter : undefined;
          setError({ message: wait !== undefined ? t('login.locked', { s: wait }) : t('login.throttled'), detail });
        } else if (e.status === 0) {
          setError({ message: t('common.networkError'), detail });
        } else if (e.status === 401 || kind === 'invalid-credentials') {
          setError({ message: t('login.invalid'), detail });
        } else {
          setError({ message: t('login.failed'), detail });
        }
      } else {
        setError({ message: t('login.failed'), detail: String(e) });
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="kefu-login-bg" data-testid="login-page">
      <Card style={{ width: 380, boxShadow: '0 8px 24px rgba(0,0,0,0.08)' }}>
        <Space direction="vertical" size={4} style={{ width: '100%', marginBottom: 20, textAlign: 'center' }}>
          <Typography.Title level={3} style={{ margin: 0 }}>
            {t('login.title')}
          </Typography.Title>
          <Typography.Text type="secondary">{t('login.subtitle')}</Typography.Text>
        </Space>
        {error ? (
          <Alert
            type="error"
            showIcon
            data-testid="login-error"
            message={<span data-testid="login-error-message">{error.message}</span>}
            description={error.detail && error.detail !== error.message ? <span data-testid="login-error-detail">{error.detail}</span> : undefined}
            style={{ marginBottom: 16 }}
          />
        ) : null}
        <Form layout="vertical" onFinish={onFinish} requiredMark={false} data-testid="login-form">
          <Form.Item name="username" label={t('login.username')} rules={[{ required: true, message: t('login.usernameRequired') }]}>
            <Input prefix={<UserOutlined />} autoComplete="username" autoFocus data-testid="login-username" />
          </Form.Item>
          <Form.Item name="password" label={t('login.password')} rules={[{ required: true, message: t('login.passwordRequired') }]}>
            <Input.Password prefix={<LockOutlined />} autoComplete="current-password" data-testid="login-password" />
          </Form.Item>
          <Button type="primary" htmlType="submit" block loading={busy} data-testid="login-submit">
            {t('login.submit')}
          </Button>
        </Form>
        <div style={{ textAlign: 'right', marginTop: 12 }}>
          <Button type="link" size="small" icon={<TranslationOutlined />} onClick={toggle} data-testid="lang-toggle">
            {t('lang.switch')}
          </Button>
        </div>
      </Card>
    </div>
  );
}
