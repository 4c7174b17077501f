// The seeds a request blends: the chosen song first, then the songs the listener kept (up to 5
// in all). Kept songs stay seeds when another song is chosen; the chosen song is always one.

import { h } from './dom.js';

export const MAX_SEEDS = 5; // schemas.MAX_SEEDS

const nameOf = (song) => song.track_name || song.track_id;

export class Seeds {
  // onChange(): the seeds sent changed; onChooseSong(song): the first seed was removed, the
  // next one becomes the chosen song.
  constructor({ list, hint, onChange, onChooseSong }) {
    Object.assign(this, { list, hint, onChange, onChooseSong });
    this.song = null;
    this.kept = [];
  }

  // The seeds in request order, each once.
  all() {
    const seen = new Set();
    return [this.song, ...this.kept].filter((s) => s && !seen.has(s.track_id) && seen.add(s.track_id));
  }

  // seed_track_ids: the seeds after track_id (the chosen song).
  rest() {
    return this.all().slice(1).map((s) => s.track_id);
  }

  has(trackId) {
    return this.all().some((s) => s.track_id === trackId);
  }

  isFull() {
    return this.all().length >= MAX_SEEDS;
  }

  setSong(song) {
    this.song = song;
    // A sixth seed cannot be sent: the last kept ones go.
    while (this.all().length > MAX_SEEDS) this.kept.pop();
    this.render();
  }

  // A song known by its id only (a map point) gets its name once its details are loaded.
  learnName({ track_id: id, track_name: name, artist }) {
    const named = (s) => (s && s.track_id === id && !s.track_name ? { ...s, track_name: name, artist } : s);
    this.song = named(this.song);
    this.kept = this.kept.map(named);
    this.render();
  }

  add(song) {
    if (this.has(song.track_id) || this.isFull()) return;
    this.kept.push(song);
    this.render();
    this.onChange();
  }

  // The chosen song kept (or not) as a seed for the songs chosen after it; the request now
  // does not change, as it is the first seed anyway.
  toggleKeep(song) {
    const kept = this.kept.some((s) => s.track_id === song.track_id);
    this.kept = kept ? this.kept.filter((s) => s.track_id !== song.track_id) : [...this.kept, song];
    this.render();
  }

  isKept(trackId) {
    return this.kept.some((s) => s.track_id === trackId);
  }

  remove(trackId) {
    const seeds = this.all();
    this.kept = this.kept.filter((s) => s.track_id !== trackId);
    if (this.song && trackId === this.song.track_id) {
      if (seeds[1]) this.onChooseSong(seeds[1]);
      return;
    }
    this.render();
    this.onChange();
  }

  render() {
    const seeds = this.all();
    this.list.replaceChildren(...(seeds.length ? seeds.map((song, i) => this.chip(song, i, seeds.length))
      : [h('li', { class: 'placeholder' }, 'Choose a song: it is the first seed.')]));
    const how = '“+ seed” on a recommendation, or “keep as a seed” on the song, adds one.';
    this.hint.textContent = seeds.length >= MAX_SEEDS ? `${MAX_SEEDS} of ${MAX_SEEDS} seeds: remove one to add another.`
      : seeds.length ? `${seeds.length} of ${MAX_SEEDS}: ${how}` : `Up to ${MAX_SEEDS}: ${how}`;
    this.syncButtons();
  }

  chip(song, index, count) {
    const name = nameOf(song);
    const lone = count === 1;
    return h('li', { class: `seed-chip${index === 0 ? ' chosen' : ''}`, dataset: { trackId: song.track_id } },
      h('span', { class: 'seed-n', 'aria-hidden': 'true' }, String(index + 1)),
      h('span', { class: 'seed-name', title: song.artist || '' }, name),
      song.artist ? h('span', { class: 'seed-artist' }, song.artist) : null,
      h('button', {
        type: 'button', class: 'seed-remove', disabled: lone,
        'aria-label': `Remove ${name} from the seeds`,
        title: lone ? 'The chosen song is the only seed: choose another song to replace it.'
          : index === 0 ? 'Remove: the next seed becomes the chosen song' : 'Remove this seed',
        onclick: () => this.remove(song.track_id),
      }, '×'));
  }

  // "+ seed" on a recommended song.
  addButton(song) {
    const button = h('button', {
      type: 'button', class: 'add-seed', dataset: { seedId: song.track_id },
      onclick: () => this.add(song),
    });
    this.syncButton(button, nameOf(song));
    return button;
  }

  // "keep as a seed" on the song card.
  keepButton(song) {
    const button = h('button', {
      type: 'button', class: 'keep-seed', dataset: { seedId: song.track_id },
      title: 'Stays a seed when you choose another song', onclick: () => this.toggleKeep(song),
    });
    this.syncKeep(button);
    return button;
  }

  syncButtons() {
    for (const b of document.querySelectorAll('button.add-seed')) this.syncButton(b, b.dataset.name);
    for (const b of document.querySelectorAll('button.keep-seed')) this.syncKeep(b);
  }

  syncButton(button, name) {
    const seed = this.has(button.dataset.seedId);
    button.dataset.name = name;
    button.disabled = seed || this.isFull();
    button.textContent = seed ? '✓ seed' : '+ seed';
    button.setAttribute('aria-label', seed ? `${name} is a seed` : `Add ${name} to the seeds`);
    button.title = seed ? 'Already a seed' : this.isFull() ? `${MAX_SEEDS} seeds at most` : 'Add to the seeds';
  }

  syncKeep(button) {
    const kept = this.isKept(button.dataset.seedId);
    button.setAttribute('aria-pressed', String(kept));
    button.textContent = kept ? '✓ kept as a seed' : '+ keep as a seed';
  }
}
