// Entry point: session check, login and forced password change, the shell
// (header, views, status bar) and the client-side routes /live, /playback,
// /admin and /audit, each shown only to the roles that may use it.

import { api, ApiError, setCSRF, onAuthLost, errorText } from './api.js';
import { startEvents, stopEvents, bus, isConnected } from './events.js';
import { t, getLang, setLang, applyI18n, onLangChange, formatTime } from './i18n.js';
import { h, toast, debounce } from './dom.js';
import { TreeView } from './tree.js';
import { Wall } from './wall.js';
import { Tour } from './tour.js';
import { Playback } from './playback.js';
import { Admin } from './admin.js';
import { AuditPage } from './audit.js';
import { startStorageBanner } from './banner.js';

const $ = (sel) => document.querySelector(sel);

const state = {
  user: null,
  live: null,
  playback: null,
  admin: null,
  audit: null,
  view: '',
};

// ---- screens ---------------------------------------------------------------

const langBtn = h('button', {
  type: 'button', class: 'btn ghost lang-toggle', testid: 'lang-toggle',
  onclick: () => setLang(getLang() === 'zh' ? 'en' : 'zh'),
}, h('span', { i18n: 'lang.switch' }));

function showScreen(name) {
  for (const id of ['login-screen', 'pw-screen', 'shell']) $(`#${id}`).hidden = id !== name;
  // One language switch, moved to the visible screen, so a test hook is never ambiguous.
  $(`#${name} .lang-slot`).append(langBtn);
}

function showLogin(messageKey) {
  stopEvents();
  showScreen('login-screen');
  const err = $('#login-error');
  err.textContent = messageKey ? t(messageKey) : '';
  err.hidden = !messageKey;
  $('#login-password').value = '';
  $('#login-submit').disabled = false;
  (($('#login-username').value && $('#login-password')) || $('#login-username')).focus();
}

/** untilText is the text of key with the time the server's message names ("… after <RFC 3339>", "… until <RFC 3339> after …"). */
function untilText(err, key, keyNoTime) {
  const raw = (err.message.match(/(?:until|after) (\S+)(?: after .*)?$/) || [])[1];
  const when = raw ? new Date(raw) : null;
  if (when && !Number.isNaN(when.getTime())) return t(key, { time: formatTime(when) });
  return t(keyNoTime);
}

function loginErrorText(err) {
  if (!(err instanceof ApiError)) return errorText(err);
  if (err.status === 0 || err.code === 'network' || (err.status >= 502 && err.status <= 504 && !err.body)) return t('login.down');
  // A locked username answers like a wrong password (401); only an address
  // with too many failures, whatever the usernames, is told to wait.
  if (err.status === 429 || err.code === 'too_many_attempts') return untilText(err, 'login.tooMany', 'login.tooManyNoTime');
  if (err.status === 401 || err.code === 'unauthenticated' || err.code === 'invalid_credentials') return t('login.wrong');
  return err.message;
}

async function onLoginSubmit(e) {
  e.preventDefault();
  const username = $('#login-username').value.trim();
  const password = $('#login-password').value;
  const errEl = $('#login-error');
  if (!username || !password) {
    errEl.textContent = t('login.required');
    errEl.hidden = false;
    return;
  }
  const btn = $('#login-submit');
  btn.disabled = true;
  btn.textContent = t('login.busy');
  try {
    const res = await api('POST', '/auth/login', { username, password }, { auth: false });
    setCSRF(res?.csrf_token);
    state.user = res?.user || { username };
    if (!state.user.username) state.user.username = username;
    errEl.hidden = true;
    if (res?.must_change_password || state.user.must_change_password) showPasswordChange();
    else enterApp();
  } catch (err) {
    errEl.textContent = loginErrorText(err);
    errEl.hidden = false;
    $('#login-password').select();
  } finally {
    btn.disabled = false;
    btn.textContent = t('login.submit');
  }
}

function showPasswordChange() {
  showScreen('pw-screen');
  for (const id of ['pw-old', 'pw-new', 'pw-repeat']) $(`#${id}`).value = '';
  $('#pw-error').hidden = true;
  $('#pw-user').textContent = state.user?.username || '';
  $('#pw-old').focus();
}

