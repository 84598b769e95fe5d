// Thin client for the voxclone HTTP API. URLs are relative to the page, so the playground also
// works when the server sits under a path prefix.

export class ApiError extends Error {
  /**
   * @param {number} status HTTP status (0 for a network failure)
   * @param {string} code stable snake_case code from the server
   * @param {string} message human-readable message
   */
  constructor(status, code, message, requestId = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.requestId = requestId;
  }
}

/** Pull `{code, message}` out of any of the server's error shapes. */
export async function errorFromResponse(res) {
  let code = `http_${res.status}`;
  let message = res.statusText || `Request failed with status ${res.status}`;
  let requestId = res.headers.get("x-request-id");
  try {
    const body = await res.json();
    const err = body && typeof body.error === "object" && body.error ? body.error : body;
    if (err && typeof err.code === "string") code = err.code;
    if (body && typeof body.request_id === "string") requestId = body.request_id;
    if (err && typeof err.message === "string") message = err.message;
    else if (body && typeof body.detail === "string") message = body.detail;
    else if (body && Array.isArray(body.detail) && body.detail.length) {
      message = body.detail.map((d) => d.msg || String(d)).join("; ");
    }
  } catch {
    // not JSON: keep the status text
  }
  return new ApiError(res.status, code, message, requestId);
}

export class Api {
  /** @param {() => string | null} getKey returns the current API key */
  constructor(getKey) {
    this.getKey = getKey;
  }

  url(path) {
    return new URL(path.replace(/^\//, ""), document.baseURI).toString();
  }

  headers(extra = {}) {
    const h = { ...extra };
    const key = this.getKey();
    if (key) h.Authorization = `Bearer ${key}`;
    return h;
  }

  /** Send a request; resolve to the Response when it is 2xx, else throw ApiError. */
  async raw(method, path, { json, form, signal, accept } = {}) {
    const init = { method, headers: this.headers(accept ? { Accept: accept } : {}), signal };
    if (json !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(json);
    } else if (form !== undefined) {
      init.body = form;
    }
    let res;
    try {
      res = await fetch(this.url(path), init);
    } catch (e) {
      if (e && e.name === "AbortError") throw e;
      throw new ApiError(0, "network_error", "Cannot reach the server. Is it running?");
    }
    if (!res.ok) throw await errorFromResponse(res);
    return res;
  }

  async json(method, path, opts = {}) {
    const res = await this.raw(method, path, { ...opts, accept: "application/json" });
    if (res.status === 204) return null;
    return res.json();
  }

  health() { return this.json("GET", "api/v1/health"); }
  account() { return this.json("GET", "api/v1/account"); }

  /** Built-in voices and the caller's clones: `[{voice_id, name, type, language, ...}]`. */
  async voices() {
    const body = await this.json("GET", "api/v1/voices");
    return (body && body.data && body.data.voices) || [];
  }

  /** The caller's clones, newest first, following pagination up to `max` items. */
  async clones({ max = 1000 } = {}) {
    const out = [];
    let cursor = null;
    for (let page = 0; page < 50 && out.length < max; page += 1) {
      const q = new URLSearchParams({ limit: "100" });
      if (cursor) q.set("after", cursor);
      const body = await this.json("GET", `api/v1/voice-clones?${q}`);
      const data = (body && body.data) || {};
      const items = data.voice_clones || [];
      out.push(...items);
      cursor = data.has_more ? data.next_cursor : null;
      if (!cursor || !items.length) break;
    }
    return out;
  }

  async createClone(file, name, filename, consent = null) {
    const form = new FormData();
    form.append("audio", file, filename || file.name || "reference.webm");
    form.append("name", name);
    if (consent) {
      form.append("consent_challenge_id", consent.challengeId);
      if (consent.audio) form.append("consent_audio", consent.audio.blob, consent.audio.filename);
    }
    const body = await this.json("POST", "api/v1/voice-clones", { form });
    return body.data || body;
  }

  /** One clone by id (its self-check score appears once `similarity_status` leaves "pending"). */
  async clone(voiceId) {
    const body = await this.json("GET", `api/v1/voice-clones/${encodeURIComponent(voiceId)}`);
    return body.data || body;
  }

  deleteClone(voiceId) {
    return this.raw("DELETE", `api/v1/voice-clones/${encodeURIComponent(voiceId)}`);
  }

  /** Whole-file synthesis; resolves to a Blob. */
  async speech(body, { signal } = {}) {
    const res = await this.raw("POST", "api/v1/tts_non_stream", { json: body, signal });
    return res.blob();
  }

  /** Streamed synthesis; resolves to the Response whose body streams audio bytes. */
  stream(body, { signal } = {}) {
    return this.raw("POST", "api/v1/tts_stream", { json: body, signal });
  }
}
