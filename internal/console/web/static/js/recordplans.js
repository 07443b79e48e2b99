// The administration area's record plans (admins only): which cameras are
// recorded when — all day, on a weekly schedule or not at all — and for how
// many days, per default, region, department, device or channel.

import { api, errorText } from './api.js';
import { t, onLangChange, formatTime } from './i18n.js';
import { h, toast, ask } from './dom.js';
import { durationText } from './timeline.js';

const kinds = ['default', 'region', 'department', 'device', 'channel'];
const modes = ['always', 'schedule', 'off'];
const days = [1, 2, 3, 4, 5, 6, 7];
const timePattern = /^([01][0-9]|2[0-3]):[0-5][0-9]$/;
const civilPattern = /^([0-9]{2}){1,5}$/;

function field(label, input, hint) {
  return h('label', { class: 'field' }, h('span', { i18n: label }), input, hint ? h('span', { class: 'field-hint', i18n: hint }) : null);
}

/** scheduleText is a weekly schedule for people: "一二三 08:00–18:00; …". */
export function scheduleText(schedule) {
  return (schedule || []).map((w) => `${(w.days || []).map((d) => t(`plan.dayShort.${d}`)).join('')} ${w.start}–${w.end}`).join('; ');
}

/** RecordPlans is the record-plan panel: the rows, and a form to add, change or delete one. */
export class RecordPlans {
  /** @param {import('./admin.js').Departments} depts names the departments' rows */
  constructor(depts) {
    this.depts = depts;
    this.items = [];
    this.kind = h('select', { class: 'input', testid: 'plan-kind', onchange: () => this.renderTarget() });
    this.target = h('input', { class: 'input', maxlength: 64, autocomplete: 'off', testid: 'plan-target' });
    this.dept = depts.select('plan-dept', null);
    this.mode = h('select', { class: 'input', testid: 'plan-mode', onchange: () => this.renderWindows() });
    this.windowsEl = h('div', { class: 'plan-windows', testid: 'plan-windows' });
    this.addWin = h('button', { type: 'button', class: 'btn', i18n: 'plan.addWindow', testid: 'plan-add-window', onclick: () => this.addWindow() });
    this.retention = h('input', { class: 'input', type: 'number', min: '1', max: '3650', testid: 'plan-retention' });
    // The retention of channels no plan gives one, as the live recorders apply it (GET /record-plans).
    this.defaults = { standard_days: 30, key_days: 90, limit_seconds: 0 };
    this.retentionHint = h('span', { class: 'field-hint', testid: 'plan-retention-hint' });
    this.error = h('div', { class: 'form-error', role: 'alert', testid: 'plan-error', hidden: true });
    this.table = h('tbody', {});
    this.scheduleField = field('plan.schedule', h('div', {}, this.windowsEl, this.addWin));
    this.windows = [];
    const form = h('form', { class: 'admin-form', novalidate: true, onsubmit: (e) => { e.preventDefault(); this.save(); } },
      h('h2', { i18n: 'plan.edit' }),
      field('plan.kind', this.kind),
      this.targetField = field('plan.target', this.target, 'plan.targetHint'),
      this.deptField = field('plan.target', this.dept),
      field('plan.mode', this.mode),
      this.scheduleField,
      h('label', { class: 'field' }, h('span', { i18n: 'plan.retention' }), this.retention, this.retentionHint),
      this.error,
      h('div', { class: 'form-buttons' },
        h('button', { type: 'submit', class: 'btn primary', i18n: 'common.save', testid: 'plan-save' }),
        h('button', { type: 'button', class: 'btn', i18n: 'plan.new', testid: 'plan-new', onclick: () => this.edit(null) })));
    this.el = h('div', { class: 'admin-panel two-col wide', testid: 'plan-panel' },
      h('div', { class: 'admin-table-wrap' }, h('table', { class: 'admin-table', testid: 'plan-table' },
        h('thead', {}, h('tr', {}, ['plan.kind', 'plan.target', 'plan.mode', 'plan.schedule', 'plan.retention', 'plan.updated', 'common.actions']
          .map((k) => h('th', { i18n: k })))),
        this.table)),
      form);
    this.fillSelects();
    onLangChange(() => { this.fillSelects(); this.render(); });
    depts.onChange(() => this.render());
    this.edit(null);
  }

  fillSelects() {
    const k = this.kind.value || 'channel';
    const m = this.mode.value || 'always';
    this.kind.replaceChildren(...kinds.map((x) => h('option', { value: x, text: t(`plan.kind.${x}`) })));
    this.mode.replaceChildren(...modes.map((x) => h('option', { value: x, text: t(`plan.mode.${x}`) })));
    this.kind.value = k;
    this.mode.value = m;
    this.renderWindows();
  }

  async load() {
    try {
      const res = await api('GET', '/record-plans');
      this.items = Array.isArray(res?.items) ? res.items : [];
      if (res?.retention?.standard_days > 0) this.defaults = res.retention;
    } catch (err) {
      toast(t('admin.loadFailed', { error: errorText(err) }));
    }
    this.render();
  }

  targetName(p) {
    if (p.kind === 'default') return t('plan.kind.default');
    if (p.kind === 'department') return this.depts.name(Number(p.target));
    return p.target;
  }

