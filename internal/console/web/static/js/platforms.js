// The administration area's superior platforms (cascade, admins only): the
// platforms we register to as a lower platform, the live state of each link,
// and the camera sets each may reach (its grants).

import { api, errorText } from './api.js';
import { t, onLangChange, formatTime } from './i18n.js';
import { h, toast, ask } from './dom.js';
import { ScopePicker, describeScope } from './scope.js';

const rights = ['live', 'playback', 'download', 'ptz', 'location'];
const idPattern = /^[0-9]{20}$/;
// How often the list is re-read while the panel shows: the link state changes by itself.
const refreshMs = 5000;

function field(label, input, hint) {
  return h('label', { class: 'field' }, h('span', { i18n: label }), input, hint ? h('span', { class: 'field-hint', i18n: hint }) : null);
}

function fail(el, err) {
  el.textContent = typeof err === 'string' ? err : errorText(err);
  el.hidden = false;
}

/** Platforms is the superior-platform panel: the list, a form for one, and its grants. */
export class Platforms {
  constructor() {
    this.items = [];
    this.selected = 0; // 0: a new platform
    this.grants = [];
    const input = (name, attrs = {}) => h('input', { class: 'input', autocomplete: 'off', testid: `plat-${name}`, ...attrs });
    const select = (name, values) => h('select', { class: 'input', testid: `plat-${name}` },
      values.map((v) => h('option', { value: v, text: v })));
    this.f = {
      name: input('name', { maxlength: 128 }),
      server_id: input('server-id', { maxlength: 20, inputmode: 'numeric' }),
      domain: input('domain', { maxlength: 64 }),
      host: input('host', { maxlength: 255 }),
      port: input('port', { type: 'number', min: 1, max: 65535, value: 5060 }),
      transport: select('transport', ['udp', 'tcp']),
      password: input('password', { type: 'password', autocomplete: 'new-password' }),
      local_id: input('local-id', { maxlength: 20, inputmode: 'numeric' }),
      gb_version: select('gb-version', ['2016', '2022']),
      charset: select('charset', ['GB2312', 'UTF-8']),
      expires: input('expires', { type: 'number', min: 60, max: 86400, value: 3600 }),
      keepalive_interval: input('keepalive-interval', { type: 'number', min: 5, max: 3600, value: 60 }),
      keepalive_count: input('keepalive-count', { type: 'number', min: 1, max: 100, value: 3 }),
      enabled: h('input', { type: 'checkbox', checked: true, testid: 'plat-enabled' }),
    };
    this.error = h('div', { class: 'form-error', role: 'alert', testid: 'plat-error', hidden: true });
    this.title = h('h2', {});
    this.del = h('button', { type: 'button', class: 'btn danger', i18n: 'common.delete', testid: 'plat-delete', onclick: () => this.remove() });
    this.list = h('div', { class: 'admin-list', testid: 'plat-list' });
    const f = this.f;
    const form = h('form', { class: 'admin-form', novalidate: true, onsubmit: (e) => { e.preventDefault(); this.save(); } },
      this.title,
      field('plat.name', f.name),
      h('div', { class: 'row2' }, field('plat.serverID', f.server_id), field('plat.domain', f.domain, 'plat.domainHint')),
      h('div', { class: 'row2' }, field('plat.host', f.host), field('plat.port', f.port)),
      h('div', { class: 'row2' }, field('plat.transport', f.transport), field('plat.password', f.password, 'plat.passwordHint')),
      field('plat.localID', f.local_id, 'plat.localIDHint'),
      h('div', { class: 'row2' }, field('plat.gbVersion', f.gb_version), field('plat.charset', f.charset)),
      h('div', { class: 'row2' }, field('plat.expires', f.expires), field('plat.keepaliveInterval', f.keepalive_interval)),
      h('div', { class: 'row2' }, field('plat.keepaliveCount', f.keepalive_count),
        h('label', { class: 'check' }, f.enabled, h('span', { i18n: 'plat.enabled' }))),
      this.error,
      h('div', { class: 'form-buttons' },
        h('button', { type: 'submit', class: 'btn primary', i18n: 'common.save', testid: 'plat-save' }), this.del));

    // The selected platform's grants.
    this.picker = new ScopePicker('pgrant');
    this.checks = {};
    const rightsBox = h('div', { class: 'rights' }, rights.map((r) => {
      this.checks[r] = h('input', { type: 'checkbox', value: r, testid: `pgrant-right-${r}`, onchange: () => this.syncPTZ() });
      return h('label', { class: 'check' }, this.checks[r], h('span', { i18n: `right.${r}` }));
    }));
    this.checks.live.checked = true;
    this.checks.playback.checked = true;
    this.ptz = h('input', { class: 'input small', type: 'number', min: 1, max: 9, value: 5, testid: 'pgrant-ptz' });
    this.grantError = h('div', { class: 'form-error', role: 'alert', testid: 'pgrant-error', hidden: true });
    this.grantList = h('div', { class: 'grant-list', testid: 'pgrant-list' });
    this.grantBox = h('div', { class: 'admin-form' },
      h('h2', { i18n: 'plat.grants' }),
      this.grantList,
      field('admin.grant.rights', rightsBox),
      field('admin.grant.ptz', this.ptz, 'admin.grant.ptzHint'),
      this.grantError,
      h('div', { class: 'form-buttons' },
        h('button', { type: 'button', class: 'btn primary', i18n: 'plat.share', testid: 'pgrant-create', onclick: () => this.share() })));
    this.syncPTZ();

    // The selected platform's renumbering: one "channel,exposed ID,name" a line.
    this.names = h('textarea', { class: 'input mono', rows: 6, spellcheck: 'false', testid: 'pnames',
      placeholder: '34020000001310000001,34010000001310000042,城市编号' });
    this.namesError = h('div', { class: 'form-error', role: 'alert', testid: 'pnames-error', hidden: true });
    this.namesBox = h('div', { class: 'admin-form' },
      h('h2', { i18n: 'plat.names' }),
      h('p', { class: 'field-hint', i18n: 'plat.namesHint' }),
      this.names, this.namesError,
      h('div', { class: 'form-buttons' },
        this.namesSave = h('button', { type: 'button', class: 'btn primary', i18n: 'common.save', testid: 'pnames-save',
          onclick: () => this.saveNames() })));

    // The selected platform's virtual organisation: groups ("ID,name,parent ID") and placements ("channel,group").
    this.groups = h('textarea', { class: 'input mono', rows: 4, spellcheck: 'false', testid: 'pgroups',
      placeholder: '34020000002150000001,治安监控\n34020000002160000001,城区路口,34020000002150000001' });
    this.placed = h('textarea', { class: 'input mono', rows: 4, spellcheck: 'false', testid: 'pgroup-channels',
      placeholder: '34020000001310000001,34020000002160000001' });
    this.groupsError = h('div', { class: 'form-error', role: 'alert', testid: 'pgroups-error', hidden: true });
    this.groupsBox = h('div', { class: 'admin-form' },
      h('h2', { i18n: 'plat.groups' }),
      h('p', { class: 'field-hint', i18n: 'plat.groupsHint' }),
      h('label', { class: 'label', i18n: 'plat.groupList' }), this.groups,
      h('label', { class: 'label', i18n: 'plat.groupChannels' }), this.placed, this.groupsError,
      h('div', { class: 'form-buttons' },
        this.groupsSave = h('button', { type: 'button', class: 'btn primary', i18n: 'common.save', testid: 'pgroups-save',
          onclick: () => this.saveGroups() })));

    const add = h('button', { type: 'button', class: 'btn', i18n: 'plat.new', testid: 'plat-new', onclick: () => this.edit(0) });
    this.el = h('div', { class: 'admin-panel three-col', testid: 'plat-panel' },
      h('div', { class: 'admin-side' }, h('div', { class: 'admin-side-head' }, h('span', { class: 'label strong', i18n: 'admin.tab.platforms' }), add),
        h('p', { class: 'field-hint', i18n: 'plat.hint' }), this.list),
      h('div', { class: 'admin-picker' }, h('span', { class: 'label strong', i18n: 'plat.scope' }), this.picker.el),
      h('div', { class: 'admin-col' }, form, this.grantBox, this.namesBox, this.groupsBox));
    onLangChange(() => { this.render(); this.renderGrants(); this.renderTitle(); });
    this.edit(0);
  }

