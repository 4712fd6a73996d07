import { useCallback, useEffect, useMemo, useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { Alert, App, Button, Card, Form, Input, Modal, Select, Space, Switch, Table, Tabs, Tag } from 'antd';
import { EditOutlined, KeyOutlined, PlusOutlined } from '@ant-design/icons';
import { api, ApiError, type Page, type RoleInfo, type Unit, type UnitKind, type User } from '../api';
import { useAuth } from '../auth';
import { useEnumLabel, useI18n, useT } from '../i18n';
import { applyProblemToForm } from '../components/common';
import { fmtTime } from './CustomerDetail';

const UNIT_KINDS: UnitKind[] = ['call_center', 'headquarters', 'branch_office', 'pipe_network_office', 'repair_crew', 'department'];

function useOrg() {
  const [roles, setRoles] = useState<RoleInfo[]>([]);
  const [units, setUnits] = useState<Unit[]>([]);
  const [error, setError] = useState<string | null>(null);
  const reloadUnits = useCallback(async () => {
    try {
      setUnits(await api.units());
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 403)) setError((e as Error).message);
    }
  }, []);
  const reloadRoles = useCallback(async () => {
    try {
      setRoles(await api.roles());
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 403)) setError((e as Error).message);
    }
  }, []);
  useEffect(() => {
    void reloadUnits();
    void reloadRoles();
  }, [reloadUnits, reloadRoles]);
  return { roles, units, reloadUnits, error };
}

export default function UsersPage() {
  const t = useT();
  const [params, setParams] = useSearchParams();
  const tab = params.get('tab') ?? 'users';
  const org = useOrg();
  return (
    <Card title={t('users.title')} data-testid="users-page">
      {org.error ? <Alert type="error" showIcon message={org.error} style={{ marginBottom: 16 }} /> : null}
      <Tabs
        activeKey={tab}
        onChange={(k) => setParams(k === 'users' ? {} : { tab: k })}
        items={[
          { key: 'users', label: <span data-testid="tab-users">{t('users.tabUsers')}</span>, children: <UsersTab roles={org.roles} units={org.units} /> },
          { key: 'roles', label: <span data-testid="tab-roles">{t('users.tabRoles')}</span>, children: <RolesTab roles={org.roles} /> },
          {
            key: 'units',
            label: <span data-testid="tab-units">{t('users.tabUnits')}</span>,
            children: <UnitsTab units={org.units} reload={org.reloadUnits} />,
          },
        ]}
      />
    </Card>
  );
}

function roleOptions(roles: RoleInfo[], label: (p: string, v: string) => string, lang: string) {
  return roles.map((r) => ({ value: r.role, label: lang === 'en' ? label('role', r.role) : r.label_zh || label('role', r.role) }));
}

