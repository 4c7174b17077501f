// What the page shows for a song, its recommendations and the model's clusters.

import { featureBars } from './charts.js';
import { h, fmt } from './dom.js';
import { clusterColour } from './palette.js';

function dot(cluster, label) {
  return h('span', { class: 'dot', style: `--dot: ${clusterColour(cluster)}`, title: label, 'aria-hidden': 'true' });
}

function clusterLabel(cluster, names) {
  if (cluster == null) return 'no cluster';
  const name = names.get(cluster);
  return name ? `cluster ${cluster}: ${name}` : `cluster ${cluster}`;
}

// song: {track_id, track_name?, artist?}; details: GET /v1/tracks/{id} or null while loading.
export function renderSong(el, { song, details, model, clusterNames, chain, onChoose }) {
  const name = (details && details.track_name) || song.track_name || song.track_id;
  const artist = (details && details.artist) || song.artist || '';
  el.dataset.trackId = song.track_id;
  const meta = h('p', { class: 'song-meta' });
  let body;
  if (details) {
    const cluster = details.clusters ? details.clusters[model] : null;
    if (cluster !== undefined) {
      meta.append(h('span', { class: 'chip' }, dot(cluster), clusterLabel(cluster, clusterNames)));
    }
    for (const [column, value] of Object.entries(details.labels || {})) {
      meta.append(h('span', { class: 'chip', title: column }, `${column.replace(/_/g, ' ')}: ${value}`));
    }
    const features = details.features || {};
    body = Object.keys(features).length ? featureBars(features) : h('p', { class: 'hint' }, 'No audio features.');
  } else {
    body = h('p', { class: 'hint loading' }, 'loading audio features…');
  }
  const earlier = chain.slice(0, -1).slice(-5);
  el.replaceChildren(h('div', { class: 'song-grid' },
    h('div', { class: 'song-head' },
      h('p', { class: 'eyebrow' }, 'Now playing'),
      h('h2', { id: 'song-title', class: 'song-name' }, name),
      h('p', { class: 'song-artist' }, artist),
      meta,
      earlier.length ? h('nav', { class: 'chain', 'aria-label': 'Listening chain' },
        h('span', { class: 'hint' }, 'Before:'),
        earlier.map((s) => h('button', {
          type: 'button', class: 'link', title: s.artist || '', onclick: () => onChoose(s),
        }, s.track_name || s.track_id))) : null),
    h('div', { class: 'song-features' }, body)));
}

export function sameItems(el, answer) {
  const shown = [...el.querySelectorAll('[data-track-id]')]
    .map((b) => [b.dataset.trackId, b.querySelector('.score').textContent]);
  const items = answer.items || [];
  return shown.length === items.length
    && items.every((item, i) => item.track_id === shown[i][0] && fmt.score(item.score) === shown[i][1]);
}

function sourceBadge(source, answer, directMs) {
  const live = source === 'live';
  return h('p', { class: `source source-${source}` },
    h('span', { class: 'badge' }, live ? 'live via Kafka' : 'direct'),
    h('span', { class: 'hint' }, live ? ` answered through the topics · ${answer.model}`
      : ` synchronous answer${directMs != null ? ` in ${fmt.ms(directMs)}` : ''} · ${answer.model}`),
  );
}

// Marks the shown list as the live one without rebuilding it (the items are the same).
export function markLive(el, answer) {
  el.dataset.source = 'live';
  el.dataset.eventId = answer.event_id;
  el.querySelector('.source').replaceWith(sourceBadge('live', answer));
}

export function renderRecommendations(el, answer, { source, directMs, clusterNames, onChoose }) {
  el.dataset.source = source;
  el.dataset.eventId = answer.event_id || '';
  const items = answer.items || [];
  const list = h('ol', { class: 'rec-list' }, items.map((item) => {
    const label = clusterLabel(item.cluster, clusterNames);
    // The hidden words make the button's name read as a sentence from its visible text.
    const quiet = (text) => h('span', { class: 'visually-hidden' }, text);
    return h('li', {}, h('button', {
      type: 'button', class: 'rec', dataset: { trackId: item.track_id }, onclick: () => onChoose(item),
    },
    h('span', { class: 'rank' }, String(item.rank)),
    h('span', { class: 'title' }, h('span', { class: 'name' }, item.track_name), quiet(' by '),
      h('span', { class: 'artist' }, item.artist)),
    h('span', { class: 'cluster', title: label }, dot(item.cluster), quiet(', cluster '),
      h('span', { class: 'cluster-id' }, item.cluster ?? '–')),
    quiet(', score '), h('span', { class: 'score', title: 'similarity score' }, fmt.score(item.score))));
  }));
  el.replaceChildren(
    sourceBadge(source, answer, directMs),
    items.length ? list : h('p', { class: 'placeholder' }, 'No songs to recommend for this one.'),
  );
}

const MEAN_FEATURES = { danceability: 'dance', energy: 'energy', valence: 'valence', acousticness: 'acoustic', tempo: 'tempo' };

export function renderClusters(table, answer, { onFocus }) {
  const clusters = answer.clusters || [];
  if (!clusters.length) {
    table.replaceChildren(h('tbody', {}, h('tr', {}, h('td', { class: 'placeholder' }, 'This model has no clusters.'))));
    return;
  }
  const available = Object.keys(clusters[0].features || {});
  const shown = Object.keys(MEAN_FEATURES).filter((f) => available.includes(f)).slice(0, 3);
  const mean = (f, v) => (v == null ? '–' : f === 'tempo' ? Math.round(v) : Number(v).toFixed(2));
  table.replaceChildren(
    h('caption', { class: 'visually-hidden' }, `Clusters of ${answer.model}`),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'colour')),
      h('th', { scope: 'col', class: 'num' }, '#'),
      h('th', { scope: 'col' }, 'name'),
      h('th', { scope: 'col', class: 'num' }, 'size'),
      h('th', { scope: 'col', class: 'num' }, 'share'),
      h('th', { scope: 'col' }, 'top labels'),
      shown.map((f) => h('th', { scope: 'col', class: 'num', title: `mean ${f}` }, MEAN_FEATURES[f])))),
    h('tbody', {}, clusters.map((c) => h('tr', {
      tabindex: '0', dataset: { cluster: c.cluster },
      onmouseenter: () => onFocus(c.cluster), onmouseleave: () => onFocus(null),
      onfocus: () => onFocus(c.cluster), onblur: () => onFocus(null),
    },
    h('td', {}, dot(c.cluster)),
    h('td', { class: 'num' }, String(c.cluster)),
    h('td', { class: 'cluster-name' }, c.name || ''),
    h('td', { class: 'num' }, fmt.int(c.size)),
    h('td', { class: 'num' }, fmt.pct(c.share)),
    h('td', { class: 'labels' }, (c.top_labels || []).length
      ? c.top_labels.slice(0, 2).map((l) => h('span', {}, `${l.label} ${fmt.pct(l.share)}`)) : '–'),
    shown.map((f) => h('td', { class: 'num' }, mean(f, (c.features || {})[f])))))),
  );
}
