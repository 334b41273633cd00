// The Agents page (who is online, waiting, what each says it does, unread mail) and the graph
// of who talks to whom, drawn as inline SVG from the daemon's `talk` counts (no chart library).
// Agent names, projects, statuses and notes are agent-supplied: text nodes only, via CB.el and
// CB.svg, which never parse markup.
"use strict";
(function () {
  const { el, api, table, time, error } = CB;
  // The unread counts and last-seen times come with a re-read of `agents` (audited by the
  // daemon, so at most this often); presence, status and note change at once from events.
  const REFRESH_MS = 5000;
  const SVG = "http://www.w3.org/2000/svg";

  // An SVG element; attribute values and text are set as data, never parsed.
  CB.svg = function (tag, attrs, ...children) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== undefined && v !== null) e.setAttribute(k, String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined) continue;
      e.append(c instanceof Node ? c : document.createTextNode(CB.visible(String(c))));
    }
    return e;
  };

  const PRESENCE = { waiting: "waiting", connected: "connected", offline: "offline" };

  function agentRow(a) {
    const presence = PRESENCE[a.presence] || "offline";
    return el("tr", { "data-agent": a.name },
      el("td", { class: "name" }, a.name),
      el("td", { class: "mono project" }, a.project),
      el("td", {}, a.client || "—"),
      el("td", {}, el("span", { class: "presence " + presence }, presence)),
      el("td", { class: "status" }, a.status || "—"),
      el("td", { class: "note" }, el("pre", { class: "text" }, a.note || "")),
      el("td", { class: "num" }, a.unread ? el("span", { class: "badge unread" }, a.unread) : "0"),
      el("td", { class: "time" }, time(a.last_seen)));
  }

  function mountAgents(root) {
    const body = el("div", {});
    root.append(el("h2", {}, "Agents"), body);
    let agents = [];
    const render = () => {
      if (!agents.length) {
        body.replaceChildren(el("p", { class: "muted" },
          "No agent has connected yet: agents appear here once a client runs through " +
          "claude-bridge-shim."));
        return;
      }
      const order = { waiting: 0, connected: 0, offline: 1 };
      const sorted = [...agents].sort((x, y) => (order[x.presence] ?? 1) - (order[y.presence] ?? 1) ||
        (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
      body.replaceChildren(table(["Name", "Project", "Client", "Presence", "Status", "Note",
        "Unread", "Last seen"], sorted.map(agentRow)));
    };
    const load = async () => {
      try {
        agents = (await api("/api/agents")).agents;
        render();
      } catch (e) { body.replaceChildren(error(e.message)); }
    };
    const later = CB.throttle(load, REFRESH_MS);
    const find = (name) => agents.find((a) => a.name === name);
    const off = CB.on((name, d) => {
      if (name === "hello") { load(); return; }
      if (name !== "bridge") return;
      if (d.event === "agent") {
        const a = find(d.name);
        const presence = d.state === "waiting" ? "waiting" : d.state === "offline" ? "offline"
          : "connected";
        if (a) {
          a.presence = presence;
          if (d.project !== undefined) a.project = d.project;
          if (d.client !== undefined) a.client = d.client;
          if (presence !== "waiting") a.last_seen = new Date().toISOString();
          render();
        } else {
          load();  // a new agent: its row comes from the daemon
          return;
        }
      } else if (d.event === "status" && typeof d.agent === "string") {
        const a = find(d.agent);
        if (a) {
          a.status = d.status;
          a.note = d.note;
          a.last_seen = d.timestamp;
          render();
        }
      }
      later();
    });
    load();
    return () => { off(); later.cancel(); };
  }

  // The graph: nodes on a circle, one arrow per direction with its count. `pairs` is
  // [{from, to, messages}].
  CB.talkGraph = function (pairs) {
    const names = [...new Set(pairs.flatMap((p) => [p.from, p.to]))].sort();
    if (!names.length) {
      return el("p", { class: "muted" }, "No messages in the last hour.");
    }
    const W = 640, H = 420, R = Math.min(W, H) / 2 - 70;
    const cx = W / 2, cy = H / 2;
    const at = new Map(names.map((n, i) => {
      const t = (2 * Math.PI * i) / names.length - Math.PI / 2;
      return [n, { x: cx + R * Math.cos(t), y: cy + R * Math.sin(t) }];
    }));
    const max = Math.max(...pairs.map((p) => p.messages));
    const svg = CB.svg("svg", { class: "talk", viewBox: `0 0 ${W} ${H}`, width: W, height: H,
                                role: "img", "aria-label": "who talks to whom" });
    svg.append(CB.svg("defs", {}, CB.svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9,
      refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
    CB.svg("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrowhead" }))));
    const NODE = 22;
    for (const p of pairs) {
      const a = at.get(p.from), b = at.get(p.to);
      const dx = b.x - a.x, dy = b.y - a.y, len = Math.hypot(dx, dy) || 1;
      // Each direction of a pair a little to its own side, so both arrows and counts show.
      const nx = -dy / len * 6, ny = dx / len * 6;
      const x1 = a.x + dx / len * NODE + nx, y1 = a.y + dy / len * NODE + ny;
      const x2 = b.x - dx / len * NODE + nx, y2 = b.y - dy / len * NODE + ny;
      const edge = CB.svg("g", { class: "edge", "data-from": p.from, "data-to": p.to },
        CB.svg("title", {}, `${p.from} → ${p.to}: ${p.messages} message(s)`),
        CB.svg("line", { x1, y1, x2, y2, "stroke-width": 1 + 4 * p.messages / max,
                         "marker-end": "url(#arrow)" }),
        CB.svg("text", { x: (x1 + x2) / 2 + nx * 2, y: (y1 + y2) / 2 + ny * 2, class: "count" },
          String(p.messages)));
      svg.append(edge);
    }
    for (const n of names) {
      const { x, y } = at.get(n);
      svg.append(CB.svg("g", { class: n === "@operator" ? "node operator" : "node",
                               "data-name": n },
        CB.svg("circle", { cx: x, cy: y, r: NODE }),
        CB.svg("text", { x, y: y + NODE + 14, class: "label" }, n.length > 24 ? n.slice(0, 23) + "…" : n)));
    }
    return svg;
  };

  // The graph's card, kept up to date by message events (a re-read at most every REFRESH_MS).
  CB.mountTalk = function (host) {
    const box = el("div", { class: "card graph", id: "talk" });
    host.append(el("h2", {}, "Who talks to whom (last hour)"), box);
    const load = async () => {
      try {
        const r = await api("/api/talk");
        box.replaceChildren(CB.talkGraph(r.pairs),
          r.pairs.length ? table(["From", "To", "Messages"], r.pairs.map((p) =>
            el("tr", {}, el("td", {}, p.from), el("td", {}, p.to),
              el("td", { class: "num" }, p.messages)))) : null);
      } catch (e) { box.replaceChildren(error(e.message)); }
    };
    const later = CB.throttle(load, REFRESH_MS);
    const off = CB.on((name, d) => {
      if (name === "hello") load();
      else if (name === "bridge" && d.event === "message") later();
    });
    load();
    return () => { off(); later.cancel(); };
  };

  CB.views.unshift({ name: "agents", title: "Agents", nav: "agents", inNav: true,
                     match: (p) => p[0] === "agents", mount: mountAgents });
})();
