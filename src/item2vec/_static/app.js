// The explorer page of `item2vec serve`: plain script, no build step, no outside resources.
// Every request goes to the server that served this page (relative URLs).
"use strict";

const explorer = {
  health: null,
  chosen: null,         // the item whose neighbours are shown
  neighbors: [],        // [{item, score, label}]
  history: [],          // item ids, oldest first
  recommendations: { items: [], scores: [] },
  map: { points: null, drawn: 0, highlight: { chosen: null, neighbors: [] } },
  labels: new Map(),    // id (as JSON text) -> label, filled from every answer seen
};
window.explorer = explorer;

const $ = (id) => document.getElementById(id);
const key = (item) => JSON.stringify(item);

function labelOf(item) {
  return explorer.labels.get(key(item)) || null;
}

function remember(item, label) {
  if (label) explorer.labels.set(key(item), label);
}

function describe(item) {
  const label = labelOf(item);
  return label ? `${label} (${item})` : String(item);
}

async function api(path, body) {
  const init = body === undefined ? {} : {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  };
  const response = await fetch(path, init);
  const answer = await response.json().catch(() => ({ error: response.statusText }));
  if (!response.ok) throw new Error(answer.error || `HTTP ${response.status}`);
  return answer;
}

// --- search with completion ----------------------------------------------------------

let searchTimer = null;
let searchSeq = 0;

function onSearchInput() {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(runSearch, 120);
}

async function runSearch() {
  const query = $("search").value;
  const mine = ++searchSeq;
  const list = $("completions");
  let answer;
  try {
    answer = await api(`items?q=${encodeURIComponent(query)}&limit=15`);
  } catch (error) {
    list.hidden = true;
    return;
  }
  if (mine !== searchSeq) return;  // a newer query is on its way
  list.replaceChildren();
  for (const entry of answer.items) {
    remember(entry.item, entry.label);
    const li = document.createElement("li");
    li.setAttribute("role", "option");
    li.dataset.item = key(entry.item);
    li.textContent = describe(entry.item);
    li.addEventListener("mousedown", (event) => {
      event.preventDefault();  // keep the focus until the click lands
      pick(entry.item);
    });
    list.appendChild(li);
  }
  list.hidden = answer.items.length === 0;
  list.dataset.query = query;
}

function onSearchKey(event) {
  const list = $("completions");
  const options = [...list.querySelectorAll("li")];
  if (list.hidden || options.length === 0) return;
  let at = options.findIndex((li) => li.classList.contains("active"));
  if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    event.preventDefault();
    if (at >= 0) options[at].classList.remove("active");
    at = event.key === "ArrowDown" ? Math.min(at + 1, options.length - 1) : Math.max(at - 1, 0);
    options[at].classList.add("active");
    options[at].scrollIntoView({ block: "nearest" });
  } else if (event.key === "Enter") {
    event.preventDefault();
    pick(JSON.parse(options[Math.max(at, 0)].dataset.item));
  } else if (event.key === "Escape") {
    list.hidden = true;
  }
}

function pick(item) {
  $("completions").hidden = true;
  $("search").value = describe(item);
  choose(item);
}

// --- the chosen item and its neighbours ------------------------------------------------

let similarSeq = 0;

