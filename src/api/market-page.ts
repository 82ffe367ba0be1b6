// The live market page served at /markets/{market}: one self-contained HTML document (inline CSS and script,
// nothing fetched from elsewhere) that reads the market over the public API and then follows its WebSocket.
// It shows the book by region and side, a time axis of open capacity per delivery window with the fills placed
// on it, recent settlements with prices, welfare and scores (when settlements carry them), counters, and a
// histogram of solve latency. Element ids are stable: the page test reads them.
import { escapeHtml } from "./reference.ts";

/** How many recent settlements the page loads on open and keeps. */
export const RECENT_SETTLEMENTS = 20;

/** Solve-latency histogram buckets (upper bounds, ms); the last bucket is open-ended. */
export const LATENCY_BUCKETS_MS = [1, 2, 5, 10, 20, 50, 100] as const;

const STYLE = `:root{--buy:#1a8f4a;--sell:#c0392b;--ink:#1b1f24;--muted:#667;--line:#dde}
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:var(--ink);background:#fafbfc}
header{display:flex;gap:1.5em;align-items:baseline;padding:.8em 1.2em;background:#fff;border-bottom:1px solid var(--line)}
h1{font-size:20px;margin:0}h2{font-size:15px;margin:.2em 0 .5em}
main{display:grid;grid-template-columns:minmax(320px,1fr) minmax(320px,1fr);gap:1em;padding:1em 1.2em}
.card{background:#fff;border:1px solid var(--line);border-radius:6px;padding:.7em .9em;overflow:auto}
.wide{grid-column:1/-1}table{border-collapse:collapse;width:100%}td,th{padding:.15em .45em;text-align:right;border-bottom:1px solid #eef;white-space:nowrap}
td:first-child,th:first-child{text-align:left}.buy{color:var(--buy)}.sell{color:var(--sell)}.muted{color:var(--muted)}
#status{font-weight:600}#status[data-state=live]{color:var(--buy)}#status[data-state=offline]{color:var(--sell)}
.counters span{margin-right:1.2em}.region{margin-bottom:.8em}.sides{display:grid;grid-template-columns:repeat(auto-fit,minmax(280px,1fr));gap:.6em}.sides>*{min-width:0;overflow-x:auto}
.hist{display:flex;align-items:flex-end;gap:6px;height:140px;padding-top:.5em}
.bar{flex:1;background:#2f6fdd;min-height:1px;position:relative}.bar span{position:absolute;top:-1.3em;width:100%;text-align:center;font-size:12px}
.hist-labels{display:flex;gap:6px}.hist-labels div{flex:1;text-align:center;font-size:12px;color:var(--muted)}
code{font:12px ui-monospace,monospace}
.timeline{margin-bottom:1em}.timeline h3{font-size:14px;margin:.2em 0}.timeline svg{width:100%;height:auto;display:block}.timeline text{font-size:11px;fill:var(--muted)}
rect.cap.buy{fill:var(--buy)}rect.cap.sell{fill:var(--sell)}rect.fill{fill:#2f6fdd}
rect.anytime.buy{fill:var(--buy);fill-opacity:.3}rect.anytime.sell{fill:var(--sell);fill-opacity:.3}text.anytime{fill:var(--ink)}
line.now{stroke:var(--ink);stroke-dasharray:3 3}line.axis{stroke:#99a}`;

/**
 * The time axis's drawing (SVG user units): width, each side's band height, the fill track's height, the label
 * margin, and the height of each row of the "any time" strip (open quantity of intents without a window).
 */
export const TIMELINE = { width: 1000, band: 90, track: 22, left: 76, strip: 12 } as const;

