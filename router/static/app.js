// Progressive enhancement only: every page works without this file.
"use strict";

const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

async function postJSON(url, body) {
  const r = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
    body: JSON.stringify(body),
  });
  return r.ok ? r.json() : null;
}

function fmtLeft(seconds) {
  const s = Math.abs(Math.round(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const text = (h ? h + "h " : "") + (h || m ? m + "m " : "") + sec + "s";
  return seconds < 0 ? "overdue " + text : text + " left";
}

function tick() {
  const now = Date.now();
  document.querySelectorAll("time.countdown[data-due]").forEach((el) => {
    const left = (Date.parse(el.dataset.due) - now) / 1000;
    el.textContent = fmtLeft(left);
    el.classList.toggle("overdue", left < 0);
  });
}

function live(url, handlers) {
  if (!window.EventSource) return;
  const source = new EventSource(url);
  Object.entries(handlers).forEach(([name, fn]) =>
    source.addEventListener(name, (e) => fn(JSON.parse(e.data))));
}

function queuePage(rows) {
  let pending = null;
  const refresh = () => {
    if (pending) return;
    pending = setTimeout(async () => {
      pending = null;
      const r = await fetch(rows.dataset.src, { credentials: "same-origin" });
      if (!r.ok) return;
      const checked = new Set([...rows.querySelectorAll("input[name=ids]:checked")].map((i) => i.value));
      rows.innerHTML = await r.text(); // server-rendered and escaped by Jinja
      rows.querySelectorAll("input[name=ids]").forEach((i) => { i.checked = checked.has(i.value); });
      tick();
    }, 150);
  };
  live("/api/events", { changed: refresh });
  const all = document.getElementById("select-all");
  if (all) all.addEventListener("change", () =>
    rows.querySelectorAll("input[name=ids]").forEach((i) => { i.checked = all.checked; }));
}

function casePage(page) {
  const id = page.dataset.case;
  const me = (document.querySelector(".me") || {}).firstChild;
  const myName = me ? me.textContent.trim() : "";
  const presence = document.getElementById("presence");
  const panel = document.getElementById("panel");
  live("/api/events?case=" + id, {
    presence: (e) => {
      const others = e.viewers.filter((v) => v.user !== myName);
      presence.textContent = others.map((v) => v.user + " is " + v.state).join(", ");
    },
    changed: async (e) => {
      if (!e.cases.includes(Number(id))) return;
      const r = await fetch("/cases/" + id + "/panel", { credentials: "same-origin" });
      if (r.ok) { panel.innerHTML = await r.text(); tick(); }
    },
  });

  let active = true, typedAt = 0;
  ["mousemove", "keydown", "click", "scroll"].forEach((ev) =>
    document.addEventListener(ev, () => { active = true; }, { passive: true }));
  const beat = (state) => {
    postJSON("/api/cases/" + id + "/presence", { state, active });
    active = false;
  };
  beat("viewing");
  setInterval(() => beat(Date.now() - typedAt < 5000 ? "typing" : "viewing"), 10000);
  window.addEventListener("pagehide", () => {
    navigator.sendBeacon && fetch("/api/cases/" + id + "/presence", {
      method: "POST", keepalive: true, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify({ state: "left" }),
    });
  });

  const text = document.getElementById("reply-text");
  if (!text) return;
  const count = document.getElementById("reply-count");
  const preview = document.getElementById("reply-preview");
  const canned = document.getElementById("canned");
  let timer = null, wasTyping = false;
  const update = () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const result = await postJSON("/api/compose/preview", { case: Number(id), text: text.value });
      if (!result) return;
      count.textContent = result.length;
      count.parentElement.classList.toggle("over", !result.fits && text.value.length > 0);
      preview.textContent = result.text; // text, never HTML
    }, 200);
  };
  text.addEventListener("input", () => {
    typedAt = Date.now();
    if (!wasTyping) { wasTyping = true; beat("typing"); setTimeout(() => { wasTyping = false; }, 5000); }
    update();
  });
  if (canned) canned.addEventListener("change", () => {
    if (canned.value) { text.value = canned.value; update(); }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  tick();
  setInterval(tick, 1000);
  const rows = document.getElementById("rows");
  if (rows) queuePage(rows);
  const page = document.querySelector(".case-page");
  if (page) casePage(page);
});
