// facecraft studio: one small script for all pages. No build step, no dependencies.
"use strict";
const TOKEN = document.querySelector('meta[name="facecraft-token"]').content;
const PAGE = document.body.dataset.page;
let S = null;          // /api/state
let JOBS = [];         // latest job list from the event stream
const hooks = [];      // page callbacks run when jobs change

function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const kid of kids.flat()) if (kid !== null && kid !== undefined) el.append(kid);
  return el;
}
const put = (box, ...kids) => box.replaceChildren(...kids.flat().filter(k => k !== null && k !== undefined));
const $ = (sel, root) => (root || document).querySelector(sel);
const fileUrl = (path, bust) => "/files/" + path.split("/").map(encodeURIComponent).join("/") + (bust ? "?v=" + bust : "");

async function api(path, opts) {
  opts = opts || {};
  const headers = Object.assign({"X-Facecraft-Token": TOKEN}, opts.headers || {});
  let body = opts.body;
  if (body && !(body instanceof Blob) && typeof body !== "string") { body = JSON.stringify(body); headers["Content-Type"] = "application/json"; }
  const r = await fetch(path, {method: opts.method || (body ? "POST" : "GET"), headers, body, credentials: "same-origin"});
  const data = r.headers.get("content-type")?.includes("json") ? await r.json() : await r.text();
  if (!r.ok) throw new Error((data && data.error) || r.statusText);
  return data;
}
async function loadState() { S = await api(PAGE === "swap" || PAGE === "animate" ? "/api/state?options=1" : "/api/state"); return S; }
function flash(where, message, isError) {
  const el = $(where); if (!el) return;
  el.textContent = message; el.className = isError ? "error small" : "muted small";
}
async function submitJob(kind, params, where) {
  try { const job = await api("/api/jobs", {body: {kind, params}}); flash(where, `queued: ${job.title}`); return job; }
  catch (e) { flash(where, e.message, true); return null; }
}
function options(list, selected, label) {
  return list.map(v => { const [value, text] = Array.isArray(v) ? v : [v, v]; return h("option", {value, selected: value === selected}, label ? label(text) : text); });
}
function field(text, input) { return h("label", {}, text, input); }

// ---- job panel and event stream -------------------------------------------------------------
function jobCard(j, log) {
  const pct = j.progress < 0 ? null : Math.round(j.progress * 100);
  const live = j.state === "running" || j.state === "queued";
  return h("div", {class: "job", "data-job-id": j.id, "data-kind": j.kind, "data-state": j.state},
    h("div", {class: "title"}, h("span", {class: "state " + j.state, text: j.state}), j.title),
    j.state === "running" ? h("div", {class: "bar" + (pct === null ? " unknown" : "")}, h("div", {style: `width:${pct || 0}%`})) : null,
    j.detail && live ? h("div", {class: "small muted", text: j.detail}) : null,
    j.runs > 1 && live ? h("div", {class: "small muted", text: `resumed (run ${j.runs})`}) : null,
    j.error ? h("div", {class: "small error", text: j.error}) : null,
    j.result && j.state === "done" ? h("div", {class: "small", text: j.result}) : null,
    log ? h("pre", {class: "log", text: log}) : null,
    h("div", {class: "row"},
      live ? h("button", {class: "ghost", onclick: () => api(`/api/jobs/${j.id}/cancel`, {method: "POST"})}, j.kind === "train" ? "Stop" : "Cancel") : null,
      j.state === "failed" || j.state === "cancelled" ? h("button", {class: "ghost", onclick: () => api(`/api/jobs/${j.id}/retry`, {method: "POST"})}, "Resume") : null));
}
function renderJobs(data) {
  const box = $("#jobs");
  put(box, ...(data.jobs.length ? data.jobs.map(j => jobCard(j, data.logs[j.id])) : [h("p", {class: "muted", text: "no jobs yet"})]));
}
async function streamEvents() {
  for (;;) {
    try {
      const r = await fetch("/api/events", {headers: {"X-Facecraft-Token": TOKEN}});
      const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = "";
      for (;;) {
        const {value, done} = await reader.read();
        if (done) break;
        buf += value;
        let cut;
        while ((cut = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, cut); buf = buf.slice(cut + 2);
          const line = block.split("\n").find(l => l.startsWith("data: "));
          if (!line) continue;
          const data = JSON.parse(line.slice(6));
          const finished = data.jobs.filter(j => j.state === "done" && !JOBS.some(o => o.id === j.id && o.state === "done"));
          JOBS = data.jobs;
          renderJobs(data);
          if (finished.length) await loadState();
          for (const hook of hooks) hook(data, finished);
        }
      }
    } catch (e) { /* the studio restarted or the tab slept: reconnect */ }
    await new Promise(res => setTimeout(res, 1500));
  }
}