async function onPasswordSubmit(e) {
  e.preventDefault();
  const oldPw = $('#pw-old').value;
  const newPw = $('#pw-new').value;
  const repeat = $('#pw-repeat').value;
  const errEl = $('#pw-error');
  const fail = (msg) => { errEl.textContent = msg; errEl.hidden = false; };
  if ([...newPw].length < 8) return fail(t('pw.tooShort'));
  if (state.user?.username && newPw.toLowerCase() === state.user.username.toLowerCase()) return fail(t('pw.isUsername'));
  if (newPw !== repeat) return fail(t('pw.mismatch'));
  if (newPw === oldPw) return fail(t('pw.sameAsOld'));
  const btn = $('#pw-submit');
  btn.disabled = true;
  try {
    await api('POST', '/auth/password', { old_password: oldPw, new_password: newPw }, { auth: false });
  } catch (err) {
    btn.disabled = false;
    if (err.status === 401 && err.code === 'unauthenticated') { showLogin('login.expired'); return; }
    if (err.code === 'wrong_password') { fail(t('pw.wrongOld')); return; }
    if (err.status === 423 || err.code === 'locked') { fail(untilText(err, 'pw.locked', 'pw.lockedNoTime')); return; }
    // The address's limit counts wrong old passwords too, and refuses it here as on login.
    if (err.status === 429 || err.code === 'too_many_attempts') { fail(untilText(err, 'pw.tooMany', 'pw.tooManyNoTime')); return; }
    fail(err.status === 0 ? t('login.down') : errorText(err));
    return;
  }
  btn.disabled = false;
  // The server may rotate the session; read the CSRF token again.
  try {
    const me = await api('GET', '/me', undefined, { auth: false });
    setCSRF(me?.csrf_token);
    state.user = me?.user || state.user;
  } catch (err) {
    if (err.status === 401) { showLogin('login.expired'); return; }
  }
  toast(t('pw.done'), 'ok', 3000);
  enterApp();
}

// ---- the application shell --------------------------------------------------

// views are the client-side routes; roleViews what each role is shown, the
// first being its home. An auditor watches nothing: no wall, no tree, no
// events. The server refuses the rest whatever the page shows.
const views = {
  live: { path: '/live', build: buildLive },
  playback: { path: '/playback', build: () => { state.playback = new Playback(state.user); $('#view-playback').replaceChildren(state.playback.el); } },
  admin: { path: '/admin', build: () => { state.admin = new Admin(state.user); $('#view-admin').replaceChildren(state.admin.el); } },
  audit: { path: '/audit', build: () => { state.audit = new AuditPage(); $('#view-audit').replaceChildren(state.audit.el); } },
};
const roleViews = {
  admin: ['live', 'playback', 'admin', 'audit'],
  dept_admin: ['live', 'playback', 'admin'],
  operator: ['live', 'playback'],
  auditor: ['audit'],
};

/** allowedViews are the views of the signed-in user's role (an unknown role gets an operator's). */
function allowedViews() { return roleViews[state.user?.role] || roleViews.operator; }

function watches() { return allowedViews().includes('live'); }

function enterApp() {
  showScreen('shell');
  $('#user-name').textContent = state.user?.username || '';
  $('#user-role').textContent = state.user?.role ? t(`role.${state.user.role}`) : '';
  $('#user-role').dataset.i18n = state.user?.role ? `role.${state.user.role}` : '';
  const allowed = allowedViews();
  for (const v of Object.keys(views)) $(`#nav-${v}`).hidden = !allowed.includes(v);
  $('#statusbar').hidden = !watches();
  if (watches()) {
    startEvents();
    refreshCounts();
  }
  // Admins are told when a recorder's store is filling up.
  if (state.user?.role === 'admin') startStorageBanner($('#shell'));
  route(location.pathname, true);
}

function buildLive() {
  const wall = new Wall();
  const tour = new Tour(wall);
  const tree = new TreeView({ name: 'live', onActivate: (ch) => wall.playNext(ch), selection: tour.selection });
  tour.onSelectionChange = () => tree.render();
  wall.onChange = (what) => { if (what === 'layout') tour.layoutChanged(); };
  const sidebar = h('aside', { class: 'sidebar' }, tree.el, tour.el);
  $('#view-live').replaceChildren(h('div', { class: 'view-body' }, sidebar, h('div', { class: 'wall-wrap' }, wall.el)));
  state.live = { wall, tour, tree };
}

