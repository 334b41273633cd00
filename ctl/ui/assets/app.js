// The console's core: helpers that build the DOM from text only (never from markup: everything
// an agent wrote is shown as text), the daemon's API, the one event stream, and the router.
// Views register themselves in CB.views (views.js, health.js); the nav is built from that list,
// so a new page is one more registration.
"use strict";

const CB = (window.CB = { views: [], current: null, handlers: new Set() });

// Makes what a terminal or the layout would hide visible, like claude-bridgectl does
// (common/visible.h): C0/C1 controls other than newline and tab, DEL, format characters
// (bidi overrides, zero-width…), line/paragraph separators, as \xNN / \uNNNN.
CB.visible = function (s) {
  if (typeof s !== "string") s = s === null || s === undefined ? "" : String(s);
  return s.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2028\u2029\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]/g,
    (c) => {
      const n = c.charCodeAt(0);
      if (n === 13) return "\\r";
      if (n < 0x100) return "\\x" + n.toString(16).toUpperCase().padStart(2, "0");
      return "\\u" + n.toString(16).toUpperCase().padStart(4, "0");
    });
};

// el("td", {class: "num"}, "text", child, ...): strings become text nodes, never markup.
CB.el = function (tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "onclick") e.addEventListener("click", v);
    else if (k === "onchange") e.addEventListener("change", v);
    else if (k === "oninput") e.addEventListener("input", v);
    else e.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(CB.visible(String(c))));
  }
  return e;
};

// A link inside the console; `path` is built by the caller from checked ids only.
CB.link = (path, text) => CB.el("a", { href: "#" + path }, text);
CB.isConversationId = (s) => typeof s === "string" && /^conv_[0-9a-f]{16}$/.test(s);

CB.time = function (iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return isNaN(d) ? CB.visible(iso) : d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
};

CB.table = function (headers, rows) {
  return CB.el("table", {},
    CB.el("thead", {}, CB.el("tr", {}, headers.map((h) => CB.el("th", {}, h)))),
    CB.el("tbody", {}, rows));
};

CB.error = (text) => CB.el("p", { class: "error" }, text);

// GET (or POST with an empty body: the server checks the Origin the browser sends) one of the
// console's /api/ addresses; rejects with the server's one-line reason.
CB.api = async function (path, post) {
  const r = await fetch(path, { method: post ? "POST" : "GET", credentials: "same-origin",
                                cache: "no-store" });
  const body = await r.text();
  let data = null;
  try { data = JSON.parse(body); } catch (e) { /* a plain-text refusal */ }
  if (!r.ok) throw new Error((data && data.error) || body.trim() || "HTTP " + r.status);
  return data;
};

// POSTs `body` as JSON to one of the console's /api/ addresses (the operator's changes); the
// browser sends this page's Origin, which the server requires. Rejects with the reason.
CB.post = async function (path, body) {
  const r = await fetch(path, { method: "POST", credentials: "same-origin", cache: "no-store",
                                headers: { "Content-Type": "application/json" },
                                body: JSON.stringify(body) });
  const text = await r.text();
  let data = null;
  try { data = JSON.parse(text); } catch (e) { /* a plain-text refusal */ }
  if (!r.ok) throw new Error((data && data.error) || text.trim() || "HTTP " + r.status);
  return data;
};

// The console shares identical daemon reads for a second (Server::kCoalesce): a read made
// sooner after an event could get an answer from before it.
CB.FRESH_MS = 1200;

// Runs fn CB.FRESH_MS after a call, or `ms` after its last run if that is later: live updates
// that each cost a daemon call are spread out however fast events come, and see the event.
CB.throttle = function (fn, ms) {
  let last = 0, timer = null;
  const run = () => { timer = null; last = Date.now(); fn(); };
  const t = () => {
    if (timer) return;
    timer = setTimeout(run, Math.max(CB.FRESH_MS, last + ms - Date.now()));
  };
  t.cancel = () => { if (timer) clearTimeout(timer); timer = null; };
  return t;
};

// The one event stream of this page. Handlers get (name, data); `hello` comes after every
// (re)connect, when a view re-reads its state.
CB.on = (fn) => { CB.handlers.add(fn); return () => CB.handlers.delete(fn); };
function connectEvents() {
  const live = document.getElementById("live");
  const es = new EventSource("/events");
  let hellos = 0;
  const dispatch = (name) => (ev) => {
    // Views load when mounted; a later `hello` means the stream reconnected and may have
    // missed events, so they load again.
    if (name === "hello" && ++hellos === 1) return;
    let data = {};
    try { data = JSON.parse(ev.data); } catch (e) { return; }
    for (const h of [...CB.handlers]) h(name, data);
  };
  for (const name of ["hello", "bridge", "stats", "approvals"]) {
    es.addEventListener(name, dispatch(name));
  }
  es.addEventListener("open", () => { live.textContent = "live"; live.className = "live on"; });
  es.addEventListener("error", () => {
    live.textContent = "reconnecting…"; live.className = "live off";
  });
}

// Routes: #/name/arg. A view is {name, title, nav, match(parts) -> bool, mount(root, parts)
// -> unmount function}.
function route() {
  const parts = (location.hash.replace(/^#\/?/, "") || "conversations").split("/");
  const view = CB.views.find((v) => v.match(parts)) || CB.views[0];
  if (CB.current && CB.current.unmount) CB.current.unmount();
  const root = document.getElementById("main");
  root.replaceChildren();
  for (const a of document.querySelectorAll("#nav a")) {
    a.classList.toggle("active", a.dataset.view === view.nav);
  }
  document.title = view.title + " — claude-bridge console";
  CB.current = { view, unmount: view.mount(root, parts) };
}

window.addEventListener("DOMContentLoaded", () => {
  const nav = document.getElementById("nav");
  for (const v of CB.views.filter((x) => x.inNav)) {
    const a = CB.link("/" + v.name, v.title);
    a.dataset.view = v.nav;
    nav.append(a);
  }
  window.addEventListener("hashchange", route);
  connectEvents();
  route();
});
