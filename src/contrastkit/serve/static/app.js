// The search page: send an image, a text or a table row to /search, show the neighbours
// (pictures as a grid, sentences and rows as a list); a click on one finds its neighbours.
// No external assets; thumbnails are fetched with the API key header when one is needed.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  let health = null;

  function headers(extra) {
    const h = Object.assign({}, extra || {});
    const key = $("key").value;
    if (key) h["X-API-Key"] = key;
    return h;
  }

  function say(text, isError) {
    const m = $("message");
    m.textContent = text;
    m.className = isError ? "error" : "";
  }

  function k() {
    const value = parseInt($("k").value, 10);
    return Number.isFinite(value) && value > 0 ? value : 12;
  }

  async function thumbnail(img, url) {
    try {
      const r = await fetch(url, { headers: headers() });
      if (!r.ok) return;
      img.src = URL.createObjectURL(await r.blob());
    } catch (err) { /* a missing picture leaves the tile empty */ }
  }

  function clock(seconds) {
    const m = Math.floor(seconds / 60), s = seconds - 60 * m;
    return m + ":" + (s < 10 ? "0" : "") + s.toFixed(1);
  }

  function tile(hit, i, extra) {
    const tile = document.createElement("div");
    tile.className = "hit" + (i === 0 ? " first" : "") + (extra ? " " + extra : "");
    tile.dataset.id = hit.id;
    tile.dataset.score = String(hit.score);
    const rank = document.createElement("span");
    rank.className = "rank";
    rank.textContent = "#" + (i + 1);
    tile.append(rank);
    if (hit.thumbnail) {
      const img = document.createElement("img");
      img.alt = hit.id;
      tile.append(img);
      thumbnail(img, hit.thumbnail);
    }
    const score = document.createElement("div");
    score.className = "score";
    score.textContent = hit.score.toFixed(4);
    tile.append(score);
    return tile;
  }

  function line(className, text) {
    const div = document.createElement("div");
    div.className = className;
    div.textContent = text;
    div.title = text;
    return div;
  }

  // Play a scene: the service's video from the scene's start (HTML5 video, range requests).
  function play(scene, tileEl) {
    const video = $("video");
    $("player").hidden = false;
    document.querySelectorAll(".scene.playing").forEach((t) => t.classList.remove("playing"));
    tileEl.classList.add("playing");
    $("playing").textContent = scene.video + ", " + clock(scene.start) + "-" + clock(scene.end);
    video.dataset.start = String(scene.start);
    video.dataset.ready = "";
    const seek = () => {
      video.currentTime = scene.start;
      video.addEventListener("seeked", () => { video.dataset.ready = "1"; }, { once: true });
      video.play().catch(() => { /* autoplay may be refused: the controls stay */ });
    };
    if (video.dataset.src === scene.video_url && video.readyState >= 1) { seek(); return; }
    video.dataset.src = scene.video_url;
    video.addEventListener("loadedmetadata", seek, { once: true });
    video.src = scene.video_url;
  }

  // The results as tiles: scenes (a click plays one) or nearest items.
  function fill(items, scenes, make) {
    const grid = $("results");
    grid.replaceChildren(...items.map(make));
    grid.classList.toggle("scenes", scenes);
    grid.dataset.ready = "1";
  }

  function sceneTile(scene, i) {
    const el = tile(scene, i, "scene");
    el.dataset.video = scene.video;
    el.dataset.start = String(scene.start);
    el.append(line("range", clock(scene.start) + "-" + clock(scene.end)), line("id", scene.video));
    el.addEventListener("click", () => play(scene, el));
    return el;
  }

  // A nearest item: what it is (the sentence, the row's id and columns, the image's file
  // name) and its id; a click finds its own neighbours.
  function hitTile(hit, i) {
    const el = tile(hit, i, "");
    if (hit.shown) el.append(line("shown", hit.shown));
    el.append(line("id", hit.id));
    el.addEventListener("click", () => {
      $("preview").hidden = true;
      const label = JSON.stringify(hit.shown || hit.id);
      search(JSON.stringify({ id: hit.id, k: k() }), "application/json", label);
    });
    return el;
  }

  async function search(body, contentType, label) {
    $("results").dataset.ready = "";
    say("searching…");
    const started = performance.now();
    try {
      const url = contentType.startsWith("image/") || contentType === "application/octet-stream"
        ? "/search?k=" + k() : "/search";
      const r = await fetch(url, { method: "POST", body, headers: headers({ "Content-Type": contentType }) });
      const data = await r.json();
      if (!r.ok) { say(data.error || ("error " + r.status), true); return; }
      const ms = Math.round(performance.now() - started);
      if (data.scenes) {
        fill(data.scenes, true, sceneTile);
        say(data.scenes.length + " best scenes in " + health.videos + " videos for " + label +
          " (" + ms + " ms); click a scene to play it");
        return;
      }
      fill(data.results, false, hitTile);
      // pictures as a grid of tiles; sentences and rows one per line, to be read
      $("results").classList.toggle("list", !data.results.some((hit) => hit.thumbnail));
      say(data.count + " nearest of " + health.items + " to " + label + " (" + ms + " ms)");
    } catch (err) {
      say("the server did not answer: " + err, true);
    }
  }

  // "a=1.5, b=red" -> {a: 1.5, b: "red"}: a hit's columns pasted back make a query
  function parseRow(text) {
    const row = {};
    text.split(",").forEach((cell) => {
      const at = cell.indexOf("=");
      if (at < 0) return;
      const value = cell.slice(at + 1).trim();
      const number = Number(value);
      row[cell.slice(0, at).trim()] = value !== "" && Number.isFinite(number) ? number : value;
    });
    return row;
  }

  function searchFile(file) {
    if (!file) return;
    const img = $("preview-img");
    img.src = URL.createObjectURL(file);
    $("preview").hidden = false;
    search(file, file.type || "application/octet-stream", file.name);
  }

  async function start() {
    try {
      const r = await fetch("/health");
      health = await r.json();
    } catch (err) {
      $("status").textContent = "the server did not answer";
      return;
    }
    $("title").textContent = health.title;
    $("status").textContent = (health.videos ? health.videos + " videos, " + health.items +
      " frames" : health.items + " items") + " (" + health.index + "), " + health.dim +
      "-d, " + health.backend + " backend";
    $("key-label").hidden = !health.api_key_required;
    const drop = $("drop");
    if (health.takes.includes("image")) {
      drop.hidden = false;
      $("file").addEventListener("change", (e) => searchFile(e.target.files[0]));
      ["dragenter", "dragover"].forEach((t) => drop.addEventListener(t, (e) => {
        e.preventDefault(); drop.classList.add("over");
      }));
      ["dragleave", "drop"].forEach((t) => drop.addEventListener(t, (e) => {
        e.preventDefault(); drop.classList.remove("over");
      }));
      drop.addEventListener("drop", (e) => searchFile(e.dataTransfer.files[0]));
    }
    // a typed query ("text" or "row"): request(typed) -> [JSON body, what the hits are of]
    const typedForm = (kind, request) => {
      if (!health.takes.includes(kind)) return;
      $(kind + "-form").hidden = false;
      $(kind + "-form").addEventListener("submit", (e) => {
        e.preventDefault();
        const typed = $(kind).value.trim();
        if (!typed) return;
        $("preview").hidden = true;
        const [body, label] = request(typed);
        search(body, "application/json", label);
      });
    };
    typedForm("text", (text) => [JSON.stringify({ text, k: k() }), JSON.stringify(text)]);
    typedForm("row", (text) => [JSON.stringify({ row: parseRow(text), k: k() }), text]);
  }

  start();
})();
