// The audit page: the audit log filtered by user, department, camera, action
// and time, page by page, its CSV and Excel export and the hash-chain check.

import { api, errorText, toRFC3339 } from './api.js';
import { t, onLangChange, formatTime } from './i18n.js';
import { h } from './dom.js';
import { Departments } from './admin.js';

const pageSize = 100;
// The actions the console writes, offered as suggestions (any text filters).
const actions = ['login', 'login_failed', 'logout', 'password_change', 'password_change_failed', 'play', 'stop', 'playback',
  'playback_control', 'playback_stop', 'download', 'download_file', 'download_delete', 'ptz', 'media_open', 'access_denied',
  'audit_export', 'grant_create', 'grant_delete', 'device_owner', 'channel_owner', 'region_owner', 'department_create',
  'department_update', 'department_delete', 'user_create', 'user_update', 'user_disable', 'user_delete', 'password_reset',
  'user_sessions_revoke'];

/** AuditPage is the auditors' and admins' view of the audit log. */
export class AuditPage {
  constructor() {
    this.depts = new Departments();
    this.offset = 0;
    this.total = 0;
    this.items = [];
    const f = {
      user: h('input', { class: 'input', maxlength: 128, testid: 'audit-user' }),
      department: this.depts.select('audit-dept', 'audit.allDepts'),
      channel: h('input', { class: 'input', maxlength: 128, testid: 'audit-channel' }),
      action: h('input', { class: 'input', maxlength: 128, list: 'audit-actions', testid: 'audit-action' }),
      from: h('input', { class: 'input', type: 'datetime-local', step: 1, testid: 'audit-from' }),
      to: h('input', { class: 'input', type: 'datetime-local', step: 1, testid: 'audit-to' }),
    };
    this.f = f;
    this.error = h('div', { class: 'form-error', role: 'alert', testid: 'audit-error', hidden: true });
    this.body = h('tbody', {});
    this.info = h('span', { class: 'muted', testid: 'audit-info' });
    this.verifyOut = h('span', { testid: 'audit-verify-result' });
    this.prev = h('button', { type: 'button', class: 'btn small', i18n: 'audit.prev', testid: 'audit-prev', onclick: () => this.page(-1) });
    this.next = h('button', { type: 'button', class: 'btn small', i18n: 'audit.next', testid: 'audit-next', onclick: () => this.page(1) });
    this.csv = h('a', { class: 'btn', i18n: 'audit.csv', testid: 'audit-csv', download: '' });
    this.xlsx = h('a', { class: 'btn', i18n: 'audit.xlsx', testid: 'audit-xlsx', download: '' });
    const filter = (key, el) => h('label', { class: 'field' }, h('span', { i18n: key }), el);
    this.el = h('div', { class: 'audit' },
      h('form', { class: 'audit-filters', novalidate: true, onsubmit: (e) => { e.preventDefault(); this.search(); } },
        filter('audit.user', f.user), filter('audit.dept', f.department), filter('audit.channel', f.channel),
        filter('audit.action', f.action), filter('audit.from', f.from), filter('audit.to', f.to),
        h('datalist', { id: 'audit-actions' }, actions.map((a) => h('option', { value: a }))),
        h('div', { class: 'audit-buttons' },
          h('button', { type: 'submit', class: 'btn primary', i18n: 'audit.search', testid: 'audit-search' }),
          this.csv, this.xlsx,
          h('button', { type: 'button', class: 'btn', i18n: 'audit.verify', testid: 'audit-verify', onclick: () => this.verify() }),
          this.verifyOut)),
      this.error,
      h('div', { class: 'admin-table-wrap' }, h('table', { class: 'admin-table', testid: 'audit-table' },
        h('thead', {}, h('tr', {}, ['audit.at', 'audit.user', 'audit.role', 'audit.dept', 'audit.action', 'audit.target', 'audit.result', 'audit.remote', 'audit.detail']
          .map((k) => h('th', { i18n: k })))),
        this.body)),
      h('div', { class: 'audit-pager' }, this.prev, this.info, this.next));
    onLangChange(() => this.render());
    this.depts.load().catch(() => { /* the filter offers "all" only */ });
    this.search();
  }

