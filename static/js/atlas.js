// The map of the corpus: points from /map/points.json drawn on a canvas (one pass per modality into the
// pixels of an offscreen layer, so hovering only redraws the overlay), a grid index for hover and click, and a query
// placed from /map/query.json (its position, its results ringed, and for arithmetic an arrow q → q + add − sub);
// an image of the corpus (?image=ID) or, on an image space's map, an uploaded picture (POST /map/picture.json)
// is placed the same way, with the images most like it.
// Drag or the arrow buttons to pan, wheel or the buttons to zoom: while the view moves the layer is only moved and scaled
// (one image copy per frame, smooth at 100,000 points); once it rests the layer is drawn again, sharp.
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
  const RGB = COLOURS.map((c) => [1, 3, 5].map((at) => parseInt(c.slice(at, at + 2), 16)));
  const PAD = 24;
  const CELL = 8; // px of the hover grid
  const RADIUS = 7; // px within which the pointer picks a point

  let data = null; // {id, x, y, m, modalities}
  let bx = null; let by = null; // every point in canvas pixels with the whole map in view (zoom 1)
  let view = { k: 1, x: 0, y: 0 }; // what is shown: canvas pixel = k · (bx, by) + (x, y)
  let drawnView = view; // the view the layer, sx/sy and the grid were drawn at
  let sx = null; let sy = null; // every point in the layer's pixels (the drawn view)
  let grid = new Map(); // cells of the layer (points inside it only) → point indices
  let columns = 0; // cells in a row of the grid
  let layer = null; // offscreen canvas holding the points
  let hovered = -1;
  let placed = null; // {q, to, results}
  let ringed = []; // indices of the placed query's results
  let drag = null; // {x, y, view, moved} while the mouse button is down on the map
  let dragged = false; // a drag just ended: the click that follows it opens nothing
  let resting = 0; // timer: draw the layer again once the view rests
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
    bx = new Float32Array(n); by = new Float32Array(n);
    for (let i = 0; i < n; i++) { bx[i] = to.x(data.x[i]); by[i] = to.y(data.y[i]); }
    placed && (placed.base = {
      q: placed.q && [to.x(placed.q[0]), to.y(placed.q[1])],
      to: placed.to && [to.x(placed.to[0]), to.y(placed.to[1])],
    });
    view = { k: 1, x: 0, y: 0 };
    render();
  }

  // Draw every point in view into the layer at the current view, and index them for the pointer.
  function render() {
    clearTimeout(resting);
    const n = data.id.length;
    const { width, height } = canvas;
    drawnView = { ...view };
    sx = new Float32Array(n); sy = new Float32Array(n);
    grid = new Map();
    columns = Math.ceil(width / CELL) + 1;
    for (let i = 0; i < n; i++) {
      const x = view.k * bx[i] + view.x; const y = view.k * by[i] + view.y;
      sx[i] = x; sy[i] = y;
      if (x < 0 || y < 0 || x >= width || y >= height) continue;
      const key = Math.floor(y / CELL) * columns + Math.floor(x / CELL);
      const cell = grid.get(key);
      if (cell) cell.push(i); else grid.set(key, [i]);
    }
    if (!layer || layer.width !== width || layer.height !== height) {
      layer = document.createElement("canvas");
      layer.width = width; layer.height = height;
    }
    // Pixels written straight into an ImageData, blended as the canvas would with globalAlpha: at
    // 100,000 points about twice as fast as a fillRect per point where Chromium draws without a GPU.
    const image = new ImageData(width, height);
    const pixels = image.data;
    const words = new Uint32Array(pixels.buffer); // one pixel each (RGBA bytes, little-endian)
    const size = n > 20000 ? 2 : n > 2000 ? 3 : 5;
    const ratio = window.devicePixelRatio || 1;
    const dot = Math.max(2, Math.round(size * ratio * Math.min(3, Math.sqrt(view.k)))); // points part as you zoom in
    const alpha = n > 20000 ? 0.6 : 0.9;
    for (let m = 0; m < COLOURS.length; m++) {
      const [red, green, blue] = RGB[m];
      const alone = ((Math.round(alpha * 255) << 24) | (blue << 16) | (green << 8) | red) >>> 0; // on nothing
      for (let i = 0; i < n; i++) {
        if (data.m[i] !== m) continue;
        const left = Math.round(sx[i] - dot / 2); const top = Math.round(sy[i] - dot / 2);
        const x0 = Math.max(0, left); const x1 = Math.min(width, left + dot);
        const y0 = Math.max(0, top); const y1 = Math.min(height, top + dot);
        for (let y = y0; y < y1; y++) {
          for (let p = y * width + x0, end = y * width + x1; p < end; p++) {
            if (words[p] === 0) { words[p] = alone; continue; }
            const o = p * 4;
            const under = (pixels[o + 3] / 255) * (1 - alpha); // what shows through the new dot
            const a = alpha + under;
            pixels[o] = (red * alpha + pixels[o] * under) / a;
            pixels[o + 1] = (green * alpha + pixels[o + 1] * under) / a;
            pixels[o + 2] = (blue * alpha + pixels[o + 2] * under) / a;
            pixels[o + 3] = a * 255;
          }
        }
      }
    }
    layer.getContext("2d").putImageData(image, 0, 0);
    draw();
  }

  function onScreen(at) { return [view.k * at[0] + view.x, view.k * at[1] + view.y]; }

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
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const r = view.k / drawnView.k; // the layer, moved and scaled from the view it was drawn at
    ctx.setTransform(r, 0, 0, r, view.x - r * drawnView.x, view.y - r * drawnView.y);
    ctx.drawImage(layer, 0, 0);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    const ratio = window.devicePixelRatio || 1;
    if (placed) {
      ctx.strokeStyle = "#fff"; ctx.lineWidth = 2 * ratio;
      for (const i of ringed) {
        const [x, y] = onScreen([bx[i], by[i]]);
        ctx.beginPath(); ctx.arc(x, y, 6 * ratio, 0, 2 * Math.PI); ctx.stroke();
      }
      const q = onScreen(placed.base.q); const to = placed.base.to && onScreen(placed.base.to);
      if (to) arrow(q, to, "#ffd166");
      marker(q, "#f5a623", "q");
      if (to) marker(to, "#ffd166", "q + add − sub");
    }
    if (hovered >= 0) {
      const [x, y] = onScreen([bx[hovered], by[hovered]]);
      ctx.strokeStyle = "#fff"; ctx.lineWidth = 2 * ratio;
      ctx.beginPath(); ctx.arc(x, y, 7 * ratio, 0, 2 * Math.PI); ctx.stroke();
    }
  }

  // Canvas pixels of a pointer event.
  function pointer(event) {
    const rect = canvas.getBoundingClientRect();
    const ratio = canvas.width / rect.width;
    return [(event.clientX - rect.left) * ratio, (event.clientY - rect.top) * ratio, ratio];
  }

  function nearest(event) {
    if (!data) return -1;
    const [x, y, ratio] = pointer(event);
    const r = drawnView.k / view.k; // from the view shown to the layer's pixels
    const px = (x - view.x) * r + drawnView.x; const py = (y - view.y) * r + drawnView.y;
    const reach = RADIUS * ratio * r;
    let best = -1; let bestD = reach * reach;
    const cx = Math.floor(px / CELL); const cy = Math.floor(py / CELL); const span = Math.ceil(reach / CELL);
    for (let gx = Math.max(0, cx - span); gx <= Math.min(columns - 1, cx + span); gx++) {
      for (let gy = Math.max(0, cy - span); gy <= cy + span; gy++) {
        const cell = grid.get(gy * columns + gx);
        if (!cell) continue;
        for (const i of cell) {
          const d = (sx[i] - px) ** 2 + (sy[i] - py) ** 2;
          if (d <= bestD) { bestD = d; best = i; }
        }
      }
    }
    return best;
  }

  // Zoom by `factor` about canvas pixel (x, y); the layer is drawn again once the view rests.
  function zoom(factor, x, y) {
    const k = Math.min(64, Math.max(1, view.k * factor));
    view = { k, x: x - (x - view.x) * k / view.k, y: y - (y - view.y) * k / view.k };
    if (k === 1) view = { k: 1, x: 0, y: 0 }; // all the way out: the whole map, as first drawn
    moved();
  }

  function moved() {
    hovered = -1; tip.hidden = true;
    draw();
    clearTimeout(resting);
    resting = setTimeout(render, 150);
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
    if (drag) return;
    const i = nearest(event);
    if (i === hovered) return;
    hovered = i;
    if (i < 0) tip.hidden = true; else showTip(i, event);
    canvas.style.cursor = i < 0 ? "crosshair" : "pointer";
    draw();
  });
  canvas.addEventListener("mouseleave", () => { hovered = -1; tip.hidden = true; draw(); });
  canvas.addEventListener("click", (event) => {
    if (dragged) return;
    const i = nearest(event);
    if (i >= 0) window.location.assign(`/images/${data.id[i]}/`);
  });
  // Dragging pans with a mouse or pen; on a touch screen a finger scrolls the page and the buttons zoom.
  canvas.addEventListener("pointerdown", (event) => {
    if (!data || event.pointerType === "touch" || event.button !== 0) return;
    const [x, y] = pointer(event);
    drag = { x, y, view, moved: false };
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drag || !(event.buttons & 1)) return;
    const [x, y, ratio] = pointer(event);
    if (!drag.moved && Math.hypot(x - drag.x, y - drag.y) < 4 * ratio) return;
    if (!drag.moved) { drag.moved = true; canvas.setPointerCapture(event.pointerId); canvas.style.cursor = "grabbing"; }
    view = { k: drag.view.k, x: drag.view.x + x - drag.x, y: drag.view.y + y - drag.y };
    moved();
  });
  const release = () => {
    if (drag && drag.moved) { dragged = true; setTimeout(() => { dragged = false; }); }
    drag = null;
    canvas.style.cursor = "crosshair";
  };
  canvas.addEventListener("pointerup", release);
  canvas.addEventListener("pointercancel", release);
  canvas.addEventListener("wheel", (event) => {
    if (!data) return;
    event.preventDefault();
    const [x, y] = pointer(event);
    zoom(Math.exp(-event.deltaY * 0.002), x, y);
  }, { passive: false });
  // The pan buttons (for the keyboard) move the view a quarter of the map's width or height.
  for (const button of document.querySelectorAll("[data-pan]")) {
    button.addEventListener("click", () => {
      if (!data) return;
      const [dx, dy] = button.dataset.pan.split(",").map(Number);
      view = { k: view.k, x: view.x + dx * canvas.width / 4, y: view.y + dy * canvas.height / 4 };
      moved();
    });
  }
  for (const button of document.querySelectorAll("[data-zoom]")) {
    button.addEventListener("click", () => {
      if (!data) return;
      if (button.dataset.zoom === "reset") { view = { k: 1, x: 0, y: 0 }; moved(); return; }
      zoom(Number(button.dataset.zoom), canvas.width / 2, canvas.height / 2);
    });
  }

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

  // Place what `request` answers (a query, an image of the corpus, an uploaded picture) on the map.
  async function place(request) {
    status.textContent = "Placing the query…";
    const response = await request;
    const body = await response.json();
    if (!response.ok) { status.textContent = body.error.message; return false; }
    placed = body;
    const wanted = new Set(body.results);
    ringed = [];
    for (let i = 0; i < data.id.length; i++) if (wanted.has(data.id[i])) ringed.push(i);
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
    layout();
    return true;
  }

  async function placeQuery() {
    const params = new URLSearchParams(new FormData(form));
    if (!params.get("q") && !params.get("image")) return;
    if (await place(fetch(`${canvas.dataset.query}?${params}`))) history.replaceState(null, "", `?${params}`);
  }

  form.addEventListener("submit", (event) => {
    if (!data) return; // no map yet: let the form load the page
    event.preventDefault();
    placeQuery();
  });
  const upload = document.querySelector("form.atlas-upload");
  upload && upload.addEventListener("submit", (event) => {
    event.preventDefault();
    if (data) place(fetch(upload.action, { method: "POST", body: new FormData(upload) }));
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
    if (form.querySelector("[name=q]").value || form.querySelector("[name=image]")) placeQuery();
  });
  let pending = 0;
  window.addEventListener("resize", () => {
    clearTimeout(pending);
    pending = setTimeout(() => data && layout(), 150);
  });
})();