/** The page's script. Plain ES2020 in a string: it runs in the browser, not in the worker. */
const SCRIPT = String.raw`
const MARKET = JSON.parse(document.getElementById("market-name").textContent);
const BUCKETS = JSON.parse(document.getElementById("buckets").textContent);
const KEEP = Number(document.getElementById("keep").textContent);
const api = "/v1/markets/" + encodeURIComponent(MARKET);
const state = { book: new Map(), settlements: [], counters: null, config: null, events: 0 };
const el = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const num = (x, d = 4) => (typeof x === "number" ? Number(x.toFixed(d)).toString() : "");
const short = (s) => (s && s.length > 12 ? s.slice(0, 6) + "…" + s.slice(-4) : s || "");

// A score lives on the settlement or in its stats, depending on who produced it (the scorer is added later);
// with several scored proposals ("scores", a list or a map) the page shows the best.
function scoreOf(s) {
  if (s.scores && typeof s.scores === "object") {
    const values = Object.values(s.scores)
      .map((x) => (typeof x === "number" ? x : x && typeof x.score === "number" ? x.score : x && typeof x.estimate === "number" ? x.estimate : undefined))
      .filter((x) => x !== undefined);
    if (values.length > 0) return Math.max(...values);
  }
  if (typeof s.score === "number") return s.score;
  if (s.stats && typeof s.stats.score === "number") return s.stats.score;
  if (s.score && typeof s.score.estimate === "number") return s.score.estimate;
  return undefined;
}

function addSettlement(s) {
  if (state.settlements.some((x) => x.id === s.id)) return;
  state.settlements.unshift(s);
  state.settlements.sort((a, b) => String(b.createdAt || "").localeCompare(String(a.createdAt || "")) || seqOf(b) - seqOf(a));
  state.settlements.length = Math.min(state.settlements.length, KEEP);
}
const seqOf = (s) => Number(String(s.id).replace(/^s-/, "")) || 0;

function applyFills(s) {
  for (const f of s.fills) {
    for (const id of [f.buy, f.sell]) {
      const i = state.book.get(id);
      if (!i) continue;
      // A swap's quantity is what it gives: the fills where it takes swapFor.resource in return don't count again.
      if (i.swapFor && id === f.buy) continue;
      i.remainingQuantity -= f.quantity;
      i.filledQuantity = (i.filledQuantity || 0) + f.quantity;
      if (i.remainingQuantity <= i.quantity * 1e-9) state.book.delete(id);
      else i.status = "partially_filled";
    }
  }
}

function renderBook() {
  const regions = new Map();
  for (const i of state.book.values()) {
    if (!regions.has(i.region)) regions.set(i.region, { buy: [], sell: [] });
    regions.get(i.region)[i.side].push(i);
  }
  const side = (list, name) => {
    list.sort((a, b) => (name === "buy" ? b.limitPrice - a.limitPrice : a.limitPrice - b.limitPrice));
    const rows = list
      .map((i) => "<tr data-intent=\"" + esc(i.id) + "\"><td>" + esc(i.resource) + "</td><td>" + num(i.remainingQuantity) + "</td><td>" + num(i.limitPrice) + "</td><td class=window>" + esc(windowText(i.window)) + (i.priority && i.priority !== "normal" ? " · " + esc(i.priority) : "") + "</td><td class=muted title=\"" + esc(i.agent) + "\">" + esc(short(i.agent)) + "</td></tr>")
      .join("");
    return "<div class=\"" + name + "\"><h3 class=" + name + ">" + (name === "buy" ? "bids (buy)" : "asks (sell)") + " · " + list.length + "</h3><table><thead><tr><th>resource</th><th>open qty</th><th>limit</th><th>when</th><th>agent</th></tr></thead><tbody>" + rows + "</tbody></table></div>";
  };
  const names = [...regions.keys()].sort();
  el("book").innerHTML = names.length === 0
    ? "<p class=muted id=book-empty>No open intents.</p>"
    : names.map((r) => "<div class=region data-region=\"" + esc(r) + "\"><h2>" + esc(r) + "</h2><div class=sides>" + side(regions.get(r).buy, "buy") + side(regions.get(r).sell, "sell") + "</div></div>").join("");
}

// ---- The time axis: open capacity per window (bids up, asks down, units per hour) and fills on [start, end) ----
const HOUR = 3600000;
const TL = JSON.parse(document.getElementById("timeline-geometry").textContent);
const hhmm = (ms) => new Date(ms).toISOString().slice(11, 16);
const day = (ms) => new Date(ms).toISOString().slice(5, 10);
const isoOf = (ms) => new Date(ms).toISOString();
function windowText(w) {
  if (!w) return "any time";
  const s = Date.parse(w.start), e = Date.parse(w.end);
  return day(s) + " " + hhmm(s) + "–" + (day(e) === day(s) ? "" : day(e) + " ") + hhmm(e);
}

// What each open intent offers or needs over time: one leg per window (a swap gives over its window and takes
// swapFor.resource over swapFor.window), its open quantity spread evenly over it, capped by maxRate. A leg
// without a window trades at any time: it goes to the "any time" strip with its open quantity.
function capacityLegs(anytime) {
  const legs = [];
  for (const i of state.book.values()) {
    const leg = (resource, side, w) => {
      if (!w) return void anytime.push({ id: i.id, resource, side, quantity: i.remainingQuantity });
      const start = Date.parse(w.start), end = Date.parse(w.end);
      const even = i.remainingQuantity / ((end - start) / HOUR);
      legs.push({ id: i.id, resource, side, start, end, rate: typeof i.maxRate === "number" ? Math.min(i.maxRate, even) : even });
    };
    leg(i.resource, i.side, i.window);
    if (i.swapFor) leg(i.swapFor.resource, "buy", i.swapFor.window);
  }
  return legs;
}

function timedFills() {
  const out = [];
  for (const s of state.settlements) for (const f of s.fills) if (f.start && f.end) out.push({ ...f, settlement: s.id, s: Date.parse(f.start), e: Date.parse(f.end) });
  return out;
}

function tickStep(spanMs) {
  for (const h of [1, 2, 3, 6, 12, 24, 48, 168]) if (spanMs / (h * HOUR) <= 12) return h * HOUR;
  return 336 * HOUR;
}

function renderTimeline() {
  const anytime = [];
  const legs = capacityLegs(anytime);
  const fills = timedFills();
  const resources = [...new Set([...legs.map((l) => l.resource), ...anytime.map((l) => l.resource), ...fills.map((f) => f.resource)])].sort();
  const untimed = new Set(anytime.map((l) => l.id)).size;
  el("timeline-note").textContent = untimed > 0 ? untimed + " open intent" + (untimed === 1 ? "" : "s") + " without a window (any time): the strip under its resource's axis" : "";
  const of = (list, r) => list.filter((l) => l.resource === r);
  el("timeline").innerHTML = resources.length === 0
    ? "<p class=muted id=timeline-empty>No open intent and no recent fill.</p>"
    : resources.map((r) => timelineOf(r, of(legs, r), of(anytime, r), of(fills, r), Date.now())).join("");
}

// The "any time" strip: per side the open quantity of the legs without a window, a band across the whole axis
// (they may deliver in any interval, windowed counterparts' included), bids above asks.
function anytimeStrip(anytime, y, x0, x1) {
  const { strip } = TL;
  let out = "<text x=0 y=" + (y + strip + 4) + ">any time</text>";
  ["buy", "sell"].forEach((side, row) => {
    const mine = anytime.filter((l) => l.side === side);
    if (mine.length === 0) return;
    const quantity = mine.reduce((t, l) => t + l.quantity, 0);
    const top = y + row * (strip + 2);
    const what = (side === "buy" ? "bids " : "asks ") + num(quantity) + " units, any time (" + mine.length + " intent" + (mine.length === 1 ? "" : "s") + ")";
    out += "<rect class=\"anytime " + side + "\" data-side=" + side + " data-quantity=\"" + num(quantity) + "\" data-intents=\"" + esc(mine.map((l) => l.id).join(" ")) + "\"" +
      " x=" + x0.toFixed(1) + " width=" + (x1 - x0).toFixed(1) + " y=" + top + " height=" + strip + "><title>" + what + "</title></rect>" +
      "<text class=anytime x=" + (x0 + 6).toFixed(1) + " y=" + (top + strip - 3) + ">" + what + "</text>";
  });
  return out;
}

// Each side's rate per elementary interval (between consecutive window boundaries): the legs covering it add up.
function steps(legs, side) {
  const cuts = [...new Set(legs.flatMap((l) => [l.start, l.end]))].sort((a, b) => a - b);
  const out = [];
  for (let k = 0; k + 1 < cuts.length; k++) {
    const active = legs.filter((l) => l.side === side && l.start <= cuts[k] && l.end >= cuts[k + 1]);
    const rate = active.reduce((t, l) => t + l.rate, 0);
    if (rate > 0) out.push({ start: cuts[k], end: cuts[k + 1], rate, ids: active.map((l) => l.id) });
  }
  return out;
}

function timelineOf(resource, legs, anytime, fills, now) {
  const times = [...legs.flatMap((l) => [l.start, l.end]), ...fills.flatMap((f) => [f.s, f.e])];
  // Only intents without a window: the next day, from now.
  let t0 = times.length > 0 ? Math.min(...times) : now;
  const t1 = Math.max(t0 + (times.length > 0 ? HOUR : 24 * HOUR), ...times);
  // Now on the axis too, unless it is so far before the windows that they would be squeezed into a corner.
  if (now < t0 && t0 - now < t1 - t0) t0 = now;
  const { width: W, left: L, band, track } = TL;
  const x = (t) => L + ((t - t0) / (t1 - t0)) * (W - L - 24);
  const bids = steps(legs, "buy"), asks = steps(legs, "sell");
  const max = Math.max(...bids.map((s) => s.rate), ...asks.map((s) => s.rate), 1e-9);
  const mid = 14 + band;
  const h = (rate) => Math.max(1, (rate / max) * (band - 4));
  const bar = (side, s) =>
    "<rect class=\"cap " + side + "\" data-side=" + side + " data-start=\"" + isoOf(s.start) + "\" data-end=\"" + isoOf(s.end) + "\" data-rate=\"" + num(s.rate) + "\" data-intents=\"" + esc(s.ids.join(" ")) + "\"" +
    " x=" + x(s.start).toFixed(1) + " width=" + Math.max(1, x(s.end) - x(s.start)).toFixed(1) + " y=" + (side === "buy" ? mid - h(s.rate) : mid).toFixed(1) + " height=" + h(s.rate).toFixed(1) + ">" +
    "<title>" + (side === "buy" ? "bids " : "asks ") + num(s.rate) + "/h, " + windowText({ start: isoOf(s.start), end: isoOf(s.end) }) + "</title></rect>";
  const trackY = mid + band + 6;
  const fillBar = (f, k) =>
    "<rect class=fill data-buy=\"" + esc(f.buy) + "\" data-sell=\"" + esc(f.sell) + "\" data-start=\"" + esc(f.start) + "\" data-end=\"" + esc(f.end) + "\"" +
    " x=" + x(f.s).toFixed(1) + " width=" + Math.max(2, x(f.e) - x(f.s)).toFixed(1) + " y=" + (trackY + (k % 2) * (track / 2)).toFixed(1) + " height=" + (track / 2 - 2) + ">" +
    "<title>fill in " + esc(f.settlement) + ": " + num(f.quantity) + " at " + num(f.price) + ", " + esc(windowText({ start: f.start, end: f.end })) + "</title></rect>";
  const stripY = trackY + track + 2;
  const bottom = anytime.length > 0 ? stripY + 2 * (TL.strip + 2) : trackY + track;
  const step = tickStep(t1 - t0);
  let ticks = "";
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
    const label = (step >= 24 * HOUR || hhmm(t) === "00:00" ? day(t) + " " : "") + hhmm(t);
    ticks += "<line class=axis x1=" + x(t).toFixed(1) + " x2=" + x(t).toFixed(1) + " y1=" + (mid - 3) + " y2=" + (mid + 3) + "></line><text x=" + x(t).toFixed(1) + " y=" + (bottom + 12) + " text-anchor=middle>" + label + "</text>";
  }
  const nowLine = now >= t0 && now <= t1 ? "<line class=now x1=" + x(now).toFixed(1) + " x2=" + x(now).toFixed(1) + " y1=4 y2=" + bottom + "><title>now</title></line>" : "";
  return "<div class=timeline data-resource=\"" + esc(resource) + "\"><h3>" + esc(resource) + " <span class=muted>open capacity in units per hour, bids ↑ asks ↓; fills delivered below (UTC)</span></h3>" +
    "<svg viewBox=\"0 0 " + W + " " + (bottom + 18) + "\" role=img aria-label=\"open capacity of " + esc(resource) + " over time\">" +
    "<text x=0 y=" + (mid - band + 10) + ">bids " + num(max, 2) + "/h</text><text x=0 y=" + (mid - 4) + ">0</text><text x=0 y=" + (mid + band - 4) + ">asks " + num(max, 2) + "/h</text><text x=0 y=" + (trackY + 10) + ">fills</text>" +
    "<line class=axis x1=" + L + " x2=" + W + " y1=" + mid + " y2=" + mid + "></line>" +
    bids.map((s) => bar("buy", s)).join("") + asks.map((s) => bar("sell", s)).join("") + fills.map(fillBar).join("") +
    (anytime.length > 0 ? anytimeStrip(anytime, stripY, x(t0), x(t1)) : "") + ticks + nowLine + "</svg></div>";
}

function renderSettlements() {
  const scored = state.settlements.some((s) => scoreOf(s) !== undefined);
  el("settlements-head").innerHTML = "<tr><th>settlement</th><th>time</th><th>fills</th><th>volume</th><th>prices</th><th>welfare</th><th>status</th><th>solve ms</th>" + (scored ? "<th>score</th>" : "") + "</tr>";
  el("settlements-body").innerHTML = state.settlements
    .map((s) => {
      const volume = s.fills.reduce((t, f) => t + f.quantity, 0);
      const prices = [...new Set(s.fills.map((f) => num(f.price)))].slice(0, 4).join(", ");
      const score = scoreOf(s);
      return "<tr data-settlement=\"" + esc(s.id) + "\"><td>" + esc(s.id) + "</td><td>" + esc((s.createdAt || "").slice(11, 23)) + "</td><td>" + s.fills.length + "</td><td>" + num(volume) + "</td><td class=price>" + esc(prices) + "</td><td class=welfare>" + num(s.welfare) + "</td><td>" + esc(s.stats && s.stats.status) + "</td><td>" + num(s.stats && s.stats.solveMs, 2) + "</td>" + (scored ? "<td class=score>" + (score === undefined ? "" : num(score, 3)) + "</td>" : "") + "</tr>";
    })
    .join("");
}

function renderHistogram() {
  const counts = new Array(BUCKETS.length + 1).fill(0);
  for (const s of state.settlements) {
    const ms = s.stats && s.stats.solveMs;
    if (typeof ms !== "number") continue;
    let k = BUCKETS.findIndex((b) => ms < b);
    counts[k === -1 ? BUCKETS.length : k]++;
  }
  const max = Math.max(1, ...counts);
  el("histogram").innerHTML = counts.map((c, k) => "<div class=bar data-count=\"" + c + "\" style=\"height:" + Math.round((100 * c) / max) + "%\"><span>" + c + "</span></div>").join("");
  el("histogram-labels").innerHTML = counts.map((_, k) => "<div>" + (k === 0 ? "<" + BUCKETS[0] : k === BUCKETS.length ? "≥" + BUCKETS[k - 1] : BUCKETS[k - 1] + "–" + BUCKETS[k]) + "</div>").join("");
}

function renderCounters() {
  const c = state.counters;
  if (!c) return;
  el("counters").innerHTML = ["intents", "openIntents", "settlements", "volume", "notional", "welfare"]
    .map((k) => "<span>" + k + " <b id=\"counter-" + k + "\">" + num(c[k]) + "</b></span>").join("") +
    (state.config ? "<span class=muted>" + esc(state.config.clearing) + " clearing</span>" : "");
}

function render() {
  renderCounters();
  renderBook();
  renderTimeline();
  renderSettlements();
  renderHistogram();
  el("events").textContent = String(state.events);
}

async function getJson(path) {
  const r = await fetch(path, { headers: { accept: "application/json" } });
  if (!r.ok) throw new Error(path + ": " + r.status);
  return r.json();
}

// Reads the whole market: used on open and after a reconnect (events are not replayed, so state is re-read).
async function load() {
  const view = await getJson(api);
  state.counters = view.counters;
  state.config = view.config;
  state.book = new Map(view.openIntents.filter((i) => i.remainingQuantity > 0).map((i) => [i.id, i]));
  const n = view.counters.settlements;
  const ids = [];
  for (let k = n; k > Math.max(0, n - KEEP); k--) ids.push("s-" + k);
  const found = await Promise.all(ids.map((id) => getJson(api + "/settlements/" + id).catch(() => null)));
  for (const s of found) if (s) addSettlement(s);
  render();
}

let refreshTimer = null;
// Counters come from the server: refresh them (debounced) after events rather than recount on the page.
function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(async () => {
    try {
      const view = await getJson(api);
      state.counters = view.counters;
      state.config = view.config;
      renderCounters();
    } catch {}
  }, 250);
}

function onEvent(e) {
  state.events++;
  if (e.type === "intent.accepted") {
    if (e.intent.remainingQuantity > 0) state.book.set(e.intent.id, e.intent);
  } else if (e.type === "intent.cancelled") {
    state.book.delete(e.intent.id);
  } else if (e.type === "intent.expired") {
    for (const id of e.ids) state.book.delete(id);
  } else if (e.type === "settlement.committed") {
    applyFills(e.settlement);
    addSettlement(e.settlement);
  }
  render();
  refreshSoon();
}

function setStatus(s) {
  el("status").dataset.state = s;
  el("status").textContent = s;
}

let failures = 0;
function connect() {
  setStatus("connecting");
  const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + api + "/stream");
  let ping = null;
  ws.onopen = async () => {
    failures = 0;
    ping = setInterval(() => ws.readyState === 1 && ws.send("ping"), 20000);
    // "live" only once the market has been read: a failed read is shown and retried while the socket is open.
    for (let k = 0; ws.readyState === 1; k++) {
      try {
        await load();
        el("error").textContent = "";
        setStatus("live");
        return;
      } catch (err) {
        el("error").textContent = "cannot read the market: " + String(err.message || err);
        await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** k)));
      }
    }
  };
  ws.onmessage = (m) => {
    if (m.data === "pong") return;
    try {
      const e = JSON.parse(m.data);
      if (e.type !== "hello") onEvent(e);
    } catch {}
  };
  ws.onclose = () => {
    clearInterval(ping);
    setStatus("offline");
    failures++;
    setTimeout(connect, Math.min(10000, 250 * 2 ** failures));
  };
}

render();
connect();
`;

