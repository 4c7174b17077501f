// The listener's page: choose a song, publish the selection, show the live (Kafka) answer.

import { api } from './api.js';
import { Controls } from './controls.js';
import { byId, h, fmt, showError, clearError, errorText } from './dom.js';
import { setupEvaluation } from './evaluation.js';
import { Feedback } from './feedback.js';
import { Listening } from './listening.js';
import { LiveAnswers } from './live.js';
import { LatentMap } from './map.js';
import { setupSearch } from './search.js';
import { setupUpload } from './upload.js';
import { renderClusters } from './views.js';

const MAP_LIMIT = 3000;
const STATUS_MS = 2000;
const HOVER_MS = 120;

// One listener per browser tab: sessionStorage survives reloads, not other tabs.
function listenerId() {
  const key = 'encore.user_id';
  const fresh = () => 'listener-' + [...crypto.getRandomValues(new Uint8Array(6))]
    .map((b) => b.toString(16).padStart(2, '0')).join('');
  try {
    let id = sessionStorage.getItem(key);
    if (!id) {
      id = fresh();
      sessionStorage.setItem(key, id);
    }
    return id;
  } catch {
    return fresh(); // storage disabled: a new listener per page load
  }
}

const state = {
  userId: listenerId(),
  model: undefined, // undefined until /v1/models answered: the API then uses its default
  models: new Map(),
  clusterNames: new Map(),
  kafka: null,
  streamOk: null,
  selectionRefused: false,
};

const el = {
  model: byId('model'),
  k: byId('k'),
  banner: byId('live-banner'),
  mapCaption: byId('map-caption'),
  mapTip: byId('map-tip'),
};

const details = new Map(); // track_id -> Promise of GET /v1/tracks/{id}

function trackDetails(id) {
  if (!details.has(id)) {
    const promise = api.track(id);
    details.set(id, promise);
    promise.then((d) => {
      evaluation.addLabelColumns(Object.keys(d.labels || {}));
      controls.learnFeatures(d.features); // the catalog's features: one row of controls each
    }, () => details.delete(id));
  }
  return details.get(id);
}

function currentK() {
  const value = Number(el.k.value);
  const valid = Number.isInteger(value) && value >= 1 && value <= 100;
  el.k.setAttribute('aria-invalid', String(!valid));
  byId('k-error').hidden = valid;
  return valid ? value : Math.min(100, Math.max(1, Math.round(value) || 10));
}

function updateBanner() {
  const down = state.kafka === false || state.streamOk === false || state.selectionRefused;
  el.banner.hidden = !down;
  const stateEl = byId('kafka-state');
  stateEl.dataset.state = state.kafka === null ? 'unknown' : down ? 'down' : 'up';
  stateEl.textContent = state.kafka === null ? '…' : down ? 'unavailable' : 'on';
}

function mapCaption() {
  const info = state.models.get(state.model);
  const parts = [];
  if (map.points.length) {
    parts.push(info && info.n_tracks ? `${fmt.int(map.points.length)} of ${fmt.int(info.n_tracks)} songs`
      : `${fmt.int(map.points.length)} songs`);
  }
  if (map.seedId && map.points.length) {
    const seedShown = map.countShown([map.seedId]) ? 'chosen song shown' : 'chosen song not in this sample';
    parts.push(map.recIds.length ? `${seedShown}, ${map.countShown(map.recIds)} of ${map.recIds.length} recommendations`
      : seedShown);
  }
  el.mapCaption.textContent = parts.join(' · ');
}

let hoverTimer = 0;

