// A small in-memory stand-in for `kefu serve --demo`, following docs/api.md, for UI development while the
// Rust server is not at hand: `node e2e/mock-server.mjs [port]` serves web/dist and /api/v1.
// It is not a test file and the e2e suite never starts it; point KEFU_URL at it by hand.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { readFileSync, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const port = Number(process.argv[2] || process.env.PORT || 18081);
const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const PASSWORD = 'Kefu@2026';

const PERMS = {
  admin: ['own_account', 'units.read', 'units.write', 'users.read', 'users.write', 'customers.read', 'customers.write', 'payments.write', 'imports.run', 'imports.read', 'audit.read', 'tokens.manage'],
  supervisor: ['own_account', 'units.read', 'users.read', 'customers.read', 'customers.write', 'payments.write', 'imports.read'],
  agent: ['own_account', 'units.read', 'customers.read', 'customers.write'],
  site_staff: ['own_account', 'units.read', 'customers.read'],
  auditor: ['own_account', 'units.read', 'users.read', 'customers.read', 'imports.read', 'audit.read'],
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
  return problem(res, 404, 'no such route');
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
  .listen(port, '127.0.0.1', () => console.log(`mock kefu on http://127.0.0.1:${port}`));
