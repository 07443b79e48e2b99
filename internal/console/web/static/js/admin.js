// The administration area: departments, users, grants, camera ownership,
// record plans and superior platforms.
// What a role may not do is not shown; the server refuses it anyway.

import { api, errorText } from './api.js';
import { t, onLangChange, formatTime } from './i18n.js';
import { h, toast, ask } from './dom.js';
import { ScopePicker, describeScope } from './scope.js';
import { RecordPlans } from './recordplans.js';
import { Platforms } from './platforms.js';

const levels = ['province', 'city', 'county', 'township', 'village', 'unit'];
const roles = ['admin', 'dept_admin', 'operator', 'auditor'];
const rights = ['live', 'playback', 'download', 'ptz', 'share', 'location'];
const civilPattern = /^([0-9]{2}){0,5}$/;
const hoursPattern = /^([01][0-9]|2[0-3]):[0-5][0-9]$/;

/** Departments is the department list every panel shares, loaded from the API. */
export class Departments {
  constructor() {
    this.items = [];
    this.listeners = new Set();
  }

  async load() {
    const res = await api('GET', '/departments');
    this.items = Array.isArray(res?.items) ? res.items : [];
    for (const fn of this.listeners) fn();
  }

  onChange(fn) { this.listeners.add(fn); }

  name(id) {
    return this.items.find((d) => d.id === id)?.name || (id ? `#${id}` : t('admin.noDept'));
  }

  /** ordered lists the departments depth first with their depth; roots are those whose parent is not listed. */
  ordered() {
    const ids = new Set(this.items.map((d) => d.id));
    const kids = new Map();
    for (const d of this.items) {
      const p = d.parent_id && ids.has(d.parent_id) ? d.parent_id : 0;
      if (!kids.has(p)) kids.set(p, []);
      kids.get(p).push(d);
    }
    const out = [];
    const walk = (p, depth) => {
      for (const d of (kids.get(p) || []).sort((a, b) => a.name.localeCompare(b.name))) {
        out.push({ d, depth });
        walk(d.id, depth + 1);
      }
    };
    walk(0, 0);
    return out;
  }

  /** within reports whether department id is root or below it. */
  within(id, root) {
    const byID = new Map(this.items.map((d) => [d.id, d]));
    for (let d = byID.get(id), n = 0; d && n <= this.items.length; d = byID.get(d.parent_id), n++) {
      if (d.id === root) return true;
    }
    return false;
  }

  /** select builds a <select> of the departments; none adds a first option with that i18n key. */
  select(testid, none) {
    const el = h('select', { class: 'input', testid });
    const fill = () => {
      const keep = el.value;
      el.replaceChildren(
        ...(none ? [h('option', { value: '', text: t(none) })] : []),
        ...this.ordered().map(({ d, depth }) => h('option', { value: String(d.id), text: `${'　'.repeat(depth)}${d.name}` })));
      if ([...el.options].some((o) => o.value === keep)) el.value = keep;
    };
    fill();
    this.onChange(fill);
    onLangChange(fill);
    return el;
  }
}

/** fail shows err in the form's error element. */
function fail(el, err) {
  el.textContent = typeof err === 'string' ? err : errorText(err);
  el.hidden = false;
}

function field(label, input, hint) {
  return h('label', { class: 'field' }, h('span', { i18n: label }), input, hint ? h('span', { class: 'field-hint', i18n: hint }) : null);
}

