// A small in-memory stand-in for `kefu serve --demo`, following docs/api.md, for UI development while the
// Rust server is not at hand: `node e2e/mock-server.mjs [port]` serves web/dist and /api/v1.
// It is not a test file and the e2e suite never starts it; point KEFU_URL at it by hand.
import http from 'node:http';
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const port = Number(process.argv[2] || process.env.PORT || 18081);
const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const PASSWORD = 'Kefu@2026';

const WO = {
  all: ['work_orders.read', 'notifications.own'],
  desk: ['work_orders.create', 'work_orders.status_query', 'work_orders.act', 'attachments.upload', 'work_orders.export'],
};
const PERMS = {
  admin: ['own_account', 'units.read', 'units.write', 'users.read', 'users.write', 'customers.read', 'customers.write', 'payments.write', 'imports.run', 'imports.read', 'audit.read', 'tokens.manage', ...WO.all, ...WO.desk, 'work_order_types.manage', 'calendars.manage'],
  supervisor: ['own_account', 'units.read', 'users.read', 'customers.read', 'customers.write', 'payments.write', 'imports.read', ...WO.all, ...WO.desk, 'calendars.manage'],
  agent: ['own_account', 'units.read', 'customers.read', 'customers.write', ...WO.all, ...WO.desk],
  site_staff: ['own_account', 'units.read', 'customers.read', ...WO.all, 'work_orders.act', 'attachments.upload'],
  auditor: ['own_account', 'units.read', 'users.read', 'customers.read', 'imports.read', 'audit.read', ...WO.all, 'work_orders.export'],
};
const LABELS = { admin: '系统管理员', supervisor: '班长', agent: '坐席', site_staff: '站点人员', auditor: '审计员' };

const units = [
  ['CC', '客服中心', 'call_center', true],
  ['HQ', '集团公司', 'headquarters', false],
  ['BL', '北仑分理处', 'branch_office', false],
  ['ZH', '镇海分理处', 'branch_office', false],
  ['GW', '管网所', 'pipe_network_office', false],
].map(([code, name, kind, tq]) => ({ id: randomUUID(), code, name, kind, parent_id: null, takes_queue_calls: tq, active: true }));
const unitByCode = Object.fromEntries(units.map((u) => [u.code, u]));

const now = () => new Date().toISOString();
const users = [
  ['admin', '系统管理员', 'admin', 'HQ'],
  ['supervisor', '王班长', 'supervisor', 'CC'],
  ['agent', '李坐席', 'agent', 'CC'],
  ['site', '陈站点', 'site_staff', 'BL'],
  ['auditor', '赵审计', 'auditor', 'HQ'],
].map(([username, display_name, role, unit]) => ({
  id: randomUUID(),
  username,
  display_name,
  role,
  unit_id: unitByCode[unit].id,
  unit_name: unitByCode[unit].name,
  active: true,
  created_at: now(),
  password: PASSWORD,
}));

const SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑';
const GIVEN = ['建国', '秀英', '丽华', '志强', '海燕', '国庆', '明辉', '玉兰', '伟东', '静怡', '晓峰', '春梅'];
const DISTRICTS = ['海曙区', '江北区', '鄞州区', '北仑区', '镇海区'];
const customers = [];
for (let i = 0; i < 120; i++) {
  const district = DISTRICTS[i % 5];
  const pipeline = i % 3 !== 0;
  const bills = [];
  const payments = [];
  if (pipeline) {
    for (let m = 1; m <= 12; m++) {
      const period = `2026-${String(m).padStart(2, '0')}`;
      const paid = m < 10 || i % 4 !== 1;
      const status = paid ? 'paid' : m < 11 ? 'overdue' : 'unpaid';
      bills.push({ id: randomUUID(), period, amount_cents: 5000 + ((i * 37 + m * 13) % 9000), due_date: `2026-${String(m).padStart(2, '0')}-20`, paid_on: paid ? `2026-${String(m).padStart(2, '0')}-15` : null, status });
      if (paid) payments.push({ id: randomUUID(), amount_cents: bills.at(-1).amount_cents, paid_on: bills.at(-1).paid_on, method: 'wechat', period, reference: null });
    }
  }
  customers.push({
    id: randomUUID(),
    customer_no: `${(i % 5) + 1}${String(100000 + i)}`,
    name: SURNAMES[i % SURNAMES.length] + GIVEN[i % GIVEN.length] + (i >= 60 ? '' : ''),
    phones: [`138${String(10000000 + i * 7919).slice(-8)}`],
    address: `宁波市${district}中山路${i + 1}号`,
    district,
    service_type: pipeline ? 'pipeline' : 'bottled',
    meter_no: pipeline ? `M${100000 + i}` : null,
    notice_preference: 'sms',
    fax: null,
    email: null,
    language: 'zh-CN',
    remarks: null,
    created_at: now(),
    updated_at: now(),
    accounts: pipeline ? [{ id: randomUUID(), account_no: `A${200000 + i}`, opened_on: '2020-01-01', bills, payments }] : [],
  });
}

const audit = [];
function record(actor, action, entity_type, entity_id, before, after) {
  audit.unshift({ id: randomUUID(), at: now(), actor_id: actor?.id ?? null, actor_name: actor?.display_name ?? 'system', action, entity_type, entity_id, before, after, source_ip: '127.0.0.1', request_id: randomUUID() });
}
record(null, 'seed', 'tenant', null, null, { demo: true });

const sessions = new Map();
const imports = new Map();