// ---- drop zones --------------------------------------------------------------------------------
function dropZone(folder, text, onDone, accept) {
  const input = h("input", {type: "file", multiple: true, accept, style: "display:none"});
  const status = h("div", {class: "small muted", id: "drop-status-" + folder});
  const zone = h("div", {class: "drop", id: "drop-" + folder}, text, " ", h("a", {href: "#", onclick: e => { e.preventDefault(); input.click(); }}, "or choose files"), input, status);
  async function send(files) {
    for (const f of files) {
      status.textContent = `uploading ${f.name}…`; status.className = "small muted";
      try { const info = await api(`/api/upload/${folder}?name=${encodeURIComponent(f.name)}`, {method: "PUT", body: f}); status.textContent = `added ${info.name}`; await onDone(info); }
      catch (e) { status.textContent = `${f.name}: ${e.message}`; status.className = "small error"; }
    }
  }
  input.addEventListener("change", () => send([...input.files]));
  zone.addEventListener("dragover", e => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", e => { e.preventDefault(); zone.classList.remove("over"); send([...e.dataTransfer.files]); });
  return zone;
}

// ---- Media -----------------------------------------------------------------------------------
function mediaCard(m) {
  const facts = m.kind === "video" ? `${m.duration ?? "?"} s · ${m.width}×${m.height} · ${m.fps} fps${m.audio ? " · audio" : ""}` :
    m.kind === "image" ? `${m.width}×${m.height}` : m.kind;
  return h("div", {class: "card media", "data-media": m.path},
    m.thumb ? h("img", {src: fileUrl(m.thumb), alt: m.name}) : h("div", {class: "muted", text: m.kind}),
    h("div", {class: "name", text: m.name}),
    h("div", {class: "small muted", text: facts}),
    m.faces !== null && m.faces !== undefined ? h("div", {class: "small", text: `${m.faces} face${m.faces === 1 ? "" : "s"} found in the first frame`}) : null,
    m.error ? h("div", {class: "small error", text: m.error}) : null);
}
async function pageMedia(main) {
  const grid = h("div", {class: "grid", id: "media-grid"});
  const draw = () => grid.replaceChildren(...S.media.map(mediaCard));
  const path = h("input", {placeholder: "/path/on/this/machine.mp4", size: 40, id: "add-path"});
  main.append(h("h1", {text: "Media"}),
    h("div", {class: "card"}, dropZone("media", "Drop videos, photos or audio here", async () => { await loadState(); draw(); }, "video/*,image/*,audio/*"),
      h("div", {class: "row", style: "margin-top:10px"}, field("or copy a file from this machine", path),
        h("button", {class: "ghost", onclick: async () => { try { await api("/api/media/add", {body: {path: path.value}}); await loadState(); draw(); flash("#add-status", "added"); } catch (e) { flash("#add-status", e.message, true); } }}, "Add"),
        h("span", {id: "add-status"}))),
    grid);
  draw();
}

// ---- Facesets --------------------------------------------------------------------------------
function posePlot(canvas, faces) {
  const ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height;
  const x = yaw => (yaw + 90) / 180 * W, y = pitch => (60 - pitch) / 120 * H;
  ctx.clearRect(0, 0, W, H); ctx.strokeStyle = "#eee"; ctx.fillStyle = "#999"; ctx.font = "10px sans-serif";
  for (let a = -90; a <= 90; a += 15) { ctx.beginPath(); ctx.moveTo(x(a), 0); ctx.lineTo(x(a), H); ctx.stroke(); }
  for (let a = -60; a <= 60; a += 15) { ctx.beginPath(); ctx.moveTo(0, y(a)); ctx.lineTo(W, y(a)); ctx.stroke(); }
  ctx.fillText("yaw →", W - 40, H - 4); ctx.fillText("pitch ↑", 4, 12);
  ctx.fillStyle = "rgba(47,91,211,.6)";
  for (const f of faces) { ctx.beginPath(); ctx.arc(x(f.yaw), y(f.pitch), 3, 0, 7); ctx.fill(); }
}
async function showFaceset(box, name) {
  const d = await api(`/api/facesets/${encodeURIComponent(name)}`);
  const picked = new Set();
  const canvas = h("canvas", {width: 360, height: 240, id: "pose-plot"});
  const info = d.info;
  put(box, h("h2", {text: `${name}: ${d.total} faces`}),
    h("div", {class: "small muted", text: `${info.sources} source(s), ${Object.keys(info.identities).length} identit${Object.keys(info.identities).length === 1 ? "y" : "ies"}, pose coverage ${info.pose.coverage_cells} cells of 15°, ${info.sharpness.blurry ?? 0} blurry; click faces to pick them for removal`}),
    h("div", {class: "two"},
      h("div", {class: "faces", id: "faces"}, d.faces.map(f => h("img", {src: fileUrl(f.image), title: `yaw ${f.yaw}°, pitch ${f.pitch}°, sharpness ${f.sharpness}`,
        onclick: e => { picked.has(f.id) ? picked.delete(f.id) : picked.add(f.id); e.target.classList.toggle("picked"); }}))),
      h("div", {}, canvas, h("div", {class: "row", style: "margin-top:8px"},
        h("button", {class: "ghost", onclick: async () => { if (!picked.size) return; await api(`/api/facesets/${encodeURIComponent(name)}/delete`, {body: {ids: [...picked]}}); await showFaceset(box, name); }}, "Remove picked faces"),
        h("button", {class: "ghost", onclick: () => submitJob("curate", {faceset: name}, "#extract-status")}, "Auto-curate")))));
  posePlot(canvas, d.faces);
}
async function pageFacesets(main) {
  const sources = S.media.filter(m => m.kind === "video" || m.kind === "image");
  const name = h("input", {id: "faceset-name", placeholder: "person_a", required: true});
  const size = h("select", {id: "faceset-size"}, options(["64", "128", "256", "512"], "256"));
  const every = h("input", {id: "faceset-every", type: "number", min: 1, value: 1, style: "width:70px"});
  const checks = sources.map(m => h("label", {class: "check"}, h("input", {type: "checkbox", value: m.path, "data-source": m.name}), m.name));
  const detail = h("div", {class: "card", id: "faceset-detail"}, h("p", {class: "muted", text: "choose a faceset to see its faces"}));
  const list = h("div", {class: "row", id: "faceset-list"});
  const drawList = () => list.replaceChildren(...S.facesets.map(f => h("button", {class: "ghost", "data-faceset": f.name, onclick: () => showFaceset(detail, f.name)}, `${f.name} (${f.faces})`)));
  main.append(h("h1", {text: "Facesets"}),
    h("div", {class: "card"}, h("h2", {text: "Extract faces"}),
      sources.length ? h("div", {class: "row"}, checks) : h("p", {class: "muted", text: "add media first"}),
      h("div", {class: "row", style: "margin-top:10px"}, field("faceset name", name), field("face size (px)", size), field("every N-th frame", every),
        h("button", {id: "extract-button", onclick: () => submitJob("extract", {inputs: [...main.querySelectorAll("input[data-source]:checked")].map(c => c.value), name: name.value, size: +size.value, every: +every.value}, "#extract-status")}, "Extract")),
      h("div", {id: "extract-status"})),
    h("div", {class: "card"}, h("h2", {text: "Facesets"}), list), detail);
  drawList();
  hooks.push((data, finished) => { if (finished.some(j => j.kind === "extract" || j.kind === "curate")) drawList(); });
}

// ---- Train -----------------------------------------------------------------------------------
function lineChart(canvas, series, label) {
  const ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height, P = 28;
  ctx.clearRect(0, 0, W, H); ctx.fillStyle = "#666"; ctx.font = "11px sans-serif"; ctx.fillText(label, P, 12);
  if (series.length < 1) { ctx.fillText("no data yet", W / 2 - 30, H / 2); return; }
  const xs = series.map(p => p[0]), ys = series.map(p => p[1]);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs) || 1], [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const X = v => P + (v - x0) / Math.max(x1 - x0, 1e-9) * (W - 2 * P), Y = v => H - P + 8 - (v - y0) / Math.max(y1 - y0, 1e-9) * (H - 2 * P);
  ctx.fillText(y1.toFixed(3), 2, P); ctx.fillText(y0.toFixed(3), 2, H - P + 8); ctx.fillText(`step ${x1}`, W - 70, H - 4);
  ctx.strokeStyle = "#2f5bd3"; ctx.lineWidth = 1.5; ctx.beginPath();
  series.forEach(([a, b], i) => i ? ctx.lineTo(X(a), Y(b)) : ctx.moveTo(X(a), Y(b))); ctx.stroke();
  ctx.fillStyle = "#2f5bd3"; for (const [a, b] of series) { ctx.beginPath(); ctx.arc(X(a), Y(b), 2, 0, 7); ctx.fill(); }
}
async function showModel(box, name) {
  const d = await api(`/api/models/${encodeURIComponent(name)}`);
  const m = d.model || {};
  const running = JOBS.find(j => j.kind === "train" && j.params.name === name && (j.state === "running" || j.state === "queued"));
  const last = JOBS.find(j => j.kind === "train" && j.params.name === name);
  const loss = h("canvas", {width: 420, height: 180}), val = h("canvas", {width: 420, height: 180});
  put(box, h("h2", {text: `${name} (${m.architecture || "?"}, ${m.size || "?"} px, identities ${(m.identities || []).join(", ")})`}),
    running ? h("div", {class: "small", id: "train-live", text: running.detail || running.state}) : null,
    h("div", {class: "two"},
      h("div", {}, m.preview ? h("img", {class: "preview train-preview", id: "train-preview", src: fileUrl(m.preview, m.preview_mtime), alt: "training preview"}) : h("p", {class: "muted", text: "the preview appears when training writes it"}),
        h("div", {class: "small muted", text: "each row: a held-out face, then decoder A, decoder B"})),
      h("div", {}, loss, val)),
    h("div", {class: "row", style: "margin-top:8px"},
      running ? h("button", {class: "ghost", onclick: () => api(`/api/jobs/${running.id}/cancel`, {method: "POST"})}, "Stop (saves)") : null,
      !running && last ? h("button", {class: "ghost", id: "resume-train", onclick: () => submitJob("train", last.params, "#train-status")}, "Resume / train more") : null));
  lineChart(loss, d.loss, "training loss");
  lineChart(val, d.metrics.map(r => [r.step, r.val_ssim]), "validation masked SSIM");
}
async function pageTrain(main) {
  const fs = S.facesets.map(f => f.name);
  const a = h("select", {id: "train-a"}, options(fs, fs[0])), b = h("select", {id: "train-b"}, options(fs, fs[1]));
  const name = h("input", {id: "model-name", value: "model1"}), arch = h("select", {id: "model-arch"}, options(S.architectures, S.architectures[0]));
  const steps = h("input", {id: "train-steps", type: "number", min: 0, value: 500, style: "width:90px"});
  const minutes = h("input", {id: "train-minutes", type: "number", min: 0, step: "any", value: "", style: "width:80px", placeholder: "or minutes"});
  const prevEvery = h("input", {id: "preview-every", type: "number", min: 1, value: 50, style: "width:70px"});
  const valEvery = h("input", {id: "validate-every", type: "number", min: 1, value: 50, style: "width:70px"});
  const detail = h("div", {class: "card", id: "model-detail"}, h("p", {class: "muted", text: "choose a model to see its preview and curves"}));
  const list = h("div", {class: "row", id: "model-list"});
  let shown = null;
  const drawList = () => list.replaceChildren(...S.models.map(m => h("button", {class: "ghost", "data-model": m.name, onclick: () => { shown = m.name; showModel(detail, m.name); }}, m.name)));
  main.append(h("h1", {text: "Train"}),
    h("div", {class: "card"}, h("h2", {text: "Train a model (one encoder, a decoder per identity)"}),
      h("div", {class: "row"}, field("identity A faceset", a), field("identity B faceset", b), field("model name", name), field("architecture", arch),
        field("steps (total)", steps), field("minutes", minutes), field("preview every", prevEvery), field("validate every", valEvery),
        h("button", {id: "train-button", onclick: async () => {
          const p = {a: a.value, b: b.value, name: name.value, model: arch.value, preview_every: +prevEvery.value, validate_every: +valEvery.value, save_every: Math.max(1, +prevEvery.value)};
          if (+minutes.value > 0) p.minutes = +minutes.value; else p.steps = +steps.value;
          const job = await submitJob("train", p, "#train-status"); if (job) { shown = name.value; }
        }}, "Start training")),
      h("div", {id: "train-status"})),
    h("div", {class: "card"}, h("h2", {text: "Models"}), list), detail);
  drawList();
  let busy = false, lastRefresh = 0;
  hooks.push(async (data, finished) => {
    if (finished.length) drawList();
    const running = data.jobs.find(j => j.kind === "train" && j.state === "running");
    if (running && !shown) shown = running.params.name;
    if (!shown || busy || (!finished.length && Date.now() - lastRefresh < 3000)) return;
    busy = true; lastRefresh = Date.now();
    try { await loadState(); drawList(); if (S.models.some(m => m.name === shown)) await showModel(detail, shown); } finally { busy = false; }
  });
}

