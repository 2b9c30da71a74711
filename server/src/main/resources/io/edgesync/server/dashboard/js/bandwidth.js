// Bandwidth over time: the fleet's (what devices report of their wire bytes, summed at each fleet
// poll) and one device's (its stored wire counters, polled every POLL_MS), both sampled by this
// page while it is open (sampler.js).

import { api } from './api.js';
import { lineChart } from './charts.js';
import { bytes, clear, errorText, h, table } from './dom.js';
import { current, subscribe } from './fleetdata.js';
import { points, sampleDevice } from './sampler.js';

const POLL_MS = 3000;

export function render(view, ctx, device) {
  const fleetCard = h('div', { class: 'card', id: 'bandwidth-fleet' });
  const input = h('input', { id: 'bandwidth-device', placeholder: 'device id', value: device || '' });
  const deviceChart = h('div', { id: 'bandwidth-device-chart' });
  const top = h('div', { class: 'card', id: 'bandwidth-top' });
  view.append(
    h('h1', {}, 'Bandwidth'),
    fleetCard,
    h('div', { class: 'card' }, h('h2', {}, 'One device'), h('div', { class: 'toolbar' }, input, h('button', { type: 'button', class: 'secondary', onclick: () => ctx.go('#/bandwidth/' + encodeURIComponent(input.value.trim())) }, 'Show')), deviceChart),
    top
  );
  const drawFleet = () => {
    const bps = (n) => bytes(Math.round(n)) + '/s';
    const f = current();
    const reporting = f ? f.devices.filter((d) => d.reported).length : 0;
    clear(fleetCard).append(
      h('h2', {}, 'Fleet'),
      h('p', { class: 'muted' }, `${reporting} devices report their wire counters; the rates below are their sums, sampled every fleet poll.`),
      lineChart([{ name: 'on the wire', points: points('fleet:wire') }, { name: 'raw', points: points('fleet:raw') }], bps)
    );
    clear(top).append(h('h2', {}, 'Most bytes on the wire (reported)'), topDevices(f, ctx));
  };
  drawFleet();
  const unsubscribe = subscribe(drawFleet);
  let timer = null;
  if (device) {
    const poll = () => api('/devices/' + encodeURIComponent(device))
      .then((d) => {
        sampleDevice(d, Date.now());
        clear(deviceChart).append(lineChart([{ name: 'frames', points: points('frame:' + device) }, { name: 'raw', points: points('raw:' + device) }], (n) => bytes(Math.round(n)) + '/s'),
          h('p', { class: 'muted' }, `total ${bytes(d.wire.frameBytes)} on the wire for ${bytes(d.wire.rawBytes)} raw (ratio ${d.wire.ratio})`));
      })
      .catch((e) => clear(deviceChart).append(errorText(e)));
    poll();
    timer = setInterval(poll, POLL_MS);
  }
  return () => {
    unsubscribe();
    if (timer) clearInterval(timer);
  };
}

function topDevices(f, ctx) {
  if (!f) return h('span', { class: 'muted' }, 'loading…');
  const rows = f.devices.filter((d) => d.reported).sort((a, b) => b.reported.wireBytes - a.reported.wireBytes).slice(0, 20);
  if (rows.length === 0) return h('p', { class: 'muted' }, 'no device has reported its wire counters yet');
  return table([
    ['Device', (d) => d.id],
    ['On the wire', (d) => bytes(d.reported.wireBytes)],
    ['Raw', (d) => bytes(d.reported.rawBytes)],
    ['Reduction', (d) => (d.reported.rawBytes ? ((1 - d.reported.wireBytes / d.reported.rawBytes) * 100).toFixed(1) + ' %' : '–')],
  ], rows, (d) => ctx.go('#/bandwidth/' + encodeURIComponent(d.id)));
}