function send(res, status, body, headers = {}) {
  const json = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json', ...headers });
  res.end(json);
}
const problem = (res, status, detail, errors, headers) => send(res, status, { type: 'about:blank', title: http.STATUS_CODES[status], status, detail, ...(errors ? { errors } : {}) }, headers);

function summary(c) {
  const overdue = c.accounts.flatMap((a) => a.bills).filter((b) => b.status === 'overdue').reduce((s, b) => s + b.amount_cents, 0);
  return { id: c.id, customer_no: c.customer_no, name: c.name, primary_phone: c.phones[0] ?? null, address: c.address, district: c.district, service_type: c.service_type, overdue_cents: overdue };
}
const pub = (c) => {
  const { accounts: _a, ...rest } = c;
  return rest;
};
const userPub = (u) => {
  const { password: _p, ...rest } = u;
  return rest;
};
const me = (u) => ({ id: u.id, username: u.username, display_name: u.display_name, role: u.role, unit_id: u.unit_id, unit_name: u.unit_name, permissions: PERMS[u.role] });

function paginate(items, q) {
  const page = Math.max(1, Number(q.get('page') || 1));
  const per_page = Math.min(200, Math.max(1, Number(q.get('per_page') || 20)));
  return { items: items.slice((page - 1) * per_page, page * per_page), total: items.length, page, per_page };
}

function validateCustomer(b, partial) {
  const errors = [];
  const allowed = ['customer_no', 'name', 'phones', 'address', 'district', 'service_type', 'meter_no', 'notice_preference', 'fax', 'email', 'language', 'remarks'];
  for (const k of Object.keys(b)) if (!allowed.includes(k)) errors.push({ field: k, reason: 'unknown field' });
  const need = (k) => !partial || k in b;
  if (need('customer_no') && !/^[A-Za-z0-9-]{4,20}$/.test(b.customer_no ?? '')) errors.push({ field: 'customer_no', reason: '户号为 4-20 位字母、数字或短横线' });
  if (need('name') && !(b.name && b.name.length <= 60)) errors.push({ field: 'name', reason: '姓名为 1-60 个字符' });
  if (need('phones')) {
    if (!Array.isArray(b.phones) || b.phones.length === 0) errors.push({ field: 'phones', reason: '至少一个电话' });
    else b.phones.forEach((p, i) => { if (!/^(1[3-9]\d{9}|0\d{9,11}|\d{7,8})$/.test(p.replace(/[\s-]/g, ''))) errors.push({ field: `phones[${i}]`, reason: '不是有效的电话号码' }); });
  }
  if (need('address') && !b.address) errors.push({ field: 'address', reason: '必填' });
  if (need('district') && !b.district) errors.push({ field: 'district', reason: '必填' });
  if (b.email && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(b.email)) errors.push({ field: 'email', reason: '不是电子邮件地址' });
  return errors;
}

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks);
}

