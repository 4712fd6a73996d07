// 坐席工作台 (/desk): the screen agents live in. The softphone bar on top; the screen pop and the customer
// (identity, accounts and bills, the service history) on the left; the service record of the current
// call, the schedule and the knowledge base on the right. Live through the CTI WebSocket (useCti).
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Alert, Button, Card, Col, Result, Row, Space, Spin, Typography } from 'antd';
import { UserOutlined } from '@ant-design/icons';
import type { CustomerDetail } from '../api';
import { useI18n } from '../i18n';
import { CustomerPane } from '../acd/CustomerPane';
import { KnowledgePanel } from '../acd/KnowledgePanel';
import { CustomerSearch, ScreenPop, type Pop } from '../acd/ScreenPop';
import { ServiceRecord, type CallRef } from '../acd/ServiceRecord';
import { currentCall, SoftphoneBar } from '../acd/SoftphoneBar';
import { TasksPanel } from '../acd/TasksPanel';
import { problemText, useReasons } from '../acd/common';
import { stepLabel } from '../acd/api';
import { useCti, type CtiMessage, type OfferingMessage } from '../acd/useCti';

export default function AgentDesktopPage() {
  const { t } = useI18n();
  const reasons = useReasons();
  const [pop, setPop] = useState<Pop | null>(null);
  const [customerId, setCustomerId] = useState<string | null>(null);
  const [customer, setCustomer] = useState<CustomerDetail | null>(null);
  const [callRef, setCallRef] = useState<CallRef | null>(null);
  const [version, setVersion] = useState(0);
  // The pop is rebuilt from a call in progress once, after a reload; never after a live offering.
  const restored = useRef(false);

  const onEvent = useCallback((m: CtiMessage) => {
    switch (m.type) {
      case 'offering': {
        const o = m as OfferingMessage;
        restored.current = true;
        setPop({
          call_id: o.call_id,
          caller: o.caller,
          customer: o.customer ?? null,
          queue: o.queue,
          ivr_path: o.ivr_path,
          waited_ms: o.waited_ms,
          callback: o.callback,
          at: Date.now(),
        });
        setCallRef({ callId: o.call_id, caller: o.caller });
        if (o.customer?.id) {
          setCustomerId(o.customer.id);
        } else {
          setCustomerId(null);
          setCustomer(null);
        }
        break;
      }
      case 'ended':
      case 'transferred':
        // The agent is out of the call (hung up, or transferred it away).
        setPop((p) => (p && p.call_id === m.call_id ? { ...p, ended: true } : p));
        break;
      case 'missed':
      case 'offer_cancelled':
        // The call went elsewhere: its pop and record go too.
        setPop((p) => (p && p.call_id === m.call_id ? null : p));
        setCallRef((c) => (c && c.callId === m.call_id ? null : c));
        break;
    }
  }, []);

  const cti = useCti({ agent: true, onEvent });

  // Opened with a call already in progress (a reload): the pop comes from the call.
  useEffect(() => {
    if (restored.current || pop) return;
    const c = currentCall(cti.calls);
    if (!c) return;
    restored.current = true;
    setPop({ call_id: c.id, caller: c.caller, customer: c.customer ?? null, queue: c.queue, ivr_path: c.ivr_path, at: Date.now() });
    setCallRef({ callId: c.id, caller: c.caller });
    if (c.customer?.id) setCustomerId(c.customer.id);
  }, [cti.calls, pop]);

  const pickCustomer = useCallback((id: string) => {
    setCustomer(null);
    setCustomerId(id);
  }, []);

  const kbQuery = useMemo(() => (pop ? [pop.queue, ...(pop.ivr_path ?? []).map(stepLabel)].filter(Boolean).join(' ') : ''), [pop]);

  if (cti.agent === undefined) {
    return (
      <div style={{ padding: 48, textAlign: 'center' }} data-testid="desk-loading">
        <Spin size="large" />
      </div>
    );
  }
  if (cti.agent === null && !cti.agentError) {
    return <Result status="info" icon={<UserOutlined />} title={<span data-testid="desk-not-agent">{t('desk.notAgent')}</span>} subTitle={t('desk.notAgentHint')} />;
  }

  return (
    <Space direction="vertical" size={12} style={{ width: '100%' }} data-testid="agent-desktop">
      <div style={{ position: 'sticky', top: 0, zIndex: 10 }}>
        {cti.agent ? (
          <SoftphoneBar
            agent={cti.agent}
            calls={cti.calls}
            reasons={reasons}
            ctiStatus={cti.status}
            onState={cti.applyState}
            onCall={cti.applyCall}
            refetchCalls={cti.refetchCalls}
          />
        ) : (
          <Alert
            type="error"
            showIcon
            data-testid="desk-error"
            message={t('desk.acdDown')}
            description={cti.agentError ? problemText(cti.agentError) : undefined}
            action={
              <Button size="small" onClick={() => void cti.refresh()}>
                {t('common.retry')}
              </Button>
            }
          />
        )}
      </div>
      <Row gutter={[12, 12]}>
        <Col xs={24} xl={15}>
          <Space direction="vertical" size={12} style={{ width: '100%' }}>
            {pop ? (
              <ScreenPop
                pop={pop}
                onPickCustomer={pickCustomer}
                onDismiss={() => {
                  setPop(null);
                }}
              />
            ) : null}
            {customerId ? (
              <CustomerPane
                key={customerId}
                customerId={customerId}
                version={version}
                onLoaded={(c) => {
                  setCustomer(c);
                  // An unknown caller's customer found by hand: the pop shows them too.
                  setPop((p) =>
                    p && !(p.customer && (p.customer.id || p.customer.name))
                      ? { ...p, customer: { id: c.id, no: c.customer_no, name: c.name, phones: c.phones, address: c.address }, matchedByHand: true }
                      : p,
                  );
                }}
                onClear={() => {
                  setCustomerId(null);
                  setCustomer(null);
                }}
              />
            ) : (
              <Card size="small" title={t('desk.pane.title')} data-testid="customer-pane-empty">
                <Space direction="vertical" style={{ width: '100%' }}>
                  <Typography.Text type="secondary">{t('desk.pane.searchHint')}</Typography.Text>
                  <CustomerSearch onPick={pickCustomer} style={{ width: '100%' }} />
                </Space>
              </Card>
            )}
          </Space>
        </Col>
        <Col xs={24} xl={9}>
          <Space direction="vertical" size={12} style={{ width: '100%' }}>
            <ServiceRecord call={callRef} customer={customer} onSaved={() => setVersion((v) => v + 1)} />
            <TasksPanel customer={customer} version={version} onPickCustomer={pickCustomer} />
            <KnowledgePanel query={kbQuery} />
          </Space>
        </Col>
      </Row>
    </Space>
  );
}