  /** setActive starts or stops the periodic refresh and the picker's test hooks with the panel's visibility. */
  setActive(on) {
    this.picker.setActive(on);
    clearInterval(this.timer);
    this.timer = on ? setInterval(() => this.load(), refreshMs) : 0;
  }

  syncPTZ() { this.ptz.disabled = !this.checks.ptz.checked; }

  async load() {
    try {
      const res = await api('GET', '/platforms');
      this.items = Array.isArray(res?.items) ? res.items : [];
      this.loadError = '';
    } catch (err) {
      this.items = [];
      this.loadError = errorText(err);
    }
    this.render();
  }

  render() {
    this.list.replaceChildren(...this.items.map((p) => h('div', {
      class: `admin-row ${p.id === this.selected ? 'active' : ''}`, tabindex: '0', role: 'button', testid: `plat-row-${p.id}`,
      onclick: () => this.edit(p.id), onkeydown: (e) => { if (e.key === 'Enter') this.edit(p.id); },
    },
    h('div', { class: 'plat-head' },
      h('span', { class: 'strong', text: p.name }),
      h('span', { class: `badge plat-${p.status}`, testid: `plat-status-${p.id}`, text: t(`plat.status.${p.status}`), title: p.last_error || '' })),
    h('div', { class: 'muted', text: `${p.server_id} · ${p.transport.toUpperCase()} ${p.host}:${p.port}` }),
    h('div', { class: 'muted', text: t('plat.summary', {
      shared: p.shared_channels, streams: p.upward_streams,
      keepalive: p.last_keepalive ? formatTime(new Date(p.last_keepalive)) : '–',
    }) }),
    p.status === 'failing' && p.last_error ? h('div', { class: 'err-text', text: p.last_error }) : null)));
    if (this.loadError) this.list.append(h('div', { class: 'tree-msg error', text: this.loadError }));
    else if (!this.items.length) this.list.append(h('div', { class: 'tree-msg', i18n: 'plat.empty' }));
  }