async function choose(item) {
  explorer.chosen = item;
  const mine = ++similarSeq;
  const k = Math.max(1, parseInt($("similar-k").value, 10) || 10);
  const error = $("similar-error");
  let answer;
  try {
    answer = await api(`similar?item=${encodeURIComponent(String(item))}&k=${k}`);
  } catch (failure) {
    error.textContent = failure.message;
    error.hidden = false;
    return;
  }
  if (mine !== similarSeq) return;
  error.hidden = true;
  remember(answer.item, answer.label);
  explorer.neighbors = answer.neighbors;
  const chosen = $("chosen");
  chosen.hidden = false;
  chosen.dataset.item = key(answer.item);
  chosen.querySelector(".title").textContent = describe(answer.item);
  const list = $("neighbors");
  list.replaceChildren();
  for (const entry of answer.neighbors) {
    remember(entry.item, entry.label);
    const li = document.createElement("li");
    li.dataset.item = key(entry.item);
    li.dataset.score = String(entry.score);
    const go = document.createElement("button");
    go.type = "button";
    go.className = "link go";
    go.textContent = describe(entry.item);
    go.title = "show this item's neighbours";
    go.addEventListener("click", () => pick(entry.item));
    const score = document.createElement("span");
    score.className = "score";
    score.textContent = entry.score.toFixed(3);
    const add = document.createElement("button");
    add.type = "button";
    add.className = "add";
    add.textContent = "+";
    add.title = "add to the history";
    add.addEventListener("click", () => addToHistory(entry.item));
    li.append(add, go, score);
    list.appendChild(li);
  }
  list.dataset.for = key(answer.item);
  highlight();
}

// --- history and recommendations ------------------------------------------------------

function addToHistory(item) {
  explorer.history.push(item);
  renderHistory();
  recommend();
}

function renderHistory() {
  const list = $("history");
  list.replaceChildren();
  explorer.history.forEach((item, position) => {
    const li = document.createElement("li");
    li.dataset.item = key(item);
    li.append(describe(item));
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "×";
    remove.title = "remove";
    remove.addEventListener("click", () => {
      explorer.history.splice(position, 1);
      renderHistory();
      recommend();
    });
    li.appendChild(remove);
    list.appendChild(li);
  });
}

// an option field: empty -> left out (the model's value), "none" -> null, else a number
function readOption(name) {
  const text = $(`opt-${name}`).value.trim();
  if (text === "") return undefined;
  if (text.toLowerCase() === "none") return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : text;  // the server names a bad value
}

function queryBody() {
  const body = {
    history: explorer.history,
    k: Math.max(1, parseInt($("opt-k").value, 10) || 10),
    exclude_seen: $("opt-exclude-seen").checked,
    fallback: $("opt-fallback").value === "none" ? null : "popularity",
  };
  for (const name of ["last_n", "half_life", "popularity"]) {
    const value = readOption(name);
    if (value !== undefined) body[name] = value;
  }
  return body;
}

let recommendSeq = 0;

async function recommend() {
  const list = $("recommendations");
  const note = $("recommend-note");
  const error = $("recommend-error");
  const mine = ++recommendSeq;
  if (explorer.history.length === 0) {
    list.replaceChildren();
    list.dataset.history = key([]);
    note.textContent = "Add items to the history to see recommendations.";
    error.hidden = true;
    return;
  }
  const body = queryBody();
  let answer;
  try {
    answer = await api("recommend", body);
  } catch (failure) {
    if (mine !== recommendSeq) return;
    error.textContent = failure.message;
    error.hidden = false;
    list.replaceChildren();
    list.dataset.history = key(body.history);
    return;
  }
  if (mine !== recommendSeq) return;
  error.hidden = true;
  explorer.recommendations = answer;
  const labels = answer.labels || [];
  list.replaceChildren();
  answer.items.forEach((item, i) => {
    remember(item, labels[i]);
    const li = document.createElement("li");
    li.dataset.item = key(item);
    li.dataset.score = String(answer.scores[i]);
    const go = document.createElement("button");
    go.type = "button";
    go.className = "link go";
    go.textContent = describe(item);
    go.addEventListener("click", () => pick(item));
    const score = document.createElement("span");
    score.className = "score";
    score.textContent = answer.scores[i].toFixed(3);
    const add = document.createElement("button");
    add.type = "button";
    add.className = "add";
    add.textContent = "+";
    add.title = "add to the history";
    add.addEventListener("click", () => addToHistory(item));
    li.append(add, go, score);
    list.appendChild(li);
  });
  const notes = [];
  if (answer.skipped) notes.push(`${answer.skipped} unknown event(s) skipped`);
  if (answer.fallback) notes.push(`no known item: the ${answer.fallback} fallback`);
  note.textContent = notes.join("; ");
  list.dataset.history = key(body.history);
}

