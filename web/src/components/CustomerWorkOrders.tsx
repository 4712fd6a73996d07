// A customer's work orders (on the customer page), newest first.
import { useEffect, useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { Alert, Table, Typography } from 'antd';
import dayjs from 'dayjs';
import { api, type Page, type WorkOrderSummary } from '../api';
import { useT } from '../i18n';
import { DeadlineTag, PriorityTag, StatusTag } from './workorders';

export function CustomerWorkOrders({ customerId }: { customerId: string }) {
  const t = useT();
  const navigate = useNavigate();
  const [page, setPage] = useState(1);
  const [data, setData] = useState<Page<WorkOrderSummary> | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let alive = true;
    setLoading(true);
    api
      .workOrders({ customer_id: customerId, page, per_page: 10 })
      .then((d) => {
        if (!alive) return;
        setData(d);
        setError(null);
      })
      .catch((e) => alive && setError(e instanceof Error ? e.message : String(e)))
      .finally(() => alive && setLoading(false));
    return () => {
      alive = false;
    };
  }, [customerId, page]);

  return (
    <>
      {error ? <Alert type="error" showIcon message={error} style={{ marginBottom: 12 }} /> : null}
      <Table<WorkOrderSummary>
        rowKey="id"
        size="small"
        loading={loading}
        dataSource={data?.items ?? []}
        data-testid="customer-work-orders"
        rowClassName={(r) => `kefu-clickable-row${r.overdue ? ' kefu-row-overdue' : ''}`}
        onRow={(r) =>
          ({
            onClick: () => navigate(`/work-orders/${r.id}`),
            'data-testid': 'customer-wo-row',
            'data-no': r.no,
          }) as React.HTMLAttributes<HTMLElement>
        }
        pagination={
          (data?.total ?? 0) > 10
            ? { current: page, pageSize: 10, total: data?.total ?? 0, onChange: setPage, showSizeChanger: false }
            : false
        }
        columns={[
          { title: t('wo.no'), dataIndex: 'no', key: 'no', width: 150, render: (v: string) => <Typography.Link>{v}</Typography.Link> },
          { title: t('wo.type'), dataIndex: 'type_name', key: 'type_name', width: 110 },
          { title: t('wo.title'), dataIndex: 'title', key: 'title', ellipsis: true },
          { title: t('common.status'), dataIndex: 'status', key: 'status', width: 100, render: (v: string) => <StatusTag status={v} /> },
          { title: t('wo.priority'), dataIndex: 'priority', key: 'priority', width: 80, render: (v: string) => <PriorityTag priority={v} /> },
          { title: t('wo.unit'), dataIndex: 'unit_name', key: 'unit_name', width: 120, render: (v?: string | null) => v ?? '' },
          { title: t('wo.dueAt'), dataIndex: 'due_at', key: 'due_at', width: 190, render: (v?: string | null) => <DeadlineTag at={v} /> },
          { title: t('wo.createdAt'), dataIndex: 'created_at', key: 'created_at', width: 140, render: (v: string) => dayjs(v).format('YYYY-MM-DD HH:mm') },
        ]}
      />
    </>
  );
}
