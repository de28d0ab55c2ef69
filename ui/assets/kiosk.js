// tagd kiosk page: shows the verdict of every tap pushed on the websocket
// /ws (wire format: ui.Message in ui/wire.go). It never needs a person: it
// reconnects with backoff, never shows dialogs or errors, goes back to idle
// by itself and reloads itself when the server's assets change.
(function () {
  'use strict';

  var root = document.documentElement;
  var VERSION = root.getAttribute('data-version') || '';
  var S = {};
  try { S = JSON.parse(document.getElementById('strings').textContent) || {}; } catch (e) { S = {}; }

  var idleMs = parseInt(root.getAttribute('data-idle-ms'), 10) || 6000;
  var lang = root.getAttribute('lang') || 'en';
  var BACKOFF_MIN = 500, BACKOFF_MAX = 10000;

  var $ = function (id) { return document.getElementById(id); };
  var body = document.body;
  var banner = $('banner'), idleEl = $('idle'), tapEl = $('tap');

  var ws = null, attempt = 0, retryTimer = 0, idleTimer = 0, lastTapId = '';
  var readers = {}, readerOrder = [];

  // t returns the string for key with {name} placeholders filled in.
  function t(key, vars) {
    var s = Object.prototype.hasOwnProperty.call(S, key) ? S[key] : key;
    if (vars) {
      s = s.replace(/\{(\w+)\}/g, function (m, k) { return vars[k] !== undefined ? String(vars[k]) : m; });
    }
    return s;
  }

  var timeFmt = null;
  try { timeFmt = new Intl.DateTimeFormat(lang, { hour: 'numeric', minute: '2-digit', second: '2-digit' }); } catch (e) { timeFmt = null; }
  function fmtTime(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return '';
    return timeFmt ? timeFmt.format(d) : d.toLocaleTimeString();
  }

  var VERDICTS = { genuine: 1, not_genuine: 1, replay: 1, unknown: 1, inactive: 1, found: 1, error: 1 };

  // safeImage mirrors ui.SafeImageURL: same-origin paths and data:image only.
  function safeImage(u) {
    if (typeof u !== 'string' || u === '') return false;
    if (/^data:image\//i.test(u)) return u.indexOf(',') > 0;
    if (/^\/\//.test(u) || /[\\\r\n\t]/.test(u) || /^[a-z][a-z0-9+.\-]*:/i.test(u)) return false;
    return true;
  }

  // fitVerdict shrinks the verdict word until it fits on one line.
  function fitVerdict() {
    var v = $('verdict');
    v.style.fontSize = '';
    var size = parseFloat(getComputedStyle(v).fontSize);
    var min = size * 0.4;
    while (v.scrollWidth > v.clientWidth + 1 && size > min) {
      size *= 0.92;
      v.style.fontSize = size + 'px';
    }
  }

  // renderFields shows the fields of the tap, leaving out the last ones
  // while they do not fit in the panel. It runs again when the layout
  // changes (the image loaded, the window resized).
  var shownFields = [];
  function renderFields() {
    var dl = $('fields');
    dl.textContent = '';
    shownFields.forEach(function (f) {
      var dt = document.createElement('dt'), dd = document.createElement('dd');
      dt.textContent = String(f.name);
      dd.textContent = String(f.value);
      dl.appendChild(dt);
      dl.appendChild(dd);
    });
    if (tapEl.hidden) return;
    while (dl.children.length > 2 && dl.scrollHeight > dl.clientHeight + 1) {
      dl.removeChild(dl.lastChild);
      dl.removeChild(dl.lastChild);
    }
  }

  function showIdle() {
    clearTimeout(idleTimer);
    idleTimer = 0;
    body.setAttribute('data-verdict', 'idle');
    tapEl.hidden = true;
    idleEl.hidden = false;
  }

  function showTap(tap, showMs) {
    if (!tap || typeof tap !== 'object') return;
    var verdict = VERDICTS[tap.verdict] ? tap.verdict : 'error';
    lastTapId = tap.id || '';

    $('verdict-use').setAttribute('href', '#i-' + verdict);
    $('verdict-word').textContent = t('verdict_' + verdict);
    $('verdict-hint').textContent = t('verdict_' + verdict + '_hint');
    $('tag-name').textContent = tap.name || '';
    $('response').textContent = tap.response || '';

    var fields = Array.isArray(tap.fields) ? tap.fields : [];
    if (tap.tamper && S['tamper_' + tap.tamper]) {
      fields = fields.concat([{ name: t('tamper'), value: t('tamper_' + tap.tamper) }]);
    }
    shownFields = fields;

    var meta = [];
    if (tap.scan_count) meta.push(t('scans', { n: tap.scan_count }));
    var when = tap.time ? fmtTime(tap.time) : '';
    if (when) meta.push(t('checked_at', { time: when }));
    if (tap.xuid) meta.push(t('tag_id', { xuid: tap.xuid }));
    $('meta').textContent = meta.join(' \u00B7 ');

    var img = $('tag-image');
    if (safeImage(tap.image)) {
      img.src = tap.image;
      img.hidden = false;
    } else {
      img.removeAttribute('src');
      img.hidden = true;
    }
    tapEl.classList.toggle('has-image', !img.hidden);
    var bare = !tap.name && !tap.response && !fields.length && !img.hasAttribute('src');
    tapEl.classList.toggle('bare', bare);

    body.setAttribute('data-verdict', verdict);
    idleEl.hidden = true;
    tapEl.hidden = false;
    fitVerdict();
    renderFields();
    // Last, so that an observer of these attributes sees a complete tap.
    tapEl.setAttribute('data-xuid', tap.xuid || '');
    tapEl.setAttribute('data-verdict', verdict);
    tapEl.setAttribute('data-id', lastTapId);

    clearTimeout(idleTimer);
    idleTimer = setTimeout(showIdle, showMs > 0 ? showMs : idleMs);
  }

  var READER_ICONS = { ready: 'genuine', tag: 'tap', absent: 'plug', error: 'error', starting: 'sync', none: 'inactive' };

  function chip(state, iconName, text) {
    var c = document.createElement('span');
    c.className = 'chip';
    c.setAttribute('data-state', state);
    var svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    svg.setAttribute('class', 'icon');
    svg.setAttribute('aria-hidden', 'true');
    var use = document.createElementNS('http://www.w3.org/2000/svg', 'use');
    use.setAttribute('href', '#i-' + iconName);
    svg.appendChild(use);
    var span = document.createElement('span');
    span.textContent = text;
    c.appendChild(svg);
    c.appendChild(span);
    return c;
  }

  function renderReaders() {
    var box = $('readers');
    box.textContent = '';
    if (!readerOrder.length) {
      box.appendChild(chip('unknown', 'unknown', t('reader_unknown')));
      return;
    }
    var many = readerOrder.length > 1;
    readerOrder.forEach(function (name) {
      var r = readers[name];
      var state = READER_ICONS[r.state] ? r.state : 'unknown';
      var text = t('reader_' + state);
      if (many && name) text = name + ': ' + text;
      box.appendChild(chip(state, READER_ICONS[state] || 'unknown', text));
    });
  }

  function setReader(r) {
    if (!r || typeof r !== 'object') return;
    var name = String(r.name || '');
    if (!Object.prototype.hasOwnProperty.call(readers, name)) readerOrder.push(name);
    readers[name] = r;
  }

  function renderSync(s) {
    var state = (s && s.state) || 'not_configured';
    var el = $('sync');
    el.setAttribute('data-state', state);
    var key = 'sync_' + state;
    var text = Object.prototype.hasOwnProperty.call(S, key) ? t(key, { n: (s && s.pending) || 0 }) : state;
    $('sync-text').textContent = t('sync') + ': ' + text;
  }

  function reloadForVersion(v) {
    // At most once every 30 s, so that a mismatch that persists (a proxy
    // serving an old page) cannot make the page reload in a loop.
    var now = Date.now(), last = 0;
    try { last = parseInt(sessionStorage.getItem('tagd-reload'), 10) || 0; } catch (e) { last = 0; }
    if (now - last < 30000) return false;
    try { sessionStorage.setItem('tagd-reload', String(now)); } catch (e) { /* ignore */ }
    location.reload();
    return true;
  }

  function handle(m) {
    if (!m || typeof m !== 'object') return;
    switch (m.type) {
      case 'hello':
        if (m.version && m.version !== VERSION && reloadForVersion(m.version)) return;
        if (m.idle_after_ms > 0) idleMs = m.idle_after_ms;
        readers = {};
        readerOrder = [];
        (m.readers || []).forEach(setReader);
        renderReaders();
        renderSync(m.sync);
        attempt = 0;
        banner.hidden = true;
        if (m.tap && m.tap.id && m.tap.id !== lastTapId) showTap(m.tap, m.tap.show_ms);
        break;
      case 'tap':
        showTap(m.tap, m.tap && m.tap.show_ms);
        break;
      case 'reader':
        setReader(m.reader);
        renderReaders();
        break;
      case 'sync':
        renderSync(m.sync);
        break;
    }
  }

  function scheduleReconnect() {
    if (retryTimer) return;
    var base = Math.min(BACKOFF_MAX, BACKOFF_MIN * Math.pow(2, attempt));
    attempt = Math.min(attempt + 1, 20);
    // Jitter: 75-125 % of the step, never above the maximum.
    var delay = Math.min(BACKOFF_MAX, base * (0.75 + Math.random() * 0.5));
    retryTimer = setTimeout(function () { retryTimer = 0; connect(); }, delay);
  }

  function connect() {
    var proto = location.protocol === 'https:' ? 'wss://' : 'ws://';
    var sock;
    try {
      sock = new WebSocket(proto + location.host + '/ws');
    } catch (e) {
      banner.hidden = false;
      scheduleReconnect();
      return;
    }
    ws = sock;
    sock.onmessage = function (e) {
      var m;
      try { m = JSON.parse(e.data); } catch (err) { return; }
      try { handle(m); } catch (err) { /* never leave an error on screen */ }
    };
    sock.onclose = function () {
      if (ws !== sock) return;
      ws = null;
      banner.hidden = false;
      scheduleReconnect();
    };
    sock.onerror = function () { /* onclose follows */ };
  }

  // A script error must never stop the page or show anything.
  window.addEventListener('error', function (e) { e.preventDefault(); });
  window.addEventListener('unhandledrejection', function (e) { e.preventDefault(); });
  // No context menu, no drag, no pinch on a kiosk.
  document.addEventListener('contextmenu', function (e) { e.preventDefault(); });

  window.addEventListener('resize', function () {
    if (!tapEl.hidden) { fitVerdict(); renderFields(); }
  });
  $('tag-image').addEventListener('load', renderFields);

  renderReaders();
  connect();
})();
