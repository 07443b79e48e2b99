// Device tree: by device or by region, search, online dots and counts, live
// updates, draggable channels, optional checkboxes for tours.

import { api, errorText } from './api.js';
import { bus } from './events.js';
import { t, onLangChange } from './i18n.js';
import { h, icon, debounce, store } from './dom.js';

const expandAllBelow = 300; // channels: expand everything for small sites

/** channelMime is the drag-and-drop type of a dragged channel. */
export const channelMime = 'application/x-sharpeyes-channel';

/** TreeView is one device tree panel. */
export class TreeView {
  /**
   * @param {object} o
   * @param {string} o.name key for remembered settings
   * @param {(ch: {id, name}) => void} o.onActivate double-click / Enter on a channel
   * @param {object} [o.selection] tour or grant selection: {has(id), toggle(ch, on), addMany(chs), enabled()};
   *   a picker of regions and devices adds pickGroup(node, channels), groupPickable(node), hasGroup(node),
   *   picksChannels() and groupTitle (the i18n key of a group's button)
   * @param {() => string} [o.activeId] channel to highlight
   */
  constructor(o) {
    this.o = o;
    this.by = store.get(`tree.${o.name}.by`, 'device');
    this.nodes = [];
    this.loaded = false;
    this.error = '';
    this.query = '';
    this.expanded = new Set();
    this.autoExpanded = false;
    this.active = true;
    this.channelIndex = new Map(); // id → node(s)
    this.deviceIndex = new Map(); // id → node
    this.regionIndex = new Map(); // civil code → node
    this.build();
    this.refetch = debounce(() => this.load(), 800);
    this.renderSoon = debounce(() => this.render(), 120);
    bus.addEventListener('device.status', (e) => this.onDeviceStatus(e.detail));
    bus.addEventListener('channel.status', (e) => this.onChannelStatus(e.detail));
    bus.addEventListener('catalog.changed', () => this.refetch());
    onLangChange(() => this.render());
    this.load();
  }

  build() {
    const mk = (by, key) => h('button', {
      type: 'button', class: 'seg-btn', i18n: key, testid: `tree-by-${by}`,
      onclick: () => this.setBy(by),
    });
    this.byDevice = mk('device', 'tree.byDevice');
    this.byRegion = mk('region', 'tree.byRegion');
    this.search = h('input', {
      type: 'search', class: 'input tree-search', i18nPlaceholder: 'tree.search', testid: 'tree-search',
      oninput: debounce(() => { this.query = this.search.value.trim().toLowerCase(); this.render(); }, 150),
    });
    this.body = h('div', { class: 'tree-body', role: 'tree' });
    this.el = h('div', { class: 'tree' },
      h('div', { class: 'tree-head' },
        h('div', { class: 'seg' }, this.byDevice, this.byRegion),
        h('button', { type: 'button', class: 'icon-btn', i18nTitle: 'tree.refresh', onclick: () => this.load() }, icon('retry'))),
      h('div', { class: 'tree-search-wrap' }, icon('search'), this.search),
      this.body);
    this.syncBy();
  }

  /**
   * setActive turns the data-testid hooks of this tree on or off: two views
   * have a tree, and a test must never find the hidden one's node first.
   */
  setActive(on) {
    this.active = on;
    this.applyActive();
  }

  applyActive() {
    const [from, to] = this.active ? ['data-testid-off', 'data-testid'] : ['data-testid', 'data-testid-off'];
    for (const el of this.el.querySelectorAll(`[${from}]`)) {
      el.setAttribute(to, el.getAttribute(from));
      el.removeAttribute(from);
    }
  }

  syncBy() {
    this.byDevice.classList.toggle('active', this.by === 'device');
    this.byRegion.classList.toggle('active', this.by === 'region');
  }

  setBy(by) {
    if (by === this.by) return;
    this.by = by;
    store.set(`tree.${this.o.name}.by`, by);
    this.syncBy();
    this.nodes = [];
    this.loaded = false;
    this.autoExpanded = false;
    this.render();
    this.load();
  }

  async load() {
    const by = this.by;
    try {
      const res = await api('GET', `/tree?by=${by}`);
      if (by !== this.by) return;
      this.nodes = Array.isArray(res?.nodes) ? res.nodes : [];
      this.error = '';
    } catch (err) {
      if (by !== this.by) return;
      this.error = errorText(err);
    }
    this.loaded = true;
    this.index();
    if (!this.autoExpanded && this.nodes.length) {
      this.autoExpanded = true;
      this.expandDefault();
    }
    this.render();
  }

