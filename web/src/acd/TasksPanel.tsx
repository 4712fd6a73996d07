// 日程与任务: the agent's callbacks and follow-ups (GET/POST /agents/me/tasks, PATCH …/{id}), with a
// reminder (an antd notification) when a task's `remind_at` passes while the page is open.
import { useCallback, useEffect, useRef, useState } from 'react';
import { Alert, App, Button, Card, Checkbox, DatePicker, Empty, Form, Input, List, Modal, Space, Switch, Tag, Typography } from 'antd';
import { BellOutlined, PhoneOutlined, PlusOutlined } from '@ant-design/icons';
import dayjs, { type Dayjs } from 'dayjs';
import type { CustomerDetail } from '../api';
import { useI18n } from '../i18n';
import { applyProblemToForm } from '../components/common';
import { acdApi, type AgentTask, type NewTask } from './api';
import { problemText } from './common';

const REMINDED_KEY = 'kefu.acd.reminded';

function loadReminded(): Set<string> {
  try {
    return new Set(JSON.parse(sessionStorage.getItem(REMINDED_KEY) ?? '[]') as string[]);
  } catch {
    return new Set();
  }
}

function saveReminded(s: Set<string>) {
  try {
    sessionStorage.setItem(REMINDED_KEY, JSON.stringify([...s].slice(-200)));
  } catch {
    /* storage unavailable */
  }
}