async function api(req, res, url) {
  const p = url.pathname.slice('/api/v1'.length);
  const q = url.searchParams;
  const cookie = /kefu_session=([^;]+)/.exec(req.headers.cookie || '')?.[1];
  const user = cookie ? sessions.get(cookie) : undefined;
  const raw = await readBody(req);
  let body;
  if (req.headers['content-type']?.startsWith('application/json') && raw.length) {
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return problem(res, 422, 'invalid JSON');
    }
  }

  if (p === '/auth/login' && req.method === 'POST') {
    const u = users.find((x) => x.username === body?.username && x.active);
    if (!u || u.password !== body?.password) {
      record(null, 'login_failed', 'session', null, null, { username: body?.username });
      return problem(res, 401, '用户名或密码错误');
    }
    const sid = randomUUID();
    sessions.set(sid, u);
    record(u, 'login', 'session', null, null, null);
    return send(res, 200, { token: sid, user: me(u) }, { 'Set-Cookie': `kefu_session=${sid}; HttpOnly; SameSite=Lax; Path=/` });
  }
  if (!user) return problem(res, 401, '请先登录');
  const can = (perm) => PERMS[user.role].includes(perm);
  const deny = () => problem(res, 403, '无权执行此操作');

  if (p === '/auth/logout' && req.method === 'POST') {
    sessions.delete(cookie);
    res.writeHead(204, { 'Set-Cookie': 'kefu_session=; Max-Age=0; Path=/' });
    return res.end();
  }
  if (p === '/auth/me') return send(res, 200, me(user));
  if (p === '/auth/password' && req.method === 'POST') {
    if (body.current_password !== user.password) return problem(res, 422, '当前密码错误', [{ field: 'current_password', reason: '当前密码错误' }]);
    user.password = body.new_password;
    res.writeHead(204);
    return res.end();
  }
  if (p === '/units' && req.method === 'GET') return send(res, 200, units);
  if (p === '/units' && req.method === 'POST') {
    if (!can('units.write')) return deny();
    const u = { id: randomUUID(), parent_id: null, takes_queue_calls: false, active: true, ...body };
    units.push(u);
    return send(res, 201, u);
  }
  let m;
  if ((m = /^\/units\/([^/]+)$/.exec(p)) && req.method === 'PATCH') {
    if (!can('units.write')) return deny();
    const u = units.find((x) => x.id === m[1]);
    if (!u) return problem(res, 404, 'no such unit');
    Object.assign(u, body);
    return send(res, 200, u);
  }
  if (p === '/roles') {
    if (!can('users.read')) return deny();
    return send(res, 200, Object.keys(PERMS).map((role) => ({ role, label_zh: LABELS[role], permissions: PERMS[role] })));
  }
  if (p === '/users' && req.method === 'GET') {
    if (!can('users.read')) return deny();
    const s = (q.get('q') || '').toLowerCase();
    return send(res, 200, paginate(users.filter((u) => !s || u.username.includes(s) || u.display_name.includes(s)).map(userPub), q));
  }
  if (p === '/users' && req.method === 'POST') {
    if (!can('users.write')) return deny();
    if (users.some((u) => u.username === body.username)) return problem(res, 409, '用户名已存在', [{ field: 'username', reason: '用户名已存在' }]);
    const unit = units.find((u) => u.id === body.unit_id);
    const u = { id: randomUUID(), username: body.username, display_name: body.display_name, role: body.role, unit_id: body.unit_id, unit_name: unit?.name ?? '', active: true, created_at: now(), password: body.password };
    users.push(u);
    record(user, 'create', 'user', u.id, null, userPub(u));
    return send(res, 201, userPub(u));
  }
  if ((m = /^\/users\/([^/]+)$/.exec(p))) {
    const u = users.find((x) => x.id === m[1]);
    if (!u) return problem(res, 404, 'no such user');
    if (req.method === 'GET') return can('users.read') ? send(res, 200, userPub(u)) : deny();
    if (!can('users.write')) return deny();
    const before = userPub(u);
    Object.assign(u, body);
    if (body.unit_id) u.unit_name = units.find((x) => x.id === body.unit_id)?.name ?? '';
    record(user, 'update', 'user', u.id, before, userPub(u));
    return send(res, 200, userPub(u));
  }
  if ((m = /^\/users\/([^/]+)\/password$/.exec(p))) {
    if (!can('users.write')) return deny();
    const u = users.find((x) => x.id === m[1]);
    u.password = body.new_password;
    res.writeHead(204);
    return res.end();
  }
  if (p === '/customers' && req.method === 'GET') {
    if (!can('customers.read')) return deny();
    const s = q.get('q') || '';
    const list = customers.filter(
      (c) =>
        (!s || c.customer_no === s.toUpperCase() || c.phones.includes(s) || c.name.includes(s) || c.address.includes(s)) &&
        (!q.get('district') || c.district === q.get('district')) &&
        (!q.get('service_type') || c.service_type === q.get('service_type')),
    );
    return send(res, 200, paginate(list.map(summary), q));
  }
  if (p === '/customers' && req.method === 'POST') {
    if (!can('customers.write')) return deny();
    const errors = validateCustomer(body, false);
    if (errors.length) return problem(res, 422, '输入有误', errors);
    if (customers.some((c) => c.customer_no === body.customer_no.toUpperCase())) return problem(res, 409, '户号已存在', [{ field: 'customer_no', reason: '户号已存在' }]);
    const c = { meter_no: null, fax: null, email: null, remarks: null, ...body, customer_no: body.customer_no.toUpperCase(), id: randomUUID(), created_at: now(), updated_at: now(), accounts: [] };
    customers.unshift(c);
    record(user, 'create', 'customer', c.id, null, pub(c));
    return send(res, 201, pub(c));
  }
  if ((m = /^\/customers\/([^/]+)$/.exec(p))) {
    const c = customers.find((x) => x.id === m[1]);
    if (!c) return problem(res, 404, '客户不存在');
    if (req.method === 'GET') return send(res, 200, c);
    if (!can('customers.write')) return deny();
    const errors = validateCustomer(body, true);
    if (errors.length) return problem(res, 422, '输入有误', errors);
    const before = pub(c);
    Object.assign(c, body, { updated_at: now() });
    record(user, 'update', 'customer', c.id, before, pub(c));
    return send(res, 200, pub(c));
  }
  if ((m = /^\/customers\/([^/]+)\/payments$/.exec(p))) {
    if (!can('payments.write')) return deny();
    const c = customers.find((x) => x.id === m[1]);
    const pay = { id: randomUUID(), period: null, reference: null, ...body };
    const acc = c.accounts[0];
    if (!acc) return problem(res, 422, '该客户没有账户');
    acc.payments.push(pay);
    const bill = acc.bills.find((b) => b.period === body.period);
    if (bill) Object.assign(bill, { status: 'paid', paid_on: body.paid_on });
    record(user, 'create', 'payment', pay.id, null, pay);
    return send(res, 201, pay);
  }
  if (p === '/imports' && req.method === 'POST') {
    if (!can('imports.run')) return deny();
    const lines = raw.toString('utf8').split(/\r?\n/).filter(Boolean);
    const job = { id: randomUUID(), kind: q.get('kind'), filename: q.get('filename'), status: 'queued', percent: 0, total_rows: Math.max(0, lines.length - 1), processed_rows: 0, inserted: 0, updated: 0, skipped: 0, errors: [], created_at: now(), finished_at: null };
    imports.set(job.id, job);
    let step = 0;
    const tick = setInterval(() => {
      step++;
      job.status = 'running';
      job.processed_rows = Math.min(job.total_rows, Math.ceil((job.total_rows * step) / 3));
      job.percent = job.total_rows ? Math.round((100 * job.processed_rows) / job.total_rows) : 100;
      if (step >= 3) {
        clearInterval(tick);
        job.status = 'succeeded';
        job.percent = 100;
        job.errors = [{ line: 3, column: 'phones', reason: '不是有效的电话号码' }];
        job.skipped = 1;
        job.inserted = Math.max(0, job.total_rows - 1);
        job.finished_at = now();
      }
    }, 700);
    return send(res, 202, job);
  }
  if (p === '/imports' && req.method === 'GET') return can('imports.read') ? send(res, 200, paginate([...imports.values()].reverse(), q)) : deny();
  if ((m = /^\/imports\/([^/]+)$/.exec(p))) {
    const j = imports.get(m[1]);
    return j ? send(res, 200, j) : problem(res, 404, 'no such import');
  }
  if (p === '/audit') {
    if (!can('audit.read')) return deny();
    const list = audit.filter(
      (a) =>
        (!q.get('actor') || a.actor_name.includes(q.get('actor'))) &&
        (!q.get('entity_type') || a.entity_type === q.get('entity_type')) &&
        (!q.get('action') || a.action === q.get('action')),
    );
    return send(res, 200, paginate(list, q));
  }
  const wo = await workOrderApi(req, res, p, q, body, raw, user, can, deny);
  if (wo !== NOT_MINE) return wo;
  return problem(res, 404, 'no such route');
}

