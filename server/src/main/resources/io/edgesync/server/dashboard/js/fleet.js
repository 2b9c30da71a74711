// Fleet view: KPI panel, active alerts, and every device in a virtualized table (only the rows in
// sight are in the DOM, so 10,000 devices filter, sort and scroll at once).

import { optional } from './api.js';
import { ago, clear, duration, errorText, h, percent } from './dom.js';
import { current, refresh, subscribe } from './fleetdata.js';

const VIEWPORT_PX = 560;
const OVERSCAN_ROWS = 10;

// Targets the brief sets for each KPI: [field, label, target, higher is better].
const KPIS = [
  ['syncSuccessRate', 'Sync success', 0.995, true],
  ['conflictRate', 'Conflict rate', 0.001, false],
  ['consistency', 'Consistency', 0.999, true],
  ['outageDataKept', 'Data kept in outages', 0.95, true],
  ['bandwidthReduction', 'Bandwidth reduction', 0.8, true],
];

const SORTS = {
  id: { label: 'Device', key: (d) => d.id, desc: false },
  lastSeen: { label: 'Last seen', key: (d) => (d.connected ? Infinity : d.lastSeenMs), desc: false },
  backlogAge: { label: 'Oldest unsent', key: (d) => (d.reported ? d.reported.oldestUnsentAgeMs : -1), desc: true },
  alerts: { label: 'Alerts', key: (d, f) => f.alertsByDevice.get(d.id) || 0, desc: true },
};

const FILTERS = {
  all: ['All devices', () => true],
  connected: ['Connected', (d) => d.connected],
  disconnected: ['Disconnected', (d) => !d.connected],
  alerting: ['With alerts', (d, f) => f.alertsByDevice.has(d.id)],
  backlogged: ['With a backlog', (d) => d.reported && d.reported.backlogRecords > 0],
};

// Column widths are fixed so that the header table and the scrolled body table line up.
const COLUMNS = [
  ['Device', '28%', 'id', (d) => h('a', { href: '#/device/' + encodeURIComponent(d.id) }, d.id)],
  ['Status', '14%', null, (d) => [h('span', { class: d.connected ? 'dot on' : 'dot' }), d.connected ? 'connected' : 'offline']],
  ['Last seen', '16%', 'lastSeen', (d) => (d.connected ? 'now' : ago(d.lastSeenMs))],
  ['Backlog', '14%', null, (d) => (d.reported ? d.reported.backlogRecords + ' rec' : '–')],
  ['Oldest unsent', '16%', 'backlogAge', (d) => (d.reported ? duration(d.reported.oldestUnsentAgeMs) : '–')],
  ['Alerts', '12%', 'alerts', (d, f) => String(f.alertsByDevice.get(d.id) || 0)],
];

export function render(view, ctx) {
  const t0 = performance.now();
  const state = { sort: 'id', desc: false, filter: 'all', search: '', rows: [], rowPx: 28 };
  const search = h('input', { id: 'fleet-search', type: 'search', placeholder: 'Search device id' });
  const filter = h('select', { id: 'fleet-filter' }, Object.entries(FILTERS).map(([k, v]) => h('option', { value: k }, v[0])));
  const sort = h('select', { id: 'fleet-sort' }, Object.entries(SORTS).map(([k, v]) => h('option', { value: k }, 'Sort: ' + v.label)));
  const count = h('span', { id: 'fleet-count', class: 'muted' }, 'loading…');
  const header = h('table', { class: 'vhead' }, colgroup(), h('thead', {}, h('tr', {}, COLUMNS.map((c) => headerCell(c, state, () => update())))));
  const body = h('tbody', { id: 'fleet-rows' });
  const bodyTable = h('table', {}, colgroup(), body);
  const spacer = h('div', { class: 'spacer' }, bodyTable);
  const scroller = h('div', { class: 'vtable', id: 'fleet-table' }, spacer);
  const message = h('div');
  const alerts = h('div', { class: 'card', id: 'alerts' }, h('h2', {}, 'Alerts'), h('span', { class: 'muted' }, 'loading…'));

  view.append(
    h('h1', {}, 'Fleet'),
    kpiPanel(),
    alerts,
    h('div', { class: 'card' }, h('div', { class: 'toolbar' }, search, filter, sort, count), message, header, scroller)
  );

  function update() {
    const f = current();
    if (!f) return;
    const match = FILTERS[state.filter][1];
    const needle = state.search.toLowerCase();
    const rows = f.devices.filter((d) => (!needle || d.id.toLowerCase().includes(needle)) && match(d, f));
    const key = SORTS[state.sort].key;
    const sign = state.desc ? -1 : 1;
    rows.sort((a, b) => {
      const ka = key(a, f);
      const kb = key(b, f);
      return (ka < kb ? -1 : ka > kb ? 1 : a.id < b.id ? -1 : 1) * sign;
    });
    state.rows = rows;
    count.textContent = `${rows.length} of ${f.devices.length} devices`;
    for (const th of header.querySelectorAll('th')) th.classList.toggle('sorted', th.dataset.sort === state.sort);
    drawRows();
  }

  function drawRows() {
    const f = current();
    const n = state.rows.length;
    header.style.width = scroller.clientWidth + 'px'; // the body's scrollbar takes the rest
    spacer.style.height = n * state.rowPx + 'px';
    const first = Math.max(0, Math.floor(scroller.scrollTop / state.rowPx) - OVERSCAN_ROWS);
    const last = Math.min(n, first + Math.ceil(VIEWPORT_PX / state.rowPx) + 2 * OVERSCAN_ROWS);
    bodyTable.style.top = first * state.rowPx + 'px';
    clear(body);
    for (let i = first; i < last; i++) {
      const d = state.rows[i];
      const tr = h('tr', { class: 'clickable', 'data-device': d.id, onclick: () => ctx.go('#/device/' + encodeURIComponent(d.id)) });
      for (const c of COLUMNS) tr.append(h('td', {}, c[3](d, f)));
      body.append(tr);
    }
    const measured = body.rows.length ? body.rows[0].getBoundingClientRect().height : 0;
    if (measured > 0 && Math.abs(measured - state.rowPx) > 0.5) {
      state.rowPx = measured; // the rows' real height: the scroll arithmetic depends on it
      drawRows();
    }
  }

  search.addEventListener('input', () => { state.search = search.value; scroller.scrollTop = 0; update(); });
  filter.addEventListener('change', () => { state.filter = filter.value; scroller.scrollTop = 0; update(); });
  sort.addEventListener('change', () => setSort(state, sort.value, update));
  scroller.addEventListener('scroll', () => requestAnimationFrame(drawRows));
  state.setSortSelect = (v) => (sort.value = v);

  const unsubscribe = subscribe(() => { update(); drawAlerts(alerts, current(), ctx); });
  (current() ? Promise.resolve(current()) : refresh())
    .then((f) => {
      update();
      drawAlerts(alerts, f, ctx);
      requestAnimationFrame(() => {
        window.edgesyncDashboard.fleet = {
          devices: f.devices.length,
          fetchMs: f.fetchMs,
          renderMs: performance.now() - t0,
          domRows: body.rows.length,
        };
      });
    })
    .catch((e) => { count.textContent = ''; clear(message).append(errorText(e)); });
  return unsubscribe;
}