  render() {
    const d = this.defaults;
    this.retentionHint.textContent = t(d.limit_seconds > 0 ? 'plan.retentionHintLimit' : 'plan.retentionHint', {
      std: d.standard_days, key: d.key_days, limit: d.limit_seconds > 0 ? durationText(d.limit_seconds) : '',
    });
    this.table.replaceChildren(...this.items.map((p) => h('tr', { testid: `plan-row-${p.kind}-${p.target || '-'}` },
      h('td', { text: t(`plan.kind.${p.kind}`) }),
      h('td', { text: this.targetName(p) }),
      h('td', { text: t(`plan.mode.${p.mode}`) }),
      h('td', { text: p.mode === 'schedule' ? scheduleText(p.schedule) : '' }),
      h('td', { text: p.retention_days ? t('plan.days', { n: p.retention_days }) : t('plan.inherit') }),
      h('td', { class: 'muted', text: `${p.updated_by || ''} ${p.updated_at ? formatTime(new Date(p.updated_at)) : ''}` }),
      h('td', {},
        h('button', { type: 'button', class: 'btn ghost', i18n: 'plan.editRow', testid: 'plan-edit', onclick: () => this.edit(p) }),
        h('button', { type: 'button', class: 'btn ghost danger', i18n: 'common.delete', testid: 'plan-delete', onclick: () => this.remove(p) })))));
    if (!this.items.length) this.table.append(h('tr', {}, h('td', { colspan: 7, class: 'muted', i18n: 'plan.empty' })));
  }

  /** edit fills the form with plan p, or a new channel plan (null). */
  edit(p) {
    this.error.hidden = true;
    this.kind.value = p?.kind || 'channel';
    this.target.value = p && p.kind !== 'department' ? p.target : '';
    if (p?.kind === 'department') this.dept.value = p.target;
    this.mode.value = p?.mode || 'always';
    this.retention.value = p?.retention_days ?? '';
    this.windows = (p?.schedule || []).map((w) => ({ days: [...(w.days || [])], start: w.start, end: w.end }));
    this.renderTarget();
    this.renderWindows();
  }

  renderTarget() {
    const k = this.kind.value;
    this.targetField.hidden = k === 'default' || k === 'department';
    this.deptField.hidden = k !== 'department';
  }

  addWindow() {
    this.windows.push({ days: [1, 2, 3, 4, 5], start: '08:00', end: '18:00' });
    this.renderWindows();
  }

  renderWindows() {
    this.scheduleField.hidden = this.mode.value !== 'schedule';
    this.windowsEl.replaceChildren(...this.windows.map((w, i) => h('div', { class: 'plan-window', testid: `plan-window-${i}` },
      days.map((d) => h('label', { class: 'inline plan-day' },
        h('input', {
          type: 'checkbox', checked: w.days.includes(d), testid: `plan-window-${i}-day-${d}`,
          onchange: (e) => { w.days = e.target.checked ? [...w.days, d].sort() : w.days.filter((x) => x !== d); },
        }),
        h('span', { text: t(`plan.dayShort.${d}`) }))),
      h('input', { type: 'time', class: 'input', value: w.start, testid: `plan-window-${i}-start`, onchange: (e) => { w.start = e.target.value; } }),
      h('span', { text: '–' }),
      h('input', { type: 'time', class: 'input', value: w.end, testid: `plan-window-${i}-end`, onchange: (e) => { w.end = e.target.value; } }),
      h('button', {
        type: 'button', class: 'btn ghost', i18n: 'plan.removeWindow', testid: `plan-window-${i}-remove`,
        onclick: () => { this.windows.splice(i, 1); this.renderWindows(); },
      }))));
  }

  /** body checks the form and returns [kind, target, body], or an error text. */
  body() {
    const kind = this.kind.value;
    let target = kind === 'department' ? this.dept.value : this.target.value.trim();
    if (kind === 'default') target = '-';
    if (!target) return t('form.required', { field: t('plan.target') });
    if (kind === 'region' && !civilPattern.test(target)) return t('admin.dept.badCivil');
    const mode = this.mode.value;
    const schedule = mode === 'schedule' ? this.windows : [];
    if (mode === 'schedule' && !schedule.length) return t('plan.err.schedule');
    if (schedule.some((w) => !w.days.length)) return t('plan.err.days');
    if (schedule.some((w) => !timePattern.test(w.start) || !timePattern.test(w.end))) return t('plan.err.time');
    const r = this.retention.value.trim();
    const retention = r === '' ? null : Number(r);
    if (retention !== null && !(Number.isInteger(retention) && retention >= 1 && retention <= 3650)) return t('plan.err.retention');
    return [kind, target, { mode, schedule, retention_days: retention }];
  }

  async save() {
    this.error.hidden = true;
    const b = this.body();
    if (typeof b === 'string') { this.fail(b); return; }
    const [kind, target, body] = b;
    try {
      await api('PUT', `/record-plans/${kind}/${encodeURIComponent(target)}`, body);
      toast(t('admin.saved'), 'ok', 2500);
      await this.load();
    } catch (err) {
      this.fail(errorText(err));
    }
  }

  async remove(p) {
    const ok = await ask({
      title: t('plan.deleteTitle'), message: t('plan.deleteMsg', { kind: t(`plan.kind.${p.kind}`), target: this.targetName(p) }),
      ok: 'common.delete', danger: true,
    });
    if (!ok) return;
    try {
      await api('DELETE', `/record-plans/${p.kind}/${encodeURIComponent(p.target || '-')}`);
      await this.load();
    } catch (err) {
      toast(errorText(err));
    }
  }

  fail(msg) {
    this.error.textContent = msg;
    this.error.hidden = false;
  }
}
