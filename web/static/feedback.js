// Like and skip on a recommended song: POST /v1/feedback for this tab's listener; each button
// says whether the broker took it. A song's feedback is remembered for the tab, so it still
// shows as sent when the live answer re-renders the list.

import { api } from './api.js';
import { h, errorText } from './dom.js';

const ACTIONS = {
  like: { label: 'like', sent: '✓ liked', name: 'Like' },
  skip: { label: 'skip', sent: '✓ skipped', name: 'Skip' },
};

function randomId() {
  return 'fb-' + [...crypto.getRandomValues(new Uint8Array(12))]
    .map((b) => b.toString(16).padStart(2, '0')).join('');
}

export class Feedback {
  // shownIn(): the event_id of the answer the list shows (sent as recommendation_event_id).
  constructor({ userId, shownIn }) {
    this.userId = userId;
    this.shownIn = shownIn;
    this.sent = new Set(); // `${action} ${track_id}` the broker acknowledged
  }

  // The like and skip buttons of one recommended song.
  buttons(item) {
    return h('span', { class: 'feedback', role: 'group', 'aria-label': `Feedback on ${item.track_name || item.track_id}` },
      this.button(item, 'like'), this.button(item, 'skip'));
  }

  button(item, action) {
    const button = h('button', {
      type: 'button', class: `feedback-btn feedback-${action}`,
      dataset: { trackId: item.track_id, action, state: '' },
    });
    const name = item.track_name || item.track_id;
    button.setAttribute('aria-label', `${ACTIONS[action].name} ${name}`);
    button.addEventListener('click', () => this.send(button, item, action));
    this.render(button, this.sent.has(`${action} ${item.track_id}`) ? 'sent' : '');
    return button;
  }

  // '' (not sent), 'sending', 'sent' (202: the broker has it) or 'failed' (title: why).
  render(button, state, why = '') {
    const { label, sent } = ACTIONS[button.dataset.action];
    button.dataset.state = state;
    button.setAttribute('aria-pressed', String(state === 'sent'));
    button.disabled = state === 'sending' || state === 'sent';
    button.textContent = state === 'sent' ? sent : state === 'failed' ? `${label} · not sent` : label;
    button.title = state === 'sent' ? 'Sent: the service learns from it'
      : state === 'failed' ? `Not sent: ${why} (click to try again)` : `Tell the service: ${label}`;
  }

  async send(button, item, action) {
    // One id per click target: a retry after a failure is the same feedback, counted once.
    if (!button.feedbackId) button.feedbackId = randomId();
    const body = { event_id: button.feedbackId, user_id: this.userId, track_id: item.track_id, action };
    const shownIn = this.shownIn();
    if (shownIn) body.recommendation_event_id = shownIn;
    this.render(button, 'sending');
    try {
      await api.feedback(body);
      this.sent.add(`${action} ${item.track_id}`);
      this.render(button, 'sent');
    } catch (err) {
      this.render(button, 'failed', errorText(err));
    }
  }
}
