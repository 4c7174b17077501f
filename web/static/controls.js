// The request controls panel: seeds, a target and a range per audio feature, the artist cap,
// diversity and explanations, read as the flat fields of a version 2 request
// (schemas.RequestControls; docs/api.md). Only what differs from the defaults is sent.

import { byId, h, debounce, showError, clearError, errorText } from './dom.js';
import { featureLabel, featureScale } from './features.js';
import { Seeds } from './seeds.js';

const CHANGE_MS = 300; // a slider dragged or a number typed asks once it rests
const DEFAULT_MAX_PER_ARTIST = 2;
// The input a refused field names (the problem's detail starts with the field).
const FIELD_INPUT = {
  max_per_artist: 'max-per-artist', diversity: 'diversity', explain: 'explain',
  seed_track_ids: 'seeds', track_id: 'seeds',
};

const fieldInput = (field) => FIELD_INPUT[field] || field.replace(/^(target|min|max)_/, '$1-');

// A number input's value, or null when empty; text that is no number is marked, not sent.
function numberOf(input) {
  input.setAttribute('aria-invalid', String(input.validity.badInput));
  return input.value === '' ? null : Number(input.value);
}

export class Controls {
  // trackDetails(id) -> Promise of GET /v1/tracks/{id}; onChange(): the request changed;
  // onChooseSong(song): the chosen song was removed from the seeds, this one replaces it.
  constructor({ trackDetails, onChange, onChooseSong }) {
    this.el = {
      table: byId('feature-controls'),
      cap: byId('max-per-artist'),
      diversity: byId('diversity'),
      diversityValue: byId('diversity-value'),
      explain: byId('explain'),
      error: byId('controls-error'),
    };
    this.trackDetails = trackDetails;
    this.changed = debounce(onChange, CHANGE_MS);
    this.seeds = new Seeds({
      list: byId('seeds'), hint: byId('seeds-hint'), onChange: this.changed, onChooseSong,
    });
    this.rows = new Map(); // feature -> its inputs
    this.song = null;
    this.songFeatures = {};
    this.marked = [];
    for (const type of ['input', 'change']) this.el.cap.addEventListener(type, this.changed);
    this.el.diversity.addEventListener('input', () => {
      this.showDiversity();
      this.changed();
    });
    this.el.explain.addEventListener('change', this.changed);
    byId('controls-reset').addEventListener('click', () => this.reset());
    this.showDiversity();
    this.seeds.render();
  }