// --- the map ------------------------------------------------------------------------

const mapView = { scaleX: 1, scaleY: 1, x0: 0, y0: 0, hover: -1 };

function toCanvas(x, y) {
  return [(x - mapView.x0) * mapView.scaleX, (mapView.y0 - y) * mapView.scaleY];
}

async function loadMap() {
  const canvas = $("map");
  let answer;
  try {
    answer = await api("map?max_points=5000");
  } catch (failure) {
    $("map-info").textContent = failure.message;
    return;
  }
  answer.items.forEach((item, i) => remember(item, answer.labels[i]));
  const [xmin, xmax, ymin, ymax] = answer.extent;
  mapView.x0 = xmin;
  mapView.y0 = ymax;
  mapView.scaleX = canvas.width / (xmax - xmin);
  mapView.scaleY = canvas.height / (ymax - ymin);
  // canvas positions computed once; hover searches a grid of them
  const px = new Float32Array(answer.items.length);
  const py = new Float32Array(answer.items.length);
  answer.items.forEach((_, i) => {
    [px[i], py[i]] = toCanvas(answer.x[i], answer.y[i]);
  });
  explorer.map.points = { ...answer, px, py, grid: buildGrid(px, py) };
  $("map-info").textContent =
    `(${answer.method.toUpperCase()}; ${answer.items.length.toLocaleString()} of ` +
    `${answer.n_items.toLocaleString()} items drawn)`;
  drawMap();
}

const CELL = 12;

function buildGrid(px, py) {
  const grid = new Map();
  for (let i = 0; i < px.length; i++) {
    const cell = `${Math.floor(px[i] / CELL)},${Math.floor(py[i] / CELL)}`;
    if (!grid.has(cell)) grid.set(cell, []);
    grid.get(cell).push(i);
  }
  return grid;
}

function nearestPoint(x, y) {
  const points = explorer.map.points;
  if (!points) return -1;
  const cx = Math.floor(x / CELL);
  const cy = Math.floor(y / CELL);
  let best = -1;
  let bestDistance = 8 * 8;
  for (let dx = -1; dx <= 1; dx++) {
    for (let dy = -1; dy <= 1; dy++) {
      for (const i of points.grid.get(`${cx + dx},${cy + dy}`) || []) {
        const distance = (points.px[i] - x) ** 2 + (points.py[i] - y) ** 2;
        if (distance < bestDistance) {
          best = i;
          bestDistance = distance;
        }
      }
    }
  }
  return best;
}

function drawMap() {
  const canvas = $("map");
  const context = canvas.getContext("2d");
  const points = explorer.map.points;
  context.clearRect(0, 0, canvas.width, canvas.height);
  if (!points) return;
  // the whole catalogue as density: one grey square per occupied bin
  const bins = points.bins;
  const most = Math.max(1, ...bins.counts);
  const w = canvas.width / bins.n;
  const h = canvas.height / bins.n;
  bins.counts.forEach((count, cell) => {
    if (count === 0) return;
    const row = Math.floor(cell / bins.n);
    const column = cell % bins.n;
    const shade = 0.08 + 0.35 * Math.sqrt(count / most);
    context.fillStyle = `rgba(107, 116, 128, ${shade})`;
    context.fillRect(column * w, canvas.height - (row + 1) * h, w + 0.5, h + 0.5);
  });
  context.fillStyle = "rgba(31, 111, 235, 0.55)";
  const size = points.px.length > 2000 ? 1.5 : 2.5;
  for (let i = 0; i < points.px.length; i++) {
    context.fillRect(points.px[i] - size / 2, points.py[i] - size / 2, size, size);
  }
  explorer.map.drawn = points.px.length;
  const marks = explorer.map.highlight;
  context.lineWidth = 2;
  context.strokeStyle = "#1f6feb";
  for (const [x, y] of marks.neighbors) {
    context.beginPath();
    context.arc(x, y, 5, 0, 2 * Math.PI);
    context.stroke();
  }
  if (marks.chosen) {
    context.fillStyle = "#e8590c";
    context.beginPath();
    context.arc(marks.chosen[0], marks.chosen[1], 6, 0, 2 * Math.PI);
    context.fill();
  }
  if (mapView.hover >= 0) {
    context.strokeStyle = "#1d232b";
    context.lineWidth = 1;
    context.beginPath();
    context.arc(points.px[mapView.hover], points.py[mapView.hover], 4, 0, 2 * Math.PI);
    context.stroke();
  }
}