export function TasksPanel({
  customer,
  version,
  onPickCustomer,
}: {
  /** The customer on the desk: a new task is for them by default. */
  customer: CustomerDetail | null;
  version: number;
  onPickCustomer: (id: string) => void;
}) {
  const { t } = useI18n();
  const { message, notification } = App.useApp();
  const [tasks, setTasks] = useState<AgentTask[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [showDone, setShowDone] = useState(false);
  const [open, setOpen] = useState(false);
  const reminded = useRef<Set<string>>(loadReminded());

  const load = useCallback(async () => {
    setLoading(true);
    try {
      const ts = await acdApi.tasks();
      setTasks(ts);
      setError(null);
    } catch (e) {
      setError(problemText(e));
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    void load();
    const h = window.setInterval(() => void load(), 60_000);
    return () => window.clearInterval(h);
  }, [load, version]);

  // Reminders: every 10 s, each open task whose remind_at has passed, once per browser session.
  useEffect(() => {
    const check = () => {
      const now = Date.now();
      for (const task of tasks) {
        if (task.done || !task.remind_at || reminded.current.has(task.id)) continue;
        const at = Date.parse(task.remind_at);
        if (Number.isNaN(at) || at > now) continue;
        reminded.current.add(task.id);
        saveReminded(reminded.current);
        notification.warning({
          key: `task-${task.id}`,
          message: task.phone ? t('desk.task.remindCallback') : t('desk.task.remindFollowUp'),
          description: (
            <div data-testid="task-reminder" data-task-id={task.id}>
              <div>{t('desk.task.dueAt', { at: dayjs(task.due_at).format('MM-DD HH:mm') })}</div>
              {task.phone ? <div>{task.phone}</div> : null}
              <div className="kefu-pre">{task.note}</div>
            </div>
          ),
          icon: <BellOutlined style={{ color: '#fa8c16' }} />,
          duration: 0,
        });
      }
    };
    check();
    const h = window.setInterval(check, 10_000);
    return () => window.clearInterval(h);
  }, [tasks, notification, t]);

  const complete = async (task: AgentTask, done: boolean) => {
    try {
      const updated = await acdApi.updateTask(task.id, { done });
      setTasks((ts) => ts.map((x) => (x.id === task.id ? { ...x, ...(updated ?? {}), done } : x)));
    } catch (e) {
      message.error(problemText(e));
    }
  };

  const now = Date.now();
  const shown = tasks
    .filter((x) => showDone || !x.done)
    .sort((a, b) => Number(a.done) - Number(b.done) || a.due_at.localeCompare(b.due_at));

  return (
    <Card
      size="small"
      title={t('desk.task.title')}
      data-testid="tasks-panel"
      extra={
        <Space>
          <Switch size="small" checked={showDone} onChange={setShowDone} data-testid="tasks-show-done" />
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {t('desk.task.showDone')}
          </Typography.Text>
          <Button size="small" type="primary" icon={<PlusOutlined />} onClick={() => setOpen(true)} data-testid="task-new">
            {t('common.create')}
          </Button>
        </Space>
      }
    >
      {error ? <Alert type="error" showIcon message={error} style={{ marginBottom: 8 }} /> : null}
      {shown.length === 0 ? (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={loading ? t('common.loading') : t('desk.task.empty')} />
      ) : (
        <List
          size="small"
          dataSource={shown}
          style={{ maxHeight: 320, overflow: 'auto' }}
          renderItem={(task) => {
            const overdue = !task.done && Date.parse(task.due_at) < now;
            return (
              <List.Item
                key={task.id}
                data-testid="task-item"
                data-task-id={task.id}
                data-done={task.done ? 'true' : 'false'}
                actions={[
                  <Checkbox key="done" checked={task.done} onChange={(e) => void complete(task, e.target.checked)}>
                    <span data-testid="task-done">{t('desk.task.done')}</span>
                  </Checkbox>,
                ]}
              >
                <List.Item.Meta
                  title={
                    <Space wrap size={4}>
                      <Tag color={task.phone ? 'gold' : 'blue'}>{task.phone ? t('desk.task.callback') : t('desk.task.followUp')}</Tag>
                      <Typography.Text type={overdue ? 'danger' : undefined} delete={task.done} data-testid="task-due">
                        {dayjs(task.due_at).format('MM-DD HH:mm')}
                      </Typography.Text>
                      {task.phone ? (
                        <Typography.Text copyable>
                          <PhoneOutlined /> {task.phone}
                        </Typography.Text>
                      ) : null}
                    </Space>
                  }
                  description={
                    <>
                      <div className="kefu-pre" data-testid="task-note">
                        {task.note}
                      </div>
                      {task.customer_id ? (
                        <Typography.Link onClick={() => onPickCustomer(task.customer_id!)} data-testid="task-customer">
                          {t('desk.task.openCustomer')}
                        </Typography.Link>
                      ) : null}
                    </>
                  }
                />
              </List.Item>
            );
          }}
        />
      )}
      <TaskDialog
        open={open}
        customer={customer}
        onClose={() => setOpen(false)}
        onCreated={(task) => {
          setTasks((ts) => [...ts.filter((x) => x.id !== task.id), task]);
          setOpen(false);
          message.success(t('desk.task.created'));
        }}
      />
    </Card>
  );
}

interface TaskValues {
  due_at: Dayjs;
  remind_at?: Dayjs | null;
  phone?: string;
  note: string;
  forCustomer: boolean;
}

function TaskDialog({
  open,
  customer,
  onClose,
  onCreated,
}: {
  open: boolean;
  customer: CustomerDetail | null;
  onClose: () => void;
  onCreated: (t: AgentTask) => void;
}) {
  const { t } = useI18n();
  const [form] = Form.useForm<TaskValues>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!open) return;
    setError(null);
    const due = dayjs().add(1, 'hour').startOf('minute');
    form.resetFields();
    form.setFieldsValue({
      due_at: due,
      remind_at: due.subtract(10, 'minute'),
      phone: customer?.phones[0] ?? '',
      note: '',
      forCustomer: !!customer,
    });
  }, [open, customer, form]);

  const submit = async () => {
    let v: TaskValues;
    try {
      v = await form.validateFields();
    } catch {
      return;
    }
    const body: NewTask = {
      due_at: v.due_at.toISOString(),
      note: v.note.trim(),
      ...(v.remind_at ? { remind_at: v.remind_at.toISOString() } : {}),
      ...(v.phone?.trim() ? { phone: v.phone.trim() } : {}),
      ...(customer && v.forCustomer ? { customer_id: customer.id } : {}),
    };
    setBusy(true);
    setError(null);
    try {
      onCreated(await acdApi.createTask(body));
    } catch (e) {
      setError(applyProblemToForm(form, e, ['due_at', 'remind_at', 'phone', 'note']));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal
      open={open}
      title={t('desk.task.new')}
      onCancel={onClose}
      onOk={submit}
      okText={t('common.save')}
      cancelText={t('common.cancel')}
      confirmLoading={busy}
      forceRender
      okButtonProps={{ 'data-testid': 'task-submit' } as Record<string, string>}
    >
      <div data-testid="task-dialog">
        {error ? <Alert type="error" showIcon message={<span data-testid="task-error">{error}</span>} style={{ marginBottom: 12 }} /> : null}
        <Form<TaskValues> form={form} layout="vertical">
          <Form.Item name="due_at" label={t('desk.task.due')} rules={[{ required: true, message: t('common.required') }]}>
            <DatePicker showTime={{ format: 'HH:mm' }} format="YYYY-MM-DD HH:mm" style={{ width: '100%' }} data-testid="task-due-input" />
          </Form.Item>
          <Form.Item name="remind_at" label={t('desk.task.remind')}>
            <DatePicker showTime={{ format: 'HH:mm' }} format="YYYY-MM-DD HH:mm" style={{ width: '100%' }} data-testid="task-remind-input" />
          </Form.Item>
          <Form.Item name="phone" label={t('desk.task.phone')} extra={t('desk.task.phoneHint')}>
            <Input maxLength={32} inputMode="tel" data-testid="task-phone" />
          </Form.Item>
          <Form.Item name="note" label={t('desk.task.note')} rules={[{ required: true, whitespace: true, message: t('common.required') }]}>
            <Input.TextArea autoSize={{ minRows: 2, maxRows: 6 }} maxLength={2000} data-testid="task-note-input" />
          </Form.Item>
          {customer ? (
            <Form.Item name="forCustomer" valuePropName="checked">
              <Checkbox>
                <span data-testid="task-for-customer">{t('desk.task.forCustomer', { name: customer.name })}</span>
              </Checkbox>
            </Form.Item>
          ) : null}
        </Form>
      </div>
    </Modal>
  );
}
