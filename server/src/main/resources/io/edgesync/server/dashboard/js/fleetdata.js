// The fleet as the dashboard last fetched it: GET /api/v1/devices and GET /api/v1/alerts, polled
// every POLL_MS while logged in (a poll also samples the fleet's bandwidth, sampler.js).

import { api, ApiError } from './api.js';
import { sampleFleet } from './sampler.js';

const POLL_MS = 5000;

let latest = null;
let timer = null;
const listeners = new Set();

/**
 * Fetches the fleet now. Returns {devices, alerts, alertsNote, alertsByDevice, fetchMs, atMs};
 * alerts is null with alertsNote saying why when the route is missing (404) or refused.
 */
export async function refresh() {
  const t0 = performance.now();
  const [devices, alerts] = await Promise.all([api('/devices'), alertsOrNote()]);
  const fetchMs = performance.now() - t0;
  const alertsByDevice = new Map();
  for (const a of alerts.list || []) {
    if (a.device) alertsByDevice.set(a.device, (alertsByDevice.get(a.device) || 0) + 1);
  }
  const atMs = Date.now();
  latest = {
    devices: devices.devices,
    alerts: alerts.list,
    alertsNote: alerts.note,
    alertsByDevice,
    fetchMs,
    atMs,
  };
  sampleFleet(latest.devices, atMs);
  for (const l of listeners) l(latest);
  return latest;
}

async function alertsOrNote() {
  try {
    const a = await api('/alerts');
    return { list: a.alerts || [], note: null };
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return { list: null, note: 'not available' };
    return { list: null, note: 'not available: ' + e.message };
  }
}

export function current() {
  return latest;
}

/** Calls fn with every fleet fetched from now on; returns the function that stops it. */
export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function startPolling() {
  stopPolling();
  timer = setInterval(() => refresh().catch(() => {}), POLL_MS);
}

export function stopPolling() {
  if (timer) clearInterval(timer);
  timer = null;
  latest = null;
}
