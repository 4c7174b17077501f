// The listener's live answers: one EventSource on the SSE endpoint, answers kept by event_id.

const KEEP = 200; // recent answers kept, for an answer that arrives before its event_id is known
const RETRY_MS = [1000, 2000, 5000, 10000];

export class LiveAnswers {
  constructor(url, { onAnswer, onHealth }) {
    this.url = url;
    this.onAnswer = onAnswer;
    this.onHealth = onHealth;
    this.recent = new Map(); // event_id -> { answer, at }
    this.failures = 0;
    this.source = null;
    this.retryTimer = 0;
  }

  connect() {
    clearTimeout(this.retryTimer);
    if (this.source) this.source.close();
    const source = new EventSource(this.url);
    this.source = source;
    source.addEventListener('open', () => {
      this.failures = 0;
      this.onHealth(true);
    });
    source.addEventListener('recommendations', (event) => this.received(event));
    source.addEventListener('error', () => {
      this.onHealth(false);
      // The browser retries by itself unless the answer was not a stream (a 503, say).
      if (source.readyState === EventSource.CLOSED) {
        const wait = RETRY_MS[Math.min(this.failures, RETRY_MS.length - 1)];
        this.failures += 1;
        this.retryTimer = setTimeout(() => this.connect(), wait);
      }
    });
  }

  // Reconnects now if the stream is down (e.g. the status says Kafka is back).
  nudge() {
    if (!this.source || this.source.readyState === EventSource.CLOSED) this.connect();
  }

  received(event) {
    const at = performance.now();
    let answer;
    try {
      answer = JSON.parse(event.data);
    } catch {
      return; // not an answer: nothing to show
    }
    if (!answer || typeof answer.event_id !== 'string') return;
    this.recent.set(answer.event_id, { answer, at });
    if (this.recent.size > KEEP) this.recent.delete(this.recent.keys().next().value);
    this.onAnswer(answer, at);
  }

  take(eventId) {
    return this.recent.get(eventId) || null;
  }
}
