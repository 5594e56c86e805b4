// raftbook's cluster picture, drawn in the browser (an anywidget ES module, no build step).
//
// The kernel sends the cluster as compact JSON once ("full") and then only what
// changed after each event ("patch", see raftbook/ui/state.py). This module draws
// it as SVG at the width of the cell, moves messages along their arrows while time
// runs (requestAnimationFrame only while something moves), and turns clicks and
// keys into the widget's own actions, so every event is recorded as if the
// matching button had been pressed.

const SVGNS = "http://www.w3.org/2000/svg";
const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";
const MONO = "ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace";
const NODE_R = 30;
const CELL_W = 92;
const CELL_H = 40;
const CMD_MAX = 12;
const KEYS = [
  ["t", "Tick"], ["r", "Run N"], ["p", "Play"], ["u", "Undo"],
  ["d", "Deliver"], ["x", "Drop"], ["c", "Duplicate"],
];
const KIND_CLASS = {
  "RequestVote": "rv", "vote granted": "yes", "vote denied": "no",
  "AppendEntries": "ae", "append ok": "ok", "append failed": "fail",
  // beyond Figure 2: a pre-vote round, log compaction, leader transfer
  "PreVote": "pv", "pre-vote granted": "pvyes", "pre-vote denied": "pvno",
  "InstallSnapshot": "snap", "InstallSnapshotReply": "snapok", "TimeoutNow": "tn",
};
const KIND_MARK = {"vote granted": " \u2713", "vote denied": " \u2717", "append ok": " \u2713",
                   "append failed": " \u2717", "pre-vote granted": " \u2713",
                   "pre-vote denied": " \u2717"};
const FIELD = {current_term: "term", voted_for: "vote", log: "log", snapshot: "snapshot"};
const idsText = (ids) => "{" + ids.join(",") + "}";

// ------------------------------------------------------------------ state kept per picture
// (anywidget hands initialize and render different wrappers of one model, and the parts
// drawn elsewhere in the widget are models of their own, possibly with their own copy of
// this module; so the stores live on globalThis, keyed by the picture's id, a synced trait.)
const stores = globalThis.__raftbookStores || (globalThis.__raftbookStores = new Map());

function storeOf(model) {
  const key = model.get("uid");
  let st = stores.get(key);
  if (!st) {
    st = {state: null, ui: {}, rev: -1, listeners: new Set(), last: null};
    stores.set(key, st);
  }
  return st;
}

export function applyUi(ui, changed, gone) {
  const out = Object.assign({}, ui, changed || {});
  for (const k of gone || []) delete out[k];
  return out;
}

export function applyDiff(state, diff) {
  const out = Object.assign({}, state, diff.set || {});
  const servers = Object.assign({}, state.servers);
  for (const [i, s] of Object.entries(diff.servers || {})) {
    if (s === null) delete servers[i];
    else servers[i] = Object.assign({}, servers[i] || {}, s);
  }
  out.servers = servers;
  const msgs = Object.assign({}, state.msgs);
  for (const [k, v] of Object.entries(diff.msgs || {})) {
    if (v === null) delete msgs[k];
    else msgs[k] = v;
  }
  out.msgs = msgs;
  const logs = Object.assign({}, state.logs);
  for (const [i, [kept, tail]] of Object.entries(diff.logs || {})) {
    logs[i] = (logs[i] || []).slice(0, kept).concat(tail);
  }
  for (const i of Object.keys(logs)) if (!(i in servers)) delete logs[i];
  out.logs = logs;
  const more = Object.assign({}, state.more || {});
  for (const [i, m] of Object.entries(diff.more || {})) {
    if (m === null) delete more[i];
    else more[i] = m;
  }
  for (const i of Object.keys(more)) if (!(i in servers)) delete more[i];
  out.more = more;
  return out;
}

// ------------------------------------------------------------------ small helpers
const esc = (s) => String(s).replace(/[&<>"']/g,
  (ch) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[ch]));
const clamp = (x, lo, hi) => Math.max(lo, Math.min(hi, x));
let measureCtx = null;
function textWidth(text, px, family = FONT, weight = "normal") {
  if (!measureCtx) measureCtx = document.createElement("canvas").getContext("2d");
  measureCtx.font = `${weight} ${px}px ${family}`;
  return measureCtx.measureText(text).width;
}
const elide = (s, n) => (s.length <= n ? s : s.slice(0, n - 1) + "\u2026");
const overlaps = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

function bez(p0, c, p2, t) {
  const u = 1 - t;
  return [u * u * p0[0] + 2 * u * t * c[0] + t * t * p2[0],
          u * u * p0[1] + 2 * u * t * c[1] + t * t * p2[1]];
}

function ring(ids, r, cx, cy) {
  const pos = {};
  if (ids.length === 1) { pos[ids[0]] = [cx, cy]; return pos; }
  ids.forEach((id, k) => {
    const a = -Math.PI / 2 + (2 * Math.PI * k) / ids.length;
    pos[id] = [cx + r * Math.cos(a), cy + r * Math.sin(a)];
  });
  return pos;
}

function logWindow(lengths, cols) {
  const longest = Math.max(0, ...lengths);
  const shortest = Math.min(...lengths, longest);
  const start = Math.max(1, Math.min(longest - cols + 1, shortest - 2));
  return [start, Math.min(Math.max(longest, 1), start + cols - 1)];
}

// ------------------------------------------------------------------ the view
class PictureView {
  constructor(model, el, store) {
    this.model = model;
    this.store = store;
    this.el = el;
    this.raf = null;
    this.anims = [];       // {id, el, path, from, to, start, dur, ghost}
    this.shownT = new Map(); // message id -> where on its arrow it is drawn now
    this.selNode = null;
    this.selMsg = null;
    this.pending = null;   // groups being picked for a partition: {node: group number}
    this.frames = 0;
    el.classList.add("rb-pic");
    el.innerHTML = "";
    this.root = document.createElement("div");
    this.root.className = "rb-root";
    this.root.tabIndex = 0;
    this.root.setAttribute("role", "group");
    this.root.setAttribute("aria-label", "Raft cluster picture. Keys: t Tick, r Run N, p Play or " +
      "Pause, u Undo, [ and ] history back and forward, d deliver, x drop, c duplicate the " +
      "selected message; Tab to a server or message and press Enter for its actions.");
    this.root.setAttribute("aria-keyshortcuts", "t r p u [ ] d x c");
    this.root.dataset.animating = "false";
    this.root.dataset.frames = "0";
    this.svgHost = document.createElement("div");
    this.svgHost.className = "rb-svg-host";
    this.bar = document.createElement("div");
    this.bar.className = "rb-partition-bar";
    this.bar.hidden = true;
    this.pop = document.createElement("div");
    this.pop.className = "rb-pop";
    this.pop.hidden = true;
    this.pop.setAttribute("role", "dialog");
    this.help = document.createElement("div");
    this.help.className = "rb-help";
    this.help.textContent = "Click a server or a message for its actions. Keys: t Tick \u00b7 " +
      "r Run N \u00b7 p Play/Pause \u00b7 u Undo \u00b7 [ ] history back/forward \u00b7 " +
      "d / x / c deliver / drop / duplicate the selected message \u00b7 Esc closes.";
    this.root.append(this.bar, this.svgHost, this.pop, this.help);
    el.append(this.root);
    this.onMsg = (msg) => this.update(msg);
    store.listeners.add(this.onMsg);
    this.onKey = (e) => this.key(e);
    this.root.addEventListener("keydown", this.onKey);
    this.onClick = (e) => this.click(e);
    this.root.addEventListener("click", this.onClick);
    this.width = 0;
    this.stale = false;
    this.resize = new ResizeObserver(() => {
      const w = Math.floor(this.el.clientWidth);
      if (w > 0 && (this.stale || Math.abs(w - this.width) > 4) && this.store.state) {
        this.stale = false;
        this.draw(false);
      }
    });
    this.resize.observe(this.el);
    if (store.state) this.update(null);
    else this.svgHost.innerHTML = '<p class="rb-wait">Waiting for the kernel to send the ' +
      "cluster (run the cell if this stays).</p>";
  }

