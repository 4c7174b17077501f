// One listener choosing songs: publish the selection, show the direct answer at once, then the
// live answer from Kafka when the stream brings the one with this selection's event_id. The
// request controls shape both; a change to them asks again for the same song.

import { api } from './api.js';
import { byId, h, fmt, showError, clearError, errorText } from './dom.js';
import { renderSong, renderRecommendations, markLive, sameItems } from './views.js';

const LIVE_TIMEOUT_MS = 10000;
const CHAIN_LENGTH = 20;

export class Listening {
  // settings() -> { model, k, clusterNames }; controls: the Controls panel (its fields, seeds
  // and problems); onHighlight(seedId, recIds); onPublished(ok): false when the selection
  // could not reach Kafka; feedback: the like and skip buttons (Feedback).
  constructor({ userId, live, trackDetails, settings, controls, feedback, onHighlight, onPublished }) {
    Object.assign(this, { userId, live, trackDetails, settings, controls, feedback, onHighlight, onPublished });
    this.el = {
      song: byId('song'),
      recs: byId('recommendations'),
      error: byId('recommendations-error'),
      latency: byId('latency'),
    };
    this.song = null;
    this.details = null;
    this.songError = null;
    this.chain = [];
    this.selection = null; // { clickAt, eventId, live, refused, timer }
  }

  choose(song) {
    const last = this.chain[this.chain.length - 1];
    if (!last || last.track_id !== song.track_id) this.chain = [...this.chain, song].slice(-CHAIN_LENGTH);
    this.song = song;
    this.details = null;
    this.songError = null;
    this.controls.setSong(song);
    this.refreshSong();
    this.onHighlight(song.track_id, []);
    this.loadSong(song);
    this.ask();
  }

  // The chosen song asked for again, as the settings and controls now shape it.
  ask() {
    if (!this.song) return;
    const selection = { clickAt: performance.now(), eventId: null, live: false, refused: false, timer: 0 };
    clearTimeout(this.selection && this.selection.timer);
    this.selection = selection;
    const { model, k } = this.settings();
    const body = { track_id: this.song.track_id, k, model, ...this.controls.fields() };
    this.setLatency('waiting…');
    this.setPending(true);
    clearError(this.el.error);
    this.recommendDirect(selection, body);
    this.publish(selection, body);
  }

  // An answer from the listener's stream: shown if it is the one the current selection awaits.
  answerArrived(answer, at) {
    const selection = this.selection;
    if (selection && !selection.live && selection.eventId === answer.event_id) this.acceptLive(selection, answer, at);
  }

  refreshSong() {
    if (!this.song) return;
    const { model, clusterNames } = this.settings();
    renderSong(this.el.song, {
      song: this.song, details: this.details, model, clusterNames, chain: this.chain, onChoose: (s) => this.choose(s),
      actions: this.controls.seeds.keepButton(this.song),
    });
    if (this.songError) this.el.song.append(h('p', { class: 'error', role: 'alert' }, errorText(this.songError)));
  }

  loadSong(song) {
    this.trackDetails(song.track_id).then((d) => {
      if (song !== this.song) return;
      this.details = d;
      this.chain[this.chain.length - 1] = { track_id: d.track_id, track_name: d.track_name, artist: d.artist };
      this.refreshSong();
    }, (err) => {
      if (song !== this.song) return;
      this.songError = err;
      this.refreshSong();
    });
  }

  recommendDirect(selection, body) {
    const start = performance.now();
    api.recommend(body).then((answer) => {
      if (selection !== this.selection) return;
      this.controls.clearProblem();
      if (!selection.live) this.show(answer, 'direct', performance.now() - start);
    }, (err) => {
      if (selection !== this.selection || selection.live) return;
      this.setPending(false);
      if (err.status === 422) this.refuse(selection, err);
      else showError(this.el.error, err, () => this.ask());
    });
  }

  // The API refused the controls: said beside them; the list shown is the last one asked.
  refuse(selection, err) {
    selection.refused = true;
    clearTimeout(selection.timer);
    this.controls.showProblem(err);
    this.el.recs.classList.add('stale');
    this.setLatency('not asked', errorText(err));
  }

  publish(selection, body) {
    api.select({ user_id: this.userId, ...body }).then(({ event_id: eventId }) => {
      if (selection !== this.selection) return;
      selection.eventId = eventId;
      this.onPublished(true);
      const early = this.live.take(eventId); // the answer can beat the 202 to the page
      if (early) {
        this.acceptLive(selection, early.answer, early.at);
        return;
      }
      selection.timer = setTimeout(() => {
        if (selection === this.selection && !selection.live && !selection.refused) this.setLatency('no answer yet');
      }, LIVE_TIMEOUT_MS);
    }, (err) => {
      if (selection !== this.selection) return;
      if (err.status === 422) {
        this.refuse(selection, err);
        return;
      }
      const down = err.status === 503 || err.status === 0;
      if (down) this.onPublished(false);
      if (selection.refused) return; // the direct answer already said why
      this.setLatency('not published', errorText(err));
      if (!down) showError(this.el.error, new Error(`The selection was not published: ${errorText(err)}`));
    });
  }

  acceptLive(selection, answer, at) {
    selection.live = true;
    clearTimeout(selection.timer);
    this.setLatency(fmt.ms(at - selection.clickAt), `event ${answer.event_id}`);
    this.show(answer, 'live');
  }

  show(answer, source, directMs) {
    const { recs } = this.el;
    this.setPending(false);
    recs.classList.remove('stale');
    clearError(this.el.error);
    if (source === 'live' && recs.dataset.source === 'direct' && sameItems(recs, answer)) {
      markLive(recs, answer); // same list: relabel it rather than announce it twice
    } else {
      const { clusterNames, k } = this.settings();
      renderRecommendations(recs, answer, {
        source, directMs, clusterNames, asked: k, onChoose: (s) => this.choose(s),
        itemAction: (item) => this.controls.seeds.addButton(item),
        feedback: (item) => this.feedback.buttons(item),
      });
    }
    this.onHighlight(answer.seed_track_id || this.song.track_id, (answer.items || []).map((i) => i.track_id));
  }

  setLatency(text, title = '') {
    this.el.latency.textContent = text;
    this.el.latency.title = title;
  }

  setPending(pending) {
    this.el.recs.classList.toggle('pending', pending);
    if (pending) this.el.recs.setAttribute('aria-busy', 'true');
    else this.el.recs.removeAttribute('aria-busy');
  }
}