function UsersTab({ roles, units }: { roles: RoleInfo[]; units: Unit[] }) {
  const t = useT();
  const { lang } = useI18n();
  const label = useEnumLabel();
  const { can } = useAuth();
  const canWrite = can('users.write');
  const [q, setQ] = useState('');
  const [draft, setDraft] = useState('');
  const [page, setPage] = useState(1);
  const [perPage, setPerPage] = useState(20);
  const [data, setData] = useState<Page<User> | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState<User | 'new' | null>(null);
  const [resetting, setResetting] = useState<User | null>(null);

  const load = useCallback(async () => {
    setLoading(true);
    try {
      setData(await api.users({ q, page, per_page: perPage }));
      setError(null);
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 403)) setError((e as Error).message);
    } finally {
      setLoading(false);
    }
  }, [q, page, perPage]);
  useEffect(() => {
    void load();
  }, [load]);

  const roleLabel = (r: string) => {
    const info = roles.find((x) => x.role === r);
    return lang === 'en' ? label('role', r) : info?.label_zh || label('role', r);
  };

  return (
    <>
      <Space style={{ marginBottom: 16 }} wrap>
        <Input.Search
          allowClear
          placeholder={t('users.searchPlaceholder')}
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          onSearch={(v) => {
            setQ(v.trim());
            setPage(1);
          }}
          enterButton={t('common.search')}
          style={{ width: 320 }}
          data-testid="users-search"
        />
        {canWrite ? (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')} data-testid="user-new">
            {t('users.new')}
          </Button>
        ) : null}
      </Space>
      {error ? <Alert type="error" showIcon message={error} style={{ marginBottom: 16 }} /> : null}
      <Table<User>
        rowKey="id"
        size="middle"
        loading={loading}
        dataSource={data?.items ?? []}
        data-testid="users-table"
        onRow={() => ({ 'data-testid': 'user-row' }) as React.HTMLAttributes<HTMLElement>}
        pagination={{
          current: page,
          pageSize: perPage,
          total: data?.total ?? 0,
          showSizeChanger: true,
          showTotal: (n) => t('common.total', { n }),
          onChange: (p, s) => {
            setPage(p);
            setPerPage(s);
          },
        }}
        columns={[
          { title: t('users.username'), dataIndex: 'username', key: 'username' },
          { title: t('users.displayName'), dataIndex: 'display_name', key: 'display_name' },
          { title: t('users.role'), dataIndex: 'role', key: 'role', render: (r: string) => <Tag color="blue">{roleLabel(r)}</Tag> },
          { title: t('users.unit'), dataIndex: 'unit_name', key: 'unit_name' },
          {
            title: t('common.status'),
            dataIndex: 'active',
            key: 'active',
            render: (a: boolean) => (a ? <Tag color="green">{t('common.active')}</Tag> : <Tag>{t('common.inactive')}</Tag>),
          },
          { title: t('users.createdAt'), dataIndex: 'created_at', key: 'created_at', render: (v: string) => fmtTime(v) },
          ...(canWrite
            ? [
                {
                  title: t('common.actions'),
                  key: 'actions',
                  render: (_: unknown, u: User) => (
                    <Space size={0}>
                      <Button type="link" size="small" icon={<EditOutlined />} onClick={() => setEditing(u)} data-testid="user-edit">
                        {t('common.edit')}
                      </Button>
                      <Button type="link" size="small" icon={<KeyOutlined />} onClick={() => setResetting(u)} data-testid="user-reset-password">
                        {t('pwd.reset')}
                      </Button>
                    </Space>
                  ),
                },
              ]
            : []),
        ]}
      />
      <UserModal
        target={editing}
        roles={roleOptions(roles, label, lang)}
        units={units}
        onClose={() => setEditing(null)}
        onSaved={() => {
          setEditing(null);
          void load();
        }}
      />
      <ResetPasswordModal user={resetting} onClose={() => setResetting(null)} />
    </>
  );
}

function UserModal({
  target,
  roles,
  units,
  onClose,
  onSaved,
}: {
  target: User | 'new' | null;
  roles: { value: string; label: string }[];
  units: Unit[];
  onClose: () => void;
  onSaved: () => void;
}) {
  const t = useT();
  const { message } = App.useApp();
  const [form] = Form.useForm();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const isNew = target === 'new';

  useEffect(() => {
    if (target) {
      form.resetFields();
      setError(null);
      if (target !== 'new') {
        form.setFieldsValue({ display_name: target.display_name, role: target.role, unit_id: target.unit_id, active: target.active });
      } else {
        form.setFieldsValue({ active: true });
      }
    }
  }, [target, form]);

  const submit = async () => {
    let v: Record<string, unknown>;
    try {
      v = await form.validateFields();
    } catch {
      return;
    }
    setBusy(true);
    setError(null);
    try {
      if (target === 'new') {
        await api.createUser({
          username: String(v.username).trim(),
          display_name: String(v.display_name),
          password: String(v.password),
          role: String(v.role),
          unit_id: String(v.unit_id),
        });
        message.success(t('users.created'));
      } else if (target) {
        const patch: Record<string, unknown> = {};
        for (const k of ['display_name', 'role', 'unit_id', 'active'] as const) {
          if (v[k] !== (target as User)[k]) patch[k] = v[k];
        }
        if (Object.keys(patch).length) await api.updateUser(target.id, patch);
        message.success(t('common.saved'));
      }
      onSaved();
    } catch (e) {
      setError(applyProblemToForm(form, e, ['username', 'display_name', 'password', 'role', 'unit_id', 'active']));
    } finally {
      setBusy(false);
    }
  };

  const req = [{ required: true, message: t('common.required') }];
  return (
    <Modal
      open={target !== null}
      title={isNew ? t('users.new') : t('users.edit')}
      onCancel={onClose}
      onOk={submit}
      confirmLoading={busy}
      okText={t('common.save')}
      cancelText={t('common.cancel')}
      forceRender
      okButtonProps={{ 'data-testid': 'user-form-submit' }}
    >
      {error ? <Alert type="error" showIcon message={<span data-testid="user-form-error">{error}</span>} style={{ marginBottom: 16 }} /> : null}
      <Form form={form} layout="vertical" data-testid="user-form">
        {isNew ? (
          <Form.Item name="username" label={t('users.username')} rules={req}>
            <Input autoComplete="off" data-testid="uf-username" />
          </Form.Item>
        ) : (
          <Form.Item label={t('users.username')}>
            <Input value={typeof target === 'object' && target ? target.username : ''} disabled />
          </Form.Item>
        )}
        <Form.Item name="display_name" label={t('users.displayName')} rules={req}>
          <Input data-testid="uf-display_name" />
        </Form.Item>
        {isNew ? (
          <Form.Item name="password" label={t('users.password')} rules={req}>
            <Input.Password autoComplete="new-password" data-testid="uf-password" />
          </Form.Item>
        ) : null}
        <Form.Item name="role" label={t('users.role')} rules={req}>
          <Select options={roles} data-testid="uf-role" />
        </Form.Item>
        <Form.Item name="unit_id" label={t('users.unit')} rules={req}>
          <Select
            showSearch
            optionFilterProp="label"
            options={units.map((u) => ({ value: u.id, label: u.name }))}
            data-testid="uf-unit"
          />
        </Form.Item>
        {!isNew ? (
          <Form.Item name="active" label={t('users.active')} valuePropName="checked">
            <Switch data-testid="uf-active" />
          </Form.Item>
        ) : null}
      </Form>
    </Modal>
  );
}