  destroy() {
    this.store.listeners.delete(this.onMsg);
    this.resize.disconnect();
    if (this.raf !== null) cancelAnimationFrame(this.raf);
    this.raf = null;
    this.anims = [];
  }

  send(content) { this.model.send(content); }

  act(action, extra = {}) {
    this.closePop();
    this.send(Object.assign({kind: "act", action}, extra));
  }

  // -------------------------------------------------------------- new state from the kernel
  update(msg) {
    const st = this.store;
    const ui = st.ui || {};
    const selNode = ui.node ?? null, selMsg = ui.msg ?? null;
    if (msg && msg.kind === "patch" && this.svg && !Object.keys(msg.diff).length &&
        selNode === this.selNode && selMsg === this.selMsg &&
        !(msg.ui && ("past" in msg.ui || "playing" in msg.ui))) return;  // only text around it changed
    this.selNode = selNode;
    this.selMsg = selMsg;
    if (!this.el.isConnected || this.el.clientWidth === 0) {  // a hidden tab: drawn when shown
      this.stale = true;
      return;
    }
    const prev = msg && msg.kind === "patch" ? st.last : null;
    this.draw(true, prev, msg && msg.kind === "patch" ? msg.diff : null);
  }

  // -------------------------------------------------------------- layout
  layout(state) {
    const W = Math.max(420, Math.floor(this.el.clientWidth) || 900);
    const n = state.n;
    const nmsg = Object.keys(state.msgs).length;
    const side = W >= 1060;
    const ringW = side ? Math.min(Math.floor(W * 0.5), 640) : Math.min(W, 760);
    const ringX = side ? 0 : Math.floor((W - ringW) / 2);
    let R = clamp(90 + 20 * n + Math.min(80, nmsg * 1.5), 120, ringW / 2 - 70);
    const top = 34;
    const pos = {};
    const hulls = [];
    let ringH;
    // Lines under a server beyond Figure 2 (configuration, unsaved state) need room.
    const more = state.more || {};
    const extra = 15 * Math.max(0, ...Object.values(more).map((m) => this.extraLines(m).length));
    const beyond = new Set(["pv", "pvyes", "pvno", "snap", "snapok", "tn"]);
    const legendExtra = Object.values(state.msgs).some((m) => beyond.has(KIND_CLASS[m[3]])) ? 16 : 0;
    const groups = state.groups;
    if (!groups) {
      const cy = top + R + 56;
      Object.assign(pos, ring(Object.keys(state.servers).map(Number).sort((a, b) => a - b),
                              R, ringX + ringW / 2, cy));
      ringH = 2 * R + 150 + extra;
    } else {
      const k = groups.length;
      const slot = ringW / k;
      let maxH = 0;
      groups.forEach((members, g) => {
        const m = members.length;
        const r = m === 1 ? 0 : clamp(slot / 2 - 75, 55, 44 + 26 * m);
        const cx = ringX + slot * g + slot / 2;
        const h = r + NODE_R + 48 + extra;
        const cy = top + 30 + h;
        Object.assign(pos, ring(members, r, cx, cy));
        hulls.push({cx, cy, r: h, members, g: g + 1});
        maxH = Math.max(maxH, 2 * h + 50);
      });
      ringH = maxH + 20;
    }
    const logX = side ? ringW + 20 : 16;
    const logTop = side ? top + 40 : top + ringH + 40;
    const logW = side ? W - ringW - 36 : W - 32;
    const rowH = CELL_H + 16;
    const cols = clamp(Math.floor((logW - 80) / CELL_W), 1, this.model.get("max_log") || 14);
    const logBottom = logTop + n * rowH + 30;
    const H = Math.max(top + ringH, logBottom) + 46 + legendExtra;
    return {W, H, pos, hulls, R, logX, logTop, logW, rowH, cols, top, legendExtra};
  }

  // -------------------------------------------------------------- drawing
  draw(animate, prev = null, diff = null) {
    const state = this.store.state;
    if (!state) return;
    const t0 = performance.now();
    const L = this.layout(state);
    this.width = L.W;
    this.L = L;
    const focused = this.root.contains(document.activeElement) && document.activeElement !== this.root
      ? (document.activeElement.dataset.node ? ["node", document.activeElement.dataset.node]
        : document.activeElement.dataset.msg ? ["msg", document.activeElement.dataset.msg] : null)
      : null;
    const out = [];
    const leader = state.leader;
    out.push(`<svg xmlns="${SVGNS}" class="rb-svg" width="${L.W}" height="${L.H}" ` +
      `viewBox="0 0 ${L.W} ${L.H}" data-raftbook="cluster" data-time="${state.now}" ` +
      `data-leader="${leader ?? ""}" data-servers="${state.n}" ` +
      `data-in-flight="${Object.keys(state.msgs).length}" font-family="${esc(FONT)}">`);
    out.push(`<title>Raft cluster of ${state.n} servers at t=${state.now}</title>`);
    out.push(this.defs());
    this.banner(out, state, L);
    const obstacles = [];
    for (const h of L.hulls) {
      const names = h.members.map((m) => "S" + m).join(" ");
      out.push(`<g data-partition-group="${h.g}" data-members="${h.members.join(" ")}">` +
        `<circle class="rb-hull" cx="${h.cx}" cy="${h.cy}" r="${h.r}"/>` +
        `<text class="rb-t2 rb-label" x="${h.cx}" y="${h.cy - h.r - 8}" text-anchor="middle" ` +
        `font-size="13">group ${h.g}: ${names}</text></g>`);
      const tw = textWidth(`group ${h.g}: ${names}`, 13);
      obstacles.push({x: h.cx - tw / 2, y: h.cy - h.r - 22, w: tw, h: 18});
    }
    // Layers, bottom to top: arrows, servers, message labels (a label is never under a line).
    const ids = Object.keys(state.servers).map(Number).sort((a, b) => a - b);
    const serverOut = [];
    for (const i of ids) obstacles.push(...this.server(serverOut, state, i, L.pos[i]));
    const arrows = [], labels = [];
    for (const [a, b] of state.cuts || []) arrows.push(this.cutLink(a, b, L.pos, obstacles));
    const placed = this.messages(arrows, labels, state, L, obstacles);
    out.push('<g class="rb-arrows" aria-hidden="true">', ...arrows, "</g>", ...serverOut, ...labels);
    this.logGrid(out, state, L);
    this.legend(out, L);
    out.push("</svg>");
    this.svgHost.innerHTML = out.join("");
    this.svg = this.svgHost.firstChild;
    this.placed = placed;
    if (focused) {
      const again = this.svg.querySelector(`[data-${focused[0]}="${focused[1]}"]`);
      if (again) again.focus();
    }
    if (this.pending) this.showBar();
    this.startMotion(animate, prev, diff, state, placed);
    this.draws = (this.draws || 0) + 1;
    this.root.dataset.draws = String(this.draws);
    this.root.dataset.drawMs = (performance.now() - t0).toFixed(1);  // for the benchmark
  }

