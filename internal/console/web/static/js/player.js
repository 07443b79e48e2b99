// Player plays one stream into a <video>: WebRTC (WHEP) first, HLS as the
// fallback, and reports connecting / playing / error through onState.

import { t } from './i18n.js';

const iceGatherWait = 1000; // ms: send what we have after this
const firstFrameWebRTC = 6000; // ms without a frame before falling back to HLS
const firstFrameHLS = 15000; // HLS needs a segment or two
const stallAfter = 8000; // ms without progress while playing = interrupted

/** PlayError is a playback failure with a message ready to show. */
class PlayError extends Error {
  constructor(message, { http = false } = {}) {
    super(message);
    this.name = 'PlayError';
    this.http = http; // the server answered with an error (not a timeout)
  }
}

async function errorFromResponse(res) {
  const text = await res.text().catch(() => '');
  try {
    const j = JSON.parse(text);
    if (j && j.error) return new PlayError(j.error, { http: true });
  } catch { /* not JSON */ }
  return new PlayError(text.trim().slice(0, 200) || `HTTP ${res.status}`, { http: true });
}

function withTimeout(promise, ms, message) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new PlayError(message)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

/** waitFirstFrame resolves when video shows a decoded frame, rejects on a media error. */
function waitFirstFrame(video, signal) {
  return new Promise((resolve, reject) => {
    const done = () => { cleanup(); resolve(); };
    const fail = () => { cleanup(); reject(new PlayError(t('pane.hlsError'))); };
    const check = () => { if (video.videoWidth > 0 && video.readyState >= 2) done(); };
    const cleanup = () => {
      video.removeEventListener('loadeddata', check);
      video.removeEventListener('playing', check);
      video.removeEventListener('resize', check);
      video.removeEventListener('error', fail);
      signal.removeEventListener('abort', abort);
    };
    const abort = () => { cleanup(); reject(new DOMException('aborted', 'AbortError')); };
    video.addEventListener('loadeddata', check);
    video.addEventListener('playing', check);
    video.addEventListener('resize', check);
    video.addEventListener('error', fail);
    signal.addEventListener('abort', abort);
    if (typeof video.requestVideoFrameCallback === 'function') video.requestVideoFrameCallback(done);
    check();
  });
}

/** Player owns the media connection of one <video>. */
export class Player {
  /** @param {HTMLVideoElement} video @param {(state, info) => void} onState */
  constructor(video, onState = () => {}) {
    this.video = video;
    this.onState = onState;
    this.state = 'idle';
    this.tech = null;
    this.error = '';
    this.pc = null;
    this.whepSession = null;
    this.abort = null;
    this.watchTimer = null;
    this.paused = false;
    video.muted = true;
    video.autoplay = true;
    video.playsInline = true;
    video.setAttribute('playsinline', '');
    video.addEventListener('error', () => {
      if (this.state === 'playing' && this.tech === 'hls') this.fail(new PlayError(t('pane.hlsError')));
    });
  }

  setState(state, error = '') {
    this.state = state;
    this.error = error;
    this.onState(state, { error, tech: this.tech });
  }

  /**
   * play connects to urls ({whep, hls}) and resolves once the first frame
   * shows or the attempt failed (state tells which). A later play or stop
   * cancels it.
   */
  async play(urls, { preferHLS = false } = {}) {
    this.stop();
    const ctl = new AbortController();
    this.abort = ctl;
    this.setState('connecting');
    let firstErr = null;
    const attempts = [];
    if (urls.whep && !preferHLS) attempts.push(['webrtc', () => this.playWHEP(urls.whep, ctl.signal)]);
    if (urls.hls) attempts.push(['hls', () => this.playHLS(urls.hls, ctl.signal)]);
    if (urls.whep && preferHLS) attempts.push(['webrtc', () => this.playWHEP(urls.whep, ctl.signal)]);
    for (const [tech, attempt] of attempts) {
      try {
        this.tech = tech;
        await attempt();
        if (ctl.signal.aborted) return;
        this.setState('playing');
        this.watch(ctl.signal);
        return;
      } catch (err) {
        if (ctl.signal.aborted || err.name === 'AbortError') return;
        console.warn(`sharpeyes: ${tech} failed:`, err.message);
        this.teardownMedia();
        // The server's own error (offline, refused…) says more than a later timeout.
        if (!firstErr || (!firstErr.http && err.http)) firstErr = err;
      }
    }
    this.tech = null;
    this.setState('error', firstErr ? firstErr.message : t('pane.noFrames'));
  }

