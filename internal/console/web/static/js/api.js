// The console API client: JSON in and out, CSRF header on unsafe requests,
// one place that turns a 401 into "back to the login screen".

import { t } from './i18n.js';

/** ApiError is a failed API call: HTTP status (0 = network), code and message. */
export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

// The CSRF token lives in memory only; it is re-read from /me on page load.
let csrfToken = '';
let onUnauthenticated = () => {};
let onPasswordRequired = () => {};

/** setCSRF stores the token sent in X-CSRF-Token. */
export function setCSRF(token) { csrfToken = token || ''; }

/** onAuthLost registers the handlers for 401 and for "password change required". */
export function onAuthLost(unauth, pwRequired) {
  onUnauthenticated = unauth;
  onPasswordRequired = pwRequired;
}

const unsafe = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * api calls /api/v1 + path. body is sent as JSON. It resolves to the parsed
 * JSON (or null for an empty body) and rejects with ApiError.
 * opts.auth=false skips the 401 redirect (used by login and the first /me);
 * opts.keepalive lets the request outlive the page (used on pagehide).
 */
export async function api(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (unsafe.has(method) && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let res;
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      signal: opts.signal,
      keepalive: !!opts.keepalive,
    });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', t('err.network'));
  }
  const text = await res.text().catch(() => '');
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (res.ok) return data;
  const code = data?.code || '';
  let message = data?.error || '';
  if (!message) {
    if (res.status === 403) message = t('err.forbidden');
    else if (res.status >= 502 && res.status <= 504 && !data) message = t('err.network');
    else message = t('err.unknown', { status: res.status });
  }
  const err = new ApiError(res.status, code || (res.status >= 502 && !data ? 'network' : ''), message, data);
  if (opts.auth !== false) {
    if (res.status === 401) onUnauthenticated(err);
    else if (res.status === 403 && code === 'password_change_required') onPasswordRequired(err);
  }
  throw err;
}

/** errorText is the message to show for any error. */
export function errorText(err) {
  if (err instanceof ApiError && err.code === 'audit_unavailable') return t('err.audit');
  if (err instanceof ApiError && err.code === 'shutting_down') return t('err.shuttingDown');
  if (err instanceof ApiError) return err.message;
  return err?.message || String(err);
}

/** toRFC3339 formats d as RFC 3339 in the browser's zone, e.g. 2024-05-01T08:00:00+08:00. */
export function toRFC3339(d) {
  const pad = (n) => String(Math.abs(Math.trunc(n))).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
    + `${sign}${pad(off / 60)}:${pad(off % 60)}`;
}