/** Admin is the administration view: one tab per kind of thing managed. */
export class Admin {
  /** @param {{role: string}} user the signed-in user */
  constructor(user) {
    this.user = user;
    this.isAdmin = user.role === 'admin';
    this.depts = new Departments();
    this.selected = 0; // department chosen in the department panel
    this.panels = {
      departments: this.buildDepartments(),
      users: this.buildUsers(),
      grants: this.buildGrants(),
    };
    if (this.isAdmin) this.panels.ownership = this.buildOwnership();
    if (this.isAdmin) this.panels.plans = new RecordPlans(this.depts);
    if (this.isAdmin) this.panels.platforms = new Platforms();
    this.tabs = {};
    for (const name of Object.keys(this.panels)) {
      this.tabs[name] = h('button', {
        type: 'button', class: 'seg-btn', i18n: `admin.tab.${name}`, testid: `admin-tab-${name}`,
        onclick: () => this.show(name),
      });
    }
    this.el = h('div', { class: 'admin' },
      h('div', { class: 'admin-tabs' }, h('div', { class: 'seg' }, Object.values(this.tabs))),
      h('div', { class: 'admin-body' }, Object.values(this.panels).map((p) => p.el)));
    this.depts.onChange(() => this.renderDepartments());
    onLangChange(() => { this.renderDepartments(); this.renderUsers(); this.renderGrants(); });
    this.show('departments');
    this.reload();
  }

  async reload() {
    try {
      await this.depts.load();
    } catch (err) {
      toast(t('admin.loadFailed', { error: errorText(err) }));
    }
    this.loadUsers();
  }

  show(name) {
    this.tab = name;
    for (const [n, p] of Object.entries(this.panels)) p.el.hidden = n !== name;
    for (const [n, b] of Object.entries(this.tabs)) b.classList.toggle('active', n === name);
    this.grantPicker.setActive(name === 'grants' && this.active);
    this.ownerPicker?.setActive(name === 'ownership' && this.active);
    this.panels.platforms?.setActive(name === 'platforms' && this.active);
    if (name === 'grants') this.loadGrants();
    if (name === 'plans') this.panels.plans.load();
    if (name === 'platforms') this.panels.platforms.load();
  }

  /** setActive turns the test hooks of the pickers' trees on or off with the view. */
  setActive(on) {
    this.active = on;
    this.show(this.tab);
  }

  // ---- departments ----------------------------------------------------------

  buildDepartments() {
    const list = h('div', { class: 'admin-list', testid: 'dept-list' });
    const name = h('input', { class: 'input', maxlength: 128, testid: 'dept-name' });
    const level = h('select', { class: 'input', testid: 'dept-level' });
    const civil = h('input', { class: 'input', maxlength: 10, inputmode: 'numeric', testid: 'dept-civil' });
    const parent = this.depts.select('dept-parent', this.isAdmin ? 'admin.rootDept' : null);
    const error = h('div', { class: 'form-error', role: 'alert', testid: 'dept-error', hidden: true });
    const title = h('h2', {});
    const save = h('button', { type: 'submit', class: 'btn primary', testid: 'dept-save' });
    const del = h('button', { type: 'button', class: 'btn danger', i18n: 'common.delete', testid: 'dept-delete', onclick: () => this.deleteDepartment() });
    const add = h('button', { type: 'button', class: 'btn', i18n: 'admin.dept.new', testid: 'dept-new', onclick: () => this.editDepartment(0) });
    const form = h('form', { class: 'admin-form', novalidate: true, onsubmit: (e) => { e.preventDefault(); this.saveDepartment(); } },
      title,
      field('admin.dept.name', name),
      field('admin.dept.parent', parent),
      field('admin.dept.level', level),
      field('admin.dept.civil', civil, 'admin.dept.civilHint'),
      error,
      h('div', { class: 'form-buttons' }, save, del));
    this.dept = { list, name, level, civil, parent, error, title, save, del, editing: 0 };
    this.fillLevels();
    onLangChange(() => this.fillLevels());
    return { el: h('div', { class: 'admin-panel two-col' },
      h('div', { class: 'admin-side' }, h('div', { class: 'admin-side-head' }, h('span', { class: 'label strong', i18n: 'admin.tab.departments' }), add), list),
      form) };
  }

  fillLevels() {
    const keep = this.dept.level.value || 'unit';
    this.dept.level.replaceChildren(...levels.map((l) => h('option', { value: l, text: t(`level.${l}`) })));
    this.dept.level.value = keep;
  }

