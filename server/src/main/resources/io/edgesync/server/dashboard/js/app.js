// The dashboard's shell: login with an API key, the header (who is logged in, with which role),
// and a hash router over the views. Only this server's files run (the server's CSP says so).

import { canOperate, forgetKey, storedKey, storeKey, whoami } from './api.js';
import { clear, h } from './dom.js';
import { startPolling, stopPolling } from './fleetdata.js';
import * as fleet from './fleet.js';
import * as device from './device.js';
import * as conflicts from './conflicts.js';
import * as bandwidth from './bandwidth.js';

// What the browser tests read: timings measured with performance.now().
window.edgesyncDashboard = { fleet: null };

const $ = (id) => document.getElementById(id);
let session = null; // {name, role, groups, canOperate}
let leaveView = null; // stops the shown view's timers

async function start() {
  $('login').addEventListener('submit', (e) => {
    e.preventDefault();
    login($('api-key').value.trim());
  });
  $('logout').addEventListener('click', logout);
  window.addEventListener('hashchange', route);
  const key = storedKey();
  if (key) {
    try {
      enter(await whoami(key));
      return;
    } catch (e) {
      forgetKey(); // revoked or unknown now: ask again
    }
  }
  showLogin('');
}

async function login(key) {
  $('login-error').textContent = '';
  try {
    const who = await whoami(key);
    storeKey(key);
    $('api-key').value = '';
    enter(who);
  } catch (e) {
    showLogin(e.message);
  }
}

function enter(who) {
  session = { ...who, canOperate: canOperate(who.role) };
  $('login').hidden = true;
  $('nav').hidden = false;
  $('logout').hidden = false;
  const who_ = clear($('who'));
  who_.hidden = false;
  who_.append(
    h('span', { id: 'who-name' }, who.name), ' ',
    h('span', { id: 'who-role', class: 'badge role-' + who.role }, who.role)
  );
  document.body.dataset.role = who.role;
  startPolling();
  route();
}

function logout() {
  forgetKey();
  session = null;
  stopPolling();
  if (leaveView) leaveView();
  leaveView = null;
  clear($('view'));
  delete document.body.dataset.role;
  showLogin('');
}

function showLogin(message) {
  $('nav').hidden = true;
  $('who').hidden = true;
  $('logout').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message;
  $('api-key').focus();
}

function route() {
  if (!session) return;
  if (leaveView) leaveView();
  leaveView = null;
  const view = clear($('view'));
  const parts = (location.hash || '#/fleet').slice(2).split('/').map(decodeURIComponent);
  const name = parts[0] || 'fleet';
  for (const a of document.querySelectorAll('header nav a')) {
    a.classList.toggle('active', a.id === 'nav-' + (name === 'device' ? 'fleet' : name));
  }
  const ctx = { session, go: (hash) => (location.hash = hash) };
  if (name === 'device' && parts[1]) leaveView = device.render(view, ctx, parts[1]);
  else if (name === 'conflicts') leaveView = conflicts.render(view, ctx, parts[1]);
  else if (name === 'bandwidth') leaveView = bandwidth.render(view, ctx, parts[1]);
  else leaveView = fleet.render(view, ctx);
}

start();