function route(path, replace = false) {
  const allowed = allowedViews();
  let view = Object.keys(views).find((v) => views[v].path === path);
  if (!allowed.includes(view)) view = allowed[0];
  const url = views[view].path;
  if (replace) history.replaceState({ view }, '', url + location.search);
  else if (location.pathname !== url) history.pushState({ view }, '', url);
  if (!state[view]) views[view].build();
  if (state.view === 'playback' && view !== 'playback') state.playback?.leave();
  state.view = view;
  // Several views hold a tree: only the shown one keeps its test hooks.
  state.live?.tree.setActive(view === 'live');
  state.playback?.tree.setActive(view === 'playback');
  state.admin?.setActive(view === 'admin');
  for (const v of Object.keys(views)) {
    $(`#view-${v}`).hidden = v !== view;
    $(`#nav-${v}`).classList.toggle('active', v === view);
    $(`#nav-${v}`).setAttribute('aria-current', v === view ? 'page' : 'false');
  }
}

window.addEventListener('popstate', () => { if (state.user && !$('#shell').hidden) route(location.pathname, true); });

async function logout() {
  // Stop our streams while the session still allows it.
  state.live?.tour.stop();
  state.live?.wall.closeAll();
  state.playback?.leave();
  stopEvents();
  try { await api('POST', '/auth/logout', {}, { auth: false }); } catch { /* gone anyway */ }
  setCSRF('');
  location.assign('/login');
}

// Status bar: counts from the API (they do not depend on the tree's mode).
const refreshCounts = debounce(async () => {
  if (!state.user || !watches()) return;
  const total = async (path) => {
    const r = await api('GET', path);
    return Number(r?.total) || 0;
  };
  try {
    const [d, dOn, c, cOn] = await Promise.all([
      total('/devices?limit=1'), total('/devices?online=true&limit=1'),
      total('/channels?limit=1'), total('/channels?online=true&limit=1'),
    ]);
    $('#stat-devices').textContent = `${dOn} / ${d}`;
    $('#stat-channels').textContent = `${cOn} / ${c}`;
  } catch { /* the bar keeps its last numbers */ }
}, 1500);

function renderConnection() {
  const on = isConnected();
  $('#stat-events-dot').className = `dot ${on ? 'on' : 'off'}`;
  $('#stat-events').textContent = t(on ? 'status.eventsOk' : 'status.eventsDown');
}

for (const type of ['device.status', 'channel.status', 'catalog.changed']) bus.addEventListener(type, refreshCounts);
bus.addEventListener('connection', renderConnection);
onLangChange(renderConnection);
setInterval(() => { if (state.user && !document.hidden) refreshCounts(); }, 60000);

function tickClock() {
  $('#clock').textContent = formatTime(new Date());
}

// ---- start -------------------------------------------------------------------

onAuthLost(
  () => {
    // A full reload drops every player and peer connection at once.
    try { sessionStorage.setItem('sharpeyes.loginMsg', 'login.expired'); } catch { /* ignore */ }
    location.assign('/login');
  },
  () => { if (state.user) showPasswordChange(); },
);

window.sharpeyesDebug = {
  panes: () => (state.live ? state.live.wall.debug() : []),
  playback: () => (state.playback ? state.playback.debug() : null),
  user: () => (state.user ? { username: state.user.username, role: state.user.role } : null),
  view: () => state.view,
  views: () => (state.user ? allowedViews() : []),
};

async function boot() {
  try {
    await start();
  } finally {
    document.body.classList.add('ready');
  }
}

async function start() {
  applyI18n(document);
  $('#login-form').addEventListener('submit', onLoginSubmit);
  $('#pw-form').addEventListener('submit', onPasswordSubmit);
  $('#logout').addEventListener('click', logout);
  for (const [v, { path }] of Object.entries(views)) $(`#nav-${v}`).addEventListener('click', () => route(path));
  tickClock();
  setInterval(tickClock, 1000);
  renderConnection();
  let msg = null;
  try {
    msg = sessionStorage.getItem('sharpeyes.loginMsg');
    sessionStorage.removeItem('sharpeyes.loginMsg');
  } catch { /* ignore */ }
  try {
    const me = await api('GET', '/me', undefined, { auth: false });
    setCSRF(me?.csrf_token);
    state.user = me?.user || null;
    if (!state.user) { showLogin(msg); return; }
    if (state.user.must_change_password) showPasswordChange();
    else enterApp();
  } catch (err) {
    if (err.code === 'password_change_required') { state.user = { username: '' }; showPasswordChange(); return; }
    if (err.status === 0 || (err.status >= 502 && err.status <= 504)) { showLogin('login.down'); return; }
    showLogin(msg);
  }
}

boot();