  renderDepartments() {
    const { list } = this.dept;
    const rows = this.depts.ordered();
    list.replaceChildren(...rows.map(({ d, depth }) => h('div', {
      class: `admin-row ${d.id === this.selected ? 'active' : ''}`, tabindex: '0', role: 'button',
      style: `padding-left:${8 + depth * 16}px`, testid: `dept-${d.id}`,
      onclick: () => this.editDepartment(d.id),
      onkeydown: (e) => { if (e.key === 'Enter') this.editDepartment(d.id); },
    }, h('span', { class: 'tree-name', text: d.name }), h('span', { class: 'muted', text: t(`level.${d.level}`) }))));
    if (!rows.length) list.append(h('div', { class: 'tree-msg', i18n: 'admin.dept.empty' }));
    if (this.dept.editing && !this.depts.items.some((d) => d.id === this.dept.editing)) this.editDepartment(0);
    else this.editDepartment(this.dept.editing, true);
  }

  /** editDepartment shows the form for department id, or a new one (0) under the selected one. */
  editDepartment(id, keepInputs = false) {
    const f = this.dept;
    const d = this.depts.items.find((x) => x.id === id);
    f.editing = d ? id : 0;
    if (d) this.selected = id;
    for (const row of f.list.children) row.classList.toggle('active', row.dataset.testid === `dept-${this.selected}`);
    f.title.textContent = t(d ? 'admin.dept.edit' : 'admin.dept.new');
    f.save.textContent = t(d ? 'common.save' : 'common.create');
    f.del.hidden = !d;
    if (keepInputs) return;
    f.error.hidden = true;
    f.name.value = d?.name || '';
    f.level.value = d?.level || 'unit';
    f.civil.value = d?.civil_code || '';
    const p = d ? d.parent_id : this.selected;
    f.parent.value = p ? String(p) : (f.parent.options[0]?.value ?? '');
    if (this.grantDept && this.selected) this.grantDept.value = String(this.selected);
  }

  async saveDepartment() {
    const f = this.dept;
    f.error.hidden = true;
    const name = f.name.value.trim();
    const civil = f.civil.value.trim();
    if (!name) return fail(f.error, t('form.required', { field: t('admin.dept.name') }));
    if (!civilPattern.test(civil)) return fail(f.error, t('admin.dept.badCivil'));
    const parentID = f.parent.value ? Number(f.parent.value) : null;
    if (f.editing && this.depts.within(parentID, f.editing)) return fail(f.error, t('admin.dept.selfParent'));
    const body = { name, level: f.level.value, civil_code: civil, parent_id: parentID };
    const old = this.depts.items.find((x) => x.id === f.editing);
    try {
      const d = f.editing
        ? await this.patchDepartment(f.editing, body, old && (old.parent_id ?? null) !== parentID)
        : await api('POST', '/departments', body);
      this.selected = d.id;
      f.editing = d.id;
      toast(t('admin.saved'), 'ok', 2500);
      await this.depts.load();
      this.editDepartment(d.id);
    } catch (err) {
      fail(f.error, err);
    }
  }

  /**
   * patchDepartment saves a department; a move the server refuses (its
   * subtree has users, whose view would change) is retried with
   * move_users=true once the admin agrees; otherwise the refusal stands.
   */
  async patchDepartment(id, body, moved) {
    try {
      return await api('PATCH', `/departments/${id}`, body);
    } catch (err) {
      if (!moved || err.code !== 'conflict') throw err;
      const ok = await ask({
        title: t('admin.dept.moveTitle'), message: t('admin.dept.moveMsg', { error: errorText(err) }),
        ok: 'admin.dept.moveUsers', danger: true,
      });
      if (!ok) throw err;
      return api('PATCH', `/departments/${id}?move_users=true`, body);
    }
  }

  async deleteDepartment() {
    const f = this.dept;
    const id = f.editing;
    if (!id) return;
    const ok = await ask({ title: t('admin.dept.deleteTitle'), message: t('admin.dept.deleteMsg', { name: this.depts.name(id) }), ok: 'common.delete', danger: true });
    if (!ok) return;
    try {
      await api('DELETE', `/departments/${id}`);
      this.selected = 0;
      f.editing = 0;
      await this.depts.load();
      this.editDepartment(0);
    } catch (err) {
      fail(f.error, err);
    }
  }