  /** query is the filter as URL parameters, or throws a message for a bad one. */
  query() {
    const f = this.f;
    const q = new URLSearchParams();
    for (const k of ['user', 'channel', 'action']) if (f[k].value.trim()) q.set(k, f[k].value.trim());
    if (f.department.value) q.set('department', f.department.value);
    const from = f.from.value ? new Date(f.from.value) : null;
    const to = f.to.value ? new Date(f.to.value) : null;
    if (from && to && to <= from) throw new Error(t('audit.badRange'));
    if (from) q.set('from', toRFC3339(from));
    if (to) q.set('to', toRFC3339(to));
    return q;
  }

  async search() {
    this.offset = 0;
    await this.load();
  }

  async page(dir) {
    this.offset = Math.max(0, this.offset + dir * pageSize);
    await this.load();
  }

  async load() {
    this.error.hidden = true;
    let q;
    try {
      q = this.query();
    } catch (err) {
      this.error.textContent = err.message;
      this.error.hidden = false;
      return;
    }
    this.csv.href = `/api/v1/audit/export?format=csv&${q}`;
    this.xlsx.href = `/api/v1/audit/export?format=xlsx&${q}`;
    q.set('limit', String(pageSize));
    q.set('offset', String(this.offset));
    try {
      const res = await api('GET', `/audit?${q}`);
      this.items = Array.isArray(res?.items) ? res.items : [];
      this.total = Number(res?.total) || 0;
    } catch (err) {
      this.items = [];
      this.total = 0;
      this.error.textContent = t('audit.failed', { error: errorText(err) });
      this.error.hidden = false;
    }
    this.render();
  }

  render() {
    this.body.replaceChildren(...this.items.map((e) => {
      const result = e.result || '';
      const reason = e.reason || '';
      const dept = e.department_id; // 0: none
      return h('tr', { testid: `audit-row-${e.id}`, class: result === 'refused' ? 'refused' : '', title: e.user_agent || '' },
        h('td', { class: 'nowrap', text: formatTime(new Date(e.at)) }),
        h('td', { text: e.username }),
        h('td', { text: e.role ? t(`role.${e.role}`) : '' }),
        h('td', { text: dept ? this.depts.name(dept) : '' }),
        h('td', { text: e.action }),
        h('td', { class: 'mono', text: e.target }),
        h('td', { text: result ? `${t(`audit.result.${result}`)}${reason ? `：${reason}` : ''}` : '' }),
        h('td', { class: 'mono', text: e.remote }),
        h('td', { class: 'mono detail', text: e.detail && Object.keys(e.detail).length ? JSON.stringify(e.detail) : '' }));
    }));
    if (!this.items.length) this.body.append(h('tr', {}, h('td', { colspan: 9, class: 'muted', i18n: 'audit.empty' })));
    const from = this.total ? this.offset + 1 : 0;
    this.info.textContent = t('audit.range', { from, to: this.offset + this.items.length, total: this.total });
    this.prev.disabled = this.offset === 0;
    this.next.disabled = this.offset + this.items.length >= this.total;
  }

  async verify() {
    this.verifyOut.className = 'muted';
    this.verifyOut.textContent = t('audit.verifying');
    try {
      const v = await api('GET', '/audit/verify');
      this.verifyOut.className = v.ok ? 'ok-text' : 'err-text';
      this.verifyOut.textContent = v.ok ? t('audit.verifyOk', { rows: v.rows })
        : t('audit.verifyBroken', { n: v.breaks.length, seq: v.breaks[0]?.seq ?? '?' });
    } catch (err) {
      this.verifyOut.className = 'err-text';
      this.verifyOut.textContent = t('audit.failed', { error: errorText(err) });
    }
  }
}