  async playWHEP(url, signal) {
    if (typeof RTCPeerConnection !== 'function') throw new PlayError(t('pane.webrtcUnsupported'));
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    this.pc = pc;
    const stream = new MediaStream();
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    pc.ontrack = (ev) => {
      stream.addTrack(ev.track);
      if (this.video.srcObject !== stream) this.video.srcObject = stream;
      this.video.play().catch(() => {});
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'failed' && this.pc === pc && this.state === 'playing') {
        this.fail(new PlayError(t('pane.connectionLost')));
      }
    };
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((resolve) => {
      if (pc.iceGatheringState === 'complete') { resolve(); return; }
      const timer = setTimeout(resolve, iceGatherWait);
      pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete') { clearTimeout(timer); resolve(); }
      });
    });
    if (signal.aborted) throw new DOMException('aborted', 'AbortError');
    let res;
    try {
      res = await fetch(url, {
        method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription.sdp, signal,
      });
    } catch (err) {
      if (err.name === 'AbortError') throw err;
      throw new PlayError(t('err.network'));
    }
    if (res.status !== 201) throw await errorFromResponse(res);
    const loc = res.headers.get('Location');
    if (loc) this.whepSession = new URL(loc, url).href;
    const answer = await res.text();
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    await withTimeout(waitFirstFrame(this.video, signal), firstFrameWebRTC, t('pane.noFrames'));
  }

  async playHLS(url, signal) {
    // Ask for the playlist ourselves first: a failing video element only
    // says "error", the gateway's JSON says why.
    let res;
    try {
      res = await fetch(url, { signal, cache: 'no-store' });
    } catch (err) {
      if (err.name === 'AbortError') throw err;
      throw new PlayError(t('err.network'));
    }
    if (!res.ok) throw await errorFromResponse(res);
    this.video.srcObject = null;
    this.video.src = url;
    this.video.play().catch(() => {});
    await withTimeout(waitFirstFrame(this.video, signal), firstFrameHLS, t('pane.noFrames'));
  }

  /** watch turns a stream that stops progressing into an error. */
  watch(signal) {
    let last = this.video.currentTime;
    let lastChange = performance.now();
    clearInterval(this.watchTimer);
    this.watchTimer = setInterval(() => {
      if (signal.aborted) { clearInterval(this.watchTimer); return; }
      const now = performance.now();
      const cur = this.video.currentTime;
      if (cur !== last || this.paused || document.hidden) {
        last = cur;
        lastChange = now;
        return;
      }
      if (now - lastChange > stallAfter) this.fail(new PlayError(t('pane.stalled')));
    }, 1000);
  }

  /** setPaused tells the watchdog that no progress is expected (playback pause). */
  setPaused(p) { this.paused = p; }

  fail(err) {
    if (this.state === 'error') return;
    this.abort?.abort();
    this.teardownMedia();
    this.setState('error', err.message);
  }

  teardownMedia() {
    clearInterval(this.watchTimer);
    this.watchTimer = null;
    if (this.pc) {
      this.pc.ontrack = null;
      this.pc.onconnectionstatechange = null;
      this.pc.close();
      this.pc = null;
    }
    if (this.whepSession) {
      const u = this.whepSession;
      this.whepSession = null;
      fetch(u, { method: 'DELETE', keepalive: true }).catch(() => {});
    }
    const v = this.video;
    if (v.srcObject || v.getAttribute('src')) {
      v.pause();
      v.srcObject = null;
      v.removeAttribute('src');
      v.load();
    }
  }

  /** stop ends the connection and leaves the player idle. */
  stop() {
    this.abort?.abort();
    this.abort = null;
    this.teardownMedia();
    this.tech = null;
    this.paused = false;
    if (this.state !== 'idle') this.setState('idle');
  }
}