  renderTitle() {
    const p = this.items.find((x) => x.id === this.selected);
    this.title.textContent = p ? t('plat.edit', { name: p.name }) : t('plat.new');
  }

  /** edit fills the form with platform id (0: a new one) and loads its grants. */
  edit(id) {
    this.selected = id;
    const p = this.items.find((x) => x.id === id);
    const f = this.f;
    const d = { name: '', server_id: '', domain: '', host: '', port: 5060, transport: 'udp', local_id: '', gb_version: '2016',
      charset: 'GB2312', expires: 3600, keepalive_interval: 60, keepalive_count: 3, enabled: true };
    const v = p || d;
    for (const k of Object.keys(d)) {
      if (k === 'enabled') f.enabled.checked = v.enabled;
      else f[k].value = String(v[k] ?? '');
    }
    f.password.value = '';
    f.password.placeholder = p?.password_set ? t('plat.passwordKept') : '';
    this.del.hidden = !p;
    this.grantBox.hidden = !p;
    this.namesBox.hidden = !p;
    this.names.value = '';
    this.namesError.hidden = true;
    // Saving before the list is in would wipe it.
    this.namesSave.disabled = true;
    this.groupsBox.hidden = !p;
    this.groups.value = this.placed.value = '';
    this.groupsError.hidden = true;
    this.groupsSave.disabled = true;
    this.error.hidden = true;
    this.renderTitle();
    this.render();
    this.grants = [];
    this.renderGrants();
    if (p) { this.loadGrants(); this.loadNames(); this.loadGroups(); }
  }