  // A cut link (a partial partition): a dashed line between the two servers, crossed out.
  cutLink(a, b, pos, obstacles) {
    const [x1, y1] = pos[a], [x2, y2] = pos[b];
    // the cross sits in the middle; it is an obstacle, so message labels are placed clear of it
    const mx = (x1 + x2) / 2, my = (y1 + y2) / 2;
    obstacles.push({x: mx - 13, y: my - 13, w: 26, h: 26});
    return `<g data-cut="${a}-${b}"><title>the link between S${a} and S${b} is cut: messages ` +
      `between them are lost; both still reach the other servers</title>` +
      `<line class="rb-cut" x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}"/>` +
      `<circle class="rb-cut-mark" cx="${mx}" cy="${my}" r="10"/>` +
      `<text class="rb-cut-x" x="${mx}" y="${my + 4.5}" text-anchor="middle" font-size="13">\u2715</text></g>`;
  }

  defs() {
    const marks = Object.values(KIND_CLASS).concat(["lost"]).map((k) =>
      `<marker id="rb-head-${k}" viewBox="0 0 10 10" refX="8" refY="5" markerWidth="7" ` +
      `markerHeight="7" orient="auto-start-reverse"><path class="rb-head rb-k-${k}" ` +
      `d="M0 0L10 5L0 10z"/></marker>`);
    const hatch = '<pattern id="rb-hatch" width="6" height="6" patternUnits="userSpaceOnUse" ' +
      'patternTransform="rotate(45)"><line class="rb-hatch-line" x1="0" y1="0" x2="0" y2="6"/></pattern>';
    return `<defs>${marks.join("")}${hatch}</defs>`;
  }

  banner(out, state, L) {
    const leader = state.leader;
    const nm = Object.keys(state.msgs).length;
    const info = `t = ${state.now} ticks (${state.now * state.tick_ms} ms) \u00b7 ` +
      (leader === null ? "no leader" : `leader S${leader} (term ${state.servers[leader].term})`) +
      ` \u00b7 ${nm} message${nm === 1 ? "" : "s"} in flight` +
      (state.groups ? ` \u00b7 partitioned into ${state.groups.length} groups` : "") +
      ((state.cuts || []).length ? ` \u00b7 ${state.cuts.length} link${state.cuts.length === 1 ? "" : "s"} cut` : "") +
      (this.store.ui && this.store.ui.past ? " \u00b7 looking at the past" : "");
    if (!state.safety) {
      out.push(`<g data-safety="ok"><rect class="rb-ok-bg" x="0" y="0" width="${L.W}" height="26" ` +
        `rx="4"/><text class="rb-ok" x="10" y="18" font-size="13">\u2714 Safety holds \u00b7 ` +
        `${esc(info)}</text></g>`);
    } else {
      out.push(`<g data-safety="violated" data-property="${esc(state.safety.property)}">` +
        `<rect class="rb-bad-bg" x="0" y="0" width="${L.W}" height="26" rx="4"/>` +
        `<text class="rb-bad" x="10" y="18" font-size="13" font-weight="bold">\u26a0 Safety ` +
        `violated: ${esc(elide(state.safety.text, Math.floor(L.W / 7.5) - 20))}` +
        `<title>${esc(state.safety.text)}</title></text></g>`);
    }
  }

  // What a server shows beyond Figure 2 (see raftbook/ui/state.py, "more").
  extraLines(m) {
    const lines = [];
    if (m.config) {
      lines.push(`config ${idsText(m.config)}` + (m.config_old ? " (joint)" : ""));
      const flags = [];
      if (m.member === false) flags.push("not a member");
      if (m.learner) flags.push("catching up");
      if (m.transfer !== undefined) flags.push(`transfer \u2192 S${m.transfer}`);
      if (flags.length) lines.push(flags.join(" \u00b7 "));
    }
    if (m.unsaved) lines.push("unsaved: " + m.unsaved.map((f) => FIELD[f] || f).join(", "));
    return lines;
  }

  server(out, state, i, [x, y]) {
    const s = state.servers[i];
    const m = (state.more || {})[i] || {};
    const extra = this.extraLines(m);
    const role = s.role;
    const crashed = s.crashed;
    const sel = this.selNode === i;
    const vote = s.vote;
    let line1;
    if (crashed) line1 = `crashed (was ${role})`;
    else if (role === "leader") line1 = "leader \u2605" + (state.leader === i ? "" : " (stale)");
    else if (role === "candidate") line1 = `candidate \u00b7 votes ${s.votes.length}/${s.quorum}`;
    else line1 = "follower \u00b7 " + (vote === null ? "no vote" : `voted S${vote}`);
    const line2 = crashed || s.left === null ? "" : `timer: ${s.left} ticks left`;
    const label = `S${i}, ${line1}, term ${s.term}` + (line2 ? `, ${line2}` : "") +
      `, commit index ${s.commit}` + extra.map((t) => `, ${t}`).join("") +
      ". Press Enter for its actions.";
    let more = "";
    if (m.config) {
      more += ` data-member="${m.member}" data-config="${m.config.join(" ")}"` +
        (m.config_old ? ` data-config-old="${m.config_old.join(" ")}"` : "") +
        (m.learner ? ' data-learner="true"' : "") +
        (m.transfer !== undefined ? ` data-transfer-to="${m.transfer}"` : "");
    }
    if (m.unsaved) more += ` data-unsaved="${m.unsaved.join(" ")}"`;
    if (m.snap) more += ` data-snapshot-index="${m.snap[0]}"`;
    out.push(`<g class="rb-server rb-${crashed ? "crashed" : role}${m.member === false ? " rb-nonmember" : ""}" data-node="${i}" ` +
      `data-role="${role}" data-term="${s.term}" data-crashed="${crashed}" ` +
      `data-voted-for="${vote ?? ""}" data-commit-index="${s.commit}" ` +
      `data-ticks-left="${s.left ?? ""}" data-selected="${sel}"` +
      (s.group !== null ? ` data-group="${s.group + 1}"` : "") + more +
      ` tabindex="0" role="button" aria-label="${esc(label)}"><title>${esc(label)}</title>`);
    if (sel) {  // a viewfinder: four corner brackets, no role colour
      const d = NODE_R + 14, k = 10;
      const c = [[-1, -1], [1, -1], [1, 1], [-1, 1]].map(([sx, sy]) =>
        `M${x + sx * d} ${y + sy * (d - k)}L${x + sx * d} ${y + sy * d}L${x + sx * (d - k)} ${y + sy * d}`);
      out.push(`<path class="rb-select" d="${c.join("")}"/>`);
    }
    if (!crashed && s.left !== null && s.timeout) {
      const frac = clamp(s.elapsed / s.timeout, 0, 1);
      out.push(`<circle class="rb-timer-track" cx="${x}" cy="${y}" r="${NODE_R + 6}"/>`);
      if (frac > 0) {
        const a = 2 * Math.PI * Math.min(frac, 0.999);
        const r = NODE_R + 6;
        out.push(`<path class="rb-timer${frac >= 0.8 ? " rb-timer-late" : ""}" data-timer="${frac.toFixed(2)}" ` +
          `d="M${x} ${y - r}A${r} ${r} 0 ${frac > 0.5 ? 1 : 0} 1 ${x + r * Math.sin(a)} ${y - r * Math.cos(a)}"/>`);
      }
    }
    if (role === "leader" && !crashed) out.push(`<circle class="rb-lead-ring" cx="${x}" cy="${y}" r="${NODE_R + 4}"/>`);
    out.push(`<circle class="rb-body" cx="${x}" cy="${y}" r="${NODE_R}"/>`);
    if (crashed) out.push(`<path class="rb-cross" d="M${x - 18} ${y - 18}L${x + 18} ${y + 18}M${x + 18} ${y - 18}L${x - 18} ${y + 18}"/>`);
    out.push(`<text class="rb-in" x="${x}" y="${y - 3}" text-anchor="middle" font-size="16" ` +
      `font-weight="bold">S${i}</text><text class="rb-in" x="${x}" y="${y + 14}" ` +
      `text-anchor="middle" font-size="12">term ${s.term}</text>`);
    out.push(`<text class="rb-t1 rb-label" x="${x}" y="${y + NODE_R + 24}" text-anchor="middle" ` +
      `font-size="12">${esc(line1)}</text>`);
    if (line2) out.push(`<text class="rb-t2 rb-label" x="${x}" y="${y + NODE_R + 39}" ` +
      `text-anchor="middle" font-size="12">${esc(line2)}</text>`);
    const y0 = y + NODE_R + (line2 ? 54 : 39);
    extra.forEach((t, k) => out.push(`<text class="rb-t2 rb-label rb-extra${t.startsWith("unsaved") ? " rb-unsaved-text" : ""}" ` +
      `data-extra="${k}" x="${x}" y="${y0 + 15 * k}" text-anchor="middle" font-size="12">${esc(t)}</text>`));
    out.push("</g>");
    const w1 = Math.max(textWidth(line1, 12), textWidth(line2, 12), 2 * NODE_R + 16,
                        ...extra.map((t) => textWidth(t, 12)));
    return [{x: x - NODE_R - 10, y: y - NODE_R - 10, w: 2 * NODE_R + 20, h: 2 * NODE_R + 20},
            {x: x - w1 / 2, y: y + NODE_R + 11, w: w1, h: (line2 ? 32 : 17) + 15 * extra.length}];
  }

