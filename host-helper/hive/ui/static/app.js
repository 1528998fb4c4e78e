// The live view in the browser (issue 19): signs in with a one-time code from the URL fragment (the
// fragment never reaches a server or its logs; it is wiped from the address bar at once) or a pasted
// admin token, both traded for a read-only session token kept in this tab's sessionStorage; then polls
// /ui/api/state every 2 s and redraws. Everything shown goes through textContent (no HTML from data).
const KEY = 'clawdie.hive.ui.session';
const POLL_MS = 2000;
const $ = (sel) => document.querySelector(sel);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

async function post(path, body, token) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(path, { method: 'POST', headers, body: JSON.stringify(body ?? {}) });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(json?.error?.message ?? `HTTP ${res.status}`);
  return json;
}

function showLogin(message) {
  sessionStorage.removeItem(KEY);
  $('#view').hidden = true;
  $('#login').hidden = false;
  $('#status').textContent = 'not signed in';
  $('#login-error').textContent = message ?? '';
}

async function signInWith(promise) {
  try {
    const { token } = await promise;
    sessionStorage.setItem(KEY, token);
    $('#login').hidden = true;
    $('#login-error').textContent = '';
    await refresh();
  } catch (err) {
    showLogin(err.message);
  }
}

const ago = (iso, now) => {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  return s < 120 ? `${s} s ago` : `${Math.round(s / 60)} min ago`;
};
const duration = (ms) =>
  ms < 1000 ? `${ms} ms` : ms < 120000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 60000)} min`;

function bars(buckets, pick, cls) {
  const ns = 'http://www.w3.org/2000/svg';
  const w = 360;
  const h = 70;
  const bw = w / buckets.length;
  const max = Math.max(1, ...buckets.map(pick));
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('class', 'bars');
  svg.setAttribute('width', w);
  svg.setAttribute('height', h);
  svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
  buckets.forEach((b, i) => {
    const v = pick(b);
    if (v === 0) return;
    const rect = document.createElementNS(ns, 'rect');
    const bh = Math.max(1, (v / max) * (h - 4));
    rect.setAttribute('class', cls);
    rect.setAttribute('x', (i * bw + 0.5).toFixed(1));
    rect.setAttribute('y', (h - bh).toFixed(1));
    rect.setAttribute('width', Math.max(1, bw - 1).toFixed(1));
    rect.setAttribute('height', bh.toFixed(1));
    const title = document.createElementNS(ns, 'title');
    title.textContent = `${new Date(b.t).toLocaleTimeString()}: ${v}`;
    rect.append(title);
    svg.append(rect);
  });
  return svg;
}

function render(s) {
  const now = Date.parse(s.at);
  const agents = s.tenants.flatMap((t) => t.agents);
  const sum = (f) => s.activity.buckets.reduce((n, b) => n + f(b), 0);
  $('[data-test=agents-live]').textContent = agents.filter((a) => a.state === 'live').length;
  $('[data-test=queued]').textContent = s.queue.reduce((n, q) => n + q.depth, 0);
  $('[data-test=parked]').textContent = s.parkedPolls;
  $('[data-test=succeeded]').textContent = sum((b) => b.succeeded);
  $('[data-test=failed]').textContent = sum((b) => b.failed + b.expired);
  $('#chart-ok').replaceChildren(bars(s.activity.buckets, (b) => b.succeeded, 'ok'));
  $('#chart-bad').replaceChildren(bars(s.activity.buckets, (b) => b.failed + b.expired, 'bad'));

  $('[data-test=queue] tbody').replaceChildren(
    ...(s.queue.length === 0
      ? [el('tr', {}, el('td', { colspan: 3 }, 'nothing queued'))]
      : s.queue.map((q) =>
          el(
            'tr',
            {},
            el('td', {}, q.capability),
            el('td', {}, q.depth),
            el('td', {}, `${q.oldestAgeSeconds} s`),
          ),
        )),
  );

  $('#tenants').replaceChildren(
    ...(s.tenants.length === 0
      ? [el('p', {}, 'no agents registered')]
      : s.tenants.map((t) =>
          el(
            'div',
            { class: 'tenant', 'data-tenant': t.tenant },
            el(
              'h3',
              {},
              t.tenant,
              el('span', { class: 'kind' }, t.kind === 'lane' ? 'shared lane' : 'tenant'),
            ),
            el(
              'table',
              {},
              el(
                'tbody',
                {},
                ...t.agents.map((a) =>
                  el(
                    'tr',
                    { 'data-agent': a.agentId },
                    el('td', {}, a.agentId),
                    el('td', {}, el('span', { class: `state ${a.state}` }, a.state)),
                    el('td', {}, `heartbeat ${ago(a.lastHeartbeat, now)}`),
                    el('td', { class: 'caps' }, a.capabilities.join(', ')),
                  ),
                ),
              ),
            ),
          ),
        )),
  );

  $('[data-test=recent] tbody').replaceChildren(
    ...s.recent.map((t) =>
      el(
        'tr',
        { 'data-task': t.taskId },
        el('td', {}, t.taskId),
        el('td', {}, t.tenant),
        el('td', {}, t.capability),
        el('td', {}, el('span', { class: `state ${t.state}` }, t.state)),
        el('td', {}, duration(t.durationMs)),
      ),
    ),
  );
  $('#status').textContent = `updated ${new Date(now).toLocaleTimeString()}`;
}

let timer;
async function refresh() {
  clearTimeout(timer);
  const token = sessionStorage.getItem(KEY);
  if (!token) return showLogin();
  try {
    const res = await fetch('/ui/api/state', {
      headers: { authorization: `Bearer ${token}` },
      cache: 'no-store',
    });
    if (res.status === 401) return showLogin('the session ended; sign in again');
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    render(await res.json());
    $('#view').hidden = false;
  } catch (err) {
    $('#status').textContent = `hive unreachable (${err.message}); retrying`;
  }
  timer = setTimeout(refresh, POLL_MS);
}

$('#login-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = $('#token');
  const admin = input.value.trim();
  input.value = '';
  if (admin) void signInWith(post('/ui/api/session', {}, admin));
});

const code = new URLSearchParams(location.hash.slice(1)).get('code');
if (code) {
  // Out of the address bar and the history before anything else.
  history.replaceState(null, '', location.pathname);
  void signInWith(post('/ui/api/session', { code }));
} else {
  void refresh();
}
