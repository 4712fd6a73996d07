// 语音导航 designer: palette → canvas (React Flow) → property form; validation painted on the nodes as
// the flow changes; save (a new version), publish, versions (view, compare, roll back), export, the
// simulator and the funnel.
import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent } from 'react';
import { useNavigate, useParams } from 'react-router-dom';
import {
  applyNodeChanges,
  Background,
  Controls,
  MarkerType,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
  type Connection,
  type Edge,
  type NodeChange,
} from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { Alert, App, Button, Empty, Input, Modal, Popconfirm, Result, Select, Space, Table, Tag, Tooltip, Typography } from 'antd';
import {
  ArrowLeftOutlined,
  BarChartOutlined,
  CloudUploadOutlined,
  DeleteOutlined,
  DownloadOutlined,
  HistoryOutlined,
  PhoneOutlined,
  SaveOutlined,
  SettingOutlined,
} from '@ant-design/icons';
import { ApiError } from '../api';
import { useAuth } from '../auth';
import { useT, type MessageKey } from '../i18n';
import { PageSpin } from '../components/common';
import { ivrApi, type Funnel, type FunnelNode, type Issue, type IvrFlowSummary, type Known } from '../ivr/api';
import { branchLabel, FlowNodeComponent, issueText, KIND_COLOR, KIND_ICON, kindLabel, type FlowNodeType } from '../ivr/FlowNode';
import { PropertyForm, SettingsForm } from '../ivr/PropertyForm';
import { Simulator } from '../ivr/Simulator';
import { VersionsDrawer } from '../ivr/Versions';
import {
  branches,
  disconnectTarget,
  emptyFlow,
  freshId,
  isErrorBranch,
  KINDS,
  newNodeKind,
  normalizeFlow,
  renameNode,
  setBranch,
  type Flow,
  type IvrNode,
  type KindName,
} from '../ivr/model';

const DND_TYPE = 'application/x-kefu-ivr-kind';
const NODE_TYPES = { ivr: FlowNodeComponent };
const EMPTY_KNOWN: Known = { queues: [], extensions: [], sites: [], order_types: [], calendars: [], prompts: [], documents: [] };

type Panel = 'props' | 'sim' | 'funnel';

export default function IvrDesignerPage() {
  const { id } = useParams();
  return (
    <ReactFlowProvider>
      <Designer flowId={id ?? ''} />
    </ReactFlowProvider>
  );
}

