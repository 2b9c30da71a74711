// History sampled in the browser while the dashboard is open: the fleet's wire counters at every
// fleet poll, one device's counters while its page (or the bandwidth page) shows it. Counters are
// cumulative, so a rate is the difference of two samples over their time apart. Nothing is kept
// on the server: history starts when the page opens (docs/operations.md, "Dashboard").

const MAX_POINTS = 360; // 30 min at the fleet's 5 s poll; the oldest points go first

const series = new Map(); // name -> [[timeMs, value]]
const last = new Map(); // counter name -> [timeMs, value]

export function push(name, timeMs, value) {
  let s = series.get(name);
  if (!s) {
    s = [];
    series.set(name, s);
  }
  s.push([timeMs, value]);
  if (s.length > MAX_POINTS) s.shift();
}

/** Records a value only when it differs from the last one (connection state of every device). */
export function pushChange(name, timeMs, value) {
  const s = series.get(name);
  if (!s || s[s.length - 1][1] !== value) push(name, timeMs, value);
}

/** Records the rate (per second) of a cumulative counter since its previous sample. */
export function pushRate(name, timeMs, counter) {
  const prev = last.get(name);
  last.set(name, [timeMs, counter]);
  if (prev && timeMs > prev[0] && counter >= prev[1]) {
    push(name, timeMs, ((counter - prev[1]) * 1000) / (timeMs - prev[0]));
  }
}

export function points(name) {
  return series.get(name) || [];
}

/** Samples one device's detail (GET /api/v1/devices/{id}). */
export function sampleDevice(d, timeMs) {
  const id = d.id;
  pushChange('conn:' + id, timeMs, d.connected ? 1 : 0);
  let records = 0;
  for (const s of d.streams || []) records += s.records;
  pushRate('records:' + id, timeMs, records);
  if (d.wire) {
    pushRate('frame:' + id, timeMs, d.wire.frameBytes);
    pushRate('raw:' + id, timeMs, d.wire.rawBytes);
  }
  if (d.reported) {
    push('backlog:' + id, timeMs, d.reported.backlogRecords);
    push('age:' + id, timeMs, d.reported.oldestUnsentAgeMs);
  }
}

/** Samples the fleet list: connected devices and the sum of what devices reported on the wire. */
export function sampleFleet(devices, timeMs) {
  let connected = 0;
  let wire = 0;
  let raw = 0;
  let reporting = 0;
  for (const d of devices) {
    if (d.connected) connected++;
    pushChange('conn:' + d.id, timeMs, d.connected ? 1 : 0);
    if (d.reported) {
      reporting++;
      wire += d.reported.wireBytes || 0;
      raw += d.reported.rawBytes || 0;
    }
  }
  push('fleet:connected', timeMs, connected);
  push('fleet:reporting', timeMs, reporting);
  if (reporting > 0) {
    pushRate('fleet:wire', timeMs, wire);
    pushRate('fleet:raw', timeMs, raw);
  }
}

/** The connected (1) / disconnected (0) samples of one device, where the state changed. */
export function connectionChanges(id) {
  return points('conn:' + id);
}