function onMapHover(point, pos) {
  clearTimeout(hoverTimer);
  if (!point) {
    el.mapTip.hidden = true;
    return;
  }
  const place = () => {
    el.mapTip.style.left = `${pos[0]}px`;
    el.mapTip.style.top = `${pos[1]}px`;
    el.mapTip.hidden = false;
  };
  const name = state.clusterNames.get(point.cluster);
  hoverTimer = setTimeout(() => { // only once the pointer rests on a point: no fetch per pass
    el.mapTip.replaceChildren(h('span', { class: 'hint' }, '…'));
    place();
    trackDetails(point.track_id).then((d) => {
      if (map.hovered !== point) return;
      el.mapTip.replaceChildren(h('strong', {}, d.track_name), ' — ', d.artist,
        name ? h('span', { class: 'hint tip-cluster' }, `cluster ${point.cluster}: ${name}`) : null);
    }, () => { el.mapTip.hidden = true; });
  }, HOVER_MS);
}

const map = new LatentMap(byId('map'), {
  onPick: (point) => listening.choose({ track_id: point.track_id }),
  onHover: onMapHover,
});

// The map is a sample: the chosen song and its recommendations are asked for by id when it
// lacks them, so they can always be highlighted. limit=1: only they are wanted.
async function placeHighlighted() {
  const model = state.model;
  const missing = [map.seedId, ...map.recIds].filter((id) => id && !map.byId.has(id));
  if (!map.points.length || !missing.length) return; // loadMap places them once it has points
  try {
    const answer = await api.map(model, 1, missing);
    if (model !== state.model) return;
    map.addPoints(answer.points || []);
    mapCaption();
  } catch {
    // The caption already says which of them the map does not show.
  }
}

async function loadMap(model) {
  const errorEl = byId('map-error');
  clearError(errorEl);
  try {
    const answer = await api.map(model, MAP_LIMIT);
    if (model !== state.model) return;
    map.setPoints(answer.points || []);
    mapCaption();
    placeHighlighted();
    // The labels an evaluation can use are those of the tracks; learn them from one.
    if (answer.points && answer.points.length) trackDetails(answer.points[0].track_id).catch(() => {});
  } catch (err) {
    if (model === state.model) showError(errorEl, err, () => loadMap(model));
  }
}

async function loadClusters(model) {
  const table = byId('clusters');
  const errorEl = byId('clusters-error');
  clearError(errorEl);
  const info = state.models.get(model);
  if (info && info.has_clusters === false) {
    state.clusterNames = new Map();
    renderClusters(table, { model, clusters: [] }, { onFocus: () => {} });
    return;
  }
  try {
    const answer = await api.clusters(model);
    if (model !== state.model) return;
    state.clusterNames = new Map((answer.clusters || []).map((c) => [c.cluster, c.name]));
    renderClusters(table, answer, { onFocus: (c) => map.setFocusCluster(c) });
    listening.refreshSong();
  } catch (err) {
    if (model !== state.model) return;
    state.clusterNames = new Map();
    table.replaceChildren();
    showError(errorEl, err, () => loadClusters(model));
  }
}

function describeModel() {
  const info = state.models.get(state.model);
  // Each fact whole on its line: a version such as knn-cd99350ea751 is not split at its hyphen.
  const facts = info ? [info.metric, info.dimensions && `${info.dimensions} dimensions`, info.version].filter(Boolean) : [];
  byId('model-info').replaceChildren(...facts.flatMap((fact, i) => [i ? ' · ' : '', h('span', { class: 'nowrap' }, fact)]));
}

async function loadModels() {
  const errorEl = byId('model-error');
  clearError(errorEl);
  try {
    const answer = await api.models();
    const models = answer.models || [];
    state.models = new Map(models.map((m) => [m.name, m]));
    el.model.replaceChildren(...models.map((m) => h('option', { value: m.name }, m.name)));
    state.model = state.models.has(answer.default) ? answer.default : models.length ? models[0].name : undefined;
    if (state.model) el.model.value = state.model;
    el.model.disabled = models.length === 0;
    describeModel();
    if (state.model) {
      loadMap(state.model);
      loadClusters(state.model);
    }
  } catch (err) {
    el.model.replaceChildren(h('option', {}, 'unavailable'));
    showError(errorEl, err, loadModels);
  }
}