function Designer({ flowId }: { flowId: string }) {
  const t = useT();
  const { can } = useAuth();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const rf = useReactFlow();
  const canManage = can('ivr.manage');
  const readOnly = !canManage;

  const [meta, setMeta] = useState<IvrFlowSummary | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [flow, setFlow] = useState<Flow>(emptyFlow);
  const [base, setBase] = useState<number | null>(null);
  const [dirty, setDirty] = useState(false);
  const [known, setKnown] = useState<Known>(EMPTY_KNOWN);
  const [issues, setIssues] = useState<Issue[]>([]);
  const [validating, setValidating] = useState(false);
  const [parseError, setParseError] = useState<string | null>(null);
  const [selNode, setSelNode] = useState<string | null>(null);
  const [selEdge, setSelEdge] = useState<string | null>(null);
  const [panel, setPanel] = useState<Panel>('props');
  const [active, setActive] = useState<string | null>(null);
  const [funnel, setFunnel] = useState<Funnel | null>(null);
  const [funnelVersion, setFunnelVersion] = useState<number | 'all'>('all');
  const [versionsOpen, setVersionsOpen] = useState(false);
  const [saveOpen, setSaveOpen] = useState(false);
  const [note, setNote] = useState('');
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<string | null>(null);
  const [rfNodes, setRfNodes] = useState<FlowNodeType[]>([]);
  const wrapper = useRef<HTMLDivElement>(null);

  const loadMeta = useCallback(async () => {
    const m = await ivrApi.flow(flowId);
    setMeta(m);
    return m;
  }, [flowId]);

  // First load: the flow, its newest version (or an empty graph), the catalog for the pickers.
  useEffect(() => {
    let live = true;
    (async () => {
      try {
        const m = await loadMeta();
        const v = m.latest_version;
        const graph = v ? (await ivrApi.version(flowId, v)).graph : emptyFlow();
        if (!live) return;
        setFlow(graph);
        setBase(v ?? null);
        setDirty(false);
        setFunnelVersion(m.published_version ?? 'all');
        // (fitView on an empty graph would wait for the first node dropped and jump to it.)
        if (graph.nodes.length) setTimeout(() => rf.fitView({ padding: 0.2, maxZoom: 1 }), 50);
      } catch (e) {
        if (live) setLoadError(e instanceof Error ? e.message : String(e));
      }
    })();
    ivrApi
      .known()
      .then((k) => live && setKnown(k))
      .catch(() => undefined);
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [flowId, loadMeta]);

  const update = useCallback((fn: (f: Flow) => Flow) => {
    setFlow((f) => fn(f));
    setDirty(true);
  }, []);

  // Validate as the flow changes (debounced); the newest answer wins.
  const seq = useRef(0);
  useEffect(() => {
    if (!meta) return;
    const my = ++seq.current;
    setValidating(true);
    const timer = setTimeout(async () => {
      try {
        const res = await ivrApi.validate(normalizeFlow(flow));
        if (my !== seq.current) return;
        setIssues(res);
        setParseError(null);
      } catch (e) {
        if (my !== seq.current) return;
        setParseError(
          e instanceof ApiError
            ? (e.problem.errors ?? []).map((x) => `${x.field}: ${x.reason}`).join('；') || e.message
            : String(e),
        );
      } finally {
        if (my === seq.current) setValidating(false);
      }
    }, 300);
    return () => clearTimeout(timer);
  }, [flow, meta]);

  const issuesByNode = useMemo(() => {
    const m = new Map<string, Issue[]>();
    for (const i of issues) {
      if (!i.node) continue;
      const l = m.get(i.node) ?? [];
      l.push(i);
      m.set(i.node, l);
    }
    return m;
  }, [issues]);
  const flowIssues = useMemo(() => issues.filter((i) => !i.node), [issues]);

  // The funnel, when its view is on.
  useEffect(() => {
    if (panel !== 'funnel') return;
    let live = true;
    ivrApi
      .funnel(flowId, funnelVersion === 'all' ? undefined : funnelVersion)
      .then((f) => live && setFunnel(f))
      .catch((e) => live && message.error(e instanceof Error ? e.message : String(e)));
    return () => {
      live = false;
    };
  }, [panel, flowId, funnelVersion, message]);
  const funnelByNode = useMemo(() => new Map<string, FunnelNode>((funnel?.nodes ?? []).map((n) => [n.node_id, n])), [funnel]);
  const showFunnel = panel === 'funnel';

  // React Flow's nodes follow the flow; measurements and in-flight drags are kept.
  useEffect(() => {
    setRfNodes((prev) => {
      const byId = new Map(prev.map((n) => [n.id, n]));
      return flow.nodes.map((n) => {
        const old = byId.get(n.id);
        return {
          ...(old ?? {}),
          id: n.id,
          type: 'ivr' as const,
          position: old?.dragging ? old.position : (n.position ?? { x: 0, y: 0 }),
          selected: selNode === n.id,
          data: {
            node: n,
            isStart: flow.start === n.id,
            issues: issuesByNode.get(n.id) ?? [],
            active: active === n.id,
            funnel: funnelByNode.get(n.id) ?? null,
            showFunnel,
          },
        };
      });
    });
  }, [flow, issuesByNode, active, funnelByNode, showFunnel, selNode]);

  const ids = useMemo(() => new Set(flow.nodes.map((n) => n.id)), [flow.nodes]);
  const edges = useMemo<Edge[]>(
    () =>
      flow.nodes.flatMap((n) =>
        branches(n)
          .filter(([, target]) => target && ids.has(target))
          .map(([b, target]) => {
            const id = `${n.id}::${b}`;
            const color = isErrorBranch(b) ? '#ff7875' : '#1677ff';
            return {
              id,
              source: n.id,
              sourceHandle: b,
              target,
              targetHandle: 'in',
              selected: selEdge === id,
              label: b.length === 1 ? b : undefined,
              style: { stroke: color, strokeWidth: selEdge === id ? 3 : 1.5 },
              markerEnd: { type: MarkerType.ArrowClosed, color },
              data: { branch: b },
            };
          }),
      ),
    [flow.nodes, ids, selEdge],
  );

  const onNodesChange = useCallback(
    (changes: NodeChange<FlowNodeType>[]) => {
      setRfNodes((nds) => applyNodeChanges(changes.filter((c) => c.type !== 'remove' && c.type !== 'select'), nds));
    },
    [],
  );

  const onNodeDragStop = useCallback(
    (_: unknown, __: FlowNodeType, moved: FlowNodeType[]) => {
      if (readOnly) return;
      const pos = new Map(moved.map((n) => [n.id, n.position]));
      update((f) => ({ ...f, nodes: f.nodes.map((n) => (pos.has(n.id) ? { ...n, position: pos.get(n.id)! } : n)) }));
    },
    [readOnly, update],
  );

  const onConnect = useCallback(
    (c: Connection) => {
      if (readOnly || !c.source || !c.target || !c.sourceHandle) return;
      update((f) => ({ ...f, nodes: f.nodes.map((n) => (n.id === c.source ? setBranch(n, c.sourceHandle!, c.target) : n)) }));
      setSelEdge(`${c.source}::${c.sourceHandle}`);
    },
    [readOnly, update],
  );

  const deleteNode = useCallback(
    (id: string) => {
      update((f) => disconnectTarget(f, id));
      setSelNode((s) => (s === id ? null : s));
      setActive((a) => (a === id ? null : a));
    },
    [update],
  );

  const deleteEdge = useCallback(
    (edgeId: string) => {
      const [source, branch] = edgeId.split('::');
      update((f) => ({ ...f, nodes: f.nodes.map((n) => (n.id === source ? setBranch(n, branch, '') : n)) }));
      setSelEdge(null);
    },
    [update],
  );

  const addNode = useCallback(
    (kind: KindName, position?: { x: number; y: number }) => {
      if (readOnly) return;
      let pos = position;
      if (!pos) {
        const r = wrapper.current?.getBoundingClientRect();
        const c = rf.screenToFlowPosition({ x: (r?.left ?? 0) + (r?.width ?? 600) / 2, y: (r?.top ?? 0) + (r?.height ?? 400) / 3 });
        pos = { x: c.x - 90 + (flow.nodes.length % 5) * 20, y: c.y + (flow.nodes.length % 5) * 20 };
      }
      const id = freshId(flow, kind);
      const node = { id, label: kindLabel(t, kind), position: { x: Math.round(pos.x), y: Math.round(pos.y) }, ...newNodeKind(kind) } as IvrNode;
      update((f) => ({ ...f, start: f.start || id, nodes: [...f.nodes, node] }));
      setSelNode(id);
      setSelEdge(null);
      if (panel === 'funnel') setPanel('props');
    },
    [readOnly, rf, flow, t, update, panel],
  );

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    const kind = e.dataTransfer.getData(DND_TYPE) as KindName;
    if (!kind || !KINDS.includes(kind)) return;
    addNode(kind, rf.screenToFlowPosition({ x: e.clientX - 90, y: e.clientY - 20 }));
  };

  const focusNode = (id: string, keepPanel = false) => {
    setSelNode(id);
    setSelEdge(null);
    if (!keepPanel) setPanel('props');
    const n = flow.nodes.find((x) => x.id === id);
    if (n?.position) rf.setCenter(n.position.x + 90, n.position.y + 40, { zoom: Math.max(rf.getZoom(), 0.9), duration: 300 });
  };

  const save = async () => {
    setSaving(true);
    setSaveError(null);
    try {
      const v = await ivrApi.saveVersion(flowId, normalizeFlow(flow), note.trim());
      message.success(t('ivr.saved', { v: v.version }));
      setBase(v.version);
      setDirty(false);
      setSaveOpen(false);
      setNote('');
      await loadMeta();
    } catch (e) {
      if (e instanceof ApiError) {
        const errs = e.problem.errors ?? [];
        setSaveError(
          errs.length ? `${t('ivr.saveFailed', { n: errs.length })}: ${errs.map((x) => `${x.field}: ${x.reason}`).join('；')}` : e.message,
        );
      } else setSaveError(String(e));
    } finally {
      setSaving(false);
    }
  };

  const publish = async () => {
    if (!base) return;
    try {
      await ivrApi.publish(flowId, base);
      message.success(t('ivr.publishedOk', { v: base }));
      await loadMeta();
    } catch (e) {
      message.error(
        e instanceof ApiError ? (e.problem.errors ?? []).map((x) => `${x.field}: ${x.reason}`).join('；') || e.message : String(e),
      );
    }
  };

  const exportJson = () => {
    if (base && !dirty) {
      const a = document.createElement('a');
      a.href = `/api/v1/ivr/flows/${encodeURIComponent(flowId)}/versions/${base}?download=1`;
      a.download = `ivr-${meta?.key ?? 'flow'}-v${base}.json`;
      a.click();
      return;
    }
    const doc = { key: meta?.key ?? '', name: meta?.name ?? '', description: meta?.description ?? '', graph: normalizeFlow(flow) };
    const blob = new Blob([JSON.stringify(doc, null, 2)], { type: 'application/json' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `ivr-${meta?.key ?? 'flow'}-draft.json`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  };

  const onActive = useCallback((n: string | null) => setActive(n), []);
  // Leaving the page (reload, closing the tab) with unsaved changes asks first.
  useEffect(() => {
    if (!dirty || readOnly) return;
    const on = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = '';
    };
    window.addEventListener('beforeunload', on);
    return () => window.removeEventListener('beforeunload', on);
  }, [dirty, readOnly]);
  // The simulator's active node stays in view.
  useEffect(() => {
    if (!active) return;
    const n = flow.nodes.find((x) => x.id === active);
    if (n?.position) rf.setCenter(n.position.x + 90, n.position.y + 40, { zoom: Math.max(rf.getZoom(), 0.8), duration: 300 });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [active]);

  if (loadError) return <Result status="error" title={t('common.error')} subTitle={loadError} />;
  if (!meta) return <PageSpin />;

  const selected = selNode ? flow.nodes.find((n) => n.id === selNode) : undefined;
  const published = meta.published_version;
  const issueCount = issues.length;

  return (
    <div data-testid="ivr-designer" style={{ display: 'flex', flexDirection: 'column', height: 'calc(100vh - 96px)', minHeight: 520 }}>
      {/* toolbar */}
      <div style={{ display: 'flex', alignItems: 'center', gap: 8, flexWrap: 'wrap', marginBottom: 8 }}>
        <Button icon={<ArrowLeftOutlined />} onClick={() => navigate('/ivr')} />
        <Typography.Title level={4} style={{ margin: 0 }} data-testid="ivr-flow-name">
          {meta.name}
        </Typography.Title>
        <Tag>{meta.key}</Tag>
        {published ? (
          <Tag color="green" data-testid="ivr-published-tag">
            {t('ivr.published')} v{published}
          </Tag>
        ) : (
          <Tag data-testid="ivr-published-tag">{t('ivr.notPublished')}</Tag>
        )}
        <Typography.Text type={dirty ? 'warning' : 'secondary'} data-testid="ivr-edit-state" data-dirty={dirty ? 'true' : 'false'}>
          {base ? t('ivr.editing', { v: base }) : t('ivr.editingNew')}
          {dirty ? ` · ${t('ivr.unsaved')}` : ''}
        </Typography.Text>
        {readOnly ? <Tag color="orange">{t('ivr.readOnly')}</Tag> : null}
        <span style={{ flex: 1 }} />
        {canManage ? (
          <>
            <Button type="primary" icon={<SaveOutlined />} onClick={() => setSaveOpen(true)} disabled={!dirty && !!base} data-testid="ivr-save">
              {t('ivr.save')}
            </Button>
            <Tooltip title={dirty || !base ? t('ivr.saveFirst') : undefined}>
              <Popconfirm title={t('ivr.publishConfirm', { v: base ?? 0 })} onConfirm={publish} okButtonProps={{ 'data-testid': 'ivr-publish-ok' }} disabled={dirty || !base || published === base}>
                <Button icon={<CloudUploadOutlined />} disabled={dirty || !base || published === base} data-testid="ivr-publish">
                  {t('ivr.publish')}
                </Button>
              </Popconfirm>
            </Tooltip>
          </>
        ) : null}
        <Button icon={<HistoryOutlined />} onClick={() => setVersionsOpen(true)} data-testid="ivr-versions-open">
          {t('ivr.versions')}
        </Button>
        <Button icon={<DownloadOutlined />} onClick={exportJson} data-testid="ivr-export">
          {t('ivr.export')}
        </Button>
        <Button
          icon={<PhoneOutlined />}
          type={panel === 'sim' ? 'primary' : 'default'}
          ghost={panel === 'sim'}
          onClick={() => setPanel(panel === 'sim' ? 'props' : 'sim')}
          data-testid="ivr-sim-toggle"
        >
          {t('ivr.simulator')}
        </Button>
        <Button
          icon={<BarChartOutlined />}
          type={panel === 'funnel' ? 'primary' : 'default'}
          ghost={panel === 'funnel'}
          onClick={() => setPanel(panel === 'funnel' ? 'props' : 'funnel')}
          data-testid="ivr-funnel-toggle"
        >
          {t('ivr.funnel')}
        </Button>
      </div>

      <div style={{ display: 'flex', flex: 1, minHeight: 0, gap: 8 }}>
        {/* palette */}
        <div style={{ width: 150, flexShrink: 0, overflow: 'auto', background: '#fff', borderRadius: 8, padding: 8 }} data-testid="ivr-palette">
          <Typography.Text strong>{t('ivr.palette')}</Typography.Text>
          <div style={{ fontSize: 11, color: '#8c8c8c', marginBottom: 6 }}>{t('ivr.paletteHelp')}</div>
          {KINDS.map((k) => (
            <div
              key={k}
              draggable={!readOnly}
              onDragStart={(e) => {
                e.dataTransfer.setData(DND_TYPE, k);
                e.dataTransfer.effectAllowed = 'move';
              }}
              onClick={() => addNode(k)}
              data-testid={`ivr-palette-${k}`}
              title={k}
              style={{
                display: 'flex',
                alignItems: 'center',
                gap: 6,
                padding: '4px 8px',
                marginBottom: 4,
                border: `1px solid ${KIND_COLOR[k]}55`,
                borderLeft: `3px solid ${KIND_COLOR[k]}`,
                borderRadius: 4,
                cursor: readOnly ? 'not-allowed' : 'grab',
                background: '#fff',
                userSelect: 'none',
                opacity: readOnly ? 0.5 : 1,
              }}
            >
              <span style={{ color: KIND_COLOR[k] }}>{KIND_ICON[k]}</span>
              {kindLabel(t, k)}
            </div>
          ))}
        </div>

        {/* canvas and issues */}
        <div style={{ flex: 1, minWidth: 0, display: 'flex', flexDirection: 'column', gap: 8 }}>
          <div
            ref={wrapper}
            style={{ flex: 1, minHeight: 0, background: '#fff', borderRadius: 8, position: 'relative' }}
            onDragOver={(e) => {
              e.preventDefault();
              e.dataTransfer.dropEffect = 'move';
            }}
            onDrop={onDrop}
            data-testid="ivr-canvas"
          >
            <ReactFlow<FlowNodeType, Edge>
              nodes={rfNodes}
              edges={edges}
              nodeTypes={NODE_TYPES}
              onNodesChange={onNodesChange}
              onNodeDragStop={onNodeDragStop}
              onConnect={onConnect}
              onConnectEnd={(event, state) => {
                // Dropped on a node's body rather than its input handle: connect to that node.
                if (state.isValid || !state.fromNode || !state.fromHandle?.id || state.fromHandle.type !== 'source') return;
                const pt = 'changedTouches' in event ? event.changedTouches[0] : event;
                const el = document.elementFromPoint(pt.clientX, pt.clientY)?.closest('.react-flow__node');
                const target = el?.getAttribute('data-id');
                if (target) onConnect({ source: state.fromNode.id, sourceHandle: state.fromHandle.id, target, targetHandle: 'in' });
              }}
              onNodeClick={(_, n) => {
                setSelNode(n.id);
                setSelEdge(null);
                if (panel === 'funnel') return;
                setPanel((p) => (p === 'sim' ? p : 'props'));
              }}
              onEdgeClick={(_, e) => {
                setSelEdge(e.id);
                setSelNode(null);
              }}
              onPaneClick={() => {
                setSelNode(null);
                setSelEdge(null);
              }}
              onNodesDelete={(ns) => ns.forEach((n) => deleteNode(n.id))}
              onEdgesDelete={(es) => es.forEach((e) => deleteEdge(e.id))}
              deleteKeyCode={readOnly ? null : ['Delete', 'Backspace']}
              nodesDraggable={!readOnly}
              nodesConnectable={!readOnly}
              isValidConnection={(c) => c.targetHandle === 'in' || c.targetHandle == null}
              minZoom={0.2}
              maxZoom={2}
            >
              <Background gap={16} />
              <Controls />
              <MiniMap pannable zoomable style={{ width: 140, height: 90 }} />
            </ReactFlow>
            {selEdge && canManage ? (
              <div style={{ position: 'absolute', top: 8, left: 8, zIndex: 5 }}>
                <Space style={{ background: '#fff', padding: 4, borderRadius: 6, boxShadow: '0 1px 4px rgba(0,0,0,.15)' }}>
                  <span>
                    {t('ivr.edge')}: {selEdge.split('::')[0]} · {branchLabel(t, selEdge.split('::')[1])}
                  </span>
                  <Button size="small" danger icon={<DeleteOutlined />} onClick={() => deleteEdge(selEdge)} data-testid="ivr-delete-edge">
                    {t('ivr.deleteEdge')}
                  </Button>
                </Space>
              </div>
            ) : null}
          </div>
          <div
            data-testid="ivr-issues"
            data-count={issueCount}
            data-validating={validating ? 'true' : 'false'}
            style={{ height: 130, flexShrink: 0, overflow: 'auto', background: '#fff', borderRadius: 8, padding: '6px 10px' }}
          >
            <Typography.Text strong>
              {t('ivr.issues')} {issueCount ? <Tag color="red">{issueCount}</Tag> : null}
            </Typography.Text>
            {parseError ? <Alert type="error" showIcon message={parseError} style={{ marginTop: 4 }} /> : null}
            {!issueCount && !parseError ? (
              <div style={{ color: '#52c41a', marginTop: 4 }} data-testid="ivr-no-issues">
                {t('ivr.noIssues')}
              </div>
            ) : null}
            {flowIssues.map((i, k) => (
              <div key={`f${k}`} data-testid="ivr-issue" data-node="" data-code={i.code} style={{ fontSize: 12, padding: '1px 0' }}>
                <Tag>{t('ivr.flowIssue')}</Tag>
                {issueText(t, i)}
              </div>
            ))}
            {issues
              .filter((i) => i.node)
              .map((i, k) => {
                const n = flow.nodes.find((x) => x.id === i.node);
                return (
                  <div
                    key={k}
                    data-testid="ivr-issue"
                    data-node={i.node ?? ''}
                    data-code={i.code}
                    onClick={() => focusNode(i.node!)}
                    style={{ fontSize: 12, padding: '1px 0', cursor: 'pointer' }}
                  >
                    <Tag color="red">{n?.label || i.node}</Tag>
                    <Typography.Link>{issueText(t, i)}</Typography.Link>
                  </div>
                );
              })}
          </div>
        </div>

        {/* right panel */}
        <div style={{ width: 360, flexShrink: 0, overflow: 'auto', background: '#fff', borderRadius: 8, padding: 12 }} data-testid="ivr-right">
          {panel === 'sim' ? (
            <>
              <Typography.Title level={5} style={{ marginTop: 0 }}>
                <PhoneOutlined /> {t('ivr.simulator')}
              </Typography.Title>
              <Simulator flowId={flowId} flow={flow} onActive={onActive} />
            </>
          ) : panel === 'funnel' ? (
            <div data-testid="ivr-funnel">
              <Typography.Title level={5} style={{ marginTop: 0 }}>
                <BarChartOutlined /> {t('ivr.funnel.title')}
              </Typography.Title>
              <Space style={{ marginBottom: 8 }}>
                <Select
                  style={{ width: 160 }}
                  value={funnelVersion}
                  onChange={setFunnelVersion}
                  data-testid="ivr-funnel-version"
                  options={[
                    { value: 'all' as const, label: t('ivr.funnel.allVersions') },
                    ...Array.from({ length: meta.latest_version ?? 0 }, (_, i) => i + 1)
                      .reverse()
                      .map((v) => ({ value: v, label: `v${v}${v === published ? ` (${t('ivr.published')})` : ''}` })),
                  ]}
                />
                {funnel?.sessions !== undefined ? <span data-testid="ivr-funnel-sessions">{t('ivr.funnel.sessions', { n: funnel.sessions })}</span> : null}
              </Space>
              {funnel?.ends?.length ? (
                <div style={{ marginBottom: 8 }} data-testid="ivr-funnel-ends">
                  {funnel.ends.map((e) => (
                    <Tag key={e.reason}>
                      {t(`ivr.end.${e.reason}` as MessageKey) === `ivr.end.${e.reason}` ? e.reason : t(`ivr.end.${e.reason}` as MessageKey)}: {e.sessions}
                    </Tag>
                  ))}
                </div>
              ) : null}
              <Table<FunnelNode>
                size="small"
                rowKey="node_id"
                pagination={false}
                dataSource={funnel?.nodes ?? []}
                locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} /> }}
                onRow={(r) => ({ onClick: () => ids.has(r.node_id) && focusNode(r.node_id, true), style: { cursor: 'pointer' }, 'data-testid': 'ivr-funnel-row' }) as React.HTMLAttributes<HTMLElement>}
                columns={[
                  {
                    title: t('ivr.funnel.node'),
                    dataIndex: 'node_id',
                    render: (v: string) => flow.nodes.find((n) => n.id === v)?.label || v,
                  },
                  { title: t('ivr.funnel.reached'), dataIndex: 'reached', width: 56 },
                  { title: t('ivr.funnel.passed'), dataIndex: 'passed', width: 56 },
                  { title: t('ivr.funnel.failed'), dataIndex: 'failed', width: 56 },
                  { title: t('ivr.funnel.left'), dataIndex: 'left', width: 56 },
                ]}
              />
            </div>
          ) : selected ? (
            <PropertyForm
              key={selected.id}
              node={selected}
              language={flow.settings.language}
              isStart={flow.start === selected.id}
              known={known}
              issues={issuesByNode.get(selected.id) ?? []}
              readOnly={readOnly}
              idTaken={(id) => ids.has(id)}
              onChange={(n) => update((f) => ({ ...f, nodes: f.nodes.map((x) => (x.id === selected.id ? n : x)) }))}
              onRename={(to) => {
                update((f) => renameNode(f, selected.id, to));
                setSelNode(to);
              }}
              onSetStart={() => update((f) => ({ ...f, start: selected.id }))}
              onDelete={() => deleteNode(selected.id)}
              onSelectTarget={(id) => focusNode(id)}
            />
          ) : (
            <>
              <Typography.Title level={5} style={{ marginTop: 0 }}>
                <SettingOutlined /> {t('ivr.settings')}
              </Typography.Title>
              <SettingsForm
                settings={flow.settings}
                onChange={(s) => update((f) => ({ ...f, settings: s }))}
                known={known}
                issues={flowIssues}
                readOnly={readOnly}
              />
            </>
          )}
        </div>
      </div>

      <Modal
        open={saveOpen}
        title={t('ivr.saveTitle')}
        onCancel={() => setSaveOpen(false)}
        onOk={save}
        confirmLoading={saving}
        okText={t('ivr.save')}
        cancelText={t('common.cancel')}
        okButtonProps={{ 'data-testid': 'ivr-save-ok' }}
        destroyOnHidden
      >
        <Input.TextArea
          autoFocus
          placeholder={t('ivr.note')}
          value={note}
          maxLength={500}
          onChange={(e) => setNote(e.target.value)}
          data-testid="ivr-save-note"
        />
        {issueCount ? (
          <Alert style={{ marginTop: 8 }} type="warning" showIcon message={t('ivr.issueCount', { n: issueCount })} />
        ) : null}
        {saveError ? <Alert style={{ marginTop: 8 }} type="error" showIcon message={saveError} data-testid="ivr-save-error" /> : null}
      </Modal>

      <VersionsDrawer
        flowId={flowId}
        meta={meta}
        open={versionsOpen}
        current={normalizeFlow(flow)}
        canManage={canManage}
        onClose={() => setVersionsOpen(false)}
        onView={(graph, v) => {
          setFlow(graph);
          setBase(v);
          setDirty(false);
          setSelNode(null);
          setVersionsOpen(false);
          message.info(t('ivr.loaded', { v }));
          if (graph.nodes.length) setTimeout(() => rf.fitView({ padding: 0.2, maxZoom: 1 }), 50);
        }}
        onPublished={() => void loadMeta()}
      />
    </div>
  );
}