  // The catalog's features, learnt from the first track the page sees.
  learnFeatures(features) {
    const names = Object.keys(features || {});
    if (this.rows.size || !names.length) return;
    const body = h('tbody', {}, names.map((name) => this.featureRow(name)));
    this.el.table.replaceChildren(
      h('caption', { class: 'visually-hidden' }, 'A target and a range per audio feature'),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, 'feature'),
        h('th', { scope: 'col' }, 'target ', h('span', { class: 'hint' }, '(off: the chosen song’s value)')),
        h('th', { scope: 'col' }, 'min'),
        h('th', { scope: 'col' }, 'max'))),
      body);
    this.placeIdle();
  }

  featureRow(name) {
    const scale = featureScale(name);
    const label = featureLabel(name);
    const bounds = { type: 'number', step: scale.step, inputmode: 'decimal', placeholder: 'any', oninput: this.changed, onchange: this.changed };
    const row = {
      name,
      scale,
      on: h('input', { type: 'checkbox', id: `target-${name}-on`, 'aria-label': `Target ${label}` }),
      target: h('input', {
        type: 'range', id: `target-${name}`, min: scale.min, max: scale.max, step: scale.step, disabled: true,
        'aria-label': `${label} target${scale.unit ? ` in ${scale.unit}` : ''}`,
      }),
      value: h('output', { class: 'target-value', for: `target-${name}` }),
      min: h('input', { ...bounds, id: `min-${name}`, 'aria-label': `Minimum ${label}${scale.unit ? ` in ${scale.unit}` : ''}` }),
      max: h('input', { ...bounds, id: `max-${name}`, 'aria-label': `Maximum ${label}${scale.unit ? ` in ${scale.unit}` : ''}` }),
    };
    row.target.value = String((scale.min + scale.max) / 2); // until a song is chosen
    row.on.addEventListener('change', () => {
      row.target.disabled = !row.on.checked;
      this.showTarget(row);
      this.changed();
    });
    row.target.addEventListener('input', () => {
      this.showTarget(row);
      this.changed();
    });
    this.rows.set(name, row);
    return h('tr', { dataset: { feature: name } },
      h('th', { scope: 'row' }, label, scale.unit ? h('span', { class: 'unit' }, ` ${scale.unit}`) : null),
      h('td', { class: 'target' }, row.on, row.target, row.value),
      h('td', { dataset: { label: 'min' } }, row.min),
      h('td', { dataset: { label: 'max' } }, row.max));
  }

  setSong(song) {
    this.changed.cancel(); // the choice asks with the controls as they are now
    this.song = song;
    this.seeds.setSong(song);
    this.trackDetails(song.track_id).then((d) => {
      if (song !== this.song) return;
      this.seeds.learnName(d);
      this.songFeatures = d.features || {};
      this.learnFeatures(this.songFeatures);
      this.placeIdle();
    }, () => {}); // the song card says why its details are missing
  }

  // Sliders that are off sit at the chosen song's value: switched on, they start from it.
  placeIdle() {
    for (const [name, row] of this.rows) {
      const value = this.songFeatures[name];
      if (!row.on.checked && value != null) row.target.value = String(value);
      this.showTarget(row);
    }
  }

  showTarget(row) {
    const known = row.on.checked || this.songFeatures[row.name] != null;
    const text = known ? row.scale.show(Number(row.target.value)) : '–';
    row.value.textContent = text;
    row.value.classList.toggle('idle', !row.on.checked);
    row.target.setAttribute('aria-valuetext', text);
  }

  showDiversity() {
    this.el.diversityValue.textContent = Number(this.el.diversity.value).toFixed(2);
  }

  // The request's control fields, by wire name.
  fields() {
    const fields = {};
    const rest = this.seeds.rest();
    if (rest.length) fields.seed_track_ids = rest;
    for (const [name, row] of this.rows) {
      if (row.on.checked) fields[`target_${name}`] = Number(row.target.value);
      const low = numberOf(row.min);
      const high = numberOf(row.max);
      if (low !== null) fields[`min_${name}`] = low;
      if (high !== null) fields[`max_${name}`] = high;
    }
    const cap = numberOf(this.el.cap);
    if (cap !== null && cap !== DEFAULT_MAX_PER_ARTIST) fields.max_per_artist = cap;
    const diversity = Number(this.el.diversity.value);
    if (diversity > 0) fields.diversity = diversity;
    if (this.el.explain.checked) fields.explain = true;
    return fields;
  }

  // A 422 from the API: its detail beside the controls, the field it names marked.
  showProblem(err) {
    this.clearMarks();
    const detail = errorText(err);
    showError(this.el.error, new Error(`Not asked: ${detail}`));
    const field = /^([a-z_]+):/.exec(detail);
    const input = field && byId(fieldInput(field[1]));
    if (input) {
      input.dataset.describedby = input.getAttribute('aria-describedby') || '';
      input.setAttribute('aria-invalid', 'true');
      input.setAttribute('aria-describedby', `controls-error ${input.dataset.describedby}`.trim());
      this.marked.push(input);
    }
  }

  clearProblem() {
    this.clearMarks();
    clearError(this.el.error);
  }

  clearMarks() {
    for (const input of this.marked) {
      input.setAttribute('aria-invalid', 'false');
      if (input.dataset.describedby) input.setAttribute('aria-describedby', input.dataset.describedby);
      else input.removeAttribute('aria-describedby');
    }
    this.marked = [];
  }

  reset() {
    for (const row of this.rows.values()) {
      row.on.checked = false;
      row.target.disabled = true;
      row.min.value = '';
      row.max.value = '';
    }
    this.el.cap.value = String(DEFAULT_MAX_PER_ARTIST);
    this.el.diversity.value = '0';
    this.el.explain.checked = false;
    this.showDiversity();
    this.placeIdle();
    this.changed();
  }
}
