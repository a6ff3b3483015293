/**
 * Lets timers that fell due while this process's event loop was busy (training teachers for
 * minutes) run before the next request: the coordinator's keep-alive timeout then closes its idle
 * connection before the client reuses it, not while the request is on the way (ECONNRESET on a
 * POST, which cannot be retried blindly). Both ends live in this one process, so they share the
 * stall; a deployment's CLI and coordinator do not.
 */
async function settleTimers(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 0));
  await new Promise((resolve) => setImmediate(resolve));
}

/** The coordinator's admin HTTP API, as the simulator drives it (the same routes the CLI uses). */
export class AdminApi {
  constructor(
    private readonly url: string,
    private readonly token: string,
  ) {}

  async request<T>(method: string, route: string, body?: unknown): Promise<T> {
    const res = await this.fetch(method, `${this.url}/api/v1${route}`, {
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return this.answer<T>(method, route, res);
  }

  /** POST raw bytes (the reference set). */
  async upload<T>(route: string, bytes: Uint8Array): Promise<T> {
    await settleTimers();
    const res = await fetch(`${this.url}/api/v1${route}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    return this.answer<T>('POST', route, res);
  }

  /** PUT a multipart form of named files (the evaluation set). */
  async putFiles<T>(route: string, files: Readonly<Record<string, Uint8Array>>): Promise<T> {
    const form = new FormData();
    for (const [name, bytes] of Object.entries(files)) form.append(name, new Blob([bytes]), `${name}.npy`);
    await settleTimers();
    const res = await fetch(`${this.url}/api/v1${route}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${this.token}` },
      body: form,
    });
    return this.answer<T>('PUT', route, res);
  }

  /** GET raw bytes (a student's ONNX). */
  async download(route: string): Promise<Uint8Array> {
    const res = await fetch(`${this.url}/api/v1${route}`, {
      headers: { authorization: `Bearer ${this.token}` },
    });
    if (!res.ok) throw new Error(`GET ${route}: ${res.status} ${await res.text()}`);
    return new Uint8Array(await res.arrayBuffer());
  }

  /**
   * fetch, retrying a GET whose kept-alive connection the server closed just as it was reused
   * (ECONNRESET while this process's event loop was busy training); other methods are not retried.
   */
  private async fetch(method: string, url: string, init: RequestInit): Promise<Response> {
    for (let attempt = 1; ; attempt += 1) {
      await settleTimers();
      try {
        return await fetch(url, { ...init, method });
      } catch (err) {
        if (method !== 'GET' || attempt >= 5) throw err;
        await new Promise((r) => setTimeout(r, 100 * attempt));
      }
    }
  }

  private async answer<T>(method: string, route: string, res: Response): Promise<T> {
    const text = await res.text();
    if (!res.ok) {
      let reason = text;
      try {
        reason = (JSON.parse(text) as { error?: string }).error ?? text;
      } catch {
        // not JSON: keep the text
      }
      throw new Error(
        `the coordinator refused ${method} ${route} (HTTP ${res.status}): ${reason || '(empty body)'}`,
      );
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }
}
