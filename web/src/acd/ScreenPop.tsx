// The screen pop (来电弹屏): who calls, the customer the IVR matched (or a search when unknown), the
// queue, the IVR path taken and how long the caller waited.
import { useRef, useState } from 'react';
import { Alert, Breadcrumb, Button, Card, Descriptions, Select, Space, Tag, Typography } from 'antd';
import { CloseOutlined, PhoneOutlined } from '@ant-design/icons';
import { api, type CustomerSummary } from '../api';
import { useI18n } from '../i18n';
import { stepLabel, type CallCustomer, type IvrStep } from './api';
import { fmtClock } from './common';

export interface Pop {
  call_id: string;
  caller: string;
  customer: CallCustomer | null;
  queue?: string | null;
  ivr_path?: IvrStep[];
  waited_ms?: number;
  callback?: boolean;
  /** When the pop arrived (ms). */
  at: number;
  /** The call has ended (the pop stays for the service record). */
  ended?: boolean;
  /** The caller was unknown; the agent found the customer. */
  matchedByHand?: boolean;
}

/** A customer search box (number, phone, name or address), as the work-order form has. */
export function CustomerSearch({
  onPick,
  testId = 'customer-search',
  placeholder,
  style,
}: {
  onPick: (id: string) => void;
  testId?: string;
  placeholder?: string;
  style?: React.CSSProperties;
}) {
  const { t } = useI18n();
  const [options, setOptions] = useState<{ value: string; label: string }[]>([]);
  const [loading, setLoading] = useState(false);
  const timer = useRef<number | undefined>(undefined);
  const search = (q: string) => {
    window.clearTimeout(timer.current);
    if (!q.trim()) return;
    timer.current = window.setTimeout(async () => {
      setLoading(true);
      try {
        const page = await api.customers({ q: q.trim(), per_page: 20 });
        setOptions(
          page.items.map((c: CustomerSummary) => ({
            value: c.id,
            label: `${c.customer_no} ${c.name} ${c.primary_phone ?? ''} ${c.address}`,
          })),
        );
      } catch {
        /* keep the old options */
      } finally {
        setLoading(false);
      }
    }, 300);
  };
  return (
    <Select
      showSearch
      allowClear
      filterOption={false}
      onSearch={search}
      loading={loading}
      value={null}
      onChange={(v?: string | null) => v && onPick(v)}
      options={options}
      placeholder={placeholder ?? t('cust.searchPlaceholder')}
      notFoundContent={null}
      data-testid={testId}
      style={{ minWidth: 280, ...style }}
    />
  );
}

export function ScreenPop({
  pop,
  onPickCustomer,
  onDismiss,
}: {
  pop: Pop;
  onPickCustomer: (id: string) => void;
  onDismiss: () => void;
}) {
  const { t } = useI18n();
  const c = pop.customer && (pop.customer.id || pop.customer.name) ? pop.customer : null;
  const path = pop.ivr_path ?? [];
  return (
    <Card
      size="small"
      data-testid="screen-pop"
      data-call-id={pop.call_id}
      data-known={c ? 'true' : 'false'}
      style={{ borderColor: pop.ended ? undefined : '#1677ff', borderWidth: pop.ended ? 1 : 2 }}
      title={
        <Space wrap>
          <PhoneOutlined />
          <span>{t('desk.pop.title')}</span>
          <Typography.Text strong copyable data-testid="pop-caller" style={{ fontSize: 16 }}>
            {pop.caller}
          </Typography.Text>
          {pop.callback ? <Tag color="gold" data-testid="pop-callback">{t('desk.pop.callback')}</Tag> : null}
          {pop.ended ? <Tag data-testid="pop-ended">{t('desk.pop.ended')}</Tag> : null}
          {pop.matchedByHand ? <Tag color="orange" data-testid="pop-matched-by-hand">{t('desk.pop.matchedByHand')}</Tag> : null}
        </Space>
      }
      extra={<Button type="text" size="small" icon={<CloseOutlined />} onClick={onDismiss} aria-label={t('desk.pop.dismiss')} data-testid="pop-dismiss" />}
    >
      {c ? (
        <Descriptions size="small" column={{ xs: 1, sm: 2, md: 3 }} data-testid="pop-customer">
          <Descriptions.Item label={t('cust.name')}>
            <Typography.Text strong data-testid="pop-customer-name">
              {c.name ?? ''}
            </Typography.Text>
          </Descriptions.Item>
          <Descriptions.Item label={t('cust.no')}>
            <span data-testid="pop-customer-no">{c.no ?? ''}</span>
          </Descriptions.Item>
          <Descriptions.Item label={t('cust.address')}>
            <span data-testid="pop-customer-address">{c.address ?? ''}</span>
          </Descriptions.Item>
          {c.amount_due ? (
            <Descriptions.Item label={t('desk.pop.amountDue')}>
              <span data-testid="pop-amount-due">{c.amount_due}</span>
            </Descriptions.Item>
          ) : null}
        </Descriptions>
      ) : (
        <Alert
          type="warning"
          showIcon
          data-testid="pop-unknown"
          message={t('desk.pop.unknown')}
          description={<CustomerSearch onPick={onPickCustomer} testId="pop-customer-search" />}
          style={{ marginBottom: 8 }}
        />
      )}
      <Space wrap size={[16, 4]} style={{ marginTop: 4 }}>
        <span>
          <Typography.Text type="secondary">{t('desk.pop.queue')}: </Typography.Text>
          <Tag color="blue" data-testid="pop-queue">
            {pop.queue || t('desk.pop.direct')}
          </Tag>
        </span>
        <span>
          <Typography.Text type="secondary">{t('desk.pop.waited')}: </Typography.Text>
          <span data-testid="pop-waited">{fmtClock(pop.waited_ms ?? 0)}</span>
        </span>
        <span style={{ display: 'inline-flex', alignItems: 'center', gap: 4 }}>
          <Typography.Text type="secondary">{t('desk.pop.ivrPath')}: </Typography.Text>
          {path.length ? (
            <Breadcrumb
              data-testid="pop-ivr-path"
              items={path.map((s, i) => ({ key: i, title: <span data-testid="pop-ivr-step">{stepLabel(s)}</span> }))}
            />
          ) : (
            <Typography.Text type="secondary" data-testid="pop-ivr-path">
              {t('common.none')}
            </Typography.Text>
          )}
        </span>
      </Space>
    </Card>
  );
}