  // ---- users -----------------------------------------------------------------

  buildUsers() {
    const username = h('input', { class: 'input', maxlength: 128, autocomplete: 'off', testid: 'user-username' });
    const password = h('input', { class: 'input', type: 'password', autocomplete: 'new-password', testid: 'user-password' });
    const dept = this.depts.select('user-dept', this.isAdmin ? 'admin.noDept' : null);
    const role = h('select', { class: 'input', testid: 'user-role' });
    const error = h('div', { class: 'form-error', role: 'alert', testid: 'user-error', hidden: true });
    const table = h('tbody', {});
    const form = h('form', { class: 'admin-form', novalidate: true, onsubmit: (e) => { e.preventDefault(); this.createUser(); } },
      h('h2', { i18n: 'admin.user.new' }),
      field('admin.user.username', username),
      field('admin.user.password', password, 'admin.user.passwordHint'),
      field('admin.user.dept', dept),
      field('admin.user.role', role),
      error,
      h('div', { class: 'form-buttons' }, h('button', { type: 'submit', class: 'btn primary', i18n: 'common.create', testid: 'user-create' })));
    this.users = { username, password, dept, role, error, table, items: [] };
    this.fillRoles();
    onLangChange(() => this.fillRoles());
    return { el: h('div', { class: 'admin-panel two-col wide' },
      h('div', { class: 'admin-table-wrap' }, h('table', { class: 'admin-table', testid: 'user-table' },
        h('thead', {}, h('tr', {}, ['admin.user.username', 'admin.user.dept', 'admin.user.role', 'admin.user.state', 'admin.user.lastLogin', 'common.actions']
          .map((k) => h('th', { i18n: k })))),
        table)),
      form) };
  }

  /** fillRoles offers the roles the signed-in user may give: a dept_admin makes operators and dept_admins only. */
  fillRoles() {
    const sel = this.users.role;
    const keep = sel.value || 'operator';
    const allowed = this.isAdmin ? roles : ['operator', 'dept_admin'];
    sel.replaceChildren(...allowed.map((r) => h('option', { value: r, text: t(`role.${r}`) })));
    sel.value = allowed.includes(keep) ? keep : 'operator';
  }

  async loadUsers() {
    try {
      const res = await api('GET', '/users');
      this.users.items = Array.isArray(res?.items) ? res.items : [];
    } catch (err) {
      this.users.items = [];
      toast(t('admin.loadFailed', { error: errorText(err) }));
    }
    this.renderUsers();
  }

  renderUsers() {
    const { table, items } = this.users;
    table.replaceChildren(...items.map((u) => {
      const state = u.disabled ? `${t('admin.user.disabled')}${u.disabled_reason ? `（${u.disabled_reason}）` : ''}`
        : (u.must_change_password ? t('admin.user.mustChange') : t('admin.user.enabled'));
      const act = (key, fn, danger) => h('button', {
        type: 'button', class: `btn small ${danger ? 'danger' : ''}`, i18n: key, testid: `user-${key.split('.').pop()}-${u.username}`, onclick: fn,
      });
      return h('tr', { testid: `user-row-${u.username}`, class: u.disabled ? 'disabled' : '' },
        h('td', { text: u.username }),
        h('td', { text: this.depts.name(u.department_id) }),
        h('td', { text: t(`role.${u.role}`) }),
        h('td', { class: u.disabled ? 'err-text' : '', text: state }),
        h('td', { text: u.last_login_at ? formatTime(new Date(u.last_login_at)) : '–' }),
        h('td', {}, h('div', { class: 'actions' },
          u.disabled ? act('admin.user.enable', () => this.setDisabled(u, false)) : act('admin.user.disable', () => this.setDisabled(u, true), true),
          act('admin.user.reset', () => this.resetPassword(u)),
          act('admin.user.revoke', () => this.revokeSessions(u)),
          act('common.delete', () => this.deleteUser(u), true))));
    }));
    if (!items.length) table.append(h('tr', {}, h('td', { colspan: 6, class: 'muted', i18n: 'admin.user.empty' })));
  }

