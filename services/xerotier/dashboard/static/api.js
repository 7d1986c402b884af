// The public HTTP API, with the API key kept in this browser session only (sessionStorage).

const KEY = "xerotier.apiKey";

export class ApiError extends Error {
  constructor(status, message, type) {
    super(message);
    this.status = status;
    this.type = type;
  }
}

export const session = {
  key: () => sessionStorage.getItem(KEY),
  signIn: (key) => sessionStorage.setItem(KEY, key),
  signOut: () => sessionStorage.removeItem(KEY),
  /** The project slug of a key shaped xero_<slug>_<secret>. */
  project: () => {
    const match = /^xero_(.+)_[^_]+$/.exec(session.key() || "");
    return match ? match[1] : null;
  },
};

/** Call the API under /v1; answers the parsed JSON, or throws ApiError with the envelope's message. */
export async function api(method, path, body, key = session.key()) {
  const headers = { Accept: "application/json" };
  if (key) headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(`/v1${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
  });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = data?.error;
    throw new ApiError(response.status, error?.message || `HTTP ${response.status}`, error?.type);
  }
  return data;
}

export const get = (path) => api("GET", path);
export const post = (path, body) => api("POST", path, body);

/** A query string from an object, leaving out empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== "" && v !== null && v !== undefined) q.set(k, v);
  const text = q.toString();
  return text ? `?${text}` : "";
}

/** Save a file of the download API (``/v1/models/{model}/files/{path}``) with the session's key. */
export async function download(path, filename, key = session.key()) {
  const response = await fetch(`/v1${path}`, { headers: key ? { Authorization: `Bearer ${key}` } : {} });
  if (!response.ok) {
    let message = `HTTP ${response.status}`;
    try {
      message = (await response.json()).error?.message || message;
    } catch {
      /* not JSON */
    }
    throw new ApiError(response.status, message);
  }
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement("a"), { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** A file path as URL path segments (each encoded, "/" kept between them). */
export const encodePath = (path) => path.split("/").map(encodeURIComponent).join("/");