// ---------------------------------------------------------------------------------------------
// Work orders (a simplified stand-in for crates/api/src/workorders.rs)

const NOT_MINE = Symbol('not mine');
const calendars = [
  {
    id: randomUUID(),
    code: 'office',
    name: '办公时间',
    spec: {
      always_open: false,
      utc_offset_minutes: 480,
      week: [0, 1, 2, 3, 4, 5, 6].map((d) => (d < 5 ? [{ start: '08:30', end: '12:00' }, { start: '13:30', end: '17:30' }] : [])),
      holidays: ['2026-10-01', '2026-10-02'],
      workdays: ['2026-10-10'],
    },
    version: 1,
  },
];
const sla = (a, f, r) => ({ accept_mins: a, first_feedback_mins: f, resolve_mins: r });
const woTypes = [
  {
    code: 'fault',
    name: '故障申告',
    name_en: 'Fault report',
    fields: [
      { key: 'category', label: '故障类别', label_en: 'Category', kind: 'choice', required: true, options: [
        { value: 'gas_leak', label: '燃气泄漏', label_en: 'Gas leak' },
        { value: 'no_gas', label: '无气 / 气压低', label_en: 'No gas / low pressure' },
        { value: 'meter', label: '表具故障', label_en: 'Meter fault' },
        { value: 'other', label: '其他', label_en: 'Other' },
      ] },
      { key: 'appointment', label: '预约日期', label_en: 'Appointment', kind: 'date', required: false },
      { key: 'photos', label: '现场照片', label_en: 'Photos', kind: 'attachment', required: false },
    ],
    priority_rules: [{ field: 'category', equals: 'gas_leak', priority: 'emergency' }],
    default_priority: 'normal',
    callback_required: true,
  },
  {
    code: 'complaint',
    name: '投诉',
    name_en: 'Complaint',
    fields: [{ key: 'source', label: '投诉来源', kind: 'choice', required: true, options: [{ value: 'customer', label: '客户' }, { value: 'authority', label: '上级转办' }, { value: 'consumer_assoc', label: '消协' }] }],
    priority_rules: [],
    default_priority: 'urgent',
    callback_required: true,
  },
  { code: 'onsite', name: '上门服务', name_en: 'On-site service', fields: [{ key: 'visit_date', label: '上门日期', kind: 'date', required: true }], priority_rules: [], default_priority: 'normal', callback_required: false },
].map((t, i) => ({
  id: randomUUID(),
  description: null,
  default_unit_id: null,
  fallback_unit_id: null,
  calendar_id: calendars[0].id,
  sla: { targets: { emergency: sla(10, 60, 240), urgent: sla(60, 480, 1440), normal: sla(240, 1440, 4320), low: {} }, emergency_always_open: true, remind_at_percent: [80], escalate_on_breach: true, reassign_unaccepted_after_mins: null },
  active: true,
  sort: (i + 1) * 10,
  version: 1,
  created_at: now(),
  updated_at: now(),
  ...t,
}));
const orders = [];
const idem = new Map();
const attachments = new Map();
const notifications = [];
const savedFilters = [];
const sockets = new Map(); // user id → Set of sockets
let seq = 0;

const OPEN = ['new', 'dispatched', 'accepted', 'in_progress', 'waiting_customer', 'feedback_submitted'];
const STATUS_ZH = { new: '新建', dispatched: '已派单', accepted: '已接单', in_progress: '处理中', waiting_customer: '等待客户', feedback_submitted: '已反馈', closed: '已办结', callback_done: '已回访', archived: '已归档', cancelled: '已撤销', merged: '已合并' };