async function highlight() {
  if (!explorer.map.points || explorer.chosen === null) return;
  const wanted = [explorer.chosen, ...explorer.neighbors.map((entry) => entry.item)];
  let answer;
  try {
    answer = await api("map/locate", { items: wanted, method: explorer.map.points.method });
  } catch (failure) {
    return;
  }
  const where = new Map(answer.items.map((item, i) => [key(item), toCanvas(answer.x[i], answer.y[i])]));
  explorer.map.highlight = {
    chosen: where.get(key(explorer.chosen)) || null,
    neighbors: explorer.neighbors.map((entry) => where.get(key(entry.item))).filter(Boolean),
  };
  drawMap();
}

function onMapMove(event) {
  const canvas = $("map");
  const box = canvas.getBoundingClientRect();
  const x = (event.clientX - box.left) * (canvas.width / box.width);
  const y = (event.clientY - box.top) * (canvas.height / box.height);
  const found = nearestPoint(x, y);
  const tooltip = $("tooltip");
  if (found !== mapView.hover) {
    mapView.hover = found;
    drawMap();
  }
  if (found < 0) {
    tooltip.hidden = true;
    return;
  }
  const item = explorer.map.points.items[found];
  tooltip.textContent = describe(item);
  tooltip.style.left = `${event.clientX - box.left + 12}px`;
  tooltip.style.top = `${event.clientY - box.top + 12}px`;
  tooltip.hidden = false;
}

function onMapClick() {
  if (mapView.hover >= 0) pick(explorer.map.points.items[mapView.hover]);
}

// --- start ----------------------------------------------------------------------------

async function start() {
  $("search").addEventListener("input", onSearchInput);
  $("search").addEventListener("keydown", onSearchKey);
  $("search").addEventListener("focus", onSearchInput);
  $("search").addEventListener("blur", () => setTimeout(() => { $("completions").hidden = true; }, 150));
  $("similar-k").addEventListener("change", () => explorer.chosen !== null && choose(explorer.chosen));
  $("clear-history").addEventListener("click", () => {
    explorer.history = [];
    renderHistory();
    recommend();
  });
  $("add-chosen").addEventListener("click", () => explorer.chosen !== null && addToHistory(explorer.chosen));
  for (const id of ["opt-k", "opt-exclude-seen", "opt-last_n", "opt-half_life", "opt-popularity", "opt-fallback"]) {
    $(id).addEventListener("change", recommend);
  }
  $("map").addEventListener("mousemove", onMapMove);
  $("map").addEventListener("mouseleave", () => {
    $("tooltip").hidden = true;
    mapView.hover = -1;
    drawMap();
  });
  $("map").addEventListener("click", onMapClick);
  try {
    const health = await api("health");
    explorer.health = health;
    $("model-info").textContent =
      `${health.items.toLocaleString()} items, ${health.vector_size} dimensions, ` +
      `${health.id_type} ids` + (health.index.length ? ", approximate index" : "");
    for (const [name, value] of Object.entries(health.query_options)) {
      const field = document.querySelector(`[data-option="${name}"]`);
      if (field) field.placeholder = `model: ${value === null ? "none" : value}`;
    }
  } catch (failure) {
    $("model-info").textContent = failure.message;
  }
  recommend();
  await loadMap();
  document.body.dataset.ready = "true";
}

start();