  async createUser() {
    const f = this.users;
    f.error.hidden = true;
    const username = f.username.value.trim();
    const password = f.password.value;
    if (!username) return fail(f.error, t('form.required', { field: t('admin.user.username') }));
    if ([...password].length < 8) return fail(f.error, t('pw.tooShort'));
    if (password.toLowerCase() === username.toLowerCase()) return fail(f.error, t('pw.isUsername'));
    if (f.role.value !== 'admin' && !f.dept.value) return fail(f.error, t('admin.user.needDept'));
    const body = { username, password, role: f.role.value, department_id: f.dept.value ? Number(f.dept.value) : null };
    try {
      await api('POST', '/users', body);
      f.username.value = '';
      f.password.value = '';
      toast(t('admin.user.created', { name: username }), 'ok', 3000);
      this.loadUsers();
    } catch (err) {
      fail(f.error, err);
    }
  }

  async setDisabled(u, disabled) {
    let body = { disabled: false };
    if (disabled) {
      const v = await ask({
        title: t('admin.user.disableTitle', { name: u.username }), message: t('admin.user.disableMsg'),
        fields: [{ name: 'reason', label: 'admin.user.reason' }], ok: 'admin.user.disable', danger: true,
      });
      if (!v) return;
      body = { disabled: true, disabled_reason: v.reason.trim() };
    }
    await this.userCall(() => api('PATCH', `/users/${u.id}`, body), disabled ? 'admin.user.disabledOk' : 'admin.user.enabledOk', u);
  }

  async resetPassword(u) {
    const v = await ask({
      title: t('admin.user.resetTitle', { name: u.username }), message: t('admin.user.resetMsg'),
      fields: [{ name: 'password', label: 'admin.user.password', type: 'password', required: true }],
      ok: 'admin.user.reset',
      check: (x) => {
        if ([...x.password].length < 8) return t('pw.tooShort');
        if (x.password.toLowerCase() === u.username.toLowerCase()) return t('pw.isUsername');
        return '';
      },
    });
    if (!v) return;
    await this.userCall(() => api('POST', `/users/${u.id}/password-reset`, { password: v.password }), 'admin.user.resetOk', u);
  }

  async revokeSessions(u) {
    const ok = await ask({ title: t('admin.user.revokeTitle', { name: u.username }), message: t('admin.user.revokeMsg'), ok: 'admin.user.revoke', danger: true });
    if (!ok) return;
    await this.userCall(() => api('POST', `/users/${u.id}/sessions/revoke`), 'admin.user.revokeOk', u);
  }

  async deleteUser(u) {
    const ok = await ask({ title: t('admin.user.deleteTitle', { name: u.username }), message: t('admin.user.deleteMsg'), ok: 'common.delete', danger: true });
    if (!ok) return;
    await this.userCall(() => api('DELETE', `/users/${u.id}`), 'admin.user.deleteOk', u);
  }

  async userCall(fn, okKey, u) {
    try {
      await fn();
      toast(t(okKey, { name: u.username }), 'ok', 3000);
    } catch (err) {
      toast(t('admin.failed', { error: errorText(err) }));
    }
    this.loadUsers();
  }

  // ---- grants ----------------------------------------------------------------