// ---- consent (swap, animate) --------------------------------------------------------------------
function consentBox() {
  const select = h("select", {id: "consent"}, h("option", {value: ""}, "— choose a consent record —"), options(S.consent.map(c => [c.path, c.name])));
  const text = h("textarea", {id: "consent-text", placeholder: "Who consented to what, and when. E.g. 'Jane Doe agreed on 2026-11-30 that her face may be used in this parody clip.'"});
  const save = h("button", {class: "ghost", id: "consent-save", onclick: async () => {
    try { const c = await api("/api/consent", {body: {text: text.value, name: "consent"}}); await loadState(); select.append(h("option", {value: c.path}, c.name)); select.value = c.path; flash("#consent-status", `saved ${c.name}`); }
    catch (e) { flash("#consent-status", e.message, true); } }}, "Save consent record");
  return {select, box: h("div", {class: "card"}, h("h2", {text: "Consent of the people shown (required)"}), h("div", {class: "row"}, field("record", select)),
    h("div", {style: "margin-top:8px"}, text), h("div", {class: "row"}, save, h("span", {id: "consent-status"})),
    dropZone("consent", "or drop a signed consent record (PDF, text or image)", async info => { await loadState(); select.append(h("option", {value: info.path}, info.name)); select.value = info.path; }, ".pdf,.txt,.md,image/*"))};
}
function cliOptions(list, prefix) {
  const inputs = {};
  const els = list.map(o => {
    const id = `${prefix}-${o.dest}`;
    if (o.kind === "flag") { inputs[o.dest] = h("input", {type: "checkbox", id}); return h("label", {class: "check", title: o.help}, inputs[o.dest], o.flag.replace(/^--/, "")); }
    if (o.kind !== "choice") { inputs[o.dest] = h("input", {id, type: "number", step: o.kind === "int" ? 1 : "any", placeholder: o.default === null ? "" : String(o.default), style: "width:90px"}); return field(o.flag.replace(/^--/, ""), inputs[o.dest]); }
    inputs[o.dest] = h("select", {id}, options(o.choices.map(String), String(o.default)));
    return field(o.flag.replace(/^--/, ""), inputs[o.dest]);
  });
  const values = () => Object.fromEntries(list.map(o => [o.dest, o.kind === "flag" ? inputs[o.dest].checked : inputs[o.dest].value]).filter(([, v]) => v !== false && v !== ""));
  return {els, values};
}
function player(path, id) { return h("video", {src: fileUrl(path), controls: true, id, preload: "auto"}); }