  // Each message its own curved arrow (messages between the same pair fan out), a pill with
  // its id and kind placed where it overlaps no other label and no server.
  messages(arrows, out, state, L, obstacles) {
    const byPair = new Map();
    const ids = Object.keys(state.msgs).map(Number).sort((a, b) => a - b);
    for (const id of ids) {
      const m = state.msgs[id];
      const key = `${m[0]}>${m[1]}`;
      if (!byPair.has(key)) byPair.set(key, []);
      byPair.get(key).push(id);
    }
    const placed = new Map();
    const boxes = obstacles.slice();
    const order = ids.slice();
    if (this.selMsg !== null && order.includes(this.selMsg)) {
      order.splice(order.indexOf(this.selMsg), 1);
      order.unshift(this.selMsg);
    }
    const geo = new Map();
    for (const [key, list] of byPair) {
      list.forEach((id, j) => {
        const m = state.msgs[id];
        const a = L.pos[m[0]], b = L.pos[m[1]];
        if (!a || !b) return;
        geo.set(id, {a, b, lane: j});
      });
    }
    const curve = (g, extra) => {
      const [x1, y1] = g.a, [x2, y2] = g.b;
      const dx = x2 - x1, dy = y2 - y1;
      const d = Math.hypot(dx, dy) || 1;
      const ux = dx / d, uy = dy / d, nx = -uy, ny = ux;
      const bend = 16 + 26 * (g.lane + extra);
      const p0 = [x1 + ux * (NODE_R + 8) + nx * 6, y1 + uy * (NODE_R + 8) + ny * 6];
      const p2 = [x2 - ux * (NODE_R + 12) + nx * 6, y2 - uy * (NODE_R + 12) + ny * 6];
      const c = [(p0[0] + p2[0]) / 2 + nx * bend * 2, (p0[1] + p2[1]) / 2 + ny * bend * 2];
      return {p0, c, p2};
    };
    for (const id of order) {
      const g = geo.get(id);
      if (!g) continue;
      const m = state.msgs[id];
      const [src, dst, type, kind, short, term, sentAt, deliverAt, lost] = m;
      const text = `#${id} ${short}${lost ? " \u2715" : KIND_MARK[kind] || ""}`;
      const w = textWidth(text, 12, FONT, this.selMsg === id ? "bold" : "normal") + 12;
      const h = 18;
      let base = 0.5;
      if (deliverAt !== null && deliverAt > sentAt) base = clamp((state.now - sentAt) / (deliverAt - sentAt), 0.2, 0.8);
      let best = null;
      search:
      for (let extra = 0; extra < 6; extra++) {
        const cv = curve(g, extra);
        for (const dt of [0, -0.1, 0.1, -0.2, 0.2, -0.3, 0.3, -0.38, 0.38]) {
          const t = base + dt;
          if (t < 0.12 || t > 0.88) continue;
          const [px, py] = bez(cv.p0, cv.c, cv.p2, t);
          const box = {x: px - w / 2, y: py - h / 2, w, h};
          if (box.x < 0 || box.x + w > L.W || box.y < 28) continue;
          if (!boxes.some((o) => overlaps(o, box))) { best = {cv, t, box}; break search; }
        }
      }
      if (!best) {  // nowhere free: the outermost lane, mid-way (may touch another label)
        const cv = curve(g, 6);
        const [px, py] = bez(cv.p0, cv.c, cv.p2, base);
        best = {cv, t: base, box: {x: px - w / 2, y: py - h / 2, w, h}};
      }
      boxes.push(best.box);
      placed.set(id, {...best, w, h, text, kind, lost, type, src, dst, term});
    }
    for (const id of ids) {
      const p = placed.get(id);
      if (!p) continue;
      const m = state.msgs[id];
      const cls = p.lost ? "lost" : KIND_CLASS[p.kind] || "rv";
      const sel = this.selMsg === id;
      const tip = `#${id} ${m[9]}` + (p.lost === "crashed" ? ` \u2014 will be lost: S${p.dst} is crashed`
        : p.lost ? ` \u2014 will be lost: a partition separates S${p.src} and S${p.dst}` : "");
      const {p0, c, p2} = p.cv;
      arrows.push(`<path class="rb-arrow rb-k-${cls}${sel ? " rb-msg-sel" : ""}" data-arrow="${id}" ` +
        `d="M${p0[0]} ${p0[1]}Q${c[0]} ${c[1]} ${p2[0]} ${p2[1]}" marker-end="url(#rb-head-${cls})"/>`);
      out.push(`<g class="rb-msg rb-k-${cls}${sel ? " rb-msg-sel" : ""}" data-msg="${id}" ` +
        `data-type="${p.type}" data-src="${p.src}" data-dst="${p.dst}" data-term="${p.term}" ` +
        `data-kind="${esc(p.kind)}" data-lost="${p.lost || "false"}" data-selected="${sel}" ` +
        (m[7] !== null && m[7] > m[6] ? `data-latency="${m[7] - m[6]}" ` : "") +
        `tabindex="0" role="button" aria-label="${esc(tip + ". Press Enter to deliver, drop or duplicate it.")}">` +
        `<title>${esc(tip)}</title>` +
        `<path class="rb-hit" d="M${p0[0]} ${p0[1]}Q${c[0]} ${c[1]} ${p2[0]} ${p2[1]}"/>` +
        `<g class="rb-pill" data-label-box="${id}" transform="translate(${p.box.x + p.w / 2} ${p.box.y + p.h / 2})">` +
        `<rect x="${-p.w / 2}" y="${-p.h / 2}" width="${p.w}" height="${p.h}" rx="9"/>` +
        `<text x="0" y="4.5" text-anchor="middle" font-size="12"${sel ? ' font-weight="bold"' : ""}>` +
        `${esc(p.text)}</text></g></g>`);
    }
    return placed;
  }

