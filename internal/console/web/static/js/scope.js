// Camera-set picker of the administration area: a region, a device or a
// list of channels, picked in the same device tree the wall uses. Grants and
// camera ownership both pick with it.

import { t, onLangChange } from './i18n.js';
import { h } from './dom.js';
import { TreeView } from './tree.js';

const civilCode = /^([0-9]{2}){1,5}$/;
const maxChannels = 1000; // GrantScope.channel_ids maxItems

/** ScopePicker is a camera-set picker; its TreeView is the selection's owner. */
export class ScopePicker {
  /**
   * @param {string} name key of the tree's remembered settings and test hooks
   * @param {() => void} [onChange] called after every change of the pick
   */
  constructor(name, onChange = () => {}) {
    this.name = name;
    this.onChange = onChange;
    this.kind = 'device';
    this.civil = '';
    this.device = '';
    this.channels = new Map(); // id → name
    this.groupTitle = 'scope.pick';
    this.tree = new TreeView({ name: `scope-${name}`, onActivate: (ch) => this.toggle(ch, !this.has(ch.id)), selection: this });
    this.kinds = {};
    for (const kind of ['region', 'device', 'channels']) {
      this.kinds[kind] = h('button', {
        type: 'button', class: 'seg-btn', i18n: `scope.${kind}`, testid: `${name}-kind-${kind}`,
        onclick: () => this.setKind(kind),
      });
    }
    this.summary = h('div', { class: 'scope-summary', testid: `${name}-summary` });
    this.el = h('div', { class: 'scope-picker' },
      h('div', { class: 'seg' }, Object.values(this.kinds)),
      this.summary,
      h('div', { class: 'scope-tree' }, this.tree.el));
    onLangChange(() => this.renderSummary());
    this.setKind('device');
  }

  /** setKind switches what is picked and shows the tree that holds it. */
  setKind(kind) {
    this.kind = kind;
    this.el.dataset.kind = kind;
    for (const [k, b] of Object.entries(this.kinds)) b.classList.toggle('active', k === kind);
    this.tree.setBy(kind === 'region' ? 'region' : 'device');
    this.changed();
  }

  /** setActive turns the tree's test hooks on or off (see TreeView.setActive). */
  setActive(on) { this.tree.setActive(on); }

  // The TreeView selection interface.
  enabled() { return true; }
  picksChannels() { return this.kind === 'channels'; }
  has(id) { return this.channels.has(id); }

  toggle(ch, on) {
    if (this.kind !== 'channels') return;
    if (on && this.channels.size < maxChannels) this.channels.set(ch.id, ch.name);
    else this.channels.delete(ch.id);
    this.changed();
  }

  addMany(chs) {
    for (const ch of chs) {
      if (this.channels.size >= maxChannels) break;
      this.channels.set(ch.id, ch.name);
    }
    this.changed();
  }

  groupPickable(n) {
    if (this.kind === 'region') return n.kind === 'region' && civilCode.test(n.id);
    if (this.kind === 'device') return n.kind === 'device';
    return true;
  }

  hasGroup(n) {
    return (this.kind === 'region' && n.kind === 'region' && n.id === this.civil)
      || (this.kind === 'device' && n.kind === 'device' && n.id === this.device);
  }

  pickGroup(n, channels) {
    if (!this.groupPickable(n)) return;
    if (this.kind === 'region') this.civil = n.id;
    else if (this.kind === 'device') this.device = n.id;
    else { this.addMany(channels); return; }
    this.changed();
  }

  changed() {
    this.renderSummary();
    this.tree.render();
    this.onChange();
  }

  /** clear forgets the pick (after it was used). */
  clear() {
    this.civil = '';
    this.device = '';
    this.channels.clear();
    this.changed();
  }

  /** scope is the GrantScope of the pick, or null when nothing is picked. */
  scope() {
    if (this.kind === 'region') return this.civil ? { kind: 'region', civil_code: this.civil } : null;
    if (this.kind === 'device') return this.device ? { kind: 'device', device_id: this.device } : null;
    return this.channels.size ? { kind: 'channels', channel_ids: [...this.channels.keys()] } : null;
  }

  renderSummary() {
    const s = this.scope();
    const text = s ? describeScope(s, (id) => this.tree.nameOf(id)) : t('scope.none');
    this.summary.replaceChildren(h('span', { class: s ? '' : 'muted', text }));
    if (s && this.kind === 'channels') {
      this.summary.append(h('button', {
        type: 'button', class: 'btn small ghost', i18n: 'scope.clear', testid: `${this.name}-clear`,
        onclick: () => this.clear(),
      }));
    }
  }
}

/** describeScope is a grant's camera set in words; nameOf names a channel ID or a region's code when it can. */
export function describeScope(s, nameOf = () => '') {
  switch (s?.kind) {
    case 'region': {
      const name = nameOf(s.civil_code);
      return t('scope.regionIs', { code: name ? `${name}（${s.civil_code}）` : s.civil_code });
    }
    case 'device': return t('scope.deviceIs', { id: s.device_id });
    case 'channels': {
      const ids = s.channel_ids || [];
      const names = ids.slice(0, 3).map((id) => nameOf(id) || id).join('、');
      return t('scope.channelsAre', { n: ids.length, names: ids.length > 3 ? `${names}…` : names });
    }
    default: return '';
  }
}
