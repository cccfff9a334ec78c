// Talking to Comptoir's HTTP API with the signed-in user's key: JSON calls, server-sent
// event streams read from a POST (EventSource cannot POST), and document files as blobs.

export class ApiError extends Error {
  constructor(status, code, message, field = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

const NETWORK_MESSAGE = "Could not reach Comptoir. Check that the server is running, then try again.";

async function errorFrom(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON (a proxy's page, an empty body): described by its status below.
  }
  const error = body && body.error;
  if (error && error.message) {
    return new ApiError(response.status, error.code || "error", error.message, error.field);
  }
  const text = response.statusText ? ` (${response.statusText})` : "";
  return new ApiError(response.status, `http_${response.status}`,
    `The server answered ${response.status}${text}.`);
}

export class Api {
  constructor(key, onUnauthorized = () => {}) {
    this.key = key;
    this.onUnauthorized = onUnauthorized;
  }

  headers(extra = {}) {
    return { Authorization: `Bearer ${this.key}`, ...extra };
  }

  async send(method, path, body, accept = "application/json") {
    const init = { method, headers: this.headers({ Accept: accept }) };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch {
      throw new ApiError(0, "network", NETWORK_MESSAGE);
    }
    if (!response.ok) {
      const error = await errorFrom(response);
      if (response.status === 401) this.onUnauthorized(error);
      throw error;
    }
    return response;
  }

  async json(method, path, body) {
    const response = await this.send(method, path, body);
    return response.json();
  }

  /** POST `body` to an SSE route and call `onEvent(name, data)` for each message as it
   *  arrives. Resolves with the name of the last event (done or error). */
  async stream(path, body, onEvent) {
    const response = await this.send("POST", path, body, "text/event-stream");
    return this.readEvents(response, onEvent);
  }

  /** Read the server-sent events of a response that has started. */
  async readEvents(response, onEvent) {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let last = null;
    try {
      for (;;) {
        let chunk;
        try {
          chunk = await reader.read();
        } catch {
          throw new ApiError(0, "network", "The connection to Comptoir was lost before the answer finished.");
        }
        if (chunk.done) break;
        // A "\r" at the end of a chunk stays until its "\n" arrives with the next one.
        buffer = (buffer + chunk.value).replace(/\r\n/g, "\n");
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const message = parseEvent(block);
          if (message) {
            last = message.name;
            onEvent(message.name, message.data);
          }
        }
      }
    } finally {
      reader.releaseLock();
    }
    return last;
  }

  /** The file of a generated document, as a blob URL the browser can open. */
  async documentUrl(documentId) {
    const response = await this.send("GET", `/api/v1/documents/${documentId}/file`, undefined, "*/*");
    return URL.createObjectURL(await response.blob());
  }
}

function parseEvent(block) {
  let name = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue; // a comment (keep-alive)
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") name = value;
    else if (field === "data") data.push(value);
  }
  if (!data.length) return null;
  let parsed;
  try {
    parsed = JSON.parse(data.join("\n"));
  } catch {
    parsed = { text: data.join("\n") };
  }
  return { name: (parsed && parsed.event) || name, data: parsed };
}