  logGrid(out, state, L) {
    const ids = Object.keys(state.servers).map(Number).sort((a, b) => a - b);
    const more = state.more || {};
    const snapOf = (i) => (more[i] && more[i].snap) || [0, 0];
    // Logs hold the entries after the snapshot: entry k of the list has index snap + 1 + k.
    const lengths = ids.map((i) => snapOf(i)[0] + state.logs[i].length);
    const longest = Math.max(0, ...lengths);
    const [start, stop] = logWindow(lengths, L.cols);
    const x0 = L.logX + 76;
    const whole = start === 1 && stop >= longest;
    out.push(`<g data-log-start="${start}" data-log-end="${stop}">`);
    out.push(`<text class="rb-t1" x="${L.logX}" y="${L.logTop - 26}" font-size="13" font-weight="bold">` +
      `Logs${whole ? "" : ` (indexes ${start}..${stop} of ${longest}; all in the Tables tab)`}</text>`);
    out.push(`<text class="rb-t2" x="${L.logX}" y="${L.logTop - 8}" font-size="12">index</text>`);
    for (let idx = start; idx <= stop; idx++) {
      out.push(`<text class="rb-t2" x="${x0 + (idx - start) * CELL_W + CELL_W / 2}" y="${L.logTop - 8}" ` +
        `text-anchor="middle" font-size="12">${idx}</text>`);
    }
    const lead = state.leader !== null ? state.servers[state.leader] : null;
    ids.forEach((i, r) => {
      const s = state.servers[i];
      const y = L.logTop + r * L.rowH;
      const log = state.logs[i];
      const [snap, snapTerm] = snapOf(i);
      const last = snap + log.length;
      const lostFrom = more[i] && more[i].unsaved_from !== undefined ? more[i].unsaved_from : null;
      const commit = s.commit;
      let rowAttrs = `data-log-row="${i}" data-commit-index="${commit}" data-last-index="${last}"`;
      if (snap) rowAttrs += ` data-snapshot-index="${snap}"`;
      if (lostFrom !== null) rowAttrs += ` data-unsaved-from="${lostFrom}"`;
      let nxt = null, mat = null;
      if (lead && i !== state.leader && lead.next[i] !== undefined) {
        nxt = lead.next[i]; mat = lead.match[i];
        rowAttrs += ` data-next-index="${nxt}" data-match-index="${mat}"`;
      }
      out.push(`<g ${rowAttrs}${s.crashed ? ' opacity="0.6"' : ""}>`);
      out.push(`<text class="rb-t1" x="${L.logX}" y="${y + 16}" font-size="14" font-weight="bold">` +
        `S${i}${i === state.leader ? " \u2605" : ""}</text><text class="rb-t2" x="${L.logX}" ` +
        `y="${y + 32}" font-size="12">commit ${commit}</text>`);
      if (snap >= start) {  // one block for the compacted prefix
        const bw = (Math.min(snap, stop) - start + 1) * CELL_W - 4;
        const full = `snapshot ..${snap}, term ${snapTerm}`;
        const text = textWidth(full, 12) + 12 <= bw ? full : textWidth(`snap ..${snap} t${snapTerm}`, 12) + 8 <= bw
          ? `snap ..${snap} t${snapTerm}` : `..${snap}`;
        out.push(`<g class="rb-snapshot" data-snapshot-node="${i}" data-snapshot-index="${snap}" ` +
          `data-snapshot-term="${snapTerm}"><title>${esc(`S${i}: snapshot of indexes 1..${snap} (last term ` +
          `${snapTerm}); the log holds index ${snap + 1} on`)}</title>` +
          `<rect x="${x0 + 2}" y="${y}" width="${bw}" height="${CELL_H}" rx="4"/>` +
          `<text x="${x0 + 2 + bw / 2}" y="${y + 25}" text-anchor="middle" font-size="12">${esc(text)}</text></g>`);
      }
      for (let idx = Math.max(start, snap + 1); idx <= Math.min(stop, last); idx++) {
        const [term, cmd] = log[idx - snap - 1];
        const cx = x0 + (idx - start) * CELL_W;
        const committed = idx <= commit;
        const lost = lostFrom !== null && idx >= lostFrom;
        const shown = elide(cmd, CMD_MAX);
        const tip = `S${i} index ${idx}, term ${term}: ${cmd}${committed ? " (committed)" : " (not committed)"}` +
          (lost ? "; not saved: a crash now loses it" : "");
        out.push(`<g class="rb-cell ${committed ? "rb-committed" : "rb-pending"} rb-term-${(term - 1) % 8}` +
          `${lost ? " rb-unsaved" : ""}" data-log-node="${i}" data-index="${idx}" data-entry-term="${term}" ` +
          `data-committed="${committed}"${lost ? ' data-unsaved="true"' : ""}>` +
          `<title>${esc(tip)}</title>` +
          `<rect x="${cx + 2}" y="${y}" width="${CELL_W - 4}" height="${CELL_H}" rx="4"/>` +
          (lost ? `<rect class="rb-hatch" x="${cx + 2}" y="${y}" width="${CELL_W - 4}" height="${CELL_H}" rx="4"/>` : "") +
          `<text class="rb-cell-term" x="${cx + 7}" y="${y + 15}" font-size="12" font-weight="bold">term ${term}</text>` +
          `<text class="rb-cell-cmd" x="${cx + 7}" y="${y + 32}" font-size="12" font-family="${esc(MONO)}">${esc(shown)}</text></g>`);
      }
      if (last > stop) {
        out.push(`<text class="rb-t2" data-more="${last - stop}" x="${x0 + (stop - start + 1) * CELL_W + 4}" ` +
          `y="${y + 24}" font-size="12">+${last - stop}</text>`);
      }
      if (commit > 0 && start - 1 <= commit && commit <= stop) {
        const mx = x0 + (commit - start + 1) * CELL_W;
        out.push(`<line class="rb-commit-bar" data-commit-marker="${commit}" x1="${mx}" y1="${y - 3}" ` +
          `x2="${mx}" y2="${y + CELL_H + 3}"/>`);
      }
      if (nxt !== null && start <= nxt && nxt <= stop + 1) {
        const nx0 = x0 + (nxt - start) * CELL_W + 12;
        out.push(`<text class="rb-t2" data-next-marker="${nxt}" x="${nx0}" y="${y + CELL_H + 13}" font-size="11">` +
          `\u25b2 next<title>leader S${state.leader}: next index for S${i} is ${nxt}</title></text>`);
      }
      if (mat !== null && mat >= start && mat <= stop) {
        const mx0 = x0 + (mat - start) * CELL_W + CELL_W - 40;
        out.push(`<text class="rb-t2" data-match-marker="${mat}" x="${mx0}" y="${y + CELL_H + 13}" font-size="11">` +
          `match<title>leader S${state.leader}: match index for S${i} is ${mat}</title></text>`);
      }
      out.push("</g>");
    });
    out.push("</g>");
  }

