// Hand-written SVG charts: a line chart of up to two series over time, and a connection timeline.

const NS = 'http://www.w3.org/2000/svg';
const W = 600;
const H = 160;
const PAD = { left: 56, right: 8, top: 8, bottom: 18 };

function svg(tag, attrs = {}, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/**
 * series: [{name, points: [[timeMs, value], ...]}] (at most two); format: value -> label.
 * Returns a <div> with the chart and its legend; "no samples yet" until a series has two points.
 */
export function lineChart(series, format = String) {
  const wrap = document.createElement('div');
  const all = series.flatMap((s) => s.points);
  if (all.length < 2) {
    const p = document.createElement('p');
    p.className = 'muted';
    p.textContent = 'no samples yet (the page samples while it is open)';
    wrap.append(p);
    return wrap;
  }
  const t0 = Math.min(...all.map((p) => p[0]));
  const t1 = Math.max(...all.map((p) => p[0]), t0 + 1);
  const vMax = Math.max(...all.map((p) => p[1]), 1e-9);
  const x = (t) => PAD.left + ((t - t0) / (t1 - t0)) * (W - PAD.left - PAD.right);
  const y = (v) => H - PAD.bottom - (v / vMax) * (H - PAD.top - PAD.bottom);
  const chart = svg('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none' });
  chart.append(svg('line', { class: 'axis', x1: PAD.left, y1: H - PAD.bottom, x2: W - PAD.right, y2: H - PAD.bottom }));
  chart.append(svg('line', { class: 'axis', x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: H - PAD.bottom }));
  chart.append(svg('text', { x: 2, y: PAD.top + 8 }, format(vMax)));
  chart.append(svg('text', { x: 2, y: H - PAD.bottom }, format(0)));
  chart.append(svg('text', { x: PAD.left, y: H - 4 }, new Date(t0).toLocaleTimeString()));
  chart.append(svg('text', { x: W - PAD.right - 50, y: H - 4 }, new Date(t1).toLocaleTimeString()));
  series.forEach((s, i) => {
    if (s.points.length === 0) return;
    const d = s.points.map((p, j) => (j === 0 ? 'M' : 'L') + x(p[0]).toFixed(1) + ' ' + y(p[1]).toFixed(1)).join(' ');
    chart.append(svg('path', { class: 's' + i, d }));
  });
  const legend = document.createElement('div');
  legend.className = 'chart-legend';
  series.forEach((s, i) => {
    const span = document.createElement('span');
    span.className = 'c' + i;
    const last = s.points.length ? format(s.points[s.points.length - 1][1]) : '–';
    span.textContent = `\u25A0 ${s.name}: ${last}`;
    legend.append(span);
  });
  wrap.append(chart, legend);
  return wrap;
}

/**
 * The device's connection over time as the server and this page know it: registered at
 * registeredAtMs; last seen at lastSeenMs; and the connected/disconnected samples the page took
 * ([[timeMs, connected]]), drawn as bars from each sample to the next.
 */
export function connectionTimeline(registeredAtMs, lastSeenMs, samples, nowMs = Date.now()) {
  const t0 = Math.min(registeredAtMs || nowMs, ...samples.map((s) => s[0]));
  const t1 = Math.max(nowMs, t0 + 1);
  const x = (t) => 4 + ((t - t0) / (t1 - t0)) * (W - 8);
  const el = svg('svg', { class: 'timeline', viewBox: `0 0 ${W} 46`, preserveAspectRatio: 'none' });
  el.append(svg('rect', { class: 'off', x: 4, y: 6, width: W - 8, height: 14 }));
  samples.forEach((s, i) => {
    const end = i + 1 < samples.length ? samples[i + 1][0] : nowMs;
    const w = Math.max(1, x(end) - x(s[0]));
    el.append(svg('rect', { class: s[1] ? 'on' : 'off', x: x(s[0]), y: 6, width: w, height: 14 }));
  });
  if (lastSeenMs) {
    el.append(svg('line', { class: 'seen', x1: x(lastSeenMs), y1: 2, x2: x(lastSeenMs), y2: 24 }));
  }
  el.append(svg('text', { x: 4, y: 38 }, 'registered ' + new Date(t0).toLocaleString()));
  el.append(svg('text', { x: W - 90, y: 38 }, 'now'));
  return el;
}
