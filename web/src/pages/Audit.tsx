import { useCallback, useEffect, useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { Alert, AutoComplete, Button, Card, Col, DatePicker, Descriptions, Input, Row, Space, Table, Tag, Typography } from 'antd';
import { SearchOutlined } from '@ant-design/icons';
import dayjs, { type Dayjs } from 'dayjs';
import { api, ApiError, type AuditEntry, type Page } from '../api';
import { useI18n, useT } from '../i18n';
import { fmtTime } from './CustomerDetail';

const ENTITY_TYPES = ['customer', 'bill', 'payment', 'user', 'unit', 'credential', 'import'];
const ACTIONS = [
  'auth.login',
  'auth.login_failed',
  'auth.logout',
  'customer.create',
  'customer.update',
  'customer.import',
  'customer.import_update',
  'bill.import',
  'payment.create',
  'payment.import',
  'user.create',
  'user.update',
  'user.password',
  'unit.create',
  'unit.update',
  'token.create',
  'token.revoke',
];

const ACTION_LABELS: Record<string, [string, string]> = {
  'auth.login': ['登录', 'Sign-in'],
  'auth.login_failed': ['登录失败', 'Failed sign-in'],
  'auth.logout': ['退出登录', 'Sign-out'],
  'customer.create': ['新建客户', 'Customer created'],
  'customer.update': ['修改客户', 'Customer updated'],
  'customer.import': ['导入客户', 'Customer imported'],
  'customer.import_update': ['导入更新客户', 'Customer updated by import'],
  'bill.import': ['导入账单', 'Bill imported'],
  'payment.create': ['登记缴费', 'Payment recorded'],
  'payment.import': ['导入缴费', 'Payment imported'],
  'user.create': ['新建用户', 'User created'],
  'user.update': ['修改用户', 'User updated'],
  'user.password': ['修改密码', 'Password changed'],
  'unit.create': ['新建单位', 'Unit created'],
  'unit.update': ['修改单位', 'Unit updated'],
  'token.create': ['创建令牌', 'Token created'],
  'token.revoke': ['吊销令牌', 'Token revoked'],
};

const ENTITY_LABELS: Record<string, [string, string]> = {
  customer: ['客户', 'Customer'],
  bill: ['账单', 'Bill'],
  payment: ['缴费', 'Payment'],
  user: ['用户', 'User'],
  unit: ['单位', 'Unit'],
  credential: ['登录凭据', 'Credential'],
  import: ['导入', 'Import'],
};

function pick(map: Record<string, [string, string]>, key: string, lang: string): string | undefined {
  const v = map[key];
  return v ? (lang === 'en' ? v[1] : v[0]) : undefined;
}

function Json({ value, testId }: { value: unknown; testId: string }) {
  const t = useT();
  if (value === undefined || value === null) {
    return (
      <Typography.Text type="secondary" data-testid={testId}>
        {t('common.none')}
      </Typography.Text>
    );
  }
  return (
    <pre className="kefu-json" data-testid={testId}>
      {JSON.stringify(value, null, 2)}
    </pre>
  );
}

export default function AuditPage() {
  const { t, lang } = useI18n();
  const [params, setParams] = useSearchParams();
  const filters = {
    actor: params.get('actor') ?? '',
    entity_type: params.get('entity_type') ?? '',
    entity_id: params.get('entity_id') ?? '',
    action: params.get('action') ?? '',
    from: params.get('from') ?? '',
    to: params.get('to') ?? '',
  };
  const page = Number(params.get('page') ?? '1') || 1;
  const perPage = Number(params.get('per_page') ?? '20') || 20;

  const [actor, setActor] = useState(filters.actor);
  const [entityType, setEntityType] = useState(filters.entity_type);
  const [action, setAction] = useState(filters.action);
  const [range, setRange] = useState<[Dayjs | null, Dayjs | null] | null>(
    filters.from || filters.to ? [filters.from ? dayjs(filters.from) : null, filters.to ? dayjs(filters.to) : null] : null,
  );
  const [data, setData] = useState<Page<AuditEntry> | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const key = params.toString();
  const load = useCallback(async () => {
    setLoading(true);
    try {
      setData(await api.audit({ ...filters, page, per_page: perPage }));
      setError(null);
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 403)) setError((e as Error).message);
    } finally {
      setLoading(false);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  useEffect(() => {
    void load();
  }, [load]);

  const apply = () => {
    const next = new URLSearchParams();
    if (actor.trim()) next.set('actor', actor.trim());
    if (entityType.trim()) next.set('entity_type', entityType.trim());
    if (action.trim()) next.set('action', action.trim());
    if (filters.entity_id) next.set('entity_id', filters.entity_id);
    if (range?.[0]) next.set('from', range[0].startOf('day').toISOString());
    if (range?.[1]) next.set('to', range[1].endOf('day').toISOString());
    setParams(next);
  };
  const reset = () => {
    setActor('');
    setEntityType('');
    setAction('');
    setRange(null);
    setParams(new URLSearchParams());
  };
  const setPage = (p: number, s: number) => {
    const next = new URLSearchParams(params);
    if (p === 1) next.delete('page');
    else next.set('page', String(p));
    if (s === 20) next.delete('per_page');
    else next.set('per_page', String(s));
    setParams(next);
  };

  return (
    <Card title={t('audit.title')} data-testid="audit-page">
      <Space wrap style={{ marginBottom: 16 }}>
        <Input
          allowClear
          placeholder={t('audit.actor')}
          value={actor}
          onChange={(e) => setActor(e.target.value)}
          onPressEnter={apply}
          style={{ width: 160 }}
          data-testid="audit-actor"
        />
        <AutoComplete
          allowClear
          placeholder={t('audit.entityType')}
          value={entityType || undefined}
          options={ENTITY_TYPES.map((v) => ({ value: v, label: `${pick(ENTITY_LABELS, v, lang) ?? v} (${v})` }))}
          onChange={(v?: string) => setEntityType(v ?? '')}
          style={{ width: 160 }}
          data-testid="audit-entity-type"
        />
        <AutoComplete
          allowClear
          placeholder={t('audit.action')}
          value={action || undefined}
          options={ACTIONS.map((v) => ({ value: v, label: `${pick(ACTION_LABELS, v, lang) ?? v} (${v})` }))}
          onChange={(v?: string) => setAction(v ?? '')}
          style={{ width: 160 }}
          data-testid="audit-action"
        />
        <DatePicker.RangePicker
          value={range}
          onChange={(v) => setRange(v as [Dayjs | null, Dayjs | null] | null)}
          allowEmpty={[true, true]}
          data-testid="audit-range"
        />
        <Button type="primary" icon={<SearchOutlined />} onClick={apply} data-testid="audit-search">
          {t('common.search')}
        </Button>
        <Button onClick={reset}>{t('common.reset')}</Button>
      </Space>
      {error ? <Alert type="error" showIcon message={error} style={{ marginBottom: 16 }} /> : null}
      <Table<AuditEntry>
        rowKey="id"
        size="middle"
        loading={loading}
        dataSource={data?.items ?? []}
        data-testid="audit-table"
        onRow={() => ({ 'data-testid': 'audit-row' }) as React.HTMLAttributes<HTMLElement>}
        pagination={{
          current: data?.page ?? page,
          pageSize: data?.per_page ?? perPage,
          total: data?.total ?? 0,
          showSizeChanger: true,
          showTotal: (n) => <span data-testid="audit-total">{t('common.total', { n })}</span>,
          onChange: setPage,
        }}
        expandable={{
          expandedRowRender: (r) => (
            <div data-testid="audit-expanded">
              <Row gutter={16}>
                <Col xs={24} md={12}>
                  <Typography.Text strong>{t('audit.before')}</Typography.Text>
                  <Json value={r.before} testId="audit-before" />
                </Col>
                <Col xs={24} md={12}>
                  <Typography.Text strong>{t('audit.after')}</Typography.Text>
                  <Json value={r.after} testId="audit-after" />
                </Col>
              </Row>
              <Descriptions size="small" column={3} style={{ marginTop: 8 }}>
                <Descriptions.Item label={t('audit.sourceIp')}>{r.source_ip ?? ''}</Descriptions.Item>
                <Descriptions.Item label={t('audit.requestId')}>{r.request_id ?? ''}</Descriptions.Item>
                <Descriptions.Item label="ID">{r.id}</Descriptions.Item>
              </Descriptions>
            </div>
          ),
        }}
        columns={[
          { title: t('audit.at'), dataIndex: 'at', key: 'at', width: 180, render: (v: string) => fmtTime(v) },
          {
            title: t('audit.actor'),
            dataIndex: 'actor_name',
            key: 'actor',
            width: 160,
            render: (v: string) => <span data-testid="audit-actor-cell">{v}</span>,
          },
          {
            title: t('audit.action'),
            dataIndex: 'action',
            key: 'action',
            width: 170,
            render: (v: string) => (
              <Tag data-testid="audit-action-cell" title={v} color={v.endsWith('failed') ? 'red' : undefined}>
                {pick(ACTION_LABELS, v, lang) ?? v}
              </Tag>
            ),
          },
          {
            title: t('audit.entity'),
            key: 'entity',
            render: (_: unknown, r: AuditEntry) => (
              <span data-testid="audit-entity-cell" title={r.entity_type}>
                {pick(ENTITY_LABELS, r.entity_type, lang) ?? r.entity_type}
                {r.entity_id ? (
                  <Typography.Text type="secondary" style={{ marginInlineStart: 8, fontSize: 12 }}>
                    {r.entity_id}
                  </Typography.Text>
                ) : null}
              </span>
            ),
          },
        ]}
      />
    </Card>
  );
}