  legend(out, L) {
    const y = L.H - 30 - (L.legendExtra || 0);
    const items = [["rv", "RequestVote (dotted)"], ["yes", "vote yes \u2713"], ["no", "vote no \u2717"],
                   ["ae", "AppendEntries (dashed)"], ["ok", "append ok \u2713"],
                   ["fail", "append failed \u2717"], ["lost", "will be lost \u2715"]];
    const inFlight = new Set(Object.values(this.store.state.msgs).map((m) => KIND_CLASS[m[3]]));
    for (const [cls, text] of [["pv", "PV: pre-vote"], ["pvyes", "PV yes \u2713"], ["pvno", "PV no \u2717"],
                               ["snap", "InstallSnapshot"], ["snapok", "snap ok"], ["tn", "TimeoutNow"]]) {
      if (inFlight.has(cls)) items.push([cls, text]);
    }
    out.push(`<g data-legend="true" font-size="12">`);
    let x = 8, row = 0;
    for (const [cls, text] of items) {
      const w = 30 + textWidth(text, 12) + 14;
      if (x + w > L.W) { x = 8; row++; }
      const yy = y + row * 16;
      out.push(`<g class="rb-k-${cls}"><line class="rb-arrow" x1="${x}" y1="${yy - 4}" x2="${x + 24}" y2="${yy - 4}"/>` +
        `<text class="rb-t2" x="${x + 30}" y="${yy}">${text}</text></g>`);
      x += w;
    }
    out.push("</g>");
    if (row > 0 && this.svg !== undefined) { /* the height reserved covers two rows */ }
  }

  // -------------------------------------------------------------- motion
  // Messages travel along their arrows only while time runs (Play, Run N) or when one is
  // delivered; frames are requested only while something moves. While time runs, each
  // message moves at its own pace: its latency (deliver_at - sent_at ticks) is the length
  // of its whole trip, so a message with latency 3 covers a third of its arrow per tick and
  // one with latency 1 all of it. The frame's simulated ticks are spread over frame_ms.
  startMotion(animate, prev, diff, state, placed) {
    const ui = this.store.ui || {};
    const now = performance.now();
    const timeRan = prev && state.now !== prev.now;
    const running = timeRan && ui.playing;
    // While playing, a frame's motion lasts exactly until the next frame is due.
    const dur = clamp(ui.frame_ms || 300, running ? 60 : 150, 600);
    const ticks = timeRan ? state.now - prev.now : 0;
    const progress = (m, at) => {  // how far along its trip message m is at simulated time `at`
      if (m[7] === null || m[7] <= m[6]) return null;
      return clamp((at - m[6]) / (m[7] - m[6]), 0, 1);
    };
    const timeAt = (tick) => now + dur * clamp((tick - prev.now) / ticks, 0, 1);
    const anims = [];
    if (animate && prev && diff) {
      for (const [id, p] of placed) {
        const m = state.msgs[id];
        const was = this.shownT.get(id);
        const isNew = !(id in prev.msgs);
        const to = progress(m, state.now);
        if (timeRan && to !== null) {  // true pace: from where it was at prev.now to where it is now
          const from = isNew ? 0.02 : (progress(m, prev.now) ?? was ?? 0.02);
          const start = isNew ? timeAt(m[6]) : now;
          anims.push({id, from, to: Math.max(to, from), start, dur: Math.max(16, now + dur - start),
                      linear: true, stay: running, latency: m[7] - m[6]});
        } else if (isNew) anims.push({id, from: 0.02, to: p.t, dur: 250, start: now});
        else if (was !== undefined && Math.abs(was - p.t) > 0.01 && timeRan) {
          anims.push({id, from: was, to: p.t, dur, start: now});
        }
      }
      // Messages that left: delivered ones finish their trip, dropped ones fade where they were.
      const delivered = new Set(state.events > prev.events ? (diff.delivered || []) : []);
      for (const [key, m] of Object.entries(prev.msgs)) {
        if (key in state.msgs) continue;
        const id = Number(key);
        const old = this.lastPlaced && this.lastPlaced.get(id);
        if (!old) continue;
        const arrived = delivered.has(id) || (m[7] !== null && m[7] <= state.now) ||
          this.lastAction === "Deliver" || this.lastAction === "Deliver all" || timeRan;
        const from = this.shownT.get(id) ?? old.t;
        if (arrived && timeRan && m[7] !== null && m[7] > m[6]) {  // at its own pace, then gone
          const end = timeAt(m[7]);
          anims.push({id, ghost: old, from, to: 1, start: now, dur: Math.max(16, end - now),
                      linear: true, latency: m[7] - m[6]});
        } else {
          anims.push({id, ghost: old, from, to: arrived ? 1 : null, dur: arrived ? dur : 300, start: now});
        }
      }
    }
    this.lastAction = null;
    this.lastPlaced = placed;
    this.shownT = new Map([...placed].map(([id, p]) => [id, p.t]));
    this.anims = anims.map((a) => this.prepare(a)).filter(Boolean);
    if (this.anims.length) {
      for (const a of this.anims) this.place(a, 0);
      this.schedule();
    } else if (this.raf !== null) {
      cancelAnimationFrame(this.raf);
      this.raf = null;
      this.root.dataset.animating = "false";
    }
  }

  prepare(a) {
    if (a.ghost) {
      const p = a.ghost;
      const g = document.createElementNS(SVGNS, "g");
      g.setAttribute("class", `rb-pill rb-ghost rb-msg rb-k-${p.lost ? "lost" : KIND_CLASS[p.kind] || "rv"}`);
      g.setAttribute("aria-hidden", "true");
      if (a.latency) g.dataset.latency = String(a.latency);
      g.dataset.ghost = String(a.id);
      g.innerHTML = `<rect x="${-p.w / 2}" y="${-p.h / 2}" width="${p.w}" height="${p.h}" rx="9"/>` +
        `<text x="0" y="4.5" text-anchor="middle" font-size="12">${esc(p.text)}</text>`;
      this.svg.appendChild(g);
      return {...a, el: g, cv: p.cv};
    }
    const el = this.svg.querySelector(`[data-label-box="${a.id}"]`);
    const p = this.placed.get(a.id);
    if (!el || !p) return null;
    return {...a, el, cv: p.cv, rest: p};
  }

  place(a, k) {
    const e = a.linear ? k : k * k * (3 - 2 * k);  // constant speed while time runs, else smoothstep
    if (a.to === null) {  // dropped: fade out where it was
      const [x, y] = bez(a.cv.p0, a.cv.c, a.cv.p2, a.from);
      a.el.setAttribute("transform", `translate(${x} ${y})`);
      a.el.setAttribute("opacity", String(1 - e));
      return;
    }
    const t = a.from + (a.to - a.from) * e;
    const [x, y] = bez(a.cv.p0, a.cv.c, a.cv.p2, t);
    a.el.setAttribute("transform", `translate(${x} ${y})`);
    a.el.dataset.t = t.toFixed(4);
    if (a.ghost && k > 0.85) a.el.setAttribute("opacity", String((1 - k) / 0.15));
    if (!a.ghost) this.shownT.set(a.id, t);
  }

