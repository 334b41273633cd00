// The console's pages over ctl.sock's admin methods: conversations (list and one
// conversation, live), the audit trail with its chain check, and the approvals waiting for a
// person. Everything shown goes through CB.el, which makes text nodes only.
"use strict";
(function () {
  const { el, api, table, time, link, error } = CB;
  // A page refreshes what it shows from the daemon at most this often while events come (each
  // `show` or `audit` call is itself written to the audit trail).
  const REFRESH_MS = 5000;

  // Who is in a conversation: its members by name (a conversation of agents) or its two seats'
  // roles (a conversation of tokens), each with its unread count.
  function whoIsIn(c) {
    if (c.kind === "agents") {
      return el("ul", { class: "members" }, (c.members || []).map((m) =>
        el("li", { "data-member": m.agent }, el("span", { class: "name" }, m.agent),
          m.unread ? el("span", { class: "badge unread" }, m.unread + " unread") : null,
          m.connected ? el("span", { class: "badge good" }, "online") : null)));
    }
    return el("ul", { class: "members" },
      el("li", {}, "a: ", el("span", { class: "role" }, c.role_a),
        c.unread_a ? el("span", { class: "badge unread" }, c.unread_a + " unread") : null),
      el("li", {}, "b: ", el("span", { class: "role" }, c.role_b),
        c.unread_b ? el("span", { class: "badge unread" }, c.unread_b + " unread") : null));
  }

  function conversationRow(c) {
    const id = CB.isConversationId(c.conversation_id) ? c.conversation_id : null;
    return el("tr", { "data-conversation": id || "" },
      el("td", { class: "mono" }, id ? link("/conversation/" + id, id) : c.conversation_id),
      el("td", {}, c.kind === "agents" ? "agents" : "tokens"),
      el("td", {}, whoIsIn(c)),
      el("td", { class: "time" }, time(c.created_at)), el("td", { class: "time" }, time(c.expires_at)),
      el("td", { class: c.active ? "good" : "muted" }, c.active ? "active" : "ended"),
      el("td", { class: "num" }, c.messages),
      el("td", {}, (c.connected || []).join(", ") || "—"));
  }

  function mountConversations(root) {
    const body = el("div", {});
    root.append(el("h2", {}, "Conversations"), body);
    const unmountTalk = CB.mountTalk(root);
    const load = async () => {
      try {
        const r = await api("/api/list");
        if (!r.conversations.length) {
          body.replaceChildren(el("p", { class: "muted" }, "No conversations yet."));
          return;
        }
        body.replaceChildren(table(["Conversation", "Kind", "Members (unread)", "Created",
          "Expires", "State", "Msgs", "Connected"], r.conversations.map(conversationRow)));
      } catch (e) { body.replaceChildren(error(e.message)); }
    };
    const later = CB.throttle(load, REFRESH_MS);
    const off = CB.on((name, d) => {
      if (name === "hello") load();
      else if (name === "bridge") later();
    });
    load();
    return () => { off(); later.cancel(); unmountTalk(); };
  }

  // Read marks: a seat's message has its own read time; a message to every member of a
  // conversation of agents is read by each member whose read position reached it.
  function readMarks(m, members) {
    if (m.to === "*" || Array.isArray(m.to)) {
      if (!members) return null;
      const others = members.filter((x) => x.agent !== m.from);
      const read = others.filter((x) => x.read_up_to >= m.id).map((x) => x.agent);
      const unread = others.filter((x) => x.read_up_to < m.id).map((x) => x.agent);
      return [read.length ? el("span", { class: "badge read" }, "read by " + read.join(", ")) : null,
        unread.length ? el("span", { class: "badge unread" }, "unread by " + unread.join(", "))
          : null];
    }
    if (m.read === undefined) return null;
    return m.read ? el("span", { class: "badge read" }, "read " + time(m.read_at))
      : el("span", { class: "badge unread" }, "unread");
  }

  function messageCard(m, roles, members) {
    const who = (s) => (roles[s] ? s + " (" + roles[s] + ")" : s);
    const to = Array.isArray(m.to) ? m.to.join(", ") : m.to === "*" ? "everyone" : who(m.to);
    const kinds = Object.keys(m.redactions || {});
    return el("div", { class: "card message" + (m.from === "@operator" ? " operator" : ""),
                       "data-id": String(m.id) },
      el("div", { class: "meta" },
        el("span", {}, "#" + m.id),
        el("span", {}, time(m.timestamp)),
        el("span", { class: "sender" }, who(m.from) + " → " + to),
        m.reply_to ? el("button", { class: "linkish reply", type: "button",
          onclick: () => CB.scrollToMessage(m.reply_to) }, "reply to #" + Number(m.reply_to))
          : null,
        el("span", { class: "badge action" }, m.action_type),
        readMarks(m, members),
        kinds.length ? el("span", { class: "badge redacted" }, "redacted: " + kinds.join(", "))
          : null),
      el("pre", { class: "text" }, m.message),
      (m.files_involved || []).length
        ? el("ul", { class: "files" }, m.files_involved.map((f) => el("li", { class: "mono" }, f)))
        : null);
  }

  CB.scrollToMessage = (id) => {
    const card = document.querySelector(`.message[data-id="${Number(id)}"]`);
    if (card) { card.scrollIntoView({ block: "center" }); card.classList.add("fresh"); }
  };

  function memberLine(m) {
    return el("tr", { "data-member": m.agent },
      el("td", {}, m.agent), el("td", {}, m.connected ? "connected" : "offline"),
      el("td", { class: "num" }, m.unread), el("td", { class: "num" }, m.read_up_to));
  }

  // The operator's controls on a conversation page: the compose form (conversations of
  // agents) and the end button (a second click confirms: no dialog). Both POST JSON; the
  // server checks the Origin, the daemon redacts, audits and rate-limits.
  function operatorControls(id, conv, reload) {
    const box = el("div", { class: "card operator-controls" });
    if (!conv.active) {
      box.append(el("p", { class: "muted" }, "This conversation has ended."));
      return box;
    }
    const said = el("span", { class: "post-result" });
    if (conv.kind === "agents") {
      const text = el("textarea", { id: "compose", rows: "3", maxlength: "50000",
        placeholder: "Write to every member as @operator…" });
      const type = el("select", { id: "compose-type" },
        ["info", "question", "proposal", "blocked", "complete"].map((t) =>
          el("option", { value: t }, t)));
      const send = el("button", { id: "compose-send", type: "submit" }, "Post as @operator");
      const form = el("form", { class: "compose" },
        el("label", {}, "Post into this conversation as the operator (the agents read it from " +
          "@operator, which no agent can be)"), text, el("div", { class: "row" }, type, send, said));
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        if (!text.value.trim()) return;
        send.disabled = true;
        try {
          const r = await CB.post("/api/post", { conversation_id: id, message: text.value,
                                                 action_type: type.value });
          const kinds = Object.keys(r.redactions || {});
          said.replaceChildren(el("span", { class: "good" }, "posted #" + r.message_id + " to " +
            r.to.join(", ") + (kinds.length ? " (redacted: " + kinds.join(", ") + ")" : "")));
          text.value = "";
        } catch (e) { said.replaceChildren(el("span", { class: "bad" }, e.message)); }
        send.disabled = false;
      });
      box.append(form);
    }
    const end = el("button", { id: "end-conversation", type: "button", class: "danger" },
      "End this conversation");
    let armed = false;
    end.addEventListener("click", async () => {
      if (!armed) {
        armed = true;
        end.textContent = "Click again to end it now (the agents are told)";
        setTimeout(() => { armed = false; end.textContent = "End this conversation"; }, 5000);
        return;
      }
      end.disabled = true;
      try {
        await CB.post("/api/end", { conversation_id: id });
        reload();
      } catch (e) { said.replaceChildren(el("span", { class: "bad" }, e.message)); end.disabled = false; }
    });
    box.append(el("div", { class: "row" }, end));
    return box;
  }

  function statusLine(side, role, s) {
    s = s || {};
    const presence = s.waiting ? "waiting for mail" : s.connected ? "connected" : "offline";
    return el("tr", {},
      el("td", {}, side), el("td", {}, role), el("td", {}, s.status || "unknown"),
      el("td", {}, presence), el("td", {}, time(s.last_heartbeat)));
  }

  function mountConversation(root, parts) {
    const id = parts[1];
    if (!CB.isConversationId(id)) {
      root.append(error("Not a conversation id."));
      return null;
    }
    const head = el("div", {});
    const list = el("div", { id: "messages" });
    const controls = el("div", {});
    root.append(el("h2", {}, link("/conversations", "Conversations"), " / ", el("span",
      { class: "mono" }, id)), head, el("h2", {}, "Messages"), list, controls);
    let controlsFor = null;  // the state the controls were built for (kept while typing)
    let conv = null;
    let roles = {};
    const data = new Map();  // id -> the message as last read
    const shown = new Map();  // id -> its card
    const put = (m, fresh) => {
      data.set(m.id, m);
      const card = messageCard(m, roles, conv && conv.kind === "agents" ? conv.members : null);
      if (fresh) card.classList.add("fresh");
      const old = shown.get(m.id);
      if (old) old.replaceWith(card); else list.append(card);
      shown.set(m.id, card);
    };
    const renderHead = () => {
      const st = conv.statuses || {};
      head.replaceChildren(
        el("div", { class: "meta" },
          el("span", { class: conv.active ? "good" : "muted" }, conv.active ? "active" : "ended"),
          el("span", {}, conv.kind === "agents" ? "conversation of agents" : "conversation of tokens"),
          el("span", {}, "created " + time(conv.created_at)),
          el("span", {}, (conv.active ? "expires " : "ended ") + time(conv.expires_at)),
          el("span", {}, "exec mode " + conv.exec_mode)),
        conv.kind === "agents"
          ? table(["Member", "Presence", "Unread", "Read up to #"], (conv.members || []).map(memberLine))
          : table(["Session", "Role", "Status", "Presence", "Heartbeat"],
            [statusLine("a", conv.role_a, st.a), statusLine("b", conv.role_b, st.b)]));
      const state = conv.kind + (conv.active ? " active" : " ended");
      if (state !== controlsFor) {
        controlsFor = state;
        controls.replaceChildren(operatorControls(id, conv, load));
      }
    };
    // Everything: on opening, and after the stream reconnected.
    const load = async () => {
      try {
        conv = await api("/api/show?conversation_id=" + id);
        roles = conv.kind === "agents" ? {} : { a: conv.role_a, b: conv.role_b };
        renderHead();
        if (list.querySelector(".muted")) list.replaceChildren();
        for (const m of conv.messages) put(m, false);
        if (!conv.messages.length && !shown.size) {
          list.replaceChildren(el("p", { class: "muted" }, "No messages yet."));
        }
      } catch (e) { head.replaceChildren(error(e.message)); }
    };
    // After events: only from the oldest message not known to be read on (files, redactions
    // and read marks of what is new), so the cost does not grow with the conversation.
    const refresh = async () => {
      if (!conv) return load();
      let after = 0;
      for (const [mid, m] of data) after = Math.max(after, mid);
      if (conv.kind === "agents") {
        // What every member has read needs no refresh.
        for (const x of conv.members || []) after = Math.min(after, x.read_up_to);
      } else {
        for (const [mid, m] of data) if (!m.read && mid - 1 < after) after = mid - 1;
      }
      try {
        for (let pages = 0; pages < 20; pages++) {
          const r = await api("/api/messages?conversation_id=" + id + "&after_id=" + after);
          if (r.members && conv.kind === "agents") {
            const pos = new Map(r.members.map((x) => [x.agent, x.read_up_to]));
            conv.members = (conv.members || []).map((x) =>
              pos.has(x.agent) ? { ...x, read_up_to: pos.get(x.agent) } : x);
            for (const [, m] of data) put(m, shown.get(m.id)?.classList.contains("fresh"));
          }
          for (const m of r.messages) put(m, shown.get(m.id)?.classList.contains("fresh"));
          for (const [side, st] of Object.entries(r.statuses || {})) {
            conv.statuses[side] = { ...(conv.statuses[side] || {}), status: st.status,
                                    last_heartbeat: st.last_heartbeat };
          }
          renderHead();
          if (r.complete || !r.messages.length) break;
          after = r.messages[r.messages.length - 1].id;
        }
      } catch (e) { head.replaceChildren(error(e.message)); }
    };
    const later = CB.throttle(refresh, REFRESH_MS);
    const off = CB.on((name, d) => {
      if (name === "hello") { load(); return; }
      if (name !== "bridge" || d.conversation_id !== id) return;
      if (d.event === "message") {
        // Shown at once from the event; files, redactions and read marks follow with the
        // next refresh.
        if (list.querySelector(".muted")) list.replaceChildren();
        if (!shown.has(d.id)) {
          put({ id: d.id, from: d.from, to: d.to, action_type: d.action_type,
                message: d.message, timestamp: d.timestamp, reply_to: d.reply_to }, true);
        }
      } else if (d.event === "status" && conv) {
        conv.statuses[d.session_id] = { ...(conv.statuses[d.session_id] || {}),
                                         status: d.status, last_heartbeat: d.timestamp };
        renderHead();
      }
      later();
    });
    load();
    return () => { off(); later.cancel(); };
  }

  function auditRow(e) {
    return el("tr", { class: e.outcome === "ok" ? "" : "bad" },
      el("td", { class: "num" }, e.id), el("td", { class: "time" }, time(e.timestamp)),
      el("td", { class: "mono" }, e.conversation_id || "—"), el("td", {}, e.session_id || "—"),
      el("td", {}, e.action), el("td", {}, e.outcome),
      el("td", { class: "mono" }, JSON.stringify(e.details)));
  }

  function mountAudit(root) {
    const conv = el("input", { placeholder: "conv_… (all)", size: "24" });
    const limit = el("input", { type: "number", min: "1", max: "10000", value: "200" });
    const action = el("select", {}, el("option", { value: "" }, "any"));
    const outcome = el("select", {}, el("option", { value: "" }, "any"));
    const text = el("input", { placeholder: "text in details", size: "18" });
    const verdict = el("span", { class: "verdict" });
    const body = el("div", {});
    let entries = [];
    const fill = (select, values) => {
      const keep = select.value;
      select.replaceChildren(el("option", { value: "" }, "any"),
        ...[...values].sort().map((v) => el("option", { value: v }, v)));
      select.value = keep;
    };
    const render = () => {
      const rows = entries.filter((e) => (!action.value || e.action === action.value) &&
        (!outcome.value || e.outcome === outcome.value) &&
        (!text.value || JSON.stringify(e.details).includes(text.value)));
      body.replaceChildren(rows.length ? table(["ID", "Time", "Conversation", "Session", "Action",
        "Outcome", "Details"], rows.map(auditRow)) : el("p", { class: "muted" }, "No entries."));
    };
    const load = async () => {
      const q = new URLSearchParams();
      if (conv.value) q.set("conversation_id", conv.value.trim());
      if (limit.value) q.set("limit", limit.value);
      try {
        entries = (await api("/api/audit?" + q.toString())).entries;
        fill(action, new Set(entries.map((e) => e.action)));
        fill(outcome, new Set(entries.map((e) => e.outcome)));
        render();
      } catch (e) { body.replaceChildren(error(e.message)); }
    };
    const verify = async () => {
      verdict.replaceChildren("checking…");
      try {
        const v = await api("/api/audit/verify", true);
        verdict.replaceChildren(v.ok
          ? el("span", { class: "good" }, "✓ chain intact: " + v.entries + " entries verified")
          : el("span", { class: "bad" }, "✗ chain broken at entry " + v.first_bad_id + ": " +
            v.problem));
      } catch (e) { verdict.replaceChildren(error(e.message)); }
    };
    conv.addEventListener("change", load);
    limit.addEventListener("change", load);
    for (const f of [action, outcome]) f.addEventListener("change", render);
    text.addEventListener("input", render);
    root.append(el("h2", {}, "Audit trail"),
      el("div", { class: "filters" },
        el("label", {}, "Conversation", conv), el("label", {}, "Newest", limit),
        el("label", {}, "Action", action), el("label", {}, "Outcome", outcome),
        el("label", {}, "Details contain", text),
        el("button", { id: "verify", onclick: verify }, "Verify the hash chain"), verdict),
      body);
    const later = CB.throttle(load, REFRESH_MS);
    const off = CB.on((name) => {
      if (name === "hello") load(); else if (name === "bridge") later();
    });
    load();
    verify();
    return () => { off(); later.cancel(); };
  }

  // The terminal command that decides an approval: approval stays with a person at a terminal.
  CB.approvalCard = function (a, ctl) {
    const id = /^[A-Za-z0-9_]+$/.test(a.id) ? a.id : "ID";
    return el("div", { class: "card approval" },
      el("div", { class: "meta" },
        el("span", { class: "mono" }, a.id), el("span", {}, "from " + a.session_id + " (" +
          a.role + ")"), el("span", { class: "mono" }, a.conversation_id),
        el("span", {}, "mode " + a.mode), el("span", {}, a.allow_network ? "network allowed"
          : "no network"), el("span", {}, "timeout " + a.timeout_seconds + " s"),
        el("span", {}, "expires " + time(a.expires_at))),
      el("div", {}, "argv (exactly):"),
      el("div", { class: "argv" }, (a.argv || []).map((x) => el("code", {}, x))),
      el("div", {}, "workspace: ", el("code", {}, a.workspace)),
      el("div", {}, "approve in a terminal: ", el("code", { class: "approve-command" },
        ctl + " approve " + id), "  (or ", el("code", {}, ctl + " deny " + id), ")"));
  };

  function mountApprovals(root) {
    const body = el("div", {});
    root.append(el("h2", {}, "Approvals waiting for a person"), body);
    const show = (list, ctl) => {
      body.replaceChildren(...(list.length ? list.map((a) => CB.approvalCard(a, ctl))
        : [el("p", { class: "muted" }, "No command is waiting for approval.")]));
    };
    let ctl = "claude-bridgectl";
    const load = async () => {
      try {
        const h = await api("/api/health");
        ctl = h.ctl || ctl;
        show(h.approvals, ctl);
      } catch (e) { body.replaceChildren(error(e.message)); }
    };
    const off = CB.on((name, d) => {
      if (name === "hello") load();
      else if (name === "approvals") show(d.approvals, ctl);
    });
    load();
    return off;
  }

  CB.views.push(
    { name: "conversations", title: "Conversations", nav: "conversations", inNav: true,
      match: (p) => p[0] === "conversations", mount: mountConversations },
    { name: "conversation", title: "Conversation", nav: "conversations",
      match: (p) => p[0] === "conversation", mount: mountConversation },
    { name: "audit", title: "Audit", nav: "audit", inNav: true,
      match: (p) => p[0] === "audit", mount: mountAudit },
    { name: "approvals", title: "Approvals", nav: "approvals", inNav: true,
      match: (p) => p[0] === "approvals", mount: mountApprovals });
})();
