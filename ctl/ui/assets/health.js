// The Health page: the daemon's `stats` as small plots drawn here on <canvas> (no chart
// library), from the samples the console takes every few seconds (ctl/ui/feed.h) and the
// `stats` events that bring each new one.
"use strict";
(function () {
  const { el, api, table } = CB;
  const COLORS = { a: "#2457c5", p50: "#2457c5", p90: "#9a6700", p99: "#b3261e" };

  // Lines over time on a canvas; series: [{name, color, values}], times in ms.
  function plot(canvas, times, series, unit) {
    const ratio = window.devicePixelRatio || 1;
    const w = canvas.clientWidth || 360, h = canvas.clientHeight || 160;
    canvas.width = w * ratio;
    canvas.height = h * ratio;
    const g = canvas.getContext("2d");
    g.scale(ratio, ratio);
    g.clearRect(0, 0, w, h);
    const left = 48, right = 8, top = 8, bottom = 20;
    const all = series.flatMap((s) => s.values).filter((v) => Number.isFinite(v));
    const max = Math.max(1, ...all) * 1.1;
    g.strokeStyle = "#d8dce2";
    g.fillStyle = "#667";
    g.font = "11px system-ui, sans-serif";
    for (let i = 0; i <= 4; i++) {
      const y = top + (h - top - bottom) * (1 - i / 4);
      g.beginPath(); g.moveTo(left, y); g.lineTo(w - right, y); g.stroke();
      g.fillText(fmt(max * i / 4) + unit, 2, y + 4);
    }
    if (times.length < 2) {
      g.fillText("collecting samples…", left + 8, top + 20);
      return;
    }
    const t0 = times[0], t1 = times[times.length - 1];
    const x = (t) => left + (w - left - right) * ((t - t0) / Math.max(1, t1 - t0));
    const y = (v) => top + (h - top - bottom) * (1 - v / max);
    const span = t1 - t0;
    g.fillText("last " + (span < 120000 ? Math.round(span / 1000) + " s" : Math.round(span / 60000) +
      " min"), w - right - 60, h - 4);
    for (const s of series) {
      g.strokeStyle = s.color;
      g.lineWidth = 1.5;
      g.beginPath();
      s.values.forEach((v, i) => {
        if (!Number.isFinite(v)) return;
        if (i === 0) g.moveTo(x(times[i]), y(v)); else g.lineTo(x(times[i]), y(v));
      });
      g.stroke();
    }
  }

  function fmt(v) {
    if (v >= 1e6) return (v / 1e6).toFixed(1) + "M";
    if (v >= 1e3) return (v / 1e3).toFixed(1) + "k";
    return v >= 10 ? String(Math.round(v)) : v.toFixed(1);
  }

  function bytes(n) {
    if (!Number.isFinite(n)) return "—";
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : String(n)) + " " + units[i];
  }

  function duration(s) {
    const d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
    return (d ? d + "d " : "") + (d || h ? h + "h " : "") + m + "m " + (s % 60) + "s";
  }

  function mountHealth(root) {
    let samples = [];
    let method = "";
    const figures = el("div", { class: "figures" });
    const rate = el("canvas", { id: "plot-rate" });
    const lat = el("canvas", { id: "plot-latency" });
    const conns = el("canvas", { id: "plot-connections" });
    const pick = el("select", {});
    const latTable = el("div", {});
    root.append(el("h2", {}, "Health"), figures,
      el("div", { class: "plots" },
        el("div", { class: "card plot" }, el("div", {}, "Messages per minute"), rate),
        el("div", { class: "card plot" }, el("div", {}, "Latency of ", pick),
          el("div", { class: "legend" }, el("span", { class: "p50" }, "p50"),
            el("span", { class: "p90" }, "p90"), el("span", { class: "p99" }, "p99")), lat),
        el("div", { class: "card plot" }, el("div", {}, "Connections bound to a session"),
          conns)),
      el("h2", {}, "Latency by method (since the daemon started)"), latTable);
    pick.addEventListener("change", () => { method = pick.value; draw(); });

    function draw() {
      if (!samples.length) return;
      const last = samples[samples.length - 1].stats;
      const figure = (label, value) => el("div", { class: "figure" }, el("b", {}, value), label);
      figures.replaceChildren(
        figure("daemon uptime", duration(last.uptime_seconds || 0)),
        figure("database size", bytes(last.database_bytes)),
        figure("conversations", last.conversations), figure("messages stored", last.messages),
        figure("connections", last.connections), figure("waiting for mail", last.waiters),
        figure("accepted / refused", last.accepted + " / " +
          ((last.refused_capacity || 0) + (last.refused_other_uid || 0))));
      const methods = Object.keys(last.latency || {}).sort();
      if (!method || !methods.includes(method)) {
        method = methods.includes("tools/call:send_to_partner") ? "tools/call:send_to_partner"
          : methods[0] || "";
      }
      pick.replaceChildren(...methods.map((m) => el("option", { value: m }, m)));
      pick.value = method;
      const times = samples.map((s) => s.t);
      const perMinute = samples.map((s, i) => i === 0 ? NaN : Math.max(0,
        (s.stats.messages - samples[i - 1].stats.messages) * 60000 / Math.max(1, s.t - samples[i - 1].t)));
      plot(rate, times.slice(1), [{ color: COLORS.a, values: perMinute.slice(1) }], "");
      const pct = (k) => samples.map((s) => ((s.stats.latency || {})[method] || {})[k] / 1000);
      plot(lat, times, ["p50", "p90", "p99"].map((k) => ({ color: COLORS[k],
        values: pct(k + "_us") })), " ms");
      plot(conns, times, [{ color: COLORS.a, values: samples.map((s) => s.stats.bound_connections) }], "");
      latTable.replaceChildren(table(["Method", "Count", "p50 µs", "p90 µs", "p99 µs", "max µs"],
        methods.map((m) => {
          const l = last.latency[m];
          return el("tr", {}, el("td", { class: "mono" }, m),
            [l.count, l.p50_us, l.p90_us, l.p99_us, l.max_us].map((v) => el("td", { class: "num" }, v)));
        })));
    }

    const load = async () => {
      try {
        samples = (await api("/api/health")).samples;
        draw();
      } catch (e) { figures.replaceChildren(CB.error(e.message)); }
    };
    const onResize = () => draw();
    window.addEventListener("resize", onResize);
    const off = CB.on((name, d) => {
      if (name === "hello") load();
      else if (name === "stats") {
        samples.push(d);
        if (samples.length > 180) samples.shift();
        draw();
      }
    });
    load();
    return () => { off(); window.removeEventListener("resize", onResize); };
  }

  CB.views.push({ name: "health", title: "Health", nav: "health", inNav: true,
                  match: (p) => p[0] === "health", mount: mountHealth });
})();
