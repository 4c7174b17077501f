// Upload a sound: POST /v1/tracks/audio, play the file, and show songs like it at once (a
// feature seed of its extracted features), before any instance has applied the catalog topic.

import { adminToken, api, setAdminToken } from './api.js';
import { byId, fmt, showError, clearError } from './dom.js';
import { renderRecommendations } from './views.js';

export function setupUpload({ settings, onChoose }) {
  const el = {
    input: byId('audio-upload'),
    tokenField: byId('admin-token-field'),
    token: byId('admin-token'),
    hint: byId('upload-hint'),
    result: byId('upload-result'),
    name: byId('uploaded-name'),
    facts: byId('uploaded-facts'),
    audio: byId('uploaded-audio'),
    recs: byId('uploaded-recommendations'),
    error: byId('upload-error'),
  };
  el.tokenField.hidden = Boolean(adminToken());
  el.token.addEventListener('change', () => setAdminToken(el.token.value.trim()));

  async function recommend(features) {
    const { model, k, clusterNames } = settings();
    const started = performance.now();
    const answer = await api.recommend({ features, k, model });
    renderRecommendations(el.recs, answer, {
      source: 'direct', directMs: performance.now() - started, clusterNames, onChoose, asked: k,
    });
  }

  async function upload(file) {
    clearError(el.error);
    if (!adminToken() && el.token.value.trim()) setAdminToken(el.token.value.trim());
    const form = new FormData();
    form.append('file', file, file.name);
    el.input.disabled = true;
    el.hint.textContent = `Extracting the features of ${file.name}…`;
    try {
      const answer = await api.uploadAudio(form);
      const { track } = answer;
      el.result.hidden = false;
      el.result.dataset.trackId = track.track_id;
      el.name.textContent = track.artist ? `${track.track_name} — ${track.artist}` : track.track_name;
      el.facts.textContent = `${fmt.int(Object.keys(track.features).length)} features from `
        + `${answer.seconds_analysed.toFixed(1)} s of audio in ${fmt.ms(answer.extraction_seconds * 1000)}; `
        + `published to ${answer.topic}`;
      el.audio.src = answer.audio_url;
      el.hint.textContent = 'Uploaded: it joins the catalog as soon as the service applies it.';
      await recommend(track.features);
    } catch (err) {
      if (err.status === 401 || err.status === 403) el.tokenField.hidden = false;
      el.hint.textContent = 'WAV, FLAC, OGG or MP3.';
      showError(el.error, err);
    } finally {
      el.input.disabled = false;
      el.input.value = '';
    }
  }

  el.input.addEventListener('change', () => {
    const file = el.input.files && el.input.files[0];
    if (file) upload(file);
  });
}