function nextStatus(o, action, user) {
  const desk = ['agent', 'supervisor', 'admin'].includes(user.role);
  const holder = ['supervisor', 'admin'].includes(user.role) || (user.role !== 'auditor' && o.unit_id === user.unit_id);
  const s = o.status;
  const rules = {
    dispatch: [s === 'new' && 'dispatched', desk],
    reassign: [['dispatched', 'accepted', 'in_progress', 'waiting_customer'].includes(s) && 'dispatched', desk],
    accept: [s === 'dispatched' && 'accepted', holder],
    progress: [['accepted', 'in_progress'].includes(s) && 'in_progress', holder],
    wait_customer: [['accepted', 'in_progress'].includes(s) && 'waiting_customer', holder || desk],
    resume: [s === 'waiting_customer' && 'in_progress', holder || desk],
    submit_feedback: [['accepted', 'in_progress'].includes(s) && 'feedback_submitted', holder],
    return: [s === 'feedback_submitted' && 'in_progress', desk],
    close: [['new', 'feedback_submitted'].includes(s) && 'closed', desk],
    callback: [s === 'closed' && 'callback_done', desk],
    archive: [(s === 'callback_done' || (s === 'closed' && !o.callback_required)) && 'archived', desk],
    reopen: [['closed', 'callback_done'].includes(s) && (o.unit_id ? 'dispatched' : 'new'), desk],
    cancel: [OPEN.includes(s) && 'cancelled', desk],
    merge: [OPEN.includes(s) && 'merged', desk],
    urge: [OPEN.includes(s) && s, desk],
    comment: [s, desk || holder],
    update: [OPEN.includes(s) && s, desk],
  };
  const r = rules[action];
  if (!r) return { error: 422 };
  if (!r[0]) return { error: 409 };
  if (!r[1]) return { error: 403 };
  return { to: r[0] };
}

const mins = (m) => (m ? new Date(Date.now() + m * 60_000).toISOString() : null);
function startSla(o) {
  const ty = woTypes.find((t) => t.id === o.type_id);
  const tg = ty.sla.targets?.[o.priority] ?? {};
  o.sla = { accept_due_at: o.unit_id ? mins(tg.accept_mins) : null, feedback_due_at: mins(tg.first_feedback_mins), resolve_due_at: mins(tg.resolve_mins), paused: false };
}
function dueAt(o) {
  if (!OPEN.includes(o.status) || o.status === 'waiting_customer') return null;
  const s = o.sla;
  const c = [];
  if (o.status === 'dispatched' && s.accept_due_at) c.push(s.accept_due_at);
  if (!o.feedback && s.feedback_due_at) c.push(s.feedback_due_at);
  if (s.resolve_due_at) c.push(s.resolve_due_at);
  return c.sort()[0] ?? null;
}
const unitNamed = (id) => (id ? { id, name: units.find((u) => u.id === id)?.name ?? '' } : null);
function woView(o, user) {
  const due = dueAt(o);
  const allowed = ['dispatch', 'reassign', 'accept', 'progress', 'wait_customer', 'resume', 'submit_feedback', 'return', 'close', 'callback', 'archive', 'reopen', 'cancel', 'merge', 'urge', 'comment', 'update'].filter((a) => nextStatus(o, a, user).to);
  const c = o.customer_id ? customers.find((x) => x.id === o.customer_id) : null;
  return {
    ...o,
    type_name: woTypes.find((t) => t.id === o.type_id)?.name ?? '',
    customer: c ? { id: c.id, customer_no: c.customer_no, name: c.name, phones: c.phones, address: c.address } : null,
    unit: unitNamed(o.unit_id),
    due_at: due,
    overdue: !!due && due <= now(),
    sla: { ...o.sla, paused: o.status === 'waiting_customer' },
    attachments: o.attachment_ids.map((id) => attachments.get(id)?.meta).filter(Boolean),
    allowed_actions: allowed,
  };
}
function woSummary(o) {
  const v = woView(o, { role: 'admin' });
  return { id: o.id, no: o.no, type_id: o.type_id, type_name: v.type_name, status: o.status, priority: o.priority, channel: o.channel, title: o.title, customer_id: o.customer_id, customer_no: v.customer?.customer_no ?? null, customer_name: v.customer?.name ?? null, contact_name: o.contact_name, contact_phone: o.contact_phone, address: o.address, unit_id: o.unit_id, unit_name: v.unit?.name ?? null, assignee_name: o.assignee?.name ?? null, due_at: v.due_at, overdue: v.overdue, breached: o.breached, urge_count: o.urge_count, closed_at: o.closed_at, created_at: o.created_at, updated_at: o.updated_at };
}
function notify(userIds, event, o, title, body) {
  for (const uid of userIds) {
    const n = { id: randomUUID(), recipient_id: uid, event, work_order_id: o.id, title, body, payload: { no: o.no }, created_at: now(), read_at: null };
    notifications.unshift(n);
    const { recipient_id: _r, ...pubN } = n;
    for (const sock of sockets.get(uid) ?? []) wsSend(sock, { type: 'notification', notification: pubN });
  }
}
const unitUsers = (unitId) => users.filter((u) => u.unit_id === unitId).map((u) => u.id);
const visible = (o, user) => user.role !== 'site_staff' || o.unit_id === user.unit_id;

function listFilter(q, user) {
  const st = (q.get('status') || '').split(',').filter(Boolean);
  const s = (q.get('q') || '').trim();
  return orders.filter((o) => {
    if (!visible(o, user)) return false;
    const sm = woSummary(o);
    if (st.length && !st.includes(o.status)) return false;
    if (s && !(o.no.includes(s.toUpperCase()) || o.title.includes(s) || o.description.includes(s) || (o.address ?? '').includes(s))) return false;
    for (const k of ['type_id', 'unit_id', 'priority', 'customer_id']) if (q.get(k) && o[k] !== q.get(k)) return false;
    if (q.get('customer_no') && sm.customer_no !== q.get('customer_no')) return false;
    if (q.get('overdue') === 'true' && !sm.overdue) return false;
    if (q.get('open') === 'true' && !OPEN.includes(o.status)) return false;
    if (q.get('from') && o.created_at.slice(0, 10) < q.get('from')) return false;
    if (q.get('to') && o.created_at.slice(0, 10) > q.get('to')) return false;
    return true;
  });
}

