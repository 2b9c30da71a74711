// The REST client: the API key lives in this tab's sessionStorage and goes with every call as a
// bearer token. Every answer of the API is JSON; errors are {"error": "..."}.

const KEY = 'edgesync.apiKey';

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function storedKey() {
  return sessionStorage.getItem(KEY);
}

export function storeKey(key) {
  sessionStorage.setItem(KEY, key);
}

export function forgetKey() {
  sessionStorage.removeItem(KEY);
}

/** GET (or another method with a JSON body) under /api/v1; throws ApiError on a non-2xx answer. */
export async function api(path, method = 'GET', body = undefined, key = storedKey()) {
  const headers = { Authorization: 'Bearer ' + key };
  const init = { method, headers };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch('/api/v1' + path, init);
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch (e) {
    json = null;
  }
  if (!response.ok) {
    const message = json && json.error ? json.error : `HTTP ${response.status}`;
    throw new ApiError(response.status, message);
  }
  return json;
}

/** Like api(), but a route the server lacks (404) answers null: the panel says "not available". */
export async function optional(path) {
  try {
    return await api(path);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      return null;
    }
    throw e;
  }
}

/** The key's own name, role and groups. */
export function whoami(key) {
  return api('/whoami', 'GET', undefined, key);
}

/** Whether a role may do what needs the operator role (the server checks again: 403). */
export function canOperate(role) {
  return role === 'operator' || role === 'admin';
}
