// The mutagate dashboard. Its data is `data.js` beside the page (window.MUTAGATE_DATA): a file in the
// static site, built from the database per request by `mutagate serve`. A <script> rather than fetch(),
// so the page works from file:// too. Every text from the data is set with textContent, never as HTML.
"use strict";

(function () {
  const REFRESH_MS = 30000; // served pages pick up a new run without a reload
  const FILES_SHOWN = 50;
  // Okabe-Ito: told apart by people with any colour vision
  const PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"];
  const served = location.protocol === "http:" || location.protocol === "https:";

  let data = null;
  let signature = "";
  const state = { agent: "", branch: "", filesShown: FILES_SHOWN };
  const charts = [];

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = value;
      else if (key === "className") node.className = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children) if (child !== null && child !== undefined) node.append(child);
    return node;
  }

  function loadData() {
    return new Promise((resolve, reject) => {
      delete window.MUTAGATE_DATA;
      const script = document.createElement("script");
      script.src = "data.js";
      script.onload = () => { script.remove(); resolve(window.MUTAGATE_DATA); };
      script.onerror = () => { script.remove(); reject(new Error("data.js could not be loaded")); };
      document.head.append(script);
    });
  }

  // The server answers a database it cannot read (locked by a run, corrupt) with 503 and the one line
  // the CLI would print; a failed <script> does not show its body, so read it again as text.
  async function loadError(error) {
    if (!served) return error.message;
    try {
      const text = await (await fetch("data.js", { cache: "no-store" })).text();
      return JSON.parse(text.slice(text.indexOf("{"), text.lastIndexOf("}") + 1)).error || error.message;
    } catch (ignored) {
      return error.message;
    }
  }

  function readHash() {
    const params = new URLSearchParams(location.hash.slice(1));
    state.agent = params.get("agent") || "";
    state.branch = params.get("branch") || "";
  }

  function writeHash() {
    const params = new URLSearchParams();
    if (state.agent) params.set("agent", state.agent);
    if (state.branch) params.set("branch", state.branch);
    const hash = params.toString();
    history.replaceState(null, "", hash ? "#" + hash : location.pathname + location.search);
  }

  function colour(agent) {
    const index = data.agents.indexOf(agent);
    return PALETTE[(index < 0 ? 0 : index) % PALETTE.length];
  }

  function setStatus(text, isError) {
    const status = document.getElementById("status");
    status.textContent = text;
    status.classList.toggle("error", Boolean(isError));
  }

  function fillSelect(select, values, current) {
    const keep = select.options[0];
    select.replaceChildren(keep, ...values.map((v) => el("option", { value: v, text: v })));
    select.value = values.includes(current) ? current : "";
  }

  // -- which runs are in view -----------------------------------------------------------------

  function runsInView() {
    return data.runs.filter((r) => !state.branch || r.branch === state.branch);
  }

  function detailId() {
    return state.branch ? data.latest_by_branch[state.branch] || null : data.latest;
  }

  function agentsShown() {
    return state.agent ? [state.agent] : data.agents;
  }

  function rowsOf(table) {
    const columns = table.columns;
    return table.rows.map((row) => Object.fromEntries(columns.map((c, i) => [c, row[i]])));
  }

  // -- chart ----------------------------------------------------------------------------------

  function renderChart() {
    const target = document.getElementById("chart");
    target.replaceChildren();
    const runs = runsInView();
    if (!runs.length) {
      target.append(el("p", { className: "empty", text: "No finished run on this branch yet." }));
      return;
    }
    const xs = [];
    for (const run of runs) xs.push(xs.length && run.t <= xs[xs.length - 1] ? xs[xs.length - 1] + 0.001 : run.t);
    const index = new Map(runs.map((r, i) => [r.id, i]));
    const scores = new Map(); // agent -> [score at run i]
    for (const row of rowsOf(data.agent_scores)) {
      if (!index.has(row.run)) continue;
      if (!scores.has(row.agent)) scores.set(row.agent, new Array(runs.length).fill(null));
      scores.get(row.agent)[index.get(row.run)] = row.score;
    }
    const series = [{ label: "run" }];
    const columns = [xs];
    for (const agent of agentsShown()) {
      const values = scores.get(agent);
      if (!values) continue;
      const nightly = values.map((v, i) => (runs[i].kind === "nightly" ? v : null));
      const pr = values.map((v, i) => (runs[i].kind === "pr" ? v : null));
      if (nightly.some((v) => v !== null)) {
        series.push({ label: agent, stroke: colour(agent), width: 2, spanGaps: true,
                      points: { show: true, size: 6, fill: colour(agent) }, value: (u, v) => (v === null ? "–" : v.toFixed(2) + "%") });
        columns.push(nightly);
      }
      if (pr.some((v) => v !== null)) {
        series.push({ label: agent + " · PR", stroke: colour(agent), width: 2, paths: () => null,
                      points: { show: true, space: 0, size: 9, fill: "#fff", width: 2 }, value: (u, v) => (v === null ? "–" : v.toFixed(2) + "%") });
        columns.push(pr);
      }
    }
    if (columns.length === 1) {
      target.append(el("p", { className: "empty", text: "No mutant measured " + (state.agent ? "for this agent " : "") + "in these runs." }));
      return;
    }
    const hover = el("p", { className: "chart-point", "aria-live": "polite" });
    const chart = new uPlot({
      width: Math.max(320, target.clientWidth || 800),
      height: 300,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"), // times as stored
      scales: { x: { time: true, range: () => timeRange(xs) }, y: { range: [0, 100] } },
      axes: [{}, { label: "mutation score %", size: 50 }],
      // The legend names the series only: with live values its rows change width under the cursor
      // and, with one run, showed no value at all beside each name. The point under the cursor is
      // said in a line of its own.
      legend: { live: false },
      hooks: { setCursor: [(u) => { hover.textContent = pointText(u, runs, series); }] },
      series,
    }, columns, target);
    target.uplot = chart; // what the browser tests read back: the ticks uPlot drew
    target.append(hover);
    charts.push(chart);
  }

  // The time axis spans the runs and a little more. uPlot pads one point (or points seconds apart)
  // out to years, which put 2027-2029 under a single run: one run gets its day, a few close runs an hour.
  function timeRange(xs) {
    const lo = xs[0];
    const hi = xs[xs.length - 1];
    if (hi - lo < 60) return [lo - 43200, hi + 43200];
    const pad = Math.max((hi - lo) * 0.04, 300);
    return [lo - pad, hi + pad];
  }

  function pointText(u, runs, series) {
    const i = u.cursor.idx;
    if (i === null || i === undefined) return "";
    const scores = series.slice(1).map((s, k) => [s.label, u.data[k + 1][i]]).filter(([, v]) => v !== null && v !== undefined);
    return runs[i].started + " · " + runs[i].id + (scores.length ? " · " : "") +
      scores.map(([label, v]) => label + " " + v.toFixed(2) + "%").join(" · ");
  }

  // -- latest run -----------------------------------------------------------------------------

  function countCells(counts) {
    return ["mutants", "killed", "timeout", "survived", "no_coverage"].map((c) =>
      el("td", { className: "num c-" + c, text: counts[c] }));
  }

  function renderLatest(detail) {
    const head = document.getElementById("latest-run");
    const body = document.querySelector("#agents tbody");
    body.replaceChildren();
    if (!detail) {
      head.textContent = "No finished run on this branch.";
      return;
    }
    const run = detail.run;
    head.replaceChildren(...[
      el("strong", { text: run.id }),
      " · branch " + run.branch + " · commit " + run.commit.slice(0, 10) + " · " + run.started + " · " +
        (run.kind === "pr" ? "PR run" + (run.base ? " against " + run.base : "") : "nightly run") + " · ",
      el("a", { href: detail.report, text: "full report" }),
      run.partial ? el("span", { className: "partial", text: " · partial run (" + run.status + "): " + run.measured + " of " + run.planned + " mutants measured" }) : null,
    ].filter((node) => node !== null));
    for (const agent of Object.keys(detail.agents)) {
      if (state.agent && agent !== state.agent) continue;
      const counts = detail.agents[agent];
      body.append(el("tr", { "data-agent": agent }, el("td", { text: agent }), ...countCells(counts),
        el("td", { className: "num c-score", text: counts.score_text })));
    }
    if (!state.agent) {
      body.append(el("tr", { className: "total" }, el("td", { text: "all agents" }), ...countCells(detail.total),
        el("td", { className: "num c-score", text: run.partial ? "partial" : detail.total.score_text })));
    }
  }

  // -- files ----------------------------------------------------------------------------------

  function sparkline(cell, values) {
    const points = values.filter((v) => v !== null);
    cell.setAttribute("data-trend", points.join(","));
    cell.title = points.length ? points.map((v) => v.toFixed(1)).join(" → ") : "";
    if (!points.length) return;
    const chart = new uPlot({
      width: 120, height: 28, class: "spark",
      cursor: { show: false }, legend: { show: false }, select: { show: false },
      scales: { x: { time: false }, y: { range: [0, 100] } },
      axes: [{ show: false }, { show: false }],
      series: [{}, { stroke: "#555", width: 1.5, spanGaps: true, points: { show: points.length === 1, size: 4 } }],
    }, [values.map((v, i) => i), values], cell);
    charts.push(chart);
  }

  function renderFiles(detail) {
    const body = document.querySelector("#files tbody");
    const more = document.getElementById("more-files");
    body.replaceChildren();
    more.hidden = true;
    if (!detail) return;
    const agent = state.agent || null;
    const all = rowsOf(data.file_scores).filter((r) => r.agent === agent);
    const rows = all.filter((r) => r.run === detail.run.id);
    rows.sort((a, b) => a.score - b.score || (b.survived + b.no_coverage) - (a.survived + a.no_coverage) || (a.file < b.file ? -1 : 1));
    // The trend: this file's score over the runs in view of the same kind as the latest (PR runs
    // measure changed lines only, so a file's PR score does not belong on the nightly line).
    const trendRuns = runsInView().filter((r) => r.kind === detail.run.kind).map((r) => r.id);
    if (!trendRuns.includes(detail.run.id)) trendRuns.push(detail.run.id);
    const scoreOf = new Map(all.map((r) => [r.run + "\u0000" + r.file, r.score]));
    for (const row of rows.slice(0, state.filesShown)) {
      const trend = el("td", { className: "trend" });
      body.append(el("tr", { "data-file": row.file }, el("td", { className: "file", text: row.file }), ...countCells(row),
        el("td", { className: "num c-score", title: row.score.toFixed(2) + "%", text: row.score_text }), trend));
      sparkline(trend, trendRuns.map((id) => (scoreOf.has(id + "\u0000" + row.file) ? scoreOf.get(id + "\u0000" + row.file) : null)));
    }
    if (rows.length > state.filesShown) {
      more.hidden = false;
      more.textContent = "show all " + rows.length + " files";
    }
    if (!rows.length) body.append(el("tr", {}, el("td", { colspan: 8, className: "empty", text: "No mutant in this run." })));
  }

  // -- weak tests and undetected mutants ------------------------------------------------------

  function diff(mutant) {
    return el("pre", { className: "diff" },
      ...mutant.before.map((line) => el("span", { className: "del", text: "-" + line + "\n" })),
      ...mutant.after.map((line) => el("span", { className: "add", text: "+" + line + "\n" })));
  }

  function reportLink(detail, file) {
    // mutation-testing-elements routes on the hash: #mutant/<its name for the file, by path segment>
    const route = detail.report_routes[file] || file;
    return detail.report + "#mutant/" + route.split("/").map(encodeURIComponent).join("/");
  }

  function mutantView(detail, mutant) {
    return el("article", { className: "mutant", "data-id": mutant.id },
      el("p", { className: "where" },
        el("a", { href: reportLink(detail, mutant.file), text: mutant.file + ":" + mutant.line }),
        " " + mutant.operator + " · " + mutant.agent + " · " + (mutant.status === "survived" ? "survived" : "no test covers it") +
          (mutant.qualname ? " · in " + mutant.qualname : "") + " · ",
        el("code", { className: "id", text: mutant.id.slice(0, 12) })),
      diff(mutant));
  }

  // A weak test names its survivors; their diffs are shown once, under "Undetected mutants", where
  // the name leads (several tests letting one mutant through showed its diff once per test).
  function mutantRef(detail, mutant) {
    const jump = el("a", { href: "#", className: "to-diff", text: "diff" });
    jump.addEventListener("click", (event) => {
      event.preventDefault(); // the hash holds the filters
      const shown = document.querySelector('#undetected article[data-id="' + CSS.escape(mutant.id) + '"]');
      if (shown) shown.scrollIntoView({ block: "center" });
    });
    return el("p", { className: "mutant ref", "data-id": mutant.id },
      el("a", { href: reportLink(detail, mutant.file), text: mutant.file + ":" + mutant.line }),
      " " + mutant.operator + " · " + mutant.agent + " · " + (mutant.status === "survived" ? "survived" : "no test covers it") +
        (mutant.qualname ? " · in " + mutant.qualname : "") + " · ",
      el("code", { className: "id", text: mutant.id.slice(0, 12) }), " · ", jump);
  }

  function renderWeak(detail) {
    const list = document.getElementById("weak");
    list.replaceChildren();
    if (!detail) return;
    const byId = new Map(detail.undetected.map((m) => [m.id, m]));
    for (const weak of detail.weak_tests) {
      const survivors = weak.survivors.map((id) => byId.get(id)).filter((m) => m && (!state.agent || m.agent === state.agent));
      if (!survivors.length) continue;
      const mine = state.agent ? " (" + survivors.length + " by " + state.agent + ")" : "";
      list.append(el("li", { "data-test": weak.test },
        el("p", {}, el("code", { className: "test", text: weak.test }),
          " covers " + weak.covered + ", kills " + weak.killed + ", lets " + weak.surviving + " survive" + mine +
          " · kill rate " + weak.kill_rate.toFixed(2) + "%"),
        ...survivors.map((m) => mutantRef(detail, m))));
    }
    if (!list.children.length) {
      list.append(el("li", { className: "empty", text: "No weak test: every test that covers these mutants kills them." }));
    }
  }

  function renderUndetected(detail) {
    const target = document.getElementById("undetected");
    target.replaceChildren();
    if (!detail) return;
    const groups = new Map(); // agent -> file -> mutants
    for (const m of detail.undetected) {
      if (state.agent && m.agent !== state.agent) continue;
      if (!groups.has(m.agent)) groups.set(m.agent, new Map());
      const files = groups.get(m.agent);
      if (!files.has(m.file)) files.set(m.file, []);
      files.get(m.file).push(m);
    }
    for (const agent of [...groups.keys()].sort()) {
      const files = groups.get(agent);
      const count = [...files.values()].reduce((n, ms) => n + ms.length, 0);
      const section = el("section", { className: "agent-group", "data-agent": agent },
        el("h3", {}, el("span", { className: "swatch", style: "background:" + colour(agent) }), agent + " (" + count + ")"));
      for (const file of [...files.keys()].sort()) {
        section.append(el("h4", {}, el("a", { href: reportLink(detail, file), text: file }), " (" + files.get(file).length + ")"),
          ...files.get(file).map((m) => mutantView(detail, m)));
      }
      target.append(section);
    }
    if (!groups.size) {
      const none = detail.total.mutants === 0 ? "No mutant in this run." : "Every mutant was detected by the tests.";
      target.append(el("p", { className: "empty", text: none }));
    }
  }

  // -- the whole page -------------------------------------------------------------------------

  function render() {
    while (charts.length) charts.pop().destroy();
    fillSelect(document.getElementById("agent-filter"), data.agents, state.agent);
    fillSelect(document.getElementById("branch-filter"), data.branches, state.branch);
    state.agent = document.getElementById("agent-filter").value;
    state.branch = document.getElementById("branch-filter").value;
    document.getElementById("project").textContent = data.project;
    document.getElementById("generated").textContent = data.generated;
    const id = detailId();
    const detail = id ? data.details[id] : null;
    renderChart();
    renderLatest(detail);
    renderFiles(detail);
    renderWeak(detail);
    renderUndetected(detail);
    setStatus(data.runs.length + " finished run" + (data.runs.length === 1 ? "" : "s") + " charted", false);
    document.body.dataset.ready = "true";
  }

  function accept(next) {
    if (!next || typeof next !== "object") throw new Error("data.js holds no dashboard data");
    if (next.error) throw new Error(next.error);
    const nextSignature = JSON.stringify([next.latest, next.latest_by_branch, next.runs.map((r) => r.id)]);
    const changed = nextSignature !== signature;
    data = next;
    signature = nextSignature;
    return changed;
  }

  async function refresh() {
    try {
      if (accept(await loadData())) render();
    } catch (error) {
      const reason = await loadError(error);
      setStatus((data ? "showing the last data read; " : "") + reason, true);
      document.body.dataset.ready = "error";
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    readHash();
    for (const [id, key] of [["agent-filter", "agent"], ["branch-filter", "branch"]]) {
      document.getElementById(id).addEventListener("change", (event) => {
        state[key] = event.target.value;
        state.filesShown = FILES_SHOWN;
        writeHash();
        render();
      });
    }
    document.getElementById("more-files").addEventListener("click", () => {
      state.filesShown = Infinity;
      render();
    });
    window.mutagateRefresh = refresh;
    refresh();
    if (served) setInterval(refresh, REFRESH_MS);
  });
})();