// ---- Swap ------------------------------------------------------------------------------------
function evaluateTable(report) {
  const s = report.summary, rows = [["identity_to_source", "identity vs source (higher better)"], ["identity_to_original", "identity vs original (lower better)"],
    ["source_match_rate", "frames passing as source"], ["expression_error", "expression error"], ["pose_error_deg", "pose error (deg)"],
    ["flicker_ratio", "flicker ratio (1 = as original)"], ["seam", "seam visibility"],
    ["sharpness_ratio", "sharpness (1 = as original)"], ["sharpness_ratio_replaced", "sharpness where replaced"]];
  return h("table", {class: "report", id: "evaluate-report"}, rows.filter(([k]) => k in s).map(([k, t]) => h("tr", {}, h("td", {text: t}), h("td", {class: "num", text: s[k] === null ? "n/a" : (+s[k]).toFixed(3)}))));
}
async function showOutput(box, out, evalForm) {
  const side = out.preview ? player(out.preview, "swap-preview") : null;
  const scrub = h("input", {type: "range", min: 0, max: 1000, value: 0, id: "scrubber", style: "width:100%"});
  if (side) scrub.addEventListener("input", () => { if (side.duration) side.currentTime = side.duration * scrub.value / 1000; });
  let report = null;
  if (out.evaluate) { try { report = await (await fetch(fileUrl(out.evaluate, Date.now()))).json(); } catch (e) { report = null; } }
  put(box, h("h2", {text: out.name}),
    h("div", {class: "two"},
      h("div", {}, side ? [h("div", {class: "small muted", text: "original | swapped"}), side, scrub] : null,
        h("div", {class: "small muted", text: "result (labelled as AI-generated)"}), out.kind === "video" ? player(out.path, "swap-result") : h("img", {class: "preview", src: fileUrl(out.path)})),
      h("div", {}, h("h2", {text: "Evaluate"}), report ? evaluateTable(report) : h("p", {class: "muted", text: "no report yet"}), evalForm(out))));
}
async function pageSwap(main) {
  const videos = S.media.filter(m => m.kind === "video" || m.kind === "image");
  const video = h("select", {id: "swap-video"}, options(videos.map(m => [m.path, m.name])));
  const model = h("select", {id: "swap-model"}, options(S.models.map(m => m.name)));
  const to = h("select", {id: "swap-to"});
  const fillTo = () => { const m = S.models.find(x => x.name === model.value); to.replaceChildren(...options((m && m.identities) || [])); };
  model.addEventListener("change", fillTo); fillTo();
  const opts = cliOptions(S.options.swap, "swap"), consent = consentBox();
  const start = h("input", {id: "swap-start", type: "number", min: 0, step: "any", placeholder: "0", style: "width:80px"});
  const end = h("input", {id: "swap-end", type: "number", min: 0, step: "any", placeholder: "end", style: "width:80px"});
  const detail = h("div", {class: "card", id: "output-detail"}, h("p", {class: "muted", text: "choose an output"}));
  const list = h("div", {class: "row", id: "output-list"});
  const evalForm = out => {
    const job = JOBS.find(j => j.kind === "swap" && j.params.output === out.path);
    const trained = job && JOBS.find(j => j.kind === "train" && j.params.name === job.params.model);
    const source = trained && job.params.to ? trained.params[job.params.to.toLowerCase()] : undefined;
    const src = h("select", {id: "evaluate-source"}, options(S.facesets.map(f => f.name), source));
    return h("div", {class: "row"}, field("source identity's faceset", src),
      h("button", {class: "ghost", onclick: () => submitJob("evaluate", {original: job ? job.params.video : video.value, swapped: out.path, source: src.value, every: 5}, "#evaluate-status")}, "Evaluate"), h("span", {id: "evaluate-status"}));
  };
  const drawList = () => list.replaceChildren(...S.outputs.filter(o => o.name.includes("-swap-")).map(o => h("button", {class: "ghost", "data-output": o.name, onclick: () => showOutput(detail, o, evalForm)}, o.name)));
  main.append(h("h1", {text: "Swap"}), consent.box,
    h("div", {class: "card"}, h("h2", {text: "Swap a video"}),
      h("div", {class: "row"}, field("video or photo", video), field("model", model), field("put in identity", to), field("from (s)", start), field("to (s)", end), opts.els),
      h("div", {class: "row", style: "margin-top:10px"}, h("button", {id: "swap-button", onclick: () => submitJob("swap", {video: video.value, model: model.value, to: to.value, consent: consent.select.value, start: start.value || null, end: end.value || null, options: opts.values()}, "#swap-status")}, "Swap"), h("span", {id: "swap-status"}))),
    h("div", {class: "card"}, h("h2", {text: "Outputs"}), list), detail);
  drawList();
  hooks.push((data, finished) => {
    if (!finished.length) return; drawList();
    const done = finished.find(j => j.kind === "swap" || j.kind === "evaluate");
    if (!done) return;
    const path = done.kind === "swap" ? done.params.output : done.params.swapped;
    const out = S.outputs.find(o => o.path === path); if (out) showOutput(detail, out, evalForm);
  });
}

