// A node on the designer's canvas: kind icon, label, a one-line summary, the issues on it, and one
// source handle per branch labelled with the branch's name.
import { memo, type ReactNode } from 'react';
import { Handle, Position, type Node, type NodeProps } from '@xyflow/react';
import { Badge, Tooltip } from 'antd';
import {
  AppstoreOutlined,
  AudioOutlined,
  BranchesOutlined,
  ClockCircleOutlined,
  EditOutlined,
  FileAddOutlined,
  FileSearchOutlined,
  IdcardOutlined,
  NotificationOutlined,
  NumberOutlined,
  PhoneOutlined,
  PoweroffOutlined,
  SendOutlined,
  SoundOutlined,
  StarOutlined,
} from '@ant-design/icons';
import { useT, type MessageKey, type TFunc } from '../i18n';
import type { FunnelNode, Issue } from './api';
import { branches, isErrorBranch, summary, type IvrNode, type KindName } from './model';

export const KIND_ICON: Record<KindName, ReactNode> = {
  play: <SoundOutlined />,
  menu: <AppstoreOutlined />,
  collect: <NumberOutlined />,
  identify: <IdcardOutlined />,
  say: <NotificationOutlined />,
  record: <AudioOutlined />,
  create_work_order: <FileAddOutlined />,
  order_status: <FileSearchOutlined />,
  send_document: <SendOutlined />,
  hours: <ClockCircleOutlined />,
  condition: <BranchesOutlined />,
  set: <EditOutlined />,
  transfer: <PhoneOutlined />,
  survey: <StarOutlined />,
  hangup: <PoweroffOutlined />,
};

export const KIND_COLOR: Record<KindName, string> = {
  play: '#1677ff',
  menu: '#722ed1',
  collect: '#13c2c2',
  identify: '#2f54eb',
  say: '#1677ff',
  record: '#eb2f96',
  create_work_order: '#fa8c16',
  order_status: '#fa8c16',
  send_document: '#a0d911',
  hours: '#faad14',
  condition: '#595959',
  set: '#595959',
  transfer: '#52c41a',
  survey: '#faad14',
  hangup: '#8c8c8c',
};

export function kindLabel(t: TFunc, k: string): string {
  return t(`ivr.kind.${k}` as MessageKey);
}

export function branchLabel(t: TFunc, b: string): string {
  if (b.length === 1) return t('ivr.branch.key', { k: b });
  if (b.startsWith('rule:')) return t('ivr.branch.rule', { n: Number(b.slice(5)) + 1 });
  return t(`ivr.branch.${b}` as MessageKey);
}

const FIELD_LABEL: Record<string, MessageKey> = {
  prompts: 'ivr.prompts.field',
  invalid_prompts: 'ivr.invalidPrompts',
  timeout_prompts: 'ivr.timeoutPrompts',
  entry_prompts: 'ivr.entryPrompts',
  confirm_prompts: 'ivr.confirmPrompts',
  parts: 'ivr.prompts.field',
  var: 'ivr.var',
  timeout_secs: 'ivr.timeoutSecs',
  retries: 'ivr.retries',
  min_len: 'ivr.minLen',
  max_len: 'ivr.maxLen',
  terminator: 'ivr.terminator',
  inter_digit_secs: 'ivr.interDigitSecs',
  confirm_digits: 'ivr.confirmDigits',
  max_secs: 'ivr.maxSecs',
  silence_secs: 'ivr.silenceSecs',
  title: 'ivr.title',
  priority: 'ivr.priority',
  attach: 'ivr.attach',
  to_var: 'ivr.toVar',
  label: 'ivr.label',
  max: 'ivr.surveyMax',
  'target.priority': 'ivr.queuePriority',
  'settings.fallback_queue': 'ivr.fallbackQueue',
  'settings.language': 'ivr.language',
  'settings.max_steps_without_input': 'ivr.maxSteps',
};
const BRANCHES = ['next', 'on_fail', 'on_empty', 'not_found', 'open', 'closed', 'otherwise', 'after'];

/** A field as the forms name it: `prompts[0]` → 提示音 1, `on_fail` → 失败, `options.1` → 按 1. */
export function fieldLabel(t: TFunc, field: string): string {
  if (BRANCHES.includes(field) || field.length === 1 || /^rule:\d+$/.test(field)) return branchLabel(t, field);
  if (field.startsWith('options.')) return branchLabel(t, field.slice(8));
  const m = /^([a-z_.]+)\[(\d+)\](.*)$/.exec(field);
  if (m && FIELD_LABEL[m[1]]) return `${t(FIELD_LABEL[m[1]])} ${Number(m[2]) + 1}${m[3]}`;
  return FIELD_LABEL[field] ? t(FIELD_LABEL[field]) : field;
}

/** An issue in the user's language: the code's text with the field, else the server's English. */
export function issueText(t: TFunc, i: Issue): string {
  const key = `ivr.issue.${i.code}` as MessageKey;
  const s = t(key, { f: fieldLabel(t, i.field) });
  return s === key ? i.message : s;
}