  index() {
    this.channelIndex.clear();
    this.deviceIndex.clear();
    this.regionIndex.clear();
    const walk = (nodes) => {
      for (const n of nodes) {
        if (n.kind === 'channel') {
          const list = this.channelIndex.get(n.id) || [];
          list.push(n);
          this.channelIndex.set(n.id, list);
        } else if (n.kind === 'device') {
          this.deviceIndex.set(n.id, n);
        } else if (n.kind === 'region') {
          this.regionIndex.set(n.id, n);
        }
        if (n.children) walk(n.children);
      }
    };
    walk(this.nodes);
  }

  expandDefault() {
    const all = this.channelIndex.size <= expandAllBelow;
    const walk = (nodes, key, depth) => {
      for (const n of nodes) {
        if (n.kind === 'channel') continue;
        const k = `${key}/${n.kind}:${n.id}`;
        if (all || depth === 0) this.expanded.add(k);
        if (n.children) walk(n.children, k, depth + 1);
      }
    };
    walk(this.nodes, '', 0);
  }

  /**
   * setChannel applies a channel's effective state (the server's: offline
   * when its device is); false when the tree does not know the channel.
   */
  setChannel(id, online) {
    const list = this.channelIndex.get(id);
    if (!list) return false;
    for (const n of list) n.online = online;
    return true;
  }

  onChannelStatus(ev) {
    if (!ev?.channel_id) return;
    if (!this.setChannel(ev.channel_id, ev.online)) { this.refetch(); return; }
    this.renderSoon();
  }

  /** onDeviceStatus applies a device's state and its channels' that the event carries. */
  onDeviceStatus(ev) {
    if (!ev?.device_id) return;
    const d = this.deviceIndex.get(ev.device_id);
    if (d) d.online = ev.online;
    // Without the channels' states (the server could not read them), or
    // for a device the tree lacks, the server's tree is the truth.
    if (!Array.isArray(ev.channels) || (this.by === 'device' && !d)) { this.refetch(); return; }
    // Channels the tree lacks are the catalog's organisation entries (new
    // channels come with a catalog.changed event): nothing to show.
    for (const c of ev.channels) this.setChannel(c.id, c.online);
    this.renderSoon();
  }

  /** channels lists every channel under a node (or the whole tree). */
  channelsOf(node) {
    const out = [];
    const walk = (nodes) => {
      for (const n of nodes) {
        if (n.kind === 'channel') out.push({ id: n.id, name: n.name || n.id });
        if (n.children) walk(n.children);
      }
    };
    walk(node ? (node.children || []) : this.nodes);
    return out;
  }

  /** nameOf is the name of a known channel or region (by its code), '' when unknown. */
  nameOf(id) {
    const n = this.channelIndex.get(id)?.[0] || this.regionIndex.get(id);
    return n?.name && n.name !== id ? n.name : '';
  }

  /** channel returns {id, name} of a known channel. */
  channel(id) {
    const n = this.channelIndex.get(id)?.[0];
    return n ? { id: n.id, name: n.name || n.id, online: n.online } : null;
  }

  counts(n) {
    if (n.kind === 'channel') return [n.online ? 1 : 0, 1];
    let on = 0;
    let all = 0;
    for (const c of n.children || []) {
      const [a, b] = this.counts(c);
      on += a;
      all += b;
    }
    return [on, all];
  }

  matches(n) {
    const q = this.query;
    return (n.name || '').toLowerCase().includes(q) || String(n.id).toLowerCase().includes(q);
  }

  render() {
    const scroll = this.body.scrollTop;
    this.body.replaceChildren();
    if (!this.loaded) {
      this.body.append(h('div', { class: 'tree-msg', i18n: 'tree.loading' }));
      return;
    }
    if (this.error) {
      this.body.append(h('div', { class: 'tree-msg error', testid: 'tree-error', text: t('tree.loadFailed', { error: this.error }) }));
      if (!this.nodes.length) return;
    }
    if (!this.nodes.length) {
      this.body.append(h('div', { class: 'tree-msg', i18n: 'tree.empty' }));
      return;
    }
    const frag = document.createDocumentFragment();
    const shown = this.renderNodes(this.nodes, '', 0, frag, false);
    if (!shown) frag.append(h('div', { class: 'tree-msg', i18n: 'tree.noMatch' }));
    this.body.append(frag);
    this.body.scrollTop = scroll;
    if (!this.active) this.applyActive();
  }

