// Conflict inbox: the open (or resolved) conflicts, one conflict's base / cloud / edge side by side
// with the differences marked, resolution for operators (take edge, take cloud, edit), the audit
// trail of resolutions and the audit chain's verify status.

import { api, optional } from './api.js';
import { ago, clear, errorText, h, section, table, time } from './dom.js';

export function render(view, ctx, selected) {
  const status = h('select', { id: 'conflict-status' }, h('option', { value: 'open' }, 'Open'), h('option', { value: 'resolved' }, 'Resolved'));
  const device = h('input', { id: 'conflict-device', placeholder: 'device (optional)', value: sessionStorage.getItem('edgesync.conflictDevice') || '' });
  sessionStorage.removeItem('edgesync.conflictDevice');
  const list = h('div', { id: 'conflict-list' });
  const detail = h('div', { id: 'conflict-detail' });
  const load = () => {
    clear(list).append(h('span', { class: 'muted' }, 'loading…'));
    const q = '?limit=200&status=' + status.value + (device.value.trim() ? '&device=' + encodeURIComponent(device.value.trim()) : '');
    api('/conflicts' + q)
      .then((r) => clear(list).append(conflictList(r.conflicts, ctx)))
      .catch((e) => clear(list).append(errorText(e)));
  };
  status.addEventListener('change', load);
  device.addEventListener('change', load);
  view.append(
    h('h1', {}, 'Conflicts'),
    h('div', { class: 'card' }, h('div', { class: 'toolbar' }, status, device), list),
    detail,
    verifyCard(),
    section('Audit trail (resolutions, newest first)', () => api('/audit?limit=1000'), (r) => auditTable(r.audit), 'audit-trail')
  );
  load();
  if (selected) showConflict(detail, selected, ctx, load);
  return () => {};
}

function conflictList(conflicts, ctx) {
  if (conflicts.length === 0) return h('p', { class: 'muted', id: 'conflicts-empty' }, 'no conflict');
  return table([
    ['Id', (c) => c.id],
    ['Document', (c) => `${c.scope} ${c.collection}/${c.key}`],
    ['Device', (c) => c.device],
    ['Strategy', (c) => c.strategy],
    ['Status', (c) => h('span', { class: 'badge ' + (c.status === 'open' ? 'warn' : 'ok') }, c.status)],
    ['Created', (c) => ago(c.createdMs)],
  ], conflicts, (c) => ctx.go('#/conflicts/' + c.id));
}

function showConflict(card, id, ctx, reloadList) {
  clear(card).className = 'card';
  card.append(h('span', { class: 'muted' }, 'loading…'));
  api('/conflicts/' + encodeURIComponent(id))
    .then((c) => {
      clear(card).append(
        h('h2', {}, `Conflict ${c.id}: ${c.scope} ${c.collection}/${c.key} from ${c.device}`),
        h('p', {}, 'strategy ', h('strong', {}, c.strategy), ' · status ',
          h('span', { id: 'conflict-state', class: 'badge ' + (c.status === 'open' ? 'warn' : 'ok') }, c.status),
          c.status === 'resolved' ? ` · outcome ${c.outcome} by ${c.resolvedBy} ${ago(c.resolvedMs)} (version ${c.resultVersion})` : ''),
        h('p', { class: 'legend' }, h('span', { class: 'l-cloud' }, 'changed in the cloud'), h('span', { class: 'l-edge' }, 'changed on the edge'), h('span', { class: 'l-both' }, 'changed on both sides, differently')),
        sides(c),
        c.status === 'open' ? resolveBox(c, ctx, () => { showConflict(card, id, ctx, reloadList); reloadList(); }) : null
      );
    })
    .catch((e) => clear(card).append(errorText(e)));
}

// ---------------------------------------------------------------- the three sides, diffed

function sides(c) {
  const base = c.base ? c.base.value : null;
  const cloud = c.cloud.value;
  const edge = c.edge.value;
  const head = (name, side) => `${name}${side && side.version ? ' v' + side.version : ''}${side && side.deleted ? ' (deleted)' : ''}`;
  return h('div', { class: 'sides' },
    h('div', { class: 'side', id: 'side-base' }, h('h3', {}, head('Base', c.base)), marked(base, base, cloud, edge, 'base')),
    h('div', { class: 'side', id: 'side-cloud' }, h('h3', {}, head('Cloud', c.cloud)), marked(cloud, base, cloud, edge, 'cloud')),
    h('div', { class: 'side', id: 'side-edge' }, h('h3', {}, head('Edge', c.edge)), marked(edge, base, cloud, edge, 'edge')));
}

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

function isObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The mark of one field (or of a whole value) on one side: what changed it from the base. */
function mark(b, cl, ed, side) {
  const cloudChanged = !same(b, cl);
  const edgeChanged = !same(b, ed);
  if (cloudChanged && edgeChanged && !same(cl, ed)) return 'conflict';
  if (side === 'cloud' && cloudChanged) return 'changed-cloud';
  if (side === 'edge' && edgeChanged) return 'changed-edge';
  return '';
}

function marked(value, base, cloud, edge, side) {
  const pre = h('pre', {});
  if (![base, cloud, edge].every((v) => v === null || isObject(v))) {
    pre.append(h('span', { class: 'field ' + mark(base, cloud, edge, side) }, JSON.stringify(value, null, 2)));
    return pre;
  }
  const keys = [...new Set([base, cloud, edge].flatMap((v) => (v ? Object.keys(v) : [])))].sort();
  const get = (v, k) => (v && k in v ? v[k] : undefined);
  pre.append(value === null ? '(none)\n' : '{\n');
  for (const k of keys) {
    const v = get(value, k);
    const text = v === undefined ? `  "${k}": (absent)` : `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`;
    pre.append(h('span', { class: 'field ' + mark(get(base, k), get(cloud, k), get(edge, k), side), 'data-field': k }, text));
  }
  if (value !== null) pre.append('}');
  return pre;
}

// ---------------------------------------------------------------- resolution (operators)

function resolveBox(c, ctx, done) {
  const allowed = ctx.session.canOperate;
  const out = h('div');
  const editor = h('textarea', { id: 'resolve-value', hidden: true }, JSON.stringify(c.edge.value ?? c.cloud.value, null, 2));
  const save = h('button', { type: 'button', id: 'resolve-save', hidden: true }, 'Save this value');
  const resolve = async (body) => {
    try {
      const r = await api('/conflicts/' + c.id + '/resolve', 'POST', body);
      clear(out).append(h('span', { class: 'badge ok' }, `resolved: version ${r.document.version}`));
      done();
    } catch (e) {
      clear(out).append(errorText(e));
    }
  };
  const button = (id, label, onclick) =>
    h('button', { type: 'button', id, disabled: !allowed, title: allowed ? null : 'needs the operator role', onclick }, label);
  save.addEventListener('click', () => {
    let value;
    try {
      value = JSON.parse(editor.value);
    } catch (e) {
      clear(out).append(errorText('the value is not JSON: ' + e.message));
      return;
    }
    resolve({ value });
  });
  return h('div', { id: 'resolve' },
    h('h3', {}, 'Resolve'),
    allowed ? null : h('p', { class: 'muted', id: 'resolve-readonly' }, `Your key's role is ${ctx.session.role}: resolving a conflict needs the operator role.`),
    h('div', { class: 'toolbar' },
      button('resolve-edge', 'Take edge', () => resolve({ take: 'edge' })),
      button('resolve-cloud', 'Take cloud', () => resolve({ take: 'cloud' })),
      button('resolve-edit', 'Edit…', () => { editor.hidden = false; save.hidden = false; })),
    editor, save, out);
}

// ---------------------------------------------------------------- audit

function verifyCard() {
  return section('Audit chain', () => optional('/audit/verify'), (v) => {
    if (!v) return h('span', { class: 'muted', id: 'audit-verify' }, 'not available (this store keeps no audit chain)');
    return v.ok
      ? h('p', {}, h('span', { class: 'badge ok', id: 'audit-verify' }, 'verified'), ' ' + (v.summary || `${v.records} records, ${v.checkpoints} checkpoints`))
      : h('p', {}, h('span', { class: 'badge bad', id: 'audit-verify' }, 'BROKEN'), ` at record ${v.badSeq}: ${v.problem}`);
  }, 'audit-chain');
}

function auditTable(audit) {
  if (!audit || audit.length === 0) return h('p', { class: 'muted' }, 'no resolution yet');
  const newest = audit.slice(-50).reverse();
  return table([
    ['At', (a) => time(a.atMs)],
    ['Conflict', (a) => a.conflictId],
    ['Document', (a) => `${a.scope} ${a.collection}/${a.key}`],
    ['Device', (a) => a.device],
    ['Strategy', (a) => a.strategy],
    ['Outcome', (a) => a.outcome],
    ['Who', (a) => a.resolvedBy],
  ], newest);
}