  async loadNames() {
    const id = this.selected;
    try {
      const res = await api('GET', `/platforms/${id}/names`);
      if (this.selected !== id) return;
      this.names.value = (res?.items || []).map((n) => [n.channel_id, n.exposed_id, n.name].filter((x, i) => i < 2 || x).join(',')).join('\n');
      this.namesSave.disabled = false;
    } catch (err) {
      if (this.selected === id) fail(this.namesError, err);
    }
  }

  async saveNames() {
    this.namesError.hidden = true;
    const items = [];
    const lines = this.names.value.split('\n').map((l) => l.trim()).filter((l) => l);
    for (const [i, line] of lines.entries()) {
      // The first two separators only: a name may hold commas.
      const m = /^([^,，\t]*)[,，\t]([^,，\t]*)(?:[,，\t](.*))?$/.exec(line);
      const [channel, exposed, name] = m ? [m[1].trim(), m[2].trim(), (m[3] || '').trim()] : [];
      if (!channel || !idPattern.test(exposed || '')) return fail(this.namesError, t('plat.badNameLine', { line: i + 1, text: line }));
      items.push({ channel_id: channel, exposed_id: exposed, name });
    }
    try {
      await api('PUT', `/platforms/${this.selected}/names`, { items });
      toast(t('plat.namesSaved', { n: items.length }), 'ok', 2500);
    } catch (err) {
      fail(this.namesError, err);
    }
  }

  async loadGroups() {
    const id = this.selected;
    try {
      const res = await api('GET', `/platforms/${id}/groups`);
      if (this.selected !== id) return;
      this.groups.value = (res?.groups || []).map((g) => [g.id, g.name, g.parent_id].filter((x, i) => i < 2 || x).join(',')).join('\n');
      this.placed.value = (res?.channels || []).map((c) => `${c.channel_id},${c.group_id}`).join('\n');
      this.groupsSave.disabled = false;
    } catch (err) {
      if (this.selected === id) fail(this.groupsError, err);
    }
  }

  async saveGroups() {
    this.groupsError.hidden = true;
    const lines = (ta) => ta.value.split('\n').map((l) => l.trim()).filter((l) => l);
    const groups = [];
    for (const [i, line] of lines(this.groups).entries()) {
      // ID, name, parent: the parent is the last field when it is an ID, so a name may hold commas.
      const parts = line.split(/[,，\t]/).map((x) => x.trim());
      const parent = parts.length > 2 && idPattern.test(parts[parts.length - 1]) ? parts.pop() : '';
      const [gid, ...rest] = parts;
      const name = rest.join(',');
      if (!idPattern.test(gid || '') || !name) return fail(this.groupsError, t('plat.badGroupLine', { line: i + 1, text: line }));
      groups.push({ id: gid, name, parent_id: parent });
    }
    const channels = [];
    for (const [i, line] of lines(this.placed).entries()) {
      const [channel, group] = line.split(/[,，\t]/).map((x) => x.trim());
      if (!channel || !idPattern.test(group || '')) return fail(this.groupsError, t('plat.badPlaceLine', { line: i + 1, text: line }));
      channels.push({ channel_id: channel, group_id: group });
    }
    try {
      await api('PUT', `/platforms/${this.selected}/groups`, { groups, channels });
      toast(t('plat.groupsSaved', { groups: groups.length, channels: channels.length }), 'ok', 2500);
    } catch (err) {
      fail(this.groupsError, err);
    }
  }

