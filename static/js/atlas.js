// The map of the corpus: points from /map/points.json drawn on a canvas (one pass per modality into an
// offscreen layer, so hovering only redraws the overlay), a grid index for hover and click, and a query
// placed from /map/query.json (its position, its results ringed, and for arithmetic an arrow q → q + add − sub);
// an image of the corpus (?image=ID) is placed the same way, with the images most like it.
(() => {
  "use strict";
  const canvas = document.getElementById("atlas-canvas");
  if (!canvas) return;
  const tip = document.getElementById("atlas-tip");
  const status = document.getElementById("atlas-status");
  const legend = document.getElementById("atlas-legend");
  const resultsList = document.getElementById("atlas-results");
  const form = document.querySelector("form.atlas-query");
  const COLOURS = ["#4cc9f0", "#f72585", "#ffd166", "#06d6a0", "#ff9f1c", "#b388ff", "#90be6d", "#ef476f", "#adb5bd"];
  const PAD = 24;
  const CELL = 8; // px of the hover grid
  const RADIUS = 7; // px within which the pointer picks a point

  let data = null; // {id, x, y, m, modalities}
  let sx = null; let sy = null; // screen coordinates of every point, in canvas pixels
  let grid = new Map();
  let layer = null; // offscreen canvas holding the points
  let hovered = -1;
  let placed = null; // {q, to, results}
  const details = new Map(); // point id → promise of its JSON

  const ctx = canvas.getContext("2d");

  function resize() {
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(300, Math.round(canvas.clientWidth * ratio));
    canvas.width = width;
    canvas.height = Math.round(width * 640 / 900);
  }

  function fit() {
    let minX = Infinity; let maxX = -Infinity; let minY = Infinity; let maxY = -Infinity;
    for (let i = 0; i < data.x.length; i++) {
      const x = data.x[i]; const y = data.y[i];
      if (x < minX) minX = x; if (x > maxX) maxX = x;
      if (y < minY) minY = y; if (y > maxY) maxY = y;
    }
    if (placed) for (const p of [placed.q, placed.to]) if (p) {
      minX = Math.min(minX, p[0]); maxX = Math.max(maxX, p[0]); minY = Math.min(minY, p[1]); maxY = Math.max(maxY, p[1]);
    }
    const spanX = (maxX - minX) || 1; const spanY = (maxY - minY) || 1;
    const scale = Math.min((canvas.width - 2 * PAD) / spanX, (canvas.height - 2 * PAD) / spanY);
    const offX = (canvas.width - scale * spanX) / 2; const offY = (canvas.height - scale * spanY) / 2;
    return {
      x: (v) => offX + (v - minX) * scale,
      y: (v) => canvas.height - (offY + (v - minY) * scale), // up is up
    };
  }

  function layout() {
    resize();
    const n = data.id.length;
    const to = fit();
    sx = new Float32Array(n); sy = new Float32Array(n);
    grid = new Map();
    for (let i = 0; i < n; i++) {
      sx[i] = to.x(data.x[i]); sy[i] = to.y(data.y[i]);
      const key = Math.floor(sx[i] / CELL) * 65536 + Math.floor(sy[i] / CELL);
      const cell = grid.get(key);
      if (cell) cell.push(i); else grid.set(key, [i]);
    }
    layer = document.createElement("canvas");
    layer.width = canvas.width; layer.height = canvas.height;
    const g = layer.getContext("2d");
    const size = n > 20000 ? 2 : n > 2000 ? 3 : 5;
    const ratio = window.devicePixelRatio || 1;
    const dot = Math.max(2, Math.round(size * ratio));
    g.globalAlpha = n > 20000 ? 0.6 : 0.9;
    for (let m = 0; m < COLOURS.length; m++) {
      g.fillStyle = COLOURS[m];
      for (let i = 0; i < n; i++) if (data.m[i] === m) g.fillRect(sx[i] - dot / 2, sy[i] - dot / 2, dot, dot);
    }
    placed && (placed.screen = {
      q: placed.q && [to.x(placed.q[0]), to.y(placed.q[1])],
      to: placed.to && [to.x(placed.to[0]), to.y(placed.to[1])],
    });
    draw();
  }

  function arrow(from, to, colour) {
    const [x0, y0] = from; const [x1, y1] = to;
    const angle = Math.atan2(y1 - y0, x1 - x0); const head = 14 * (window.devicePixelRatio || 1);
    ctx.strokeStyle = colour; ctx.fillStyle = colour; ctx.lineWidth = 3 * (window.devicePixelRatio || 1);
    ctx.beginPath(); ctx.moveTo(x0, y0); ctx.lineTo(x1, y1); ctx.stroke();
    ctx.beginPath(); ctx.moveTo(x1, y1);
    ctx.lineTo(x1 - head * Math.cos(angle - 0.4), y1 - head * Math.sin(angle - 0.4));
    ctx.lineTo(x1 - head * Math.cos(angle + 0.4), y1 - head * Math.sin(angle + 0.4));
    ctx.closePath(); ctx.fill();
  }

  function marker(at, colour, label) {
    const r = 8 * (window.devicePixelRatio || 1);
    ctx.fillStyle = colour; ctx.strokeStyle = "#fff"; ctx.lineWidth = 2;
    ctx.beginPath(); ctx.arc(at[0], at[1], r, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
    ctx.font = `${13 * (window.devicePixelRatio || 1)}px system-ui, sans-serif`;
    ctx.fillStyle = "#fff"; ctx.fillText(label, at[0] + r + 4, at[1] - r);
  }

  function draw() {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(layer, 0, 0);
    const ratio = window.devicePixelRatio || 1;
    if (placed) {
      const index = new Map(data.id.map((id, i) => [id, i]));
      ctx.strokeStyle = "#fff"; ctx.lineWidth = 2 * ratio;
      for (const id of placed.results) {
        const i = index.get(id);
        if (i === undefined) continue;
        ctx.beginPath(); ctx.arc(sx[i], sy[i], 6 * ratio, 0, 2 * Math.PI); ctx.stroke();
      }
      if (placed.screen.to) arrow(placed.screen.q, placed.screen.to, "#ffd166");
      marker(placed.screen.q, "#f5a623", "q");
      if (placed.screen.to) marker(placed.screen.to, "#ffd166", "q + add − sub");
    }
    if (hovered >= 0) {
      ctx.strokeStyle = "#fff"; ctx.lineWidth = 2 * ratio;
      ctx.beginPath(); ctx.arc(sx[hovered], sy[hovered], 7 * ratio, 0, 2 * Math.PI); ctx.stroke();
    }
  }

  function nearest(event) {
    if (!data) return -1;
    const rect = canvas.getBoundingClientRect();
    const ratio = canvas.width / rect.width;
    const px = (event.clientX - rect.left) * ratio; const py = (event.clientY - rect.top) * ratio;
    const reach = RADIUS * ratio;
    let best = -1; let bestD = reach * reach;
    const cx = Math.floor(px / CELL); const cy = Math.floor(py / CELL); const span = Math.ceil(reach / CELL);
    for (let gx = cx - span; gx <= cx + span; gx++) {
      for (let gy = cy - span; gy <= cy + span; gy++) {
        const cell = grid.get(gx * 65536 + gy);
        if (!cell) continue;
        for (const i of cell) {
          const d = (sx[i] - px) ** 2 + (sy[i] - py) ** 2;
          if (d <= bestD) { bestD = d; best = i; }
        }
      }
    }
    return best;
  }

  function detail(id) {
    if (!details.has(id)) details.set(id, fetch(`${canvas.dataset.point.replace(/points\.json$/, "")}points/${id}.json`).then((r) => r.json()));
    return details.get(id);
  }

  function showTip(i, event) {
    const id = data.id[i];
    const rect = canvas.parentElement.getBoundingClientRect();
    const left = Math.min(event.clientX - rect.left + 12, rect.width - 230);
    const top = Math.min(event.clientY - rect.top + 12, rect.height - 180);
    tip.style.left = `${Math.max(4, left)}px`; tip.style.top = `${Math.max(4, top)}px`;
    tip.hidden = false;
    tip.dataset.id = String(id);
    detail(id).then((point) => {
      if (tip.dataset.id !== String(id)) return;
      tip.replaceChildren();
      if (point.thumbnail) {
        const img = document.createElement("img");
        img.src = point.thumbnail; img.alt = "";
        tip.append(img);
      }
      const caption = document.createElement("p");
      caption.textContent = `${point.modality}: ${point.caption}`;
      tip.append(caption);
    });
  }

  canvas.addEventListener("mousemove", (event) => {
    const i = nearest(event);
    if (i === hovered) return;
    hovered = i;
    if (i < 0) tip.hidden = true; else showTip(i, event);
    canvas.style.cursor = i < 0 ? "crosshair" : "pointer";
    draw();
  });
  canvas.addEventListener("mouseleave", () => { hovered = -1; tip.hidden = true; draw(); });
  canvas.addEventListener("click", (event) => {
    const i = nearest(event);
    if (i >= 0) window.location.assign(`/images/${data.id[i]}/`);
  });

  function fillLegend() {
    legend.replaceChildren();
    const counts = new Array(COLOURS.length).fill(0);
    for (const m of data.m) counts[m] += 1;
    data.modalities.forEach((modality, m) => {
      if (!counts[m]) return;
      const li = document.createElement("li");
      const swatch = document.createElement("span");
      swatch.style.background = COLOURS[m % COLOURS.length];
      li.append(swatch, `${modality.label} (${counts[m]})`);
      legend.append(li);
    });
  }

  async function place() {
    const params = new URLSearchParams(new FormData(form));
    if (!params.get("q") && !params.get("image")) return;
    status.textContent = "Placing the query…";
    const response = await fetch(`${canvas.dataset.query}?${params}`);
    const body = await response.json();
    if (!response.ok) { status.textContent = body.error.message; return; }
    placed = body;
    status.textContent = (body.to ? `${body.label}: the arrow goes from q to q + add − sub; ` : `${body.label}: `)
      + `its ${body.results.length} best results are ringed in white.` + (body.notices.length ? ` ${body.notices.join(" ")}` : "");
    resultsList.replaceChildren();
    for (const id of body.results) {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = `/images/${id}/`; a.textContent = `Image ${id}`;
      li.append(a); resultsList.append(li);
      detail(id).then((point) => { a.textContent = point.caption.slice(0, 90); });
    }
    history.replaceState(null, "", `?${params}`);
    layout();
  }

  form.addEventListener("submit", (event) => {
    if (!data) return; // no map yet: let the form load the page
    event.preventDefault();
    place();
  });
  form.querySelector("select[name=space]").addEventListener("change", () => form.submit());

  fetch(canvas.dataset.points).then((r) => r.json()).then((body) => {
    if (body.error) { status.textContent = body.error.message; return; }
    if (!body.ready) { status.textContent = "The map is being built; reload in a minute."; return; }
    data = body;
    status.textContent = `${data.id.length} images` + (data.total > data.id.length ? ` (a sample of ${data.total})` : "")
      + (body.stale ? "; the corpus changed since this map was built, a new one is on its way." : ".");
    fillLegend();
    layout();
    canvas.dataset.drawn = String(data.id.length);
    if (form.querySelector("[name=q]").value || form.querySelector("[name=image]")) place();
  });
  let pending = 0;
  window.addEventListener("resize", () => {
    clearTimeout(pending);
    pending = setTimeout(() => data && layout(), 150);
  });
})();