  buildGrants() {
    const dept = this.depts.select('grant-dept', null);
    dept.addEventListener('change', () => { this.selected = Number(dept.value) || 0; this.loadGrants(); });
    this.grantDept = dept;
    const checks = {};
    const rightsBox = h('div', { class: 'rights' }, rights.map((r) => {
      checks[r] = h('input', { type: 'checkbox', value: r, testid: `grant-right-${r}`, onchange: () => this.syncPTZ() });
      return h('label', { class: 'check' }, checks[r], h('span', { i18n: `right.${r}` }));
    }));
    checks.live.checked = true;
    const ptz = h('input', { class: 'input small', type: 'number', min: 1, max: 9, value: 5, testid: 'grant-ptz' });
    const from = h('input', { class: 'input', type: 'datetime-local', testid: 'grant-from' });
    const until = h('input', { class: 'input', type: 'datetime-local', testid: 'grant-until' });
    const hFrom = h('input', { class: 'input', type: 'time', testid: 'grant-hours-from' });
    const hTo = h('input', { class: 'input', type: 'time', testid: 'grant-hours-to' });
    const error = h('div', { class: 'form-error', role: 'alert', testid: 'grant-error', hidden: true });
    this.grantPicker = new ScopePicker('grant');
    const list = h('div', { class: 'grant-list', testid: 'grant-list' });
    const form = h('form', { class: 'admin-form', novalidate: true, onsubmit: (e) => { e.preventDefault(); this.createGrant(); } },
      h('h2', { i18n: 'admin.grant.new' }),
      field('admin.grant.rights', rightsBox),
      field('admin.grant.ptz', ptz, 'admin.grant.ptzHint'),
      h('div', { class: 'row2' }, field('admin.grant.from', from), field('admin.grant.until', until)),
      h('div', { class: 'row2' }, field('admin.grant.hoursFrom', hFrom), field('admin.grant.hoursTo', hTo)),
      h('p', { class: 'field-hint', i18n: 'admin.grant.hoursHint' }),
      error,
      h('div', { class: 'form-buttons' }, h('button', { type: 'submit', class: 'btn primary', i18n: 'admin.grant.create', testid: 'grant-create' })));
    this.grant = { dept, checks, ptz, from, until, hFrom, hTo, error, list, items: [] };
    this.syncPTZ();
    return { el: h('div', { class: 'admin-panel three-col' },
      h('div', { class: 'admin-side' }, field('admin.grant.dept', dept), list),
      h('div', { class: 'admin-picker' }, h('span', { class: 'label strong', i18n: 'admin.grant.scope' }), this.grantPicker.el),
      form) };
  }

  syncPTZ() { this.grant.ptz.disabled = !this.grant.checks.ptz.checked; }

  async loadGrants() {
    const g = this.grant;
    if (!g) return;
    if (!g.dept.value && this.selected) g.dept.value = String(this.selected);
    const id = Number(g.dept.value);
    if (!id) { g.items = []; this.renderGrants(); return; }
    try {
      const res = await api('GET', `/departments/${id}/grants`);
      if (Number(g.dept.value) !== id) return;
      g.items = Array.isArray(res?.items) ? res.items : [];
      g.loadError = '';
    } catch (err) {
      g.items = [];
      g.loadError = errorText(err);
    }
    this.renderGrants();
  }

  renderGrants() {
    const g = this.grant;
    if (!g) return;
    const when = (s) => (s ? formatTime(new Date(s)) : '…');
    g.list.replaceChildren(...g.items.map((x) => h('div', { class: 'grant-item', testid: `grant-${x.id}` },
      h('div', { class: 'grant-scope', text: describeScope(x.scope, (id) => this.grantPicker.tree.nameOf(id)) }),
      h('div', { class: 'grant-rights', text: x.rights.map((r) => t(`right.${r}`) + (r === 'ptz' ? ` (${x.ptz_priority})` : '')).join(' · ') }),
      x.valid_from || x.valid_until ? h('div', { class: 'muted', text: `${when(x.valid_from)} – ${when(x.valid_until)}` }) : null,
      x.hours ? h('div', { class: 'muted', text: t('admin.grant.hoursAre', { hours: x.hours }) }) : null,
      h('div', { class: 'muted', text: t('admin.grant.by', { user: x.created_by, time: formatTime(new Date(x.created_at)) }) }),
      h('button', { type: 'button', class: 'btn small danger', i18n: 'common.delete', testid: `grant-delete-${x.id}`, onclick: () => this.deleteGrant(x) }))));
    if (g.loadError) g.list.append(h('div', { class: 'tree-msg error', text: g.loadError }));
    else if (!g.items.length) g.list.append(h('div', { class: 'tree-msg', i18n: 'admin.grant.empty' }));
  }

