// The Encore HTTP API as docs/api.md describes it: JSON in and out, errors as ApiError.

export class ApiError extends Error {
  constructor(status, title, detail) {
    super(detail || title);
    this.name = 'ApiError';
    this.status = status;
    this.title = title;
    this.detail = detail;
  }
}

const TOKEN_KEY = 'encore.api_token';
const ADMIN_KEY = 'encore.admin_token';

// Tokens given as page.html#token=...&admin=... are kept for this tab and taken out of the
// address bar; POST endpoints need `token` when the API runs with --api-token, audio uploads
// need `admin` (--admin-token).
function pageTokens() {
  try {
    const hash = new URLSearchParams(location.hash.slice(1));
    let taken = false;
    for (const [param, key] of [['token', TOKEN_KEY], ['admin', ADMIN_KEY]]) {
      if (hash.get(param)) {
        sessionStorage.setItem(key, hash.get(param));
        taken = true;
      }
    }
    if (taken) history.replaceState(null, '', location.pathname + location.search);
    return { api: sessionStorage.getItem(TOKEN_KEY), admin: sessionStorage.getItem(ADMIN_KEY) };
  } catch {
    return { api: null, admin: null };
  }
}

const tokens = pageTokens();
const token = tokens.api;

export function adminToken() {
  return tokens.admin;
}

export function setAdminToken(value) {
  tokens.admin = value || null;
  try {
    if (value) sessionStorage.setItem(ADMIN_KEY, value);
  } catch {
    // storage disabled: kept for this page only
  }
}

// FastAPI's own validation errors carry a list of {loc, msg}; problem+json a string.
function detailText(detail) {
  if (typeof detail === 'string') return detail;
  if (Array.isArray(detail)) {
    return detail.map((d) => (d && d.msg) ? `${(d.loc || []).slice(1).join('.')} ${d.msg}`.trim() : String(d)).join('; ');
  }
  return detail == null ? '' : JSON.stringify(detail);
}

// form: a FormData body (multipart), sent with the admin token instead of the API token.
export async function request(method, path, { body, signal, form } = {}) {
  const headers = { Accept: 'application/json, application/problem+json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const bearer = form ? tokens.admin : token;
  if (bearer && method !== 'GET') headers.Authorization = `Bearer ${bearer}`;
  let text;
  let response;
  try {
    response = await fetch(path, {
      method, headers, signal, body: form || (body === undefined ? undefined : JSON.stringify(body)),
    });
    text = await response.text();
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, 'Network error', 'The Encore API could not be reached.');
  }
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = undefined;
  }
  if (!response.ok) {
    const title = (data && data.title) || response.statusText || 'Error';
    const detail = detailText(data && data.detail) || `${response.status} ${title}`;
    throw new ApiError(response.status, title, detail);
  }
  if (data === undefined) throw new ApiError(response.status, 'Bad answer', `${path} did not answer JSON.`);
  return data;
}

const q = encodeURIComponent;

export const api = {
  searchTracks: (text, limit, signal) => request('GET', `/v1/tracks?q=${q(text)}&limit=${limit}`, { signal }),
  track: (id) => request('GET', `/v1/tracks/${q(id)}`),
  recommend: (body) => request('POST', '/v1/recommendations', { body }),
  uploadAudio: (form) => request('POST', '/v1/tracks/audio', { form }),
  trackAudioUrl: (id) => `/v1/tracks/${q(id)}/audio`,
  select: (body) => request('POST', '/v1/selections', { body }),
  feedback: (body) => request('POST', '/v1/feedback', { body }),
  models: () => request('GET', '/v1/models'),
  clusters: (model) => request('GET', `/v1/clusters?model=${q(model)}`),
  map: (model, limit, include = []) => request('GET', `/v1/map?model=${q(model)}&limit=${limit}`
    + (include.length ? `&include=${include.map(q).join(',')}` : '')),
  status: () => request('GET', '/v1/status'),
  evaluations: () => request('GET', '/v1/evaluations'),
  evaluation: (id) => request('GET', `/v1/evaluations/${q(id)}`),
  startEvaluation: (body) => request('POST', '/v1/evaluations', { body }),
  listenerStreamUrl: (userId) => `/v1/listeners/${q(userId)}/recommendations`,
};