/** The HTML of the live page for `market` (already validated as a market name). */
export function marketPageHtml(market: string): string {
  // Data for the script travels in JSON script tags, so nothing is ever interpolated into code.
  const data = (id: string, value: unknown) => `<script type="application/json" id="${id}">${JSON.stringify(value).replace(/</g, "\\u003c")}</script>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>NASH market ${escapeHtml(market)}</title><style>${STYLE}</style></head>
<body>
<header><h1>market <code id="market">${escapeHtml(market)}</code></h1><span id="status" data-state="connecting">connecting</span>
<span class="muted">events <b id="events">0</b></span><span id="error" class="sell"></span>
<a class="muted" href="/docs">API reference</a></header>
<main>
<section class="card wide"><div class="counters" id="counters"></div></section>
<section class="card"><h2>Book by region and side</h2><div id="book"></div></section>
<section class="card"><h2>Solve latency (ms), last ${RECENT_SETTLEMENTS} settlements</h2>
<div class="hist" id="histogram"></div><div class="hist-labels" id="histogram-labels"></div></section>
<section class="card wide"><h2>Open capacity over time</h2><div id="timeline"></div><p class="muted" id="timeline-note"></p></section>
<section class="card wide"><h2>Recent settlements</h2><table id="settlements"><thead id="settlements-head"></thead><tbody id="settlements-body"></tbody></table></section>
</main>
${data("market-name", market)}${data("buckets", LATENCY_BUCKETS_MS)}${data("keep", RECENT_SETTLEMENTS)}${data("timeline-geometry", TIMELINE)}
<script>${SCRIPT}</script>
</body></html>`;
}