function minimalPdf(text) {
  const content = `BT /F1 18 Tf 72 720 Td (${text.replace(/[()\\]/g, '')}) Tj ET`;
  const objs = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets = [];
  objs.forEach((o, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n${offsets.map((n) => `${String(n).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

function parseMultipart(raw, contentType) {
  const b = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType || '');
  if (!b) return null;
  const boundary = Buffer.from(`--${b[1] || b[2]}`);
  let start = raw.indexOf(boundary);
  while (start >= 0) {
    const next = raw.indexOf(boundary, start + boundary.length);
    if (next < 0) break;
    const part = raw.subarray(start + boundary.length + 2, next - 2);
    const headEnd = part.indexOf('\r\n\r\n');
    const head = part.subarray(0, headEnd).toString('utf8');
    if (/name="file"/.test(head)) {
      const filename = /filename="([^"]*)"/.exec(head)?.[1] ?? 'file';
      const ct = /content-type:\s*([^\r\n]+)/i.exec(head)?.[1] ?? 'application/octet-stream';
      return { filename, content_type: ct, data: part.subarray(headEnd + 4) };
    }
    start = next;
  }
  return null;
}

async function workOrderApi(req, res, p, q, body, raw, user, can, deny) {
  let m;
  if (p === '/work-order-types' && req.method === 'GET') return send(res, 200, woTypes);
  if (p === '/work-order-types' && req.method === 'POST') {
    if (!can('work_order_types.manage')) return deny();
    if (woTypes.some((t) => t.code === body.code)) return problem(res, 409, 'code taken', [{ field: 'code', reason: '编码已存在' }]);
    const t = { ...body, id: randomUUID(), version: 1, created_at: now(), updated_at: now() };
    woTypes.push(t);
    return send(res, 201, t);
  }
  if ((m = /^\/work-order-types\/([^/]+)$/.exec(p))) {
    const t = woTypes.find((x) => x.id === m[1]);
    if (!t) return problem(res, 404, 'no such type');
    if (req.method === 'GET') return send(res, 200, t);
    if (!can('work_order_types.manage')) return deny();
    if (body.version !== t.version) return problem(res, 409, 'stale version');
    const errors = (body.fields ?? []).flatMap((f, i) => (/^[a-z][a-z0-9_]{0,31}$/.test(f.key) ? [] : [{ field: `fields[${i}].key`, reason: 'a key is 1-32 of a-z, 0-9 and _' }]));
    if (errors.length) return problem(res, 422, 'invalid', errors);
    const { version: _v, ...rest } = body;
    Object.assign(t, rest, { version: t.version + 1, updated_at: now() });
    return send(res, 200, t);
  }
  if (p === '/calendars' && req.method === 'GET') return send(res, 200, calendars);
  if (p === '/calendars' && req.method === 'POST') {
    if (!can('calendars.manage')) return deny();
    const c = { ...body, id: randomUUID(), version: 1 };
    calendars.push(c);
    return send(res, 201, c);
  }
  if ((m = /^\/calendars\/([^/]+)$/.exec(p))) {
    const c = calendars.find((x) => x.id === m[1]);
    if (!c) return problem(res, 404, 'no such calendar');
    if (req.method === 'GET') return send(res, 200, c);
    if (!can('calendars.manage')) return deny();
    if (body.version !== c.version) return problem(res, 409, 'stale version');
    const { version: _v, ...rest } = body;
    Object.assign(c, rest, { version: c.version + 1 });
    return send(res, 200, c);
  }
  if (p === '/work-orders' && req.method === 'POST') {
    if (!can('work_orders.create')) return deny();
    const key = req.headers['idempotency-key'];
    if (key && idem.has(`${user.id}:${key}`)) return send(res, 200, woView(idem.get(`${user.id}:${key}`), user));
    const ty = woTypes.find((t) => t.id === body.type_id);
    const errors = [];
    if (!ty) errors.push({ field: 'type_id', reason: 'no such type' });
    if (!body.title?.trim()) errors.push({ field: 'title', reason: '必填' });
    if (!body.description?.trim()) errors.push({ field: 'description', reason: '必填' });
    if (body.contact_phone && !/^(1[3-9]\d{9}|0\d{9,11}|\d{7,8})$/.test(body.contact_phone.replace(/[\s-]/g, ''))) errors.push({ field: 'contact_phone', reason: '不是有效的电话号码' });
    for (const f of ty?.fields ?? []) {
      const v = body.fields?.[f.key];
      if (f.required && (v === undefined || v === '' || v === null)) errors.push({ field: `fields.${f.key}`, reason: 'required' });
      if (f.kind === 'choice' && v !== undefined && !f.options.some((o) => o.value === v)) errors.push({ field: `fields.${f.key}`, reason: 'not an option' });
    }
    if (errors.length) return problem(res, 422, '输入有误', errors);
    const d = new Date(Date.now() + 8 * 3600_000).toISOString();
    const no = `GD${d.slice(2, 4)}${d.slice(5, 7)}${d.slice(8, 10)}${String(++seq).padStart(4, '0')}`;
    const rule = ty.priority_rules.find((r) => body.fields?.[r.field] === r.equals);
    const o = {
      id: randomUUID(), no, type_id: ty.id, status: 'new', priority: body.priority ?? rule?.priority ?? ty.default_priority, channel: body.channel,
      origin: body.origin ?? null, customer_id: body.customer_id ?? null, contact_name: body.contact_name ?? null, contact_phone: body.contact_phone ?? null,
      address: body.address ?? null, title: body.title.trim(), description: body.description.trim(), fields: body.fields ?? {}, unit_id: null, assignee: null,
      created_by_name: user.display_name, breached: false, urge_count: 0, customer_query_count: 0, feedback: null, satisfaction: null, merged_into: null,
      closed_at: null, callback_required: ty.callback_required, version: 1, created_at: now(), updated_at: now(), timeline: [], attachment_ids: [],
    };
    o.timeline.push({ id: randomUUID(), action: 'create', from_status: null, to_status: 'new', actor_name: user.display_name, note: null, data: null, at: now() });
    if (body.unit_id) {
      o.unit_id = body.unit_id;
      o.status = 'dispatched';
      o.timeline.push({ id: randomUUID(), action: 'dispatch', from_status: 'new', to_status: 'dispatched', actor_name: user.display_name, note: null, data: null, at: now() });
    }
    startSla(o);
    orders.unshift(o);
    if (key) idem.set(`${user.id}:${key}`, o);
    if (o.unit_id) notify(unitUsers(o.unit_id), 'work_order.dispatched', o, `新工单 ${o.no}`, o.title);
    return send(res, 201, woView(o, user));
  }
  if (p === '/work-orders' && req.method === 'GET') return send(res, 200, paginate(listFilter(q, user).map(woSummary), q));
  if (p === '/work-orders/export') {
    const rows = listFilter(q, user).map(woSummary);
    const csv = '\ufeff工单编号,类型,状态,优先级,标题\n' + rows.map((r) => [r.no, r.type_name, STATUS_ZH[r.status], r.priority, JSON.stringify(r.title)].join(',')).join('\n');
    res.writeHead(200, { 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': 'attachment; filename="work-orders.csv"' });
    return res.end(csv);
  }
  if ((m = /^\/work-orders\/([^/]+)(\/actions|\/pdf)?$/.exec(p))) {
    const o = orders.find((x) => x.id === m[1]);
    if (!o || !visible(o, user)) return problem(res, 404, '工单不存在');
    if (!m[2] && req.method === 'GET') return send(res, 200, woView(o, user));
    if (m[2] === '/pdf') {
      res.writeHead(200, { 'Content-Type': 'application/pdf', 'Content-Disposition': `inline; filename="${o.no}.pdf"` });
      return res.end(minimalPdf(`Work order ${o.no}`));
    }
    const action = m[2] ? body.action : 'update';
    const r = nextStatus(o, action, user);
    if (r.error === 403) return deny();
    if (r.error) return problem(res, r.error, `cannot ${action} now`, [{ field: 'action', reason: 'not now' }]);
    if (body.version !== o.version) return problem(res, 409, 'stale version');
    const from = o.status;
    const need = (f) => problem(res, 422, `${f} required`, [{ field: f, reason: 'required' }]);
    if (['dispatch', 'reassign'].includes(action) && !body.unit_id) return need('unit_id');
    if (['progress', 'return', 'comment'].includes(action) && !body.note?.trim()) return need('note');
    if (action === 'submit_feedback' && !body.feedback?.result?.trim()) return need('feedback.result');
    if (action === 'cancel' && !body.reason?.trim()) return need('reason');
    if (action === 'callback' && !(body.satisfaction >= 1 && body.satisfaction <= 5)) return need('satisfaction');
    let note = body.note ?? null;
    if (action === 'update') {
      for (const k of ['title', 'description', 'priority', 'contact_name', 'contact_phone', 'address', 'fields']) if (k in body) o[k] = body[k];
    }
    if (['dispatch', 'reassign'].includes(action)) {
      o.unit_id = body.unit_id;
      o.assignee = null;
      startSla(o);
    }
    if (action === 'accept') o.assignee = { id: user.id, name: user.display_name };
    if (action === 'submit_feedback') {
      o.feedback = { result: body.feedback.result, cause: body.feedback.cause ?? null, materials: body.feedback.materials ?? null, attachments: body.feedback.attachments ?? [], submitted_at: now(), submitted_by: user.display_name };
      o.attachment_ids.push(...(body.feedback.attachments ?? []));
    }
    if (action === 'close') o.closed_at = now();
    if (action === 'reopen') o.closed_at = null;
    if (action === 'callback') o.satisfaction = body.satisfaction;
    if (action === 'cancel') note = body.reason;
    if (action === 'urge') o.urge_count++;
    if (action === 'merge') {
      const target = orders.find((x) => x.no === String(body.into ?? '').toUpperCase());
      if (!target || target === o) return problem(res, 422, 'no such order', [{ field: 'into', reason: 'no work order with this number' }]);
      o.merged_into = target.id;
    }
    o.status = r.to;
    o.version++;
    o.updated_at = now();
    o.timeline.push({ id: randomUUID(), action, from_status: from, to_status: o.status, actor_name: user.display_name, note, data: null, at: now() });
    if (['dispatch', 'reassign'].includes(action)) notify(unitUsers(o.unit_id), 'work_order.dispatched', o, `新工单 ${o.no}`, o.title);
    if (action === 'urge' && o.unit_id) notify(unitUsers(o.unit_id), 'work_order.urged', o, `催办 ${o.no}`, note ?? o.title);
    if (action === 'submit_feedback') notify(users.filter((u) => u.role === 'agent').map((u) => u.id), 'work_order.feedback', o, `已反馈 ${o.no}`, o.feedback.result);
    return send(res, 200, woView(o, user));
  }
  if (p === '/attachments' && req.method === 'POST') {
    if (!can('attachments.upload')) return deny();
    if (raw.length > 10 * 1024 * 1024 + 4096) return problem(res, 413, 'too large');
    const f = parseMultipart(raw, req.headers['content-type']);
    if (!f) return problem(res, 422, 'no file', [{ field: 'file', reason: 'required' }]);
    const meta = { id: randomUUID(), filename: f.filename, content_type: f.content_type, size: f.data.length, sha256: createHash('sha256').update(f.data).digest('hex'), created_at: now() };
    attachments.set(meta.id, { meta, data: f.data });
    return send(res, 201, meta);
  }
  if ((m = /^\/attachments\/([^/]+)$/.exec(p))) {
    const a = attachments.get(m[1]);
    if (!a) return problem(res, 404, 'no such attachment');
    res.writeHead(200, { 'Content-Type': a.meta.content_type, 'Content-Disposition': `attachment; filename="${encodeURIComponent(a.meta.filename)}"` });
    return res.end(a.data);
  }
  if (p === '/notifications' && req.method === 'GET') {
    const mine = notifications.filter((n) => n.recipient_id === user.id);
    const list = q.get('unread') === 'true' ? mine.filter((n) => !n.read_at) : mine;
    const pg = paginate(list.map(({ recipient_id: _r, ...n }) => n), q);
    return send(res, 200, { ...pg, unread: mine.filter((n) => !n.read_at).length });
  }
  if (p === '/notifications/read-all' && req.method === 'POST') {
    for (const n of notifications) if (n.recipient_id === user.id && !n.read_at) n.read_at = now();
    res.writeHead(204);
    return res.end();
  }
  if ((m = /^\/notifications\/([^/]+)\/read$/.exec(p)) && req.method === 'POST') {
    const n = notifications.find((x) => x.id === m[1] && x.recipient_id === user.id);
    if (!n) return problem(res, 404, 'no such notification');
    n.read_at ??= now();
    res.writeHead(204);
    return res.end();
  }
  if (p === '/saved-filters' && req.method === 'GET') return send(res, 200, savedFilters.filter((f) => f.user_id === user.id).map(({ user_id: _u, ...f }) => f));
  if (p === '/saved-filters' && req.method === 'POST') {
    if (!body?.name?.trim()) return problem(res, 422, 'name required', [{ field: 'name', reason: 'required' }]);
    if (savedFilters.some((f) => f.user_id === user.id && f.name === body.name.trim())) return problem(res, 409, 'name taken', [{ field: 'name', reason: '名称已存在' }]);
    const f = { id: randomUUID(), user_id: user.id, name: body.name.trim(), query: body.query ?? {}, created_at: now() };
    savedFilters.push(f);
    const { user_id: _u, ...pubF } = f;
    return send(res, 201, pubF);
  }
  if ((m = /^\/saved-filters\/([^/]+)$/.exec(p)) && req.method === 'DELETE') {
    const i = savedFilters.findIndex((f) => f.id === m[1] && f.user_id === user.id);
    if (i < 0) return problem(res, 404, 'no such filter');
    savedFilters.splice(i, 1);
    res.writeHead(204);
    return res.end();
  }
  return NOT_MINE;
}

// A minimal WebSocket server for /api/v1/notifications/ws: handshake, text frames out, close in.
function wsSend(sock, obj) {
  const data = Buffer.from(JSON.stringify(obj), 'utf8');
  const head = data.length < 126 ? Buffer.from([0x81, data.length]) : data.length < 65536 ? Buffer.from([0x81, 126, data.length >> 8, data.length & 255]) : null;
  if (!head) return;
  try {
    sock.write(Buffer.concat([head, data]));
  } catch {
    /* gone */
  }
}
function wsUpgrade(req, sock) {
  const url = new URL(req.url, 'http://x');
  const cookie = /kefu_session=([^;]+)/.exec(req.headers.cookie || '')?.[1];
  const user = cookie ? sessions.get(cookie) : undefined;
  if (url.pathname !== '/api/v1/notifications/ws' || !user) {
    sock.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  sock.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  const set = sockets.get(user.id) ?? new Set();
  set.add(sock);
  sockets.set(user.id, set);
  wsSend(sock, { type: 'hello', unread: notifications.filter((n) => n.recipient_id === user.id && !n.read_at).length });
  const drop = () => set.delete(sock);
  sock.on('data', (buf) => {
    if ((buf[0] & 0x0f) === 8) {
      drop();
      sock.end();
    }
  });
  sock.on('close', drop);
  sock.on('error', drop);
}

const TYPES = { '.js': 'text/javascript', '.css': 'text/css', '.html': 'text/html; charset=utf-8', '.svg': 'image/svg+xml' };

http
  .createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    try {
      if (url.pathname === '/healthz') return send(res, 200, { status: 'ok' });
      if (url.pathname.startsWith('/api/v1')) return await api(req, res, url);
      let file = path.join(dist, path.normalize(url.pathname));
      if (!file.startsWith(dist) || !existsSync(file) || statSync(file).isDirectory()) file = path.join(dist, 'index.html');
      res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
      res.end(readFileSync(file));
    } catch (e) {
      problem(res, 500, String(e));
    }
  })
  .on('upgrade', wsUpgrade)
  .listen(port, '127.0.0.1', () => console.log(`mock kefu on http://127.0.0.1:${port}`));
