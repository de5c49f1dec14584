// The manager's /api/v1 over HTTP for `sluice admin` (docs/operations.md#admin-cli): the admin
// token as a bearer token, every manager address tried in turn (with HA only the leader
// answers; a follower says NOT_LEADER), and the manager's error body turned back into a
// SluiceError with its code, so the CLI reports "worker-9 is not registered", not "HTTP 404".
import { ERROR_CODES, SluiceError, type ErrorCode } from '../common/errors.js';

/** One manager call's budget; the CLI is interactive. */
const REQUEST_TIMEOUT_MS = 10_000;

interface ErrorBody {
  readonly error?: { readonly code?: string; readonly message?: string };
}

export class AdminClient {
  readonly #bases: readonly string[];
  readonly #token: string | undefined;

  /** `managers`: HTTP addresses (host:port or http(s)://host:port) of every manager. */
  constructor(managers: readonly string[], token: string | undefined) {
    this.#bases = managers.map((m) => (/^https?:\/\//.test(m) ? m : `http://${m}`));
    this.#token = token;
  }

  get(path: string): Promise<unknown> {
    return this.#call('GET', path);
  }

  /**
   * Every item of a paged list (`{ <key>: [...], nextPageToken }`), following the page
   * tokens until the last page.
   */
  async list<T>(path: string, key: string): Promise<T[]> {
    const items: T[] = [];
    let token = '';
    do {
      const sep = path.includes('?') ? '&' : '?';
      const url = token ? `${path}${sep}pageToken=${encodeURIComponent(token)}` : path;
      const page = (await this.get(url)) as Record<string, unknown>;
      const got = page[key];
      if (!Array.isArray(got))
        throw new SluiceError('SLUICE_ERR_INTERNAL', `${path} answered without a "${key}" list`);
      for (const item of got as T[]) items.push(item);
      token = typeof page.nextPageToken === 'string' ? page.nextPageToken : '';
    } while (token);
    return items;
  }

  post(path: string): Promise<unknown> {
    return this.#call('POST', path);
  }

  async #call(method: string, path: string): Promise<unknown> {
    const failures: string[] = [];
    for (const base of this.#bases) {
      let res: Response;
      try {
        res = await fetch(`${base}${path}`, {
          method,
          headers: this.#token ? { authorization: `Bearer ${this.#token}` } : {},
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
      } catch (err) {
        failures.push(`${base}: ${reason(err)}`);
        continue;
      }
      const text = await res.text();
      if (res.ok) return JSON.parse(text) as unknown;
      const body = parseError(text);
      const code: ErrorCode =
        body?.code !== undefined && body.code in ERROR_CODES
          ? (body.code as ErrorCode)
          : 'SLUICE_ERR_INTERNAL';
      // A follower (HA): the next address may be the leader.
      if (code === 'SLUICE_ERR_NOT_LEADER') {
        failures.push(`${base}: not the leader`);
        continue;
      }
      throw new SluiceError(code, refusal(res.status, body?.message ?? text.trim(), this.#token), {
        context: { status: res.status },
      });
    }
    throw new SluiceError(
      'SLUICE_ERR_UNAVAILABLE',
      `cannot reach a leading manager (${failures.join('; ')}); is it running? (--manager host:port, its HTTP port)`,
    );
  }
}

function parseError(text: string): ErrorBody['error'] {
  try {
    return (JSON.parse(text) as ErrorBody).error;
  } catch {
    return undefined;
  }
}

function refusal(status: number, message: string, token: string | undefined): string {
  if (status === 401)
    return token
      ? `the manager refused the admin token: ${message} (--admin-token-file)`
      : `the manager needs the admin token: give --admin-token-file (${message})`;
  if (status === 403) return `the manager refused: ${message}`;
  return message;
}

/** "connect ECONNREFUSED 127.0.0.1:9098" rather than fetch's bare "fetch failed". */
function reason(err: unknown): string {
  const e = err as Error & { cause?: Error & { code?: string } };
  if (e.name === 'TimeoutError') return `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`;
  return e.cause?.message ?? e.message;
}