  schedule() {
    if (this.raf !== null) return;
    this.root.dataset.animating = "true";
    this.raf = requestAnimationFrame((ts) => this.frame(ts));
  }

  frame() {
    this.raf = null;
    this.frames += 1;
    this.root.dataset.frames = String(this.frames);
    const now = performance.now();
    const left = [];
    for (const a of this.anims) {
      const k = clamp((now - a.start) / a.dur, 0, 1);
      this.place(a, k);
      if (k < 1) left.push(a);
      else if (a.ghost) a.el.remove();
      else if (a.rest && !a.stay) {  // at rest where the label placement put it (not while playing)
        a.el.setAttribute("transform", `translate(${a.rest.box.x + a.rest.w / 2} ${a.rest.box.y + a.rest.h / 2})`);
        this.shownT.set(a.id, a.rest.t);
      }
    }
    this.anims = left;
    if (left.length) this.schedule();
    else this.root.dataset.animating = "false";
  }

  // -------------------------------------------------------------- clicks, keys, popover
  click(e) {
    const t = e.target;
    const btn = t.closest && t.closest("button[data-action]");
    if (btn) { this.button(btn); return; }
    const node = t.closest && t.closest("[data-node]");
    if (node && this.svg && this.svg.contains(node)) { this.openServer(Number(node.dataset.node), node); return; }
    const msg = t.closest && t.closest("[data-msg]");
    if (msg && this.svg && this.svg.contains(msg)) { this.openMessage(Number(msg.dataset.msg), msg); return; }
    if (!this.pop.contains(t)) this.closePop();
  }

  button(btn) {
    const a = btn.dataset.action;
    const node = btn.dataset.node ? Number(btn.dataset.node) : undefined;
    const msg = btn.dataset.msg ? Number(btn.dataset.msg) : undefined;
    if (a === "group") {
      const g = Number(btn.dataset.group);
      if (!this.pending) {
        this.pending = {};
        for (const i of Object.keys(this.store.state.servers)) this.pending[i] = 1;
      }
      this.pending[node] = g;
      this.closePop();
      this.showBar();
      return;
    }
    if (a === "apply-partition") {
      const groups = {};
      for (const [i, g] of Object.entries(this.pending || {})) (groups[g] = groups[g] || []).push(Number(i));
      const list = Object.keys(groups).sort().map((g) => groups[g].sort((x, y) => x - y));
      this.pending = null;
      this.bar.hidden = true;
      this.send({kind: "partition", groups: list});
      return;
    }
    if (a === "cancel-partition") { this.pending = null; this.bar.hidden = true; return; }
    if (a === "cut-link" || a === "restore-link") {
      this.closePop();
      this.send({kind: "link", a: node, b: Number(btn.dataset.peer), cut: a === "cut-link"});
      return;
    }
    if (a === "details") {
      this.closePop();
      this.send({kind: "select", node});
      return;
    }
    const extra = {};
    if (node !== undefined) extra.node = node;
    if (msg !== undefined) extra.msg = msg;
    this.lastAction = a;
    this.act(a, extra);
  }

  showBar() {
    const groups = {};
    for (const [i, g] of Object.entries(this.pending)) (groups[g] = groups[g] || []).push("S" + i);
    const text = Object.keys(groups).sort().map((g) => `group ${g}: ${groups[g].join(" ")}`).join("  |  ");
    this.bar.innerHTML = `<span>New partition \u2014 ${esc(text)}</span>` +
      `<button type="button" data-action="apply-partition">Apply partition</button>` +
      `<button type="button" data-action="cancel-partition">Cancel</button>`;
    this.bar.hidden = false;
  }

  popAt(anchor, html, label) {
    this.pop.innerHTML = html;
    this.pop.setAttribute("aria-label", label);
    this.pop.hidden = false;
    const r = anchor.getBoundingClientRect();
    const host = this.root.getBoundingClientRect();
    let left = r.right - host.left + 8;
    if (left + 260 > host.width) left = Math.max(0, r.left - host.left - 268);
    this.pop.style.left = `${left}px`;
    this.pop.style.top = `${Math.max(0, r.top - host.top)}px`;
    const first = this.pop.querySelector("button");
    if (first) first.focus();
  }

  closePop() { this.pop.hidden = true; this.popFor = null; }

  openServer(i, anchor) {
    const s = this.store.state.servers[i];
    this.selNode = i;
    this.svg.querySelectorAll("[data-node]").forEach((g) => g.dataset.selected = String(Number(g.dataset.node) === i));
    this.send({kind: "select", node: i});
    const b = (action, text, title, extra = "") =>
      `<button type="button" data-action="${action}" data-node="${i}" title="${esc(title)}"${extra}>${esc(text)}</button>`;
    const running = !s.crashed;
    const groups = [1, 2, 3].map((g) => b("group", `Group ${g}`, `put S${i} in group ${g} of a new partition`, ` data-group="${g}"`)).join("");
    const cut = new Set((this.store.state.cuts || []).filter((l) => l.includes(i)).map((l) => l[0] === i ? l[1] : l[0]));
    const links = Object.keys(this.store.state.servers).map(Number).filter((j) => j !== i).map((j) => cut.has(j)
      ? b("restore-link", `Restore S${j}`, `c.heal(${i}, ${j}): restore the link between S${i} and S${j}`, ` data-peer="${j}"`)
      : b("cut-link", `Cut S${j}`, `c.cut(${i}, ${j}): cut the link between S${i} and S${j} only`, ` data-peer="${j}"`)).join("");
    this.popFor = ["node", i];
    this.popAt(anchor,
      `<div class="rb-pop-title">S${i} \u00b7 ${s.crashed ? "crashed" : s.role} \u00b7 term ${s.term}</div>` +
      `<div class="rb-pop-row">` +
      (running && s.role !== "leader" ? b("Timeout", "Timeout", `c.timeout(${i}): its election timer fires now`) : "") +
      (running ? b("Crash", "Crash", `c.crash(${i})`) : b("Restart", "Restart", `c.restart(${i})`)) +
      (running ? b("Compact", "Compact", `c.compact(${i}): snapshot its applied state, drop the entries it covers`) : "") +
      b("Propose", `Propose to S${i}`, `c.propose(command of the client form, node=${i})`) +
      b("details", "Figure 2 state", `show S${i}'s state below the picture`) + `</div>` +
      `<div class="rb-pop-sub">Partition: ${groups}</div>` +
      `<div class="rb-pop-sub">Link: ${links}</div>`, `Actions of S${i}`);
  }

  openMessage(id, anchor) {
    const m = this.store.state.msgs[id];
    if (!m) return;
    this.selMsg = id;
    this.svg.querySelectorAll("[data-msg]").forEach((g) => g.dataset.selected = String(Number(g.dataset.msg) === id));
    this.send({kind: "select", msg: id});
    const b = (action, title) =>
      `<button type="button" data-action="${action}" data-msg="${id}" title="${esc(title)}">${action}</button>`;
    this.popFor = ["msg", id];
    this.popAt(anchor,
      `<div class="rb-pop-title">#${id} ${esc(m[9])}</div><div class="rb-pop-row">` +
      b("Deliver", `c.deliver(${id})`) + b("Drop", `c.drop(${id}): the network loses it`) +
      b("Duplicate", `c.duplicate(${id}): the network copies it`) + `</div>`, `Actions of message #${id}`);
  }