function colgroup() {
  return h('colgroup', {}, COLUMNS.map((c) => h('col', { width: c[1] })));
}

function headerCell(c, state, update) {
  const th = h('th', { class: c[2] ? 'sortable' : null, 'data-sort': c[2] }, c[0]);
  if (c[2]) {
    th.addEventListener('click', () => {
      if (state.sort === c[2]) state.desc = !state.desc;
      else setSort(state, c[2], null);
      state.setSortSelect(c[2]);
      update();
    });
  }
  return th;
}

function setSort(state, field, update) {
  state.sort = field;
  state.desc = SORTS[field].desc;
  if (update) update();
}

function kpiPanel() {
  const body = h('div', { class: 'kpis' }, h('span', { class: 'muted' }, 'loading…'));
  optional('/kpis')
    .then((k) => {
      clear(body);
      if (!k) {
        body.append(h('span', { class: 'muted', id: 'kpis-missing' }, 'not available (this server has no GET /api/v1/kpis)'));
        return;
      }
      // With no device reporting, every ratio is its empty-case default: show none as a verdict.
      const none = k.devicesReporting === 0;
      for (const [field, label, target, higher] of KPIS) {
        const v = none ? null : k[field];
        const pass = v === null || v === undefined ? null : higher ? v >= target : v <= target;
        body.append(
          h('div', { class: 'kpi ' + (pass === null ? '' : pass ? 'pass' : 'fail'), 'data-kpi': field },
            h('div', { class: 'muted' }, label),
            h('div', { class: 'value' }, percent(v)),
            h('div', { class: 'muted' }, (higher ? 'target > ' : 'target < ') + percent(target)))
        );
      }
      body.append(
        h('div', { class: 'kpi' },
          h('div', { class: 'muted' }, 'Devices'),
          h('div', { class: 'value' }, String(k.devices ?? '–')),
          k.devicesReporting === undefined ? null : h('div', { class: 'muted' }, k.devicesReporting + ' reporting'))
      );
    })
    .catch((e) => clear(body).append(errorText(e)));
  return h('div', { class: 'card', id: 'kpis' }, h('h2', {}, 'KPIs (fleet)'), body);
}

function drawAlerts(card, f, ctx) {
  const body = h('div');
  if (!f.alerts) {
    body.append(h('span', { class: 'muted', id: 'alerts-missing' }, f.alertsNote));
  } else if (f.alerts.length === 0) {
    body.append(h('span', { class: 'badge ok' }, 'no active alerts'));
  } else {
    const shown = f.alerts.slice(0, 50);
    body.append(
      h('table', {},
        h('tbody', {}, shown.map((a) =>
          h('tr', { class: a.device ? 'clickable' : null, onclick: a.device ? () => ctx.go('#/device/' + encodeURIComponent(a.device)) : null },
            h('td', {}, h('span', { class: 'badge ' + (a.severity === 'critical' ? 'bad' : 'warn') }, a.severity)),
            h('td', {}, a.rule),
            h('td', {}, a.device || 'fleet'),
            h('td', {}, a.message),
            h('td', { class: 'muted' }, 'since ' + ago(a.sinceMs)))))),
      f.alerts.length > shown.length ? h('p', { class: 'muted' }, `and ${f.alerts.length - shown.length} more`) : null
    );
  }
  clear(card).append(h('h2', {}, 'Alerts'), body);
}