  async save() {
    const f = this.f;
    this.error.hidden = true;
    const body = {
      name: f.name.value.trim(), server_id: f.server_id.value.trim(), domain: f.domain.value.trim(), host: f.host.value.trim(),
      port: Number(f.port.value), transport: f.transport.value, local_id: f.local_id.value.trim(), gb_version: f.gb_version.value,
      charset: f.charset.value, expires: Number(f.expires.value), keepalive_interval: Number(f.keepalive_interval.value),
      keepalive_count: Number(f.keepalive_count.value), enabled: f.enabled.checked,
    };
    if (!body.name) return fail(this.error, t('form.required', { field: t('plat.name') }));
    if (!idPattern.test(body.server_id)) return fail(this.error, t('plat.badID', { field: t('plat.serverID') }));
    if (body.local_id && !idPattern.test(body.local_id)) return fail(this.error, t('plat.badID', { field: t('plat.localID') }));
    if (!body.host) return fail(this.error, t('form.required', { field: t('plat.host') }));
    if (f.password.value) body.password = f.password.value;
    try {
      const p = this.selected ? await api('PATCH', `/platforms/${this.selected}`, body) : await api('POST', '/platforms', body);
      toast(t('plat.saved', { name: p.name }), 'ok', 2500);
      await this.load();
      this.edit(p.id);
    } catch (err) {
      fail(this.error, err);
    }
  }

  async remove() {
    const p = this.items.find((x) => x.id === this.selected);
    if (!p) return;
    const ok = await ask({ title: t('plat.deleteTitle', { name: p.name }), message: t('plat.deleteMsg'), ok: 'common.delete', danger: true });
    if (!ok) return;
    try {
      await api('DELETE', `/platforms/${p.id}`);
    } catch (err) {
      toast(t('admin.failed', { error: errorText(err) }));
    }
    await this.load();
    this.edit(0);
  }

  async loadGrants() {
    const id = this.selected;
    try {
      const res = await api('GET', `/platforms/${id}/grants`);
      if (this.selected !== id) return;
      this.grants = Array.isArray(res?.items) ? res.items : [];
      this.grantLoadError = '';
    } catch (err) {
      this.grants = [];
      this.grantLoadError = errorText(err);
    }
    this.renderGrants();
  }

  renderGrants() {
    this.grantList.replaceChildren(...this.grants.map((x) => h('div', { class: 'grant-item', testid: `pgrant-${x.id}` },
      h('div', { class: 'grant-scope', text: describeScope(x.scope, (id) => this.picker.tree.nameOf(id)) }),
      h('div', { class: 'grant-rights', text: x.rights.map((r) => t(`right.${r}`) + (r === 'ptz' ? ` (${x.ptz_priority})` : '')).join(' · ') }),
      h('div', { class: 'muted', text: t('admin.grant.by', { user: x.created_by, time: formatTime(new Date(x.created_at)) }) }),
      h('button', { type: 'button', class: 'btn small danger', i18n: 'common.delete', testid: `pgrant-delete-${x.id}`, onclick: () => this.unshare(x) }))));
    if (this.grantLoadError) this.grantList.append(h('div', { class: 'tree-msg error', text: this.grantLoadError }));
    else if (!this.grants.length) this.grantList.append(h('div', { class: 'tree-msg', i18n: 'plat.noGrants' }));
  }

  async share() {
    this.grantError.hidden = true;
    const scope = this.picker.scope();
    if (!scope) return fail(this.grantError, t('admin.grant.needScope'));
    const picked = rights.filter((r) => this.checks[r].checked);
    if (!picked.length) return fail(this.grantError, t('admin.grant.needRight'));
    const body = { scope, rights: picked };
    if (this.checks.ptz.checked) {
      const p = Number(this.ptz.value);
      if (!Number.isInteger(p) || p < 1 || p > 9) return fail(this.grantError, t('admin.grant.badPTZ'));
      body.ptz_priority = p;
    }
    try {
      await api('POST', `/platforms/${this.selected}/grants`, body);
      toast(t('plat.shared'), 'ok', 2500);
      this.picker.clear();
      this.loadGrants();
      this.load();
    } catch (err) {
      fail(this.grantError, err);
    }
  }

  async unshare(x) {
    const ok = await ask({ title: t('plat.unshareTitle'), message: describeScope(x.scope), ok: 'common.delete', danger: true });
    if (!ok) return;
    try {
      await api('DELETE', `/platform-grants/${x.id}`);
    } catch (err) {
      toast(t('admin.failed', { error: errorText(err) }));
    }
    this.loadGrants();
    this.load();
  }
}