function onModelChange() {
  state.model = el.model.value;
  state.clusterNames = new Map(); // cluster ids mean something else in another model
  describeModel();
  map.setPoints([]);
  map.setHighlight(null, []);
  loadMap(state.model);
  loadClusters(state.model);
  listening.ask();
}

// The songs added most recently through the catalog topic, newest first (a removed one goes).
function showLatest(tracks) {
  const list = byId('latest-tracks');
  const shown = tracks.slice(0, 3);
  const key = shown.map((t) => t.track_id).join(',');
  if (list.dataset.ids === key) return;
  list.dataset.ids = key;
  list.replaceChildren(
    ...shown.map((t) => {
      const item = document.createElement('li');
      item.textContent = `${t.track_name} – ${t.artist}`;
      item.dataset.trackId = t.track_id;
      return item;
    }),
  );
  list.closest('.latest').hidden = shown.length === 0;
}

async function pollStatus() {
  const errorEl = byId('status-error');
  try {
    const status = await api.status();
    clearError(errorEl);
    byId('catalog-size').textContent = `${fmt.int(status.catalog_size)} songs`;
    showLatest(status.latest_tracks || []);
    const rate = byId('answers-rate');
    rate.textContent = `${fmt.rate(Number(status.answers_per_second) || 0)}/s`;
    rate.title = `answers per second on the output topic; ${fmt.int(status.answers_seen || 0)} seen`;
    state.kafka = status.kafka !== false;
    if (state.kafka) {
      state.selectionRefused = false;
      live.nudge();
    }
    const columns = status.label_columns || status.labels;
    if (Array.isArray(columns)) evaluation.addLabelColumns(columns);
    updateBanner();
  } catch (err) {
    showError(errorEl, new Error(`Status unavailable: ${errorText(err)}`));
    byId('answers-rate').textContent = '–';
  } finally {
    setTimeout(pollStatus, STATUS_MS);
  }
}

// A bug should cost one message, not the page.
window.addEventListener('unhandledrejection', (event) => {
  showError(byId('status-error'), new Error(`Something went wrong: ${errorText(event.reason)}`));
});
window.addEventListener('error', (event) => {
  showError(byId('status-error'), new Error(`Something went wrong: ${event.message}`));
});

const evaluation = setupEvaluation({ getK: currentK });
const controls = new Controls({
  trackDetails,
  onChange: () => listening.ask(),
  onChooseSong: (song) => listening.choose(song),
});
const live = new LiveAnswers(api.listenerStreamUrl(state.userId), {
  onAnswer: (answer, at) => listening.answerArrived(answer, at),
  onHealth: (ok) => {
    state.streamOk = ok;
    updateBanner();
  },
});
const feedback = new Feedback({
  userId: state.userId,
  shownIn: () => byId('recommendations').dataset.eventId || null,
});
const listening = new Listening({
  userId: state.userId,
  live,
  trackDetails,
  settings: () => ({ model: state.model, k: currentK(), clusterNames: state.clusterNames }),
  controls,
  feedback,
  onHighlight: (seedId, recIds) => {
    map.setHighlight(seedId, recIds);
    mapCaption();
    placeHighlighted();
  },
  onPublished: (ok) => {
    if (state.selectionRefused === !ok) return;
    state.selectionRefused = !ok;
    updateBanner();
  },
});

byId('user-id').textContent = state.userId;
byId('user-id').title = 'This tab\'s listener id: the answers for it arrive live.';
setupSearch({
  input: byId('search'), list: byId('search-results'), errorEl: byId('search-error'),
  onChoose: (song) => listening.choose(song),
});
setupUpload({
  settings: () => ({ model: state.model, k: currentK(), clusterNames: state.clusterNames }),
  onChoose: (song) => listening.choose(song),
});
el.model.addEventListener('change', onModelChange);
el.k.addEventListener('change', () => {
  const k = currentK();
  if (String(k) === el.k.value) listening.ask();
});
el.k.addEventListener('input', currentK);
live.connect();
loadModels();
evaluation.load();
pollStatus();
