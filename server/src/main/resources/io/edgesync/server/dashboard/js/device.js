// Device view: connection timeline, streams with their charts, gaps, documents, commands, files
// and rollouts of one device. The device's detail is polled every POLL_MS; the charts show the
// samples this page took (sampler.js).

import { api, optional } from './api.js';
import { connectionTimeline, lineChart } from './charts.js';
import { ago, bytes, clear, duration, errorText, h, section, table, time } from './dom.js';
import { connectionChanges, points, sampleDevice } from './sampler.js';

const POLL_MS = 3000;
const MAX_ROLLOUTS_CHECKED = 10; // newest rollouts looked into for this device (one GET each)

export function render(view, ctx, id) {
  const path = '/devices/' + encodeURIComponent(id);
  const head = h('div', { class: 'card', id: 'device-head' }, h('span', { class: 'muted' }, 'loading…'));
  const charts = h('div', { class: 'card', id: 'device-charts' }, h('h2', {}, 'Charts'));
  const streams = h('div', { class: 'card', id: 'device-streams' }, h('h2', {}, 'Streams'));
  view.append(
    h('p', {}, h('a', { href: '#/fleet' }, '← Fleet')),
    h('h1', { id: 'device-title' }, 'Device ', h('code', {}, id)),
    head,
    charts,
    streams,
    documentsCard(path, id, ctx),
    section('Commands', () => api(path + '/commands?limit=20'), (c) => commandsTable(c.commands), 'device-commands'),
    ctx.session.canOperate ? commandForm(path) : null,
    section('Files and rollouts', () => filesOf(id), (f) => filesView(f), 'device-files')
  );

  let stopped = false;
  async function poll() {
    try {
      const d = await api(path);
      if (stopped) return;
      sampleDevice(d, Date.now());
      drawHead(head, d);
      drawCharts(charts, d);
      drawStreams(streams, d);
    } catch (e) {
      if (!stopped) clear(head).append(errorText(e));
    }
  }
  poll();
  const timer = setInterval(poll, POLL_MS);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

function drawHead(card, d) {
  const r = d.reported;
  clear(card).append(
    h('div', { class: 'row' },
      h('div', { class: 'grow' },
        h('p', {}, h('span', { class: d.connected ? 'dot on' : 'dot' }), h('strong', { id: 'device-state' }, d.connected ? 'connected' : 'offline'),
          ' · last seen ', d.connected ? 'now' : ago(d.lastSeenMs), ' · registered ', time(d.registeredAtMs)),
        d.capabilities ? h('p', { class: 'muted' }, 'session capabilities: ' + d.capabilities.join(', ')) : null,
        r ? h('p', {}, `reported ${ago(r.atMs)}: backlog ${r.backlogRecords} records (${bytes(r.backlogBytes)}), oldest unsent ${duration(r.oldestUnsentAgeMs)}, dropped ${r.droppedRecords}, last sync ${ago(r.lastSyncAtMs)}`)
          : h('p', { class: 'muted' }, 'the device has reported no status over its session'),
        h('p', {}, `on the wire: ${bytes(d.wire.frameBytes)} in ${d.wire.batches} batches for ${bytes(d.wire.rawBytes)} raw (ratio ${d.wire.ratio})`)),
      h('div', { class: 'grow' },
        h('h2', {}, 'Connection timeline'),
        connectionTimeline(d.registeredAtMs, d.connected ? Date.now() : d.lastSeenMs, connectionChanges(d.id)),
        h('p', { class: 'muted' }, 'green: connected while this page watched; the mark: last seen. The server keeps the last-seen time, not a session history.')))
  );
}

function drawCharts(card, d) {
  const perSecond = (n) => n.toFixed(n < 10 ? 1 : 0) + '/s';
  const bytesPerSecond = (n) => bytes(Math.round(n)) + '/s';
  clear(card).append(
    h('h2', {}, 'Charts'),
    h('div', { class: 'row' },
      chartBox('Backlog (records, reported)', lineChart([{ name: 'backlog', points: points('backlog:' + d.id) }], (n) => String(Math.round(n)))),
      chartBox('Age of the oldest unsent record', lineChart([{ name: 'age', points: points('age:' + d.id) }], duration)),
      chartBox('Throughput (records stored)', lineChart([{ name: 'records', points: points('records:' + d.id) }], perSecond)),
      chartBox('Bytes on the wire', lineChart([{ name: 'frames', points: points('frame:' + d.id) }, { name: 'raw', points: points('raw:' + d.id) }], bytesPerSecond)))
  );
}

function chartBox(title, chart) {
  return h('div', { class: 'grow' }, h('h3', {}, title), chart);
}

function drawStreams(card, d) {
  const reported = new Map((d.reportedStreams || []).map((s) => [s.stream, s]));
  const rows = d.streams.map((s) => ({ ...s, rep: reported.get(s.stream) }));
  const gaps = d.streams.flatMap((s) => s.gaps.map((g) => ({ stream: s.stream, ...g })));
  clear(card).append(
    h('h2', {}, 'Streams'),
    rows.length === 0 ? h('p', { class: 'muted' }, 'no stream yet') : table([
      ['Stream', (s) => s.stream],
      ['Stored', (s) => s.records + ' rec, ' + bytes(s.payloadBytes)],
      ['Last sequence', (s) => s.lastSequence],
      ['Backlog (reported)', (s) => (s.rep ? `${s.rep.queued} rec, ${bytes(s.rep.queuedBytes)}` : '–')],
      ['Oldest unsent', (s) => (s.rep ? duration(s.rep.oldestUnsentAgeMs) : '–')],
      ['Dropped', (s) => s.droppedRecords],
      ['Wire (frames / raw)', (s) => `${bytes(s.wire.frameBytes)} / ${bytes(s.wire.rawBytes)}`],
      ['Expired', (s) => s.expired.records + ' rec'],
    ], rows),
    h('h2', {}, 'Gaps'),
    gaps.length === 0 ? h('p', { class: 'muted', id: 'device-gaps' }, 'no gap: every record the device appended is here or still queued') : table([
      ['Stream', (g) => g.stream],
      ['Sequences', (g) => `${g.firstSequence}..${g.lastSequence}`],
      ['Records', (g) => g.records],
      ['Reason', (g) => g.reason],
      ['Dropped at', (g) => time(g.droppedAtMs)],
    ], gaps)
  );
}

function documentsCard(path, id, ctx) {
  const input = h('input', { id: 'doc-collection', placeholder: 'collection' });
  const out = h('div');
  const show = () => {
    const c = input.value.trim();
    if (!c) return;
    clear(out).append(h('span', { class: 'muted' }, 'loading…'));
    api(`${path}/docs/${encodeURIComponent(c)}?limit=100`)
      .then((r) => clear(out).append(r.documents && r.documents.length
        ? table([
          ['Key', (x) => x.key],
          ['Version', (x) => x.version],
          ['Conflicted', (x) => (x.conflicted ? 'yes' : '')],
          ['Value', (x) => JSON.stringify(x.value)],
        ], r.documents)
        : h('p', { class: 'muted' }, 'no document in ' + c)))
      .catch((e) => clear(out).append(errorText(e)));
  };
  input.addEventListener('keydown', (e) => e.key === 'Enter' && show());
  const conflicts = h('a', { href: '#/conflicts', onclick: () => sessionStorage.setItem('edgesync.conflictDevice', id) }, 'conflicts of this device');
  return h('div', { class: 'card', id: 'device-docs' },
    h('h2', {}, 'Documents'),
    h('div', { class: 'toolbar' }, input, h('button', { type: 'button', class: 'secondary', onclick: show }, 'Show'), conflicts),
    out);
}

function commandsTable(commands) {
  if (!commands || commands.length === 0) return h('p', { class: 'muted' }, 'no command');
  return table([
    ['Id', (c) => c.id],
    ['Name', (c) => c.name],
    ['State', (c) => c.state || c.status],
    ['Created', (c) => time(c.createdAtMs || c.createdMs)],
    ['Result', (c) => (c.error ? 'error: ' + c.error : c.result ? JSON.stringify(c.result) : '')],
  ], commands);
}

function commandForm(path) {
  const name = h('input', { id: 'command-name', placeholder: 'command name' });
  const payload = h('input', { id: 'command-payload', placeholder: 'payload JSON (optional)' });
  const out = h('span');
  const send = async () => {
    try {
      const body = { name: name.value.trim() };
      if (payload.value.trim()) body.payload = JSON.parse(payload.value);
      const c = await api(path + '/commands', 'POST', body);
      clear(out).append(h('span', { class: 'badge ok' }, 'queued command ' + c.id));
    } catch (e) {
      clear(out).append(errorText(e));
    }
  };
  return h('div', { class: 'card', id: 'command-form' },
    h('h2', {}, 'Send a command (operator)'),
    h('div', { class: 'toolbar' }, name, payload, h('button', { type: 'button', onclick: send }, 'Send'), out));
}

async function filesOf(id) {
  const uploads = await optional('/uploads?device=' + encodeURIComponent(id));
  const rollouts = await optional('/rollouts');
  const mine = [];
  for (const r of ((rollouts && rollouts.rollouts) || []).slice(0, MAX_ROLLOUTS_CHECKED)) {
    const detail = await api('/rollouts/' + encodeURIComponent(r.id));
    const d = (detail.devices || []).find((x) => x.device === id);
    if (d) mine.push({ rollout: detail, device: d });
  }
  return { uploads: uploads ? uploads.uploads : null, rollouts: rollouts ? mine : null };
}

function filesView(f) {
  if (f.uploads === null && f.rollouts === null) return h('p', { class: 'muted' }, 'not available: this server has no files configured');
  return h('div', {},
    h('h3', {}, 'Rollouts to this device'),
    !f.rollouts || f.rollouts.length === 0 ? h('p', { class: 'muted' }, 'none') : table([
      ['Rollout', (x) => x.rollout.id],
      ['File', (x) => `${x.rollout.path} v${x.rollout.version}`],
      ['Rollout state', (x) => x.rollout.state],
      ['Device state', (x) => x.device.state],
      ['Progress', (x) => (x.device.percent ?? 0) + ' %'],
      ['Reason', (x) => x.device.reason || ''],
    ], f.rollouts),
    h('h3', {}, 'Uploads from this device'),
    !f.uploads || f.uploads.length === 0 ? h('p', { class: 'muted' }, 'none') : table([
      ['Path', (u) => u.path],
      ['Version', (u) => u.version],
      ['Size', (u) => bytes(u.size)],
      ['State', (u) => u.state],
      ['Reason', (u) => u.reason || ''],
    ], f.uploads));
}