// ---- Animate ---------------------------------------------------------------------------------
async function pageAnimate(main) {
  const photos = S.media.filter(m => m.kind === "image"), videos = S.media.filter(m => m.kind === "video"), audio = S.media.filter(m => m.kind === "audio" || (m.kind === "video" && m.audio));
  const portrait = h("select", {id: "animate-portrait"}, options(photos.map(m => [m.path, m.name])));
  const motion = h("select", {id: "animate-motion"},
    h("option", {value: "driving"}, "a driving video"), h("option", {value: "performance"}, "a built-in performance"),
    h("option", {value: "speech"}, "speech in a sound file"),
    h("option", {value: "say", disabled: !S.tts}, S.tts ? "a text to say" : "a text to say (needs espeak-ng)"));
  if (!videos.length) motion.value = "performance";
  const driving = h("select", {id: "animate-driving"}, options(videos.map(m => [m.path, m.name])));
  const perf = h("select", {id: "animate-performance"}, options(S.performances));
  const soundNone = h("option", {value: ""}, "— the driving video's —");
  const sound = h("select", {id: "animate-audio"}, soundNone, options(audio.map(m => [m.path, m.name])));
  const say = h("textarea", {id: "animate-say", rows: 3, cols: 48, maxlength: 2000, placeholder: "Hello. I was painted in Florence, five hundred years ago."});
  const voice = h("input", {id: "animate-voice", size: 8, placeholder: "en-us"});
  const fields = {driving: field("driving video", driving), performance: field("performance", perf), sound: field("sound", sound), say: field("text", say), voice: field("voice", voice)};
  const shown = {driving: ["driving", "sound"], performance: ["performance", "sound"], speech: ["sound"], say: ["say", "voice"]};
  const update = () => {
    const m = motion.value;
    for (const [name, el] of Object.entries(fields)) el.hidden = !shown[m].includes(name);
    soundNone.hidden = m === "speech";
    soundNone.textContent = m === "driving" ? "— the driving video's —" : "— none —";
    if (m === "speech" && !sound.value && audio.length) sound.value = audio[0].path;
    fields.sound.firstChild.textContent = m === "speech" ? "speech to speak" : "sound (replaces)";
  };
  motion.addEventListener("change", update); update();
  const params = () => {
    const m = motion.value, base = {portrait: portrait.value, consent: consent.select.value, options: opts.values()};
    if (m === "driving") return {...base, driving: driving.value || null, audio: sound.value || null};
    if (m === "performance") return {...base, performance: perf.value, audio: sound.value || null};
    if (m === "speech") return {...base, audio: sound.value || null};
    return {...base, say: say.value, voice: voice.value || null};
  };
  const opts = cliOptions(S.options.animate, "animate"), consent = consentBox();
  const result = h("div", {class: "card", id: "animate-result"});
  const drawResults = () => { const outs = S.outputs.filter(o => o.name.includes("-animate")); put(result, h("h2", {text: "Results"}), outs.length ? outs.slice(0, 4).map(o => h("div", {}, h("div", {class: "small", text: o.name}), player(o.path))) : h("p", {class: "muted", text: "no animation yet"})); };
  main.append(h("h1", {text: "Animate"}), consent.box,
    h("div", {class: "card"}, h("h2", {text: "Bring a portrait to life"}),
      h("div", {class: "row"}, field("portrait", portrait), field("motion from", motion), Object.values(fields), opts.els),
      h("div", {class: "row", style: "margin-top:10px"}, h("button", {id: "animate-button", onclick: () => submitJob("animate", params(), "#animate-status")}, "Animate"), h("span", {id: "animate-status"}))),
    result);
  drawResults();
  hooks.push((data, finished) => { if (finished.some(j => j.kind === "animate")) drawResults(); });
}

