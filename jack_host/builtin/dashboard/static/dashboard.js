// Jack's dashboard: the staff API with the CSRF header, the live /ws/staff stream,
// SLA countdowns, and page refreshes of server-rendered fragments. No framework, no build.
"use strict";
(function () {
  const Jack = (window.Jack = window.Jack || {});

  Jack.csrf = function () {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  };

  async function renew() {
    const resp = await fetch("/session/refresh", {
      method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": Jack.csrf() },
    });
    return resp.ok;
  }

  // Call the staff JSON API (/api/v1/...) with the sign-in cookie; renews the cookie once on 401.
  Jack.api = async function (method, url, body) {
    const options = () => ({
      method, credentials: "same-origin",
      headers: { "X-CSRF-Token": Jack.csrf(), "Content-Type": "application/json", Accept: "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let resp = await fetch(url, options());
    if (resp.status === 401 && (await renew())) resp = await fetch(url, options());
    return resp;
  };

  // ---- live events
  const listeners = [];
  Jack.onEvent = function (callback) { listeners.push(callback); };

  function setLive(text) {
    const el = document.getElementById("live-state");
    if (el) el.textContent = text;
  }

  let delay = 1000;
  function connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(scheme + "//" + location.host + "/ws/staff");
    ws.addEventListener("open", () => { delay = 1000; setLive("Live updates on"); });
    ws.addEventListener("message", (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (frame.type === "ping") { ws.send(JSON.stringify({ type: "pong" })); return; }
      if (frame.type === "hello") { document.body.dataset.liveReady = "1"; return; }
      listeners.forEach((callback) => callback(frame));
    });
    ws.addEventListener("close", async (event) => {
      document.body.dataset.liveReady = "";
      setLive("Live updates reconnecting…");
      if (event.code === 4401 && !(await renew())) { location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search)); return; }
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    });
  }

  // ---- alerts: an optional beep and browser notification (switched on per browser)
  Jack.alertsOn = (kind) => localStorage.getItem("jack.alert." + kind) === "1";
  Jack.alert = function (title, text) {
    const region = document.getElementById("live-news");
    if (region) region.textContent = title + ": " + text;
    if (Jack.alertsOn("sound")) {
      try {
        const audio = new AudioContext();
        const tone = audio.createOscillator();
        const gain = audio.createGain();
        tone.frequency.value = 880; gain.gain.value = 0.1;
        tone.connect(gain).connect(audio.destination);
        tone.start(); tone.stop(audio.currentTime + 0.2);
      } catch (e) { /* no audio device */ }
    }
    if (Jack.alertsOn("notify") && "Notification" in window && Notification.permission === "granted") {
      new Notification(title, { body: text });
    }
  };

  function wireAlertSwitches() {
    document.querySelectorAll("input[data-alert-switch]").forEach((box) => {
      const kind = box.dataset.alertSwitch;
      box.checked = Jack.alertsOn(kind);
      box.addEventListener("change", async () => {
        if (box.checked && kind === "notify" && "Notification" in window) {
          box.checked = (await Notification.requestPermission()) === "granted";
        }
        localStorage.setItem("jack.alert." + kind, box.checked ? "1" : "0");
      });
    });
  }

  // ---- refresh a server-rendered fragment (the inbox rows, a conversation's history)
  const pending = {};
  Jack.refreshFragment = function (id, url) {
    clearTimeout(pending[id]);
    pending[id] = setTimeout(async () => {
      const resp = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
      const target = document.getElementById(id);
      if (resp.ok && target) {
        target.innerHTML = await resp.text();
        target.dataset.refreshed = String(Number(target.dataset.refreshed || 0) + 1);
        tickSla();
      }
    }, 150);
  };

  // ---- SLA countdowns: <span data-sla-due="ISO time">
  function tickSla() {
    const now = Date.now();
    document.querySelectorAll("[data-sla-due]").forEach((el) => {
      const due = Date.parse(el.dataset.slaDue);
      if (Number.isNaN(due)) return;
      let seconds = Math.round((due - now) / 1000);
      const late = seconds < 0;
      seconds = Math.abs(seconds);
      const text = Math.floor(seconds / 60) + ":" + String(seconds % 60).padStart(2, "0");
      el.textContent = late ? "SLA overdue by " + text : "SLA " + text + " left";
      el.classList.toggle("breached", late);
    });
  }

  // Confirm destructive buttons: <button data-confirm="Delete this article?">
  function wireConfirms() {
    document.addEventListener("submit", (event) => {
      const button = event.submitter;
      if (button && button.dataset.confirm && !window.confirm(button.dataset.confirm)) event.preventDefault();
    });
  }

  // <input type="file" data-fill="textarea id" data-format="select id">: read the file into the form
  function wireFileFill() {
    const formats = { yaml: "yaml", yml: "yaml", md: "markdown", markdown: "markdown", csv: "csv" };
    document.querySelectorAll("input[type=file][data-fill]").forEach((input) => {
      input.addEventListener("change", async () => {
        const file = input.files && input.files[0];
        if (!file) return;
        document.getElementById(input.dataset.fill).value = await file.text();
        const kind = formats[file.name.split(".").pop().toLowerCase()];
        const select = document.getElementById(input.dataset.format);
        if (kind && select) select.value = kind;
      });
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    wireFileFill();
    wireAlertSwitches();
    wireConfirms();
    tickSla();
    setInterval(tickSla, 1000);
    if (document.body.dataset.live !== undefined) connect();
    const page = document.body.dataset.page;
    if (page && Jack.pages && Jack.pages[page]) Jack.pages[page]();
  });

  // ---- per-page behaviour
  Jack.pages = Jack.pages || {};
  Jack.pages.inbox = function () {
    const rows = document.getElementById("inbox-rows");
    Jack.onEvent((frame) => {
      const kinds = ["message.created", "conversation.updated", "conversation.escalated"];
      if (!kinds.includes(frame.type)) return;
      const payload = frame.payload || {};
      if (frame.type === "message.created" && payload.direction === "inbound") {
        Jack.alert("New message", (payload.guest_address || "a guest") + ": " + (payload.body || "").slice(0, 80));
      }
      if (frame.type === "conversation.escalated") Jack.alert("Escalated", "conversation " + payload.id);
      const url = new URL(location.href);
      url.searchParams.set("fragment", "rows");
      Jack.refreshFragment(rows.id, url.toString());
    });
  };
  Jack.pages.conversation = function () {
    const history = document.getElementById("history");
    const id = Number(history.dataset.conversationId);
    Jack.onEvent((frame) => {
      const payload = frame.payload || {};
      const about = payload.conversation_id === id || (frame.type.startsWith("conversation.") && payload.id === id);
      if (!about) return;
      if (frame.type === "message.created" && payload.direction === "inbound") Jack.alert("New message", (payload.body || "").slice(0, 80));
      Jack.refreshFragment(history.id, location.pathname + "?fragment=history");
    });
  };
})();
