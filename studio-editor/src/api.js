// Talking to the studio's server: JSON POSTs with the session's CSRF token, and the page's words.
// The server is the only judge of a journey; this file only carries questions and answers.

const block = document.getElementById("studio-config");
// The editor page carries its data; the other pages (journeys, login) need no script.
export const config = block ? JSON.parse(block.textContent) : null;

export class StudioError extends Error {
  constructor(status, body) {
    super((body && body.error) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export async function post(path, body, { signal } = {}) {
  const response = await fetch(`${config.base}/api/${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": config.csrf },
    body: JSON.stringify(body),
    credentials: "same-origin",
    signal,
  });
  let data = null;
  try {
    data = await response.json();
  } catch (_) {
    data = null;
  }
  if (!response.ok && !(data && (data.conflict || data.problems))) throw new StudioError(response.status, data);
  return { status: response.status, data };
}

export async function get(path, params) {
  const query = new URLSearchParams(params).toString();
  const response = await fetch(`${config.base}/api/${path}?${query}`, { credentials: "same-origin" });
  const data = await response.json();
  if (!response.ok) throw new StudioError(response.status, data);
  return data;
}

// The page's words, in the journey's language (the server filled them in from its catalog).
export function t(text, values = {}) {
  const said = (config && config.words && config.words[text]) || text;
  return said.replace(/\{(\w+)\}/g, (all, name) => (name in values ? String(values[name]) : all));
}

export function plural(one, many, n, values = {}) {
  return t(n === 1 ? one : many, { n, ...values });
}
