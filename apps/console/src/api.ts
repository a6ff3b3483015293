/** A refused or failed admin API call, with the API's own error message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const TOKEN_KEY = 'fedistill.console.token';

/** The bearer token lives in this tab's sessionStorage only: closing the tab signs out. */
export const tokenStore = {
  read: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  write: (token: string): void => sessionStorage.setItem(TOKEN_KEY, token),
  clear: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

async function failure(res: Response): Promise<ApiError> {
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = (await res.json()) as { error?: unknown };
    if (typeof body.error === 'string') message = body.error;
  } catch {
    // Not the API's JSON error body: keep the status line.
  }
  return new ApiError(res.status, message);
}

/** The coordinator's admin API, on the origin that served the page, with one bearer token. */
export class Api {
  constructor(private readonly token: string) {}

  private async call(method: string, path: string, body?: unknown): Promise<Response> {
    const res = await fetch(path, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw await failure(res);
    return res;
  }

  async get<T>(path: string): Promise<T> {
    return (await (await this.call('GET', path)).json()) as T;
  }

  async post<T>(path: string, body: unknown = {}): Promise<T> {
    return (await (await this.call('POST', path, body)).json()) as T;
  }

  /** Fetches a file with the token and hands it to the browser as a download. */
  async download(path: string, filename: string): Promise<void> {
    const blob = await (await this.call('GET', path)).blob();
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = filename;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
}