function ResetPasswordModal({ user, onClose }: { user: User | null; onClose: () => void }) {
  const t = useT();
  const { message } = App.useApp();
  const [form] = Form.useForm();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (user) {
      form.resetFields();
      setError(null);
    }
  }, [user, form]);
  const submit = async () => {
    let v: { new_password: string };
    try {
      v = await form.validateFields();
    } catch {
      return;
    }
    if (!user) return;
    setBusy(true);
    try {
      await api.resetPassword(user.id, v.new_password);
      message.success(t('pwd.resetDone'));
      onClose();
    } catch (e) {
      setError(applyProblemToForm(form, e, ['new_password']));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal
      open={user !== null}
      title={user ? t('pwd.resetTitle', { name: user.display_name }) : ''}
      onCancel={onClose}
      onOk={submit}
      confirmLoading={busy}
      okText={t('common.save')}
      cancelText={t('common.cancel')}
      forceRender
      okButtonProps={{ 'data-testid': 'reset-password-submit' }}
    >
      {error ? <Alert type="error" showIcon message={error} style={{ marginBottom: 16 }} /> : null}
      <Form form={form} layout="vertical">
        <Form.Item name="new_password" label={t('pwd.new')} rules={[{ required: true, message: t('common.required') }]}>
          <Input.Password autoComplete="new-password" data-testid="reset-password-input" />
        </Form.Item>
      </Form>
    </Modal>
  );
}

function RolesTab({ roles }: { roles: RoleInfo[] }) {
  const t = useT();
  const { lang } = useI18n();
  const label = useEnumLabel();
  return (
    <Table<RoleInfo>
      rowKey="role"
      size="middle"
      dataSource={roles}
      pagination={false}
      data-testid="roles-table"
      columns={[
        { title: t('roles.role'), dataIndex: 'role', key: 'role', width: 140, render: (r: string) => <code>{r}</code> },
        {
          title: t('roles.label'),
          dataIndex: 'label_zh',
          key: 'label',
          width: 140,
          render: (v: string, r) => (lang === 'en' ? label('role', r.role) : v),
        },
        {
          title: t('roles.permissions'),
          dataIndex: 'permissions',
          key: 'permissions',
          render: (ps: string[]) => (
            <Space size={[4, 4]} wrap>
              {ps.map((p) => (
                <Tag key={p}>{p}</Tag>
              ))}
            </Space>
          ),
        },
      ]}
    />
  );
}

function UnitsTab({ units, reload }: { units: Unit[]; reload: () => Promise<void> }) {
  const t = useT();
  const label = useEnumLabel();
  const { can } = useAuth();
  const canWrite = can('units.write');
  const [editing, setEditing] = useState<Unit | 'new' | null>(null);
  const byId = useMemo(() => new Map(units.map((u) => [u.id, u])), [units]);
  return (
    <>
      {canWrite ? (
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')} style={{ marginBottom: 16 }} data-testid="unit-new">
          {t('units.new')}
        </Button>
      ) : null}
      <Table<Unit>
        rowKey="id"
        size="middle"
        dataSource={units}
        pagination={false}
        data-testid="units-table"
        columns={[
          { title: t('units.code'), dataIndex: 'code', key: 'code', width: 140 },
          { title: t('units.name'), dataIndex: 'name', key: 'name' },
          { title: t('units.kind'), dataIndex: 'kind', key: 'kind', render: (k: string) => label('unitKind', k) },
          {
            title: t('units.parent'),
            dataIndex: 'parent_id',
            key: 'parent',
            render: (p?: string | null) => (p ? byId.get(p)?.name ?? p : ''),
          },
          {
            title: t('units.takesQueue'),
            dataIndex: 'takes_queue_calls',
            key: 'tq',
            render: (v: boolean) => (v ? t('common.yes') : t('common.no')),
          },
          {
            title: t('common.status'),
            dataIndex: 'active',
            key: 'active',
            render: (a: boolean) => (a ? <Tag color="green">{t('common.active')}</Tag> : <Tag>{t('common.inactive')}</Tag>),
          },
          ...(canWrite
            ? [
                {
                  title: t('common.actions'),
                  key: 'actions',
                  render: (_: unknown, u: Unit) => (
                    <Button type="link" size="small" icon={<EditOutlined />} onClick={() => setEditing(u)} data-testid="unit-edit">
                      {t('common.edit')}
                    </Button>
                  ),
                },
              ]
            : []),
        ]}
      />
      <UnitModal
        target={editing}
        units={units}
        onClose={() => setEditing(null)}
        onSaved={() => {
          setEditing(null);
          void reload();
        }}
      />
    </>
  );
}