  /** renderNodes appends visible nodes; returns how many it showed. */
  renderNodes(nodes, key, depth, into, parentMatched) {
    let shown = 0;
    for (const n of nodes) {
      const k = `${key}/${n.kind}:${n.id}`;
      const selfMatch = parentMatched || !this.query || this.matches(n);
      if (n.kind === 'channel') {
        if (!selfMatch) continue;
        into.append(this.channelRow(n, depth));
        shown++;
        continue;
      }
      const kids = document.createDocumentFragment();
      const open = this.query ? true : this.expanded.has(k);
      let kidCount = 0;
      if (open || this.query) kidCount = this.renderNodes(n.children || [], k, depth + 1, kids, selfMatch && !!this.query);
      if (this.query && !selfMatch && kidCount === 0) continue;
      into.append(this.groupRow(n, k, depth, open));
      if (open) into.append(kids);
      shown++;
    }
    return shown;
  }

  groupRow(n, k, depth, open) {
    const [on, all] = this.counts(n);
    const sel = this.o.selection;
    const online = n.kind === 'device' ? n.online : on > 0;
    const toggle = () => {
      if (this.expanded.has(k)) this.expanded.delete(k); else this.expanded.add(k);
      this.render();
    };
    return h('div', {
      class: `tree-row group ${open ? 'open' : ''}`, role: 'treeitem', 'aria-expanded': String(open), tabindex: '0',
      style: `padding-left:${6 + depth * 14}px`, title: `${n.name || n.id}\n${n.id}`,
      testid: `tree-${n.kind}-${n.id}`,
      onclick: toggle,
      onkeydown: (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); toggle(); } },
    },
    h('span', { class: 'chev' }, icon('chevron')),
    h('span', { class: `dot ${online ? 'on' : 'off'}` }),
    // A group is a lower platform's organisation entry, or an NVR in its
    // catalog (which has its device_id).
    icon(n.kind === 'device' || n.device_id ? 'device' : 'region'),
    h('span', { class: 'tree-name', text: n.name || n.id }),
    h('span', { class: 'tree-count', text: `${on}/${all}` }),
    sel?.enabled() && all > 0 && (!sel.pickGroup || sel.groupPickable(n)) ? h('button', {
      type: 'button', class: `icon-btn small ${sel.hasGroup?.(n) ? 'active' : ''}`,
      i18nTitle: sel.groupTitle || 'tree.addDevice', testid: `tree-add-${n.id}`,
      onclick: (e) => {
        e.stopPropagation();
        if (sel.pickGroup) sel.pickGroup(n, this.channelsOf(n)); else sel.addMany(this.channelsOf(n));
        this.render();
      },
    }, icon('plus')) : null);
  }

  channelRow(n, depth) {
    const ch = { id: n.id, name: n.name || n.id };
    const sel = this.o.selection;
    const active = this.o.activeId?.() === n.id;
    const row = h('div', {
      class: `tree-row channel ${n.online ? '' : 'offline'} ${active ? 'active' : ''}`, role: 'treeitem', tabindex: '0',
      draggable: 'true', style: `padding-left:${20 + depth * 14}px`, title: `${ch.name}\n${n.id}`,
      testid: `tree-channel-${n.id}`, dataset: { channel: n.id },
      ondragstart: (e) => {
        e.dataTransfer.effectAllowed = 'copy';
        e.dataTransfer.setData(channelMime, JSON.stringify(ch));
        e.dataTransfer.setData('text/plain', n.id);
      },
      ondblclick: () => this.o.onActivate(ch),
      onkeydown: (e) => { if (e.key === 'Enter') { e.preventDefault(); this.o.onActivate(ch); } },
    },
    sel?.enabled() && sel.picksChannels?.() !== false ? h('input', {
      type: 'checkbox', class: 'tree-check', checked: sel.has(n.id), testid: `tree-check-${n.id}`,
      onclick: (e) => e.stopPropagation(), ondblclick: (e) => e.stopPropagation(),
      onchange: (e) => sel.toggle(ch, e.target.checked),
    }) : null,
    h('span', { class: `dot ${n.online ? 'on' : 'off'}`, title: t(n.online ? 'tree.online' : 'tree.offline') }),
    icon('camera'),
    h('span', { class: 'tree-name', text: ch.name }));
    return row;
  }
}