// ---- Verify ----------------------------------------------------------------------------------
async function showVerify(box, job) {
  // Every word here comes from the report (facecraft.provenance.explain), as `facecraft verify` prints it.
  const report = await (await fetch(fileUrl(job.params.output, Date.now()))).json();
  if (!report.evidence) { put(box, h("p", {class: "muted", text: "this report is from an older facecraft: verify the file again"})); return; }
  const tone = {0: "yes", 3: "maybe"}[report.exit_code] || "no";
  put(box, h("h2", {text: job.params.file.split("/").pop()}),
    h("div", {class: "verdict " + tone, id: "verdict"}, report.verdict),
    h("div", {class: "small", id: "verdict-exit", text: `exit ${report.exit_code}: ${report.exit_meaning}`}),
    h("ul", {id: "verdict-reasons"}, report.reasons.length ? report.reasons.map(r => h("li", {text: r})) : h("li", {class: "muted", text: "no label of any kind was found"})),
    h("table", {class: "report", id: "verdict-evidence"}, report.evidence.map(([what, found]) => h("tr", {}, h("td", {text: what}), h("td", {text: found})))));
}
async function pageVerify(main) {
  const box = h("div", {class: "card", id: "verify-report"}, h("p", {class: "muted", text: "drop a file or choose an output"}));
  const outs = h("select", {id: "verify-output"}, options(S.outputs.map(o => [o.path, o.name])));
  let waiting = null;
  const check = async file => {
    waiting = (await submitJob("verify", {file}, "#verify-status"))?.id ?? null;
    const done = JOBS.find(j => j.id === waiting && j.state === "done");  // finished before we knew its id
    if (done) showVerify(box, done);
  };
  main.append(h("h1", {text: "Verify"}),
    h("div", {class: "card"}, dropZone("verify", "Drop any image or video to check for AI-generated labels", info => check(info.path), "video/*,image/*"),
      h("div", {class: "row", style: "margin-top:10px"}, field("or a project output", outs), h("button", {id: "verify-button", onclick: () => check(outs.value)}, "Verify"), h("span", {id: "verify-status"}))),
    box);
  hooks.push((data, finished) => { const j = finished.find(x => x.kind === "verify" && (waiting === null || x.id === waiting)); if (j) showVerify(box, j); });
  const last = JOBS.find(j => j.kind === "verify" && j.state === "done"); if (last) showVerify(box, last);
}

const PAGES = {media: pageMedia, facesets: pageFacesets, train: pageTrain, swap: pageSwap, animate: pageAnimate, verify: pageVerify};
(async function main() {
  for (const a of document.querySelectorAll("nav a")) if (a.dataset.page === PAGE) a.classList.add("active");
  const root = $("#main");
  try {
    await loadState();
    JOBS = await api("/api/jobs");
    renderJobs({jobs: JOBS, logs: {}});
    root.replaceChildren();
    await PAGES[PAGE](root);
    document.body.dataset.ready = "1";
  } catch (e) { root.replaceChildren(h("p", {class: "error", text: e.message})); }
  streamEvents();
})();
