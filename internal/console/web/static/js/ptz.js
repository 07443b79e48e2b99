// PTZ panel of a pane: press-and-hold direction and zoom buttons.

import { api, errorText } from './api.js';
import { t } from './i18n.js';
import { h, icon, toast, store } from './dom.js';

// [name, directions, arrow rotation in degrees]
const buttons = [
  ['upLeft', ['up', 'left'], -45], ['up', ['up'], 0], ['upRight', ['up', 'right'], 45],
  ['left', ['left'], -90], null, ['right', ['right'], 90],
  ['downLeft', ['down', 'left'], -135], ['down', ['down'], 180], ['downRight', ['down', 'right'], 135],
];
const testids = { up: 'ptz-up', down: 'ptz-down', left: 'ptz-left', right: 'ptz-right' };

/** PTZPanel sends move/stop commands for the channel that channelId() returns. */
export class PTZPanel {
  constructor(channelId) {
    this.channelId = channelId;
    this.moving = false;
    this.queue = Promise.resolve(); // keeps move → stop in order
    this.speed = store.get('ptz.speed', 128);
    this.el = this.build();
  }

  send(body) {
    const id = this.channelId();
    if (!id) return;
    this.queue = this.queue.then(() => api('POST', `/channels/${encodeURIComponent(id)}/ptz`, body))
      .catch((err) => toast(t('ptz.failed', { error: errorText(err) })));
  }

  start(directions) {
    this.moving = true;
    const zoom = directions.some((d) => d.startsWith('zoom'));
    const body = { action: 'move', directions, speed: this.speed };
    if (zoom) body.zoom_speed = Math.max(1, Math.min(15, Math.round(this.speed / 17)));
    this.send(body);
  }

  stop() {
    if (!this.moving) return;
    this.moving = false;
    this.send({ action: 'stop' });
  }

  hold(el, directions) {
    el.addEventListener('mousedown', (e) => { if (e.button === 0) { e.preventDefault(); this.start(directions); } });
    el.addEventListener('touchstart', (e) => { e.preventDefault(); this.start(directions); }, { passive: false });
    for (const ev of ['mouseup', 'mouseleave', 'touchend', 'touchcancel', 'blur']) el.addEventListener(ev, () => this.stop());
    el.addEventListener('keydown', (e) => {
      if ((e.key === 'Enter' || e.key === ' ') && !e.repeat) { e.preventDefault(); this.start(directions); }
    });
    el.addEventListener('keyup', (e) => { if (e.key === 'Enter' || e.key === ' ') this.stop(); });
    return el;
  }

  build() {
    const pad = h('div', { class: 'ptz-pad' });
    for (const b of buttons) {
      if (!b) { pad.append(h('span', { class: 'ptz-center' }, icon('ptz'))); continue; }
      const [name, dirs, deg] = b;
      const arrow = icon('arrow');
      arrow.style.transform = `rotate(${deg}deg)`;
      pad.append(this.hold(h('button', {
        type: 'button', class: 'ptz-btn', i18nTitle: `ptz.${name}`, testid: testids[name] || `ptz-${name}`,
      }, arrow), dirs));
    }
    const zoom = h('div', { class: 'ptz-zoom' },
      this.hold(h('button', { type: 'button', class: 'ptz-btn', i18nTitle: 'ptz.zoomIn', testid: 'ptz-zoom-in' }, icon('plus')), ['zoom_in']),
      this.hold(h('button', { type: 'button', class: 'ptz-btn', i18nTitle: 'ptz.zoomOut', testid: 'ptz-zoom-out' }, icon('minus')), ['zoom_out']));
    const val = h('span', { class: 'ptz-speed-val', text: String(this.speed) });
    const slider = h('input', {
      type: 'range', min: '1', max: '255', value: String(this.speed), class: 'ptz-speed', testid: 'ptz-speed',
      i18nTitle: 'ptz.speed',
      oninput: (e) => { this.speed = Number(e.target.value); val.textContent = String(this.speed); store.set('ptz.speed', this.speed); },
    });
    return h('div', {
      class: 'ptz-panel', testid: 'ptz-panel',
      ondblclick: (e) => e.stopPropagation(), onclick: (e) => e.stopPropagation(),
    },
    h('div', { class: 'ptz-title', i18n: 'ptz.title' }),
    h('div', { class: 'ptz-body' }, pad, zoom),
    h('label', { class: 'ptz-speed-row' }, h('span', { i18n: 'ptz.speed' }), slider, val));
  }
}