  key(e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target;
    if (e.key === "Escape") { this.closePop(); this.root.focus(); e.preventDefault(); return; }
    if (t.tagName === "BUTTON" || t.tagName === "INPUT") return;
    if (e.key === "Enter" || (e.key === " " && t !== this.root)) {
      const node = t.closest("[data-node]"), msg = t.closest("[data-msg]");
      if (node) { this.openServer(Number(node.dataset.node), node); e.preventDefault(); return; }
      if (msg) { this.openMessage(Number(msg.dataset.msg), msg); e.preventDefault(); return; }
    }
    if (e.key === "[" || e.key === "]") {
      this.send({kind: "history", delta: e.key === "[" ? -1 : 1});
      e.preventDefault();
      return;
    }
    const hit = KEYS.find(([k]) => k === e.key.toLowerCase());
    if (hit || e.key === " ") {
      const action = hit ? hit[1] : "Play";
      const extra = {};
      if (["Deliver", "Drop", "Duplicate"].includes(action)) {
        if (this.selMsg === null) return;
        extra.msg = this.selMsg;
      }
      this.lastAction = action;
      this.act(action, extra);
      e.preventDefault();
      e.stopPropagation();
    }
  }
}

// ------------------------------------------------------------------ the parts around the picture
// The status line, the history slider, the Message list and the details table, drawn from
// the picture's store: the kernel sends one message per event, and each part redraws only
// when a value it shows changed.
const NO_MESSAGE = "(pick a message in flight)";

class PartView {
  constructor(model, el, store, part) {
    this.model = model;
    this.store = store;
    this.part = part;
    this.el = el;
    el.classList.add("rb-pic", "rb-part", `rb-part-${part}`);
    this.msgSig = null;
    this.build();
    this.onMsg = (msg) => this.update(msg);
    store.listeners.add(this.onMsg);
    if (store.state) this.update(null);
  }

  destroy() { this.store.listeners.delete(this.onMsg); }

  send(content) { this.model.send(content); }

  build() {
    const el = this.el;
    if (this.part === "status") {
      el.innerHTML = '<div class="rb-status" role="status" aria-live="polite"></div>';
      this.box = el.firstChild;
    } else if (this.part === "history") {
      el.innerHTML = '<div class="rb-hist-row"><label class="rb-hist-name">History ' +
        '<input type="range" min="0" max="0" value="0" aria-label="History"></label>' +
        '<span class="rb-hist-pos"></span></div><div class="rb-hist-label"></div>';
      this.input = el.querySelector("input");
      this.pos = el.querySelector(".rb-hist-pos");
      this.label = el.querySelector(".rb-hist-label");
      this.input.addEventListener("input", () => {
        this.pos.textContent = `${this.input.value} / ${this.input.max}`;
      });
      this.input.addEventListener("change", () => this.send({kind: "history", to: Number(this.input.value)}));
    } else if (this.part === "messages") {
      el.innerHTML = '<label class="rb-msg-name">Message <select aria-label="Message"></select></label>';
      this.select = el.querySelector("select");
      this.select.addEventListener("change", () => {
        const v = Number(this.select.value);
        this.send({kind: "select", msg: v || null});
      });
    } else if (this.part === "details") {
      el.innerHTML = '<div class="rb-details"></div>';
      this.box = el.firstChild;
    }
  }

  // Did this message change anything this part shows?
  touches(msg, keys, prefix = null) {
    if (!msg || msg.kind !== "patch") return true;
    const changed = Object.keys(msg.ui || {}).concat(msg.ui_del || []);
    return changed.some((k) => keys.includes(k) || (prefix && k.startsWith(prefix)));
  }

  update(msg) {
    const ui = this.store.ui || {};
    if (this.part === "status") {
      if (!this.touches(msg, ["status", "error"])) return;
      this.box.innerHTML = ui.status || "";  // built and escaped by the kernel
      this.box.dataset.error = String(!!ui.error);
    } else if (this.part === "history") {
      if (!this.touches(msg, ["hist", "hist_label", "past"])) return;
      const [m, total] = ui.hist || [0, 0];
      if (this.input.max !== String(total)) this.input.max = String(total);
      if (this.input.value !== String(m)) this.input.value = String(m);
      this.pos.textContent = `${m} / ${total}`;
      this.label.innerHTML = ui.hist_label || "";  // built and escaped by the kernel
    } else if (this.part === "messages") {
      const state = this.store.state;
      const msgsChanged = !msg || msg.kind !== "patch" || (msg.diff && msg.diff.msgs);
      if (msgsChanged && state) {
        const ids = Object.keys(state.msgs).map(Number).sort((a, b) => a - b);
        const opts = [[0, NO_MESSAGE]].concat(ids.map((id) => {
          const m = state.msgs[id];
          return [id, `#${id} ${m[9]}${m[8] ? "  \u2715 will be lost" : ""}`];
        }));
        const sig = opts.map((o) => o[1]).join("\n");
        if (sig !== this.msgSig) {
          this.msgSig = sig;
          this.select.innerHTML = opts.map(([v, t]) => `<option value="${v}">${esc(t)}</option>`).join("");
        }
      }
      const want = String(ui.msg ?? 0);
      if (this.select.value !== want) this.select.value = want;
    } else if (this.part === "details") {
      if (!this.touches(msg, ["dn", "dm", "dn_k", "dm_k"], "d")) return;
      const parts = [];
      for (const key of ["dn", "dm"]) {
        if (!ui[key]) continue;
        const rows = (ui[key + "_k"] || []).map((k) =>
          `<tr><td>${esc(k)}</td><td>${esc(ui[`${key}/${k}`] ?? "")}</td></tr>`).join("");
        parts.push(`<div data-details="${key === "dn" ? "server" : "message"}"><b>${esc(ui[key])}</b>` +
          `<table>${rows}</table></div>`);
      }
      this.box.innerHTML = parts.join("");
    }
  }
}

export default {
  initialize({model}) {
    if (model.get("part") !== "picture") return undefined;  // a part only reads the picture's store
    const st = storeOf(model);
    const onMsg = (msg) => {
      if (!msg || typeof msg !== "object") return;
      if (msg.kind === "full") {
        st.last = st.state;
        st.state = msg.state;
        st.ui = msg.ui || {};
        st.rev = msg.rev;
      } else if (msg.kind === "patch") {
        if (!st.state || msg.base !== st.rev) { model.send({kind: "hello"}); return; }
        st.last = st.state;
        if (Object.keys(msg.diff).length) st.state = applyDiff(st.state, msg.diff);
        st.rev = msg.rev;
        if (msg.ui || msg.ui_del) st.ui = applyUi(st.ui, msg.ui, msg.ui_del);
      } else return;
      for (const fn of st.listeners) fn(msg);
    };
    model.on("msg:custom", onMsg);
    model.send({kind: "hello"});
    return () => { model.off("msg:custom", onMsg); stores.delete(model.get("uid")); };
  },
  render({model, el}) {
    const st = storeOf(model);
    const part = model.get("part");
    if (part !== "picture") {
      const view = new PartView(model, el, st, part);
      return () => view.destroy();
    }
    if (!st.state) model.send({kind: "hello"});
    const view = new PictureView(model, el, st);
    return () => view.destroy();
  },
};