function UnitModal({
  target,
  units,
  onClose,
  onSaved,
}: {
  target: Unit | 'new' | null;
  units: Unit[];
  onClose: () => void;
  onSaved: () => void;
}) {
  const t = useT();
  const label = useEnumLabel();
  const { message } = App.useApp();
  const [form] = Form.useForm();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const isNew = target === 'new';

  useEffect(() => {
    if (target) {
      form.resetFields();
      setError(null);
      if (target === 'new') form.setFieldsValue({ takes_queue_calls: false, kind: 'branch_office' });
      else
        form.setFieldsValue({
          code: target.code,
          name: target.name,
          kind: target.kind,
          parent_id: target.parent_id ?? undefined,
          takes_queue_calls: target.takes_queue_calls,
          active: target.active,
        });
    }
  }, [target, form]);

  const submit = async () => {
    let v: Record<string, unknown>;
    try {
      v = await form.validateFields();
    } catch {
      return;
    }
    setBusy(true);
    setError(null);
    try {
      if (target === 'new') {
        await api.createUnit({
          code: String(v.code).trim(),
          name: String(v.name),
          kind: v.kind as UnitKind,
          ...(v.parent_id ? { parent_id: String(v.parent_id) } : {}),
          takes_queue_calls: !!v.takes_queue_calls,
        });
      } else if (target) {
        const patch: Record<string, unknown> = {};
        for (const k of ['name', 'kind', 'takes_queue_calls', 'active'] as const) {
          if (v[k] !== target[k]) patch[k] = v[k];
        }
        const parent = (v.parent_id as string | undefined) ?? null;
        if (parent !== (target.parent_id ?? null)) patch.parent_id = parent;
        if (Object.keys(patch).length) await api.updateUnit(target.id, patch);
      }
      message.success(t('common.saved'));
      onSaved();
    } catch (e) {
      setError(applyProblemToForm(form, e, ['code', 'name', 'kind', 'parent_id', 'takes_queue_calls', 'active']));
    } finally {
      setBusy(false);
    }
  };

  const req = [{ required: true, message: t('common.required') }];
  return (
    <Modal
      open={target !== null}
      title={isNew ? t('units.new') : t('units.edit')}
      onCancel={onClose}
      onOk={submit}
      confirmLoading={busy}
      okText={t('common.save')}
      cancelText={t('common.cancel')}
      forceRender
      okButtonProps={{ 'data-testid': 'unit-form-submit' }}
    >
      {error ? <Alert type="error" showIcon message={error} style={{ marginBottom: 16 }} /> : null}
      <Form form={form} layout="vertical" data-testid="unit-form">
        <Form.Item name="code" label={t('units.code')} rules={req}>
          <Input disabled={!isNew} data-testid="unitf-code" />
        </Form.Item>
        <Form.Item name="name" label={t('units.name')} rules={req}>
          <Input data-testid="unitf-name" />
        </Form.Item>
        <Form.Item name="kind" label={t('units.kind')} rules={req}>
          <Select options={UNIT_KINDS.map((k) => ({ value: k, label: label('unitKind', k) }))} data-testid="unitf-kind" />
        </Form.Item>
        <Form.Item name="parent_id" label={t('units.parent')}>
          <Select
            allowClear
            options={units.filter((u) => target === 'new' || !target || u.id !== target.id).map((u) => ({ value: u.id, label: u.name }))}
          />
        </Form.Item>
        <Form.Item name="takes_queue_calls" label={t('units.takesQueue')} valuePropName="checked">
          <Switch />
        </Form.Item>
        {!isNew ? (
          <Form.Item name="active" label={t('users.active')} valuePropName="checked">
            <Switch />
          </Form.Item>
        ) : null}
      </Form>
    </Modal>
  );
}
