/*
 * Jack The Butler web chat widget. No dependencies.
 *
 *   <script src="https://jack.example/webchat.js" data-jack-title="Hotel Aurora"
 *           data-jack-color="#0b5cad" async></script>
 *
 * Options (data- attributes on the script tag):
 *   data-jack-title   header text (default "Chat with us")
 *   data-jack-color   accent colour, any CSS colour (default #1f6feb)
 *   data-jack-mode    "bubble" (default: a button in the corner) or "page" (fills the page; used by /chat)
 *
 * The WebSocket address is derived from this script's own src (…/webchat.js -> …/ws).
 * Frames are documented in the jack-channel-webchat README.
 */
(function () {
  "use strict";

  var script = document.currentScript || document.querySelector('script[src*="webchat.js"]');
  if (!script || window.__jackWebchatLoaded) return;
  window.__jackWebchatLoaded = true;

  var src = new URL(script.src, document.baseURI);
  var wsUrl = (src.protocol === "https:" ? "wss:" : "ws:") + "//" + src.host +
    src.pathname.replace(/webchat\.js$/, "ws");
  var storageKey = "jack-webchat:" + src.host + src.pathname;
  var opts = {
    title: script.getAttribute("data-jack-title") || "Chat with us",
    color: script.getAttribute("data-jack-color") || "#1f6feb",
    page: script.getAttribute("data-jack-mode") === "page"
  };

  var RTL = ["ar", "he", "fa", "ur", "ps", "sd", "ug", "yi", "dv", "ckb"];
  var language = (document.documentElement.lang || navigator.language || "en").trim();
  var baseLang = language.split("-")[0].toLowerCase();
  var dir = (document.documentElement.getAttribute("dir") || (document.body && document.body.getAttribute("dir")) || "").toLowerCase();
  if (dir !== "rtl" && dir !== "ltr") dir = RTL.indexOf(baseLang) >= 0 ? "rtl" : "ltr";

  var STRINGS = {
    en: {
      placeholder: "Type your message…", send: "Send", sending: "Sending…", sent: "Sent",
      failed: "Not sent · tap to retry", connecting: "Connecting…", reconnecting: "Reconnecting…",
      typing: "typing", open: "Open chat", close: "Close chat", staff: "Staff", tooLong: "Too long: at most {n} characters."
    },
    ar: {
      placeholder: "اكتب رسالتك…", send: "إرسال", sending: "جارٍ الإرسال…", sent: "تم الإرسال",
      failed: "لم تُرسل · اضغط لإعادة المحاولة", connecting: "جارٍ الاتصال…", reconnecting: "جارٍ إعادة الاتصال…",
      typing: "يكتب", open: "فتح المحادثة", close: "إغلاق المحادثة", staff: "موظف", tooLong: "الرسالة طويلة جدًا: {n} حرفًا كحد أقصى."
    },
    fr: {
      placeholder: "Écrivez votre message…", send: "Envoyer", sending: "Envoi…", sent: "Envoyé",
      failed: "Non envoyé · touchez pour réessayer", connecting: "Connexion…", reconnecting: "Reconnexion…",
      typing: "écrit", open: "Ouvrir le chat", close: "Fermer le chat", staff: "Équipe", tooLong: "Trop long : {n} caractères au plus."
    },
    es: {
      placeholder: "Escriba su mensaje…", send: "Enviar", sending: "Enviando…", sent: "Enviado",
      failed: "No enviado · toque para reintentar", connecting: "Conectando…", reconnecting: "Reconectando…",
      typing: "escribiendo", open: "Abrir chat", close: "Cerrar chat", staff: "Personal", tooLong: "Demasiado largo: {n} caracteres como máximo."
    }
  };
  var t = STRINGS[baseLang] || STRINGS.en;

  // ------------------------------------------------------------------ storage
  var memoryToken = null;
  function loadToken() {
    try { return window.localStorage.getItem(storageKey); } catch (e) { return memoryToken; }
  }
  function saveToken(token) {
    memoryToken = token;
    try { window.localStorage.setItem(storageKey, token); } catch (e) { /* private mode: this tab only */ }
  }

  // ------------------------------------------------------------------ UI
  var host = document.createElement("div");
  host.setAttribute("data-jack-webchat", "");
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  var css = [
    ":host{all:initial}",
    "*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans','Noto Sans Arabic',sans-serif}",
    ".wrap{position:fixed;z-index:2147483000;inset-block-end:20px;inset-inline-end:20px;font-size:15px;line-height:1.4;color:#1d1d1f}",
    ".bubble{width:58px;height:58px;border-radius:50%;border:0;background:var(--accent);color:#fff;cursor:pointer;",
    "box-shadow:0 4px 14px rgba(0,0,0,.25);display:flex;align-items:center;justify-content:center}",
    ".bubble svg{width:28px;height:28px;fill:#fff}",
    ".panel{display:none;flex-direction:column;width:370px;height:min(580px,calc(100vh - 110px));background:#fff;",
    "border-radius:14px;overflow:hidden;box-shadow:0 10px 40px rgba(0,0,0,.25);margin-block-end:12px}",
    ".wrap.open .panel{display:flex}",
    ".wrap.open .bubble{display:none}",
    ".head{background:var(--accent);color:#fff;padding:14px 16px;display:flex;align-items:center;gap:8px}",
    ".head h2{font-size:16px;font-weight:600;margin:0;flex:1;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}",
    ".x{background:transparent;border:0;color:#fff;font-size:24px;line-height:1;cursor:pointer;padding:0 4px}",
    ".status{font-size:12px;padding:4px 12px;background:#fff4ce;color:#5c4400;display:none}",
    ".status.on{display:block}",
    ".log{flex:1;overflow-y:auto;padding:14px 12px;display:flex;flex-direction:column;gap:8px;background:#f7f7f9}",
    ".msg{max-width:82%;padding:8px 12px;border-radius:14px;white-space:pre-wrap;overflow-wrap:anywhere;unicode-bidi:plaintext}",
    ".msg.guest{align-self:flex-end;background:var(--accent);color:#fff;border-end-end-radius:4px}",
    ".msg.other{align-self:flex-start;background:#fff;border:1px solid #e3e3e8;border-end-start-radius:4px}",
    ".msg .who{display:block;font-size:11px;font-weight:600;opacity:.7;margin-block-end:2px}",
    ".state{align-self:flex-end;font-size:11px;color:#6e6e73;margin-block-start:-4px}",
    ".state.failed{color:#b3261e;cursor:pointer;text-decoration:underline}",
    ".typing{align-self:flex-start;display:none;padding:8px 12px;background:#fff;border:1px solid #e3e3e8;border-radius:14px;color:#6e6e73;font-size:13px}",
    ".typing.on{display:block}",
    ".typing i{display:inline-block;width:6px;height:6px;margin:0 1px;border-radius:50%;background:#9a9aa0;animation:b 1.2s infinite}",
    ".typing i:nth-child(2){animation-delay:.2s}.typing i:nth-child(3){animation-delay:.4s}",
    "@keyframes b{0%,60%,100%{opacity:.3}30%{opacity:1}}",
    "form{display:flex;gap:8px;padding:10px;border-top:1px solid #e3e3e8;background:#fff}",
    "textarea{flex:1;resize:none;border:1px solid #d0d0d6;border-radius:10px;padding:9px 10px;font-size:16px;max-height:120px;min-height:40px}",
    "textarea:focus{outline:2px solid var(--accent);outline-offset:-1px}",
    "form button{border:0;border-radius:10px;background:var(--accent);color:#fff;padding:0 16px;font-size:15px;font-weight:600;cursor:pointer}",
    ".hint{font-size:12px;color:#b3261e;padding:0 12px 6px;background:#fff;display:none}",
    ".hint.on{display:block}",
    "@media (max-width:480px){.wrap.open{inset:0}.wrap.open .panel{width:100vw;height:100%;border-radius:0;margin:0}}",
    ".wrap.page{inset:0}.wrap.page .panel{display:flex;width:100%;max-width:720px;height:100%;margin:0 auto;border-radius:0;box-shadow:none}",
    ".wrap.page .bubble,.wrap.page .x{display:none}",
    "@media (min-width:760px){.wrap.page{padding:24px 0}.wrap.page .panel{border-radius:14px;box-shadow:0 4px 24px rgba(0,0,0,.12)}}"
  ].join("\n");

  root.innerHTML =
    "<style>" + css + "</style>" +
    '<div class="wrap" part="wrap">' +
    '<section class="panel" role="dialog" aria-label="">' +
    '<header class="head"><h2></h2><button class="x" type="button">×</button></header>' +
    '<div class="status" role="status"></div>' +
    '<div class="log" role="log" aria-live="polite"><div class="typing" aria-hidden="true"><i></i><i></i><i></i></div></div>' +
    '<div class="hint" role="alert"></div>' +
    '<form><textarea rows="1"></textarea><button type="submit"></button></form>' +
    "</section>" +
    '<button class="bubble" type="button"><svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8l-5 4V5a2 2 0 0 1 2-2z"/></svg></button>' +
    "</div>";

  function $(sel) { return root.querySelector(sel); }
  var wrap = $(".wrap"), panel = $(".panel"), log = $(".log"), typingEl = $(".typing"), statusEl = $(".status");
  var hint = $(".hint"), form = $("form"), input = $("textarea"), sendButton = $("form button");
  wrap.setAttribute("dir", dir);
  wrap.setAttribute("lang", language);
  wrap.style.setProperty("--accent", opts.color);
  $(".head h2").textContent = opts.title;
  panel.setAttribute("aria-label", opts.title);
  $(".x").setAttribute("aria-label", t.close);
  $(".bubble").setAttribute("aria-label", t.open);
  input.placeholder = t.placeholder;
  input.setAttribute("aria-label", t.placeholder);
  input.setAttribute("dir", "auto");
  sendButton.textContent = t.send;
  typingEl.setAttribute("title", t.typing);
  if (opts.page) wrap.classList.add("page", "open");

  $(".bubble").addEventListener("click", function () { wrap.classList.add("open"); input.focus(); scrollDown(); });
  $(".x").addEventListener("click", function () { wrap.classList.remove("open"); });

  // ------------------------------------------------------------------ messages
  var byId = {};        // stored message id -> element
  var pending = [];     // guest messages not acknowledged yet: {clientId, body, el, stateEl, failed}
  var maxChars = 4000;

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function renderMessage(frame) {
    if (frame.id != null && byId[frame.id]) return byId[frame.id];
    var guest = frame.sender === "guest";
    var el = document.createElement("div");
    el.className = "msg " + (guest ? "guest" : "other");
    el.setAttribute("data-sender", frame.sender || "");
    if (frame.sender === "staff") {
      var who = document.createElement("span");
      who.className = "who";
      who.textContent = t.staff;
      el.appendChild(who);
    }
    var body = document.createElement("span");
    body.className = "body";
    body.setAttribute("dir", "auto");
    body.textContent = frame.body || "";
    el.appendChild(body);
    if (frame.id != null) { byId[frame.id] = el; el.setAttribute("data-id", frame.id); }
    log.insertBefore(el, typingEl);
    return el;
  }

  function setState(item, text, failed) {
    if (!item.stateEl) {
      item.stateEl = document.createElement("div");
      item.stateEl.className = "state";
      item.stateEl.addEventListener("click", function () {
        if (item.failed) { item.failed = false; setState(item, t.sending, false); flushPending(); }
      });
      item.el.after(item.stateEl);
    }
    item.stateEl.textContent = text;
    item.stateEl.classList.toggle("failed", !!failed);
    item.stateEl.setAttribute("data-state", failed ? "failed" : (text === t.sent ? "sent" : "sending"));
  }

  function addPending(body) {
    var item = { clientId: "c" + Date.now().toString(36) + Math.random().toString(36).slice(2, 10), body: body };
    item.el = renderMessage({ sender: "guest", body: body });
    setState(item, t.sending, false);
    pending.push(item);
    scrollDown();
    return item;
  }

  function findPending(clientId) {
    for (var i = 0; i < pending.length; i++) if (pending[i].clientId === clientId) return pending[i];
    return null;
  }

  function showTyping(on) {
    typingEl.classList.toggle("on", !!on);
    clearTimeout(showTyping.timer);
    // A lost "typing: false" must not leave the dots forever.
    if (on) showTyping.timer = setTimeout(function () { typingEl.classList.remove("on"); }, 60000);
    scrollDown();
  }

  function showHint(text) {
    hint.textContent = text || "";
    hint.classList.toggle("on", !!text);
  }

  function showStatus(text) {
    statusEl.textContent = text || "";
    statusEl.classList.toggle("on", !!text);
  }

  // ------------------------------------------------------------------ connection
  var ws = null, ready = false, attempts = 0, retryTimer = null, watchdog = null, stopped = false;

  function send(frame) {
    if (ws && ws.readyState === 1) { ws.send(JSON.stringify(frame)); return true; }
    return false;
  }

  function flushPending() {
    if (!ready) return;
    pending.forEach(function (item) {
      if (!item.failed) send({ type: "message", client_id: item.clientId, body: item.body });
    });
  }

  function armWatchdog() {
    clearTimeout(watchdog);
    // The server pings every ~25 s; silence for much longer means a dead connection.
    watchdog = setTimeout(function () { if (ws) ws.close(); }, 75000);
  }

  function scheduleReconnect(delay) {
    clearTimeout(retryTimer);
    if (stopped) return;
    if (delay == null) {
      attempts += 1;
      delay = Math.min(30000, 1000 * Math.pow(2, attempts - 1)) * (0.75 + Math.random() * 0.5);
    }
    showStatus(t.reconnecting);
    retryTimer = setTimeout(connect, delay);
  }

  function onFrame(frame) {
    armWatchdog();
    switch (frame.type) {
      case "session":
        saveToken(frame.token);
        if (frame.max_message_chars) maxChars = frame.max_message_chars;
        break;
      case "history":
        // The server's history is the truth: redraw it, then put unacknowledged messages back.
        Object.keys(byId).forEach(function (id) { byId[id].remove(); });
        byId = {};
        log.querySelectorAll(".state").forEach(function (el) { el.remove(); });
        (frame.messages || []).forEach(renderMessage);
        pending.forEach(function (item) { item.stateEl = null; log.insertBefore(item.el, typingEl); setState(item, item.failed ? t.failed : t.sending, item.failed); });
        ready = true;
        attempts = 0;
        showStatus("");
        flushPending();
        scrollDown();
        break;
      case "message":
        if (frame.sender !== "guest") showTyping(false);
        renderMessage(frame);
        scrollDown();
        break;
      case "ack":
        var item = findPending(frame.client_id);
        if (item) {
          pending.splice(pending.indexOf(item), 1);
          if (byId[frame.message_id] && byId[frame.message_id] !== item.el) {
            item.el.remove();
          } else {
            byId[frame.message_id] = item.el;
            item.el.setAttribute("data-id", frame.message_id);
          }
          setState(item, t.sent, false);
        }
        break;
      case "typing":
        showTyping(frame.active);
        break;
      case "ping":
        send({ type: "pong", ts: frame.ts });
        break;
      case "error":
        var failed = frame.client_id ? findPending(frame.client_id) : null;
        if (failed && frame.code !== "not_stored") {
          failed.failed = true;
          setState(failed, t.failed, true);
        }
        if (frame.code === "not_stored") setTimeout(flushPending, 3000);
        if (frame.code !== "session_not_restored") showHint(frame.message);
        if (frame.code === "origin_refused" || frame.code === "origin_missing") stopped = true;
        break;
    }
  }

  function connect() {
    clearTimeout(retryTimer);
    if (stopped || (ws && ws.readyState <= 1)) return;
    ready = false;
    if (attempts === 0) showStatus(t.connecting);
    var socket;
    try { socket = new WebSocket(wsUrl); } catch (e) { scheduleReconnect(); return; }
    ws = socket;
    socket.onopen = function () {
      armWatchdog();
      socket.send(JSON.stringify({ type: "hello", protocol: 1, token: loadToken(), language: language }));
    };
    socket.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      onFrame(frame);
    };
    socket.onclose = function (event) {
      if (ws !== socket) return;
      ws = null;
      ready = false;
      clearTimeout(watchdog);
      showTyping(false);
      if (event.code === 4403) { stopped = true; showStatus(""); return; }
      // Too many tabs: wait longer before trying again.
      scheduleReconnect(event.code === 4429 ? 30000 : null);
    };
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = input.value.trim();
    if (!body) return;
    if (body.length > maxChars) { showHint(t.tooLong.replace("{n}", maxChars)); return; }
    showHint("");
    input.value = "";
    addPending(body);
    flushPending();
    if (!ws) connect();
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit", { cancelable: true }));
    }
  });
  window.addEventListener("online", function () { attempts = 0; if (!ws) connect(); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && !ws) { attempts = 0; connect(); }
  });

  function mount() {
    document.body.appendChild(host);
    connect();
  }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
