import { ApiError } from './errors.js';

/** A failure to reach the server at all (offline, a dropped connection, an aborted request). */
export function isNetworkError(error: unknown): boolean {
  if (error instanceof ApiError) return false;
  if (error instanceof TypeError) return true;
  const name = (error as { name?: string } | null)?.name;
  return name === 'AbortError' || name === 'NetworkError' || name === 'TimeoutError';
}

export class Api {
  constructor(
    private readonly baseUrl: string,
    private readonly getToken: () => Promise<string>,
    private readonly fetcher: typeof fetch,
  ) {}

  fetch(url: string, init: RequestInit): Promise<Response> {
    return this.fetcher(url, init);
  }

  /** A JSON call with the bearer token; a 401 asks for a fresh token once. */
  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = {
        authorization: `Bearer ${await this.getToken()}`,
        accept: 'application/json',
      };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const init: RequestInit = { method, headers };
      if (body !== undefined) init.body = JSON.stringify(body);
      const response = await this.fetcher(`${this.baseUrl.replace(/\/$/, '')}${path}`, init);
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      if (response.ok) return parsed as T;
      if (response.status === 401 && attempt === 0) continue;
      const problem = parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : undefined;
      throw new ApiError(response.status, problem);
    }
  }
}
