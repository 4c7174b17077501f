// What the page shows for a song, its recommendations and the model's clusters.

import { featureBars } from './charts.js';
import { h, fmt } from './dom.js';
import { featureLabel } from './features.js';
import { clusterColour } from './palette.js';
import { describeConstraints } from './rules.js';

function dot(cluster, label) {
  return h('span', { class: 'dot', style: `--dot: ${clusterColour(cluster)}`, title: label, 'aria-hidden': 'true' });
}

function clusterLabel(cluster, names) {
  if (cluster == null) return 'no cluster';
  const name = names.get(cluster);
  return name ? `cluster ${cluster}: ${name}` : `cluster ${cluster}`;
}

// song: {track_id, track_name?, artist?}; details: GET /v1/tracks/{id} or null while loading;
// actions: what the listener can do with the song (keep it as a seed).
export function renderSong(el, { song, details, model, clusterNames, chain, onChoose, actions }) {
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
      actions || null,
      earlier.length ? h('nav', { class: 'chain', 'aria-label': 'Listening chain' },
        h('span', { class: 'hint' }, 'Before:'),
        earlier.map((s) => h('button', {
          type: 'button', class: 'link', title: s.artist || '', onclick: () => onChoose(s),
        }, s.track_name || s.track_id))) : null),
    h('div', { class: 'song-features' }, body)));
}

export function sameItems(el, answer) {
  const shown = [...el.querySelectorAll('button.rec[data-track-id]')]
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

// Marks the shown list as the live one without rebuilding it (the items are the same); the
// live answer may say more of the listener (variant, songs withheld as heard).
export function markLive(el, answer) {
  el.dataset.source = 'live';
  el.dataset.eventId = answer.event_id;
  el.querySelector('.source').replaceWith(sourceBadge('live', answer));
  const old = el.querySelector('.listener-notes');
  const notes = listenerNotes(answer);
  if (old && notes) old.replaceWith(notes);
  else if (old) old.remove();
  else if (notes) el.querySelector('.source').after(notes);
}

// Answers from the listener's state (the live ones) carry their A/B variant and how many
// songs were withheld as heard or recently shown; a direct answer has no listener.
function listenerNotes(answer) {
  const hasVariant = answer.variant != null;
  const heard = answer.excluded_heard;
  if (!hasVariant && heard == null) return null;
  return h('p', { class: 'listener-notes' },
    hasVariant ? h('span', { class: 'answer-variant', dataset: { variant: answer.variant },
      title: 'the listener’s A/B variant' }, 'variant ', h('strong', {}, answer.variant)) : null,
    heard != null ? h('span', { class: 'answer-excluded-heard', dataset: { count: String(heard) },
      title: 'songs of the listener’s history or last answers left out' },
    heard ? `${heard} heard or recently shown ${heard === 1 ? 'song' : 'songs'} withheld`
      : 'nothing withheld as heard') : null);
}

// The hidden words make a button's name read as a sentence from its visible text.
const quiet = (text) => h('span', { class: 'visually-hidden' }, text);

// With explain: the item's features closest to the seed's, closest first.
function because(item) {
  if (!item.because || !item.because.length) return null;
  return h('span', { class: 'because', title: 'its features closest to the seed’s' },
    quiet(', closest in '), item.because.flatMap((f, i) => [i ? quiet(', ') : null, h('span', { class: 'tag' }, featureLabel(f))]));
}

// What the answer applied, and whether the rules left fewer songs than asked.
function answerNotes(answer, asked) {
  const items = answer.items || [];
  const notes = [];
  if (answer.exhausted) {
    const n = items.length;
    notes.push(h('p', { class: 'exhausted' }, n ? `Only ${n} ${n === 1 ? 'song meets' : 'songs meet'} these rules`
      + (asked ? ` (${asked} asked).` : '.') : 'No song meets these rules.'));
  }
  const phrases = describeConstraints(answer.constraints);
  if (phrases.length) {
    notes.push(h('p', { class: 'constraints' }, h('span', { class: 'constraints-title' }, 'rules: '),
      phrases.flatMap((p, i) => [i ? h('span', { class: 'sep', 'aria-hidden': 'true' }, ' · ') : null, h('span', { class: 'rule' }, p)])));
  }
  return notes;
}

function recItem(item, { clusterNames, onChoose, itemAction, feedback }) {
  const label = clusterLabel(item.cluster, clusterNames);
  return h('li', { class: 'rec-item' }, h('button', {
    type: 'button', class: 'rec', dataset: { trackId: item.track_id }, onclick: () => onChoose(item),
  },
  h('span', { class: 'rank' }, String(item.rank)),
  h('span', { class: 'title' }, h('span', { class: 'name' }, item.track_name),
    h('span', { class: 'sub' }, quiet(' by '), h('span', { class: 'artist' }, item.artist)), because(item)),
  h('span', { class: 'cluster', title: label }, dot(item.cluster), quiet(', cluster '),
    h('span', { class: 'cluster-id' }, item.cluster ?? '–')),
  quiet(', score '), h('span', { class: 'score', title: 'similarity score' }, fmt.score(item.score))),
  feedback ? feedback(item) : null,
  itemAction ? itemAction(item) : null);
}

// itemAction(item): a control beside each item (add it to the seeds); feedback(item): its like
// and skip buttons; asked: the k requested.
export function renderRecommendations(el, answer, { source, directMs, clusterNames, onChoose, itemAction, feedback, asked }) {
  el.dataset.source = source;
  el.dataset.eventId = answer.event_id || '';
  const items = answer.items || [];
  const list = h('ol', { class: 'rec-list' }, items.map((item) => recItem(item, { clusterNames, onChoose, itemAction, feedback })));
  const notes = listenerNotes(answer); // null for a direct answer: replaceChildren would write "null"
  el.replaceChildren(
    sourceBadge(source, answer, directMs),
    ...(notes ? [notes] : []),
    ...answerNotes(answer, asked),
    items.length ? list : h('p', { class: 'placeholder' },
      answer.exhausted ? 'Loosen a rule to get songs again.' : 'No songs to recommend for this one.'),
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