export interface FlowNodeData extends Record<string, unknown> {
  node: IvrNode;
  isStart: boolean;
  issues: Issue[];
  active: boolean;
  funnel?: FunnelNode | null;
  showFunnel: boolean;
}

export type FlowNodeType = Node<FlowNodeData, 'ivr'>;

function FlowNodeView({ data, selected }: NodeProps<FlowNodeType>) {
  const t = useT();
  const { node, isStart, issues, active, funnel, showFunnel } = data;
  const color = KIND_COLOR[node.kind];
  const bad = issues.length > 0;
  const br = branches(node);
  const text = summary(node);
  const border = bad ? '#ff4d4f' : selected ? '#1677ff' : '#d9d9d9';
  return (
    <div
      className="ivr-node"
      data-testid="ivr-node"
      data-node-id={node.id}
      data-kind={node.kind}
      data-issues={issues.length}
      data-active={active ? 'true' : 'false'}
      style={{
        minWidth: 170,
        maxWidth: 280,
        background: '#fff',
        border: `2px solid ${border}`,
        borderRadius: 8,
        boxShadow: active ? '0 0 0 4px rgba(82,196,26,0.55)' : selected ? '0 0 0 3px rgba(22,119,255,0.25)' : '0 1px 3px rgba(0,0,0,0.12)',
        fontSize: 12,
      }}
    >
      <Handle type="target" position={Position.Top} id="in" style={{ width: 10, height: 10, background: '#8c8c8c' }} />
      <div
        style={{
          display: 'flex',
          alignItems: 'center',
          gap: 6,
          padding: '4px 8px',
          borderBottom: '1px solid #f0f0f0',
          background: `${color}14`,
          borderTopLeftRadius: 6,
          borderTopRightRadius: 6,
        }}
      >
        <span style={{ color }}>{KIND_ICON[node.kind]}</span>
        <span style={{ color, fontWeight: 500 }}>{kindLabel(t, node.kind)}</span>
        {isStart ? (
          <span data-testid="ivr-node-start" style={{ background: '#52c41a', color: '#fff', borderRadius: 4, padding: '0 4px', fontSize: 11 }}>
            {t('ivr.start')}
          </span>
        ) : null}
        <span style={{ flex: 1 }} />
        {bad ? (
          <Tooltip
            title={
              <ul style={{ margin: 0, paddingInlineStart: 16 }}>
                {issues.map((i, k) => (
                  <li key={k}>{issueText(t, i)}</li>
                ))}
              </ul>
            }
          >
            <Badge count={issues.length} size="small" data-testid="ivr-node-issues" />
          </Tooltip>
        ) : null}
      </div>
      <div style={{ padding: '4px 8px' }}>
        <div style={{ fontWeight: 600, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }} data-testid="ivr-node-label">
          {node.label || node.id}
        </div>
        <div
          style={{ color: '#8c8c8c', overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap', minHeight: 16 }}
          data-testid="ivr-node-summary"
          title={text}
        >
          {text}
        </div>
        {showFunnel && funnel ? (
          <div data-testid="ivr-node-funnel" style={{ display: 'flex', gap: 6, marginTop: 2, fontSize: 11 }}>
            <span title={t('ivr.funnel.reached')}>▶{funnel.reached}</span>
            <span title={t('ivr.funnel.passed')} style={{ color: '#52c41a' }}>
              ✓{funnel.passed}
            </span>
            <span title={t('ivr.funnel.failed')} style={{ color: '#ff4d4f' }}>
              ✗{funnel.failed}
            </span>
            <span title={t('ivr.funnel.left')} style={{ color: '#8c8c8c' }}>
              ⏏{funnel.left}
            </span>
          </div>
        ) : null}
      </div>
      {br.length ? (
        <div style={{ display: 'flex', gap: 4, padding: '2px 4px 8px', justifyContent: 'space-around', flexWrap: 'nowrap' }}>
          {br.map(([b, target]) => (
            <div
              key={b}
              data-testid="ivr-branch"
              data-branch={b}
              style={{
                position: 'relative',
                fontSize: 10,
                padding: '0 4px',
                borderRadius: 4,
                whiteSpace: 'nowrap',
                color: isErrorBranch(b) ? '#cf1322' : '#595959',
                background: target ? '#f5f5f5' : '#fff1f0',
              }}
              title={b}
            >
              {branchLabel(t, b)}
              <Handle
                type="source"
                position={Position.Bottom}
                id={b}
                data-testid={`ivr-handle-${node.id}-${b}`}
                style={{
                  width: 10,
                  height: 10,
                  bottom: -8,
                  background: target ? (isErrorBranch(b) ? '#ff7875' : '#1677ff') : '#fff',
                  border: `2px solid ${isErrorBranch(b) ? '#ff7875' : '#1677ff'}`,
                }}
              />
            </div>
          ))}
        </div>
      ) : (
        <div style={{ height: 6 }} />
      )}
    </div>
  );
}

export const FlowNodeComponent = memo(FlowNodeView);