  async createGrant() {
    const g = this.grant;
    g.error.hidden = true;
    const dept = Number(g.dept.value);
    if (!dept) return fail(g.error, t('admin.grant.needDept'));
    const scope = this.grantPicker.scope();
    if (!scope) return fail(g.error, t('admin.grant.needScope'));
    const picked = rights.filter((r) => g.checks[r].checked);
    if (!picked.length) return fail(g.error, t('admin.grant.needRight'));
    const body = { scope, rights: picked };
    if (g.checks.ptz.checked) {
      const p = Number(g.ptz.value);
      if (!Number.isInteger(p) || p < 1 || p > 9) return fail(g.error, t('admin.grant.badPTZ'));
      body.ptz_priority = p;
    }
    const from = g.from.value ? new Date(g.from.value) : null;
    const until = g.until.value ? new Date(g.until.value) : null;
    if (from && until && until <= from) return fail(g.error, t('admin.grant.badValidity'));
    if (from) body.valid_from = from.toISOString();
    if (until) body.valid_until = until.toISOString();
    const [hf, ht] = [g.hFrom.value, g.hTo.value];
    if (hf || ht) {
      if (!hoursPattern.test(hf) || !hoursPattern.test(ht) || hf === ht) return fail(g.error, t('admin.grant.badHours'));
      body.hours = `${hf}-${ht}`;
    }
    try {
      await api('POST', `/departments/${dept}/grants`, body);
      toast(t('admin.grant.created'), 'ok', 2500);
      this.grantPicker.clear();
      this.loadGrants();
    } catch (err) {
      fail(g.error, err);
    }
  }

  async deleteGrant(x) {
    const ok = await ask({ title: t('admin.grant.deleteTitle'), message: describeScope(x.scope), ok: 'common.delete', danger: true });
    if (!ok) return;
    try {
      await api('DELETE', `/grants/${x.id}`);
    } catch (err) {
      toast(t('admin.failed', { error: errorText(err) }));
    }
    this.loadGrants();
  }

  // ---- camera ownership (admins) --------------------------------------------------

  buildOwnership() {
    const dept = this.depts.select('owner-dept', 'admin.owner.none');
    const error = h('div', { class: 'form-error', role: 'alert', testid: 'owner-error', hidden: true });
    this.ownerPicker = new ScopePicker('owner');
    this.owner = { dept, error };
    const form = h('form', { class: 'admin-form', novalidate: true, onsubmit: (e) => { e.preventDefault(); this.setOwner(); } },
      h('h2', { i18n: 'admin.owner.title' }),
      h('p', { class: 'field-hint', i18n: 'admin.owner.hint' }),
      field('admin.owner.dept', dept),
      error,
      h('div', { class: 'form-buttons' }, h('button', { type: 'submit', class: 'btn primary', i18n: 'admin.owner.set', testid: 'owner-set' })));
    return { el: h('div', { class: 'admin-panel two-col' }, h('div', { class: 'admin-picker' }, this.ownerPicker.el), form) };
  }

  async setOwner() {
    const { dept, error } = this.owner;
    error.hidden = true;
    const scope = this.ownerPicker.scope();
    if (!scope) return fail(error, t('admin.grant.needScope'));
    const body = { department_id: dept.value ? Number(dept.value) : null };
    const paths = scope.kind === 'region' ? [`/regions/${scope.civil_code}/owner`]
      : scope.kind === 'device' ? [`/devices/${encodeURIComponent(scope.device_id)}/owner`]
        : scope.channel_ids.map((id) => `/channels/${encodeURIComponent(id)}/owner`);
    try {
      for (const p of paths) await api('PUT', p, body);
      toast(t('admin.owner.done', { n: paths.length }), 'ok', 3000);
      this.ownerPicker.clear();
    } catch (err) {
      fail(error, err);
    }
  }
}
