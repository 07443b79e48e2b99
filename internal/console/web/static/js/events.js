// Live status from the server (SSE /api/v1/events), re-broadcast on a bus.

import { api } from './api.js';

/**
 * bus carries the server's events by type — 'device.status',
 * 'channel.status', 'catalog.changed', 'session.state' (detail = the parsed
 * payload, {v, type, …}; see docs/console-api.md) — and 'connection'
 * (detail = bool).
 */
export const bus = new EventTarget();

/** eventVersion is the payload version ("v") this UI understands. */
const eventVersion = 1;

/** eventTypes are the SSE event names, each the payload's type. */
const eventTypes = ['device.status', 'channel.status', 'catalog.changed', 'session.state'];

let source = null;
let retryTimer = null;
let connected = false;

function setConnected(c) {
  if (c === connected) return;
  connected = c;
  bus.dispatchEvent(new CustomEvent('connection', { detail: c }));
}

/** isConnected tells whether the event stream is open. */
export function isConnected() { return connected; }

/** startEvents opens the event stream; it reconnects by itself. */
export function startEvents() {
  if (source) return;
  const es = new EventSource('/api/v1/events');
  source = es;
  es.onopen = () => setConnected(true);
  for (const name of eventTypes) {
    es.addEventListener(name, (ev) => {
      let detail = null;
      try { detail = JSON.parse(ev.data); } catch { return; }
      // A payload of another version may mean other things: ignore it.
      if (detail?.v !== eventVersion || detail.type !== name) return;
      bus.dispatchEvent(new CustomEvent(name, { detail }));
    });
  }
  es.onerror = () => {
    setConnected(false);
    if (es.readyState !== EventSource.CLOSED) return; // the browser retries
    // Closed for good (an HTTP error such as 401): check the session, which
    // sends us to the login screen if it is gone, then try again.
    source = null;
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => {
      api('GET', '/me').then(() => startEvents()).catch(() => { retryTimer = setTimeout(startEvents, 10000); });
    }, 3000);
  };
}

/** stopEvents closes the event stream. */
export function stopEvents() {
  clearTimeout(retryTimer);
  source?.close();
  source = null;
  setConnected(false);
}
