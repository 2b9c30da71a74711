// Small DOM and formatting helpers. Elements are built with h() and text nodes, never from HTML
// strings, so device ids, document values and error messages cannot inject markup.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value);
    } else if (name === 'class') {
      el.className = value;
    } else {
      el.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function errorText(e) {
  return h('p', { class: 'error' }, e && e.message ? e.message : String(e));
}

/** A section that shows "loading", then what render(data) builds, or the error. */
export function section(title, load, render, id) {
  const body = h('div', {}, h('span', { class: 'muted' }, 'loading…'));
  const el = h('div', { class: 'card', id }, h('h2', {}, title), body);
  Promise.resolve()
    .then(load)
    .then((data) => clear(body).append(render(data)))
    .catch((e) => clear(body).append(errorText(e)));
  return el;
}

export function ago(ms, nowMs = Date.now()) {
  if (!ms) return 'never';
  return duration(Math.max(0, nowMs - ms)) + ' ago';
}

export function duration(ms) {
  if (ms === null || ms === undefined) return '–';
  const s = Math.round(ms / 1000);
  if (s < 60) return s + ' s';
  if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
  if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
  return Math.floor(s / 86400) + ' d ' + Math.floor((s % 86400) / 3600) + ' h';
}

export function bytes(n) {
  if (n === null || n === undefined) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return (i === 0 ? v : v.toFixed(1)) + ' ' + units[i];
}

export function time(ms) {
  return ms ? new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '–';
}

export function percent(x) {
  return x === null || x === undefined ? '–' : (x * 100).toFixed(x >= 0.999 && x < 1 ? 2 : 1) + ' %';
}

export function table(columns, rows, onRow) {
  return h(
    'table',
    {},
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', {}, c[0])))),
    h(
      'tbody',
      {},
      rows.map((r) =>
        h(
          'tr',
          { class: onRow ? 'clickable' : null, onclick: onRow ? () => onRow(r) : null },
          columns.map((c) => h('td', {}, c[1](r)))
        )
      )
    )
  );
}
