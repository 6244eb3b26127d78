// Calls to the dashboard API (/api/*) with the signed-in user's id token; errors are typed.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

interface Context {
  base: string;
  token: string;
  /** A 401: the token expired or was refused; the app signs the user out. */
  onUnauthorized: () => void;
}

let context: Context | null = null;

export function setApiContext(next: Context | null): void {
  context = next;
}

export type Query = Record<string, string | number | undefined | null>;

function url(path: string, query?: Query): string {
  if (!context) throw new ApiError(401, "not signed in");
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const qs = params.toString();
  return `${context.base}${path}${qs ? `?${qs}` : ""}`;
}

async function send(method: string, path: string, query?: Query, body?: unknown, accept?: string) {
  const target = url(path, query);
  const headers: Record<string, string> = { Authorization: context!.token };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (accept) headers["Accept"] = accept;
  let response: Response;
  try {
    response = await fetch(target, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, "the API cannot be reached; check the connection");
  }
  if (response.status === 401) {
    context?.onUnauthorized();
    throw new ApiError(401, "your session has ended; sign in again");
  }
  if (!response.ok) {
    let message = `HTTP ${response.status}`;
    try {
      const data = (await response.json()) as { message?: string; errors?: { where: string; problem: string }[] };
      if (data.message) message = data.message;
      if (data.errors?.length) message += `: ${data.errors.map((e) => `${e.where} ${e.problem}`).join("; ")}`;
    } catch {
      // not JSON: the status says enough
    }
    throw new ApiError(response.status, message);
  }
  return response;
}

export async function getJson<T>(path: string, query?: Query): Promise<T> {
  return (await (await send("GET", path, query)).json()) as T;
}

export async function patchJson<T>(path: string, body: unknown): Promise<T> {
  return (await (await send("PATCH", path, undefined, body)).json()) as T;
}

export async function postJson<T>(path: string, body: unknown): Promise<T> {
  return (await (await send("POST", path, undefined, body)).json()) as T;
}

export async function deleteJson<T>(path: string): Promise<T> {
  return (await (await send("DELETE", path)).json()) as T;
}

/** Send a file straight to a presigned upload URL (S3, or the local stack's stand-in), with
 * exactly the headers it was signed with and no Authorization: XMLHttpRequest, because fetch
 * cannot report upload progress. */
export function uploadFile(
  target: { upload_url: string; method: string; headers: Record<string, string> },
  file: Blob,
  onProgress: (sent: number, total: number) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open(target.method, target.upload_url);
    for (const [name, value] of Object.entries(target.headers)) request.setRequestHeader(name, value);
    request.upload.onprogress = (event) => onProgress(event.loaded, event.lengthComputable ? event.total : file.size);
    request.onload = () => {
      if (request.status >= 200 && request.status < 300) resolve();
      else reject(new ApiError(request.status, `the upload was refused (HTTP ${request.status})`));
    };
    request.onerror = () => reject(new ApiError(0, "the upload failed; check the connection"));
    request.send(file);
  });
}

/** A file the API answers as an attachment (or, when large, as a link to it). */
export async function download(path: string, query: Query, accept?: string): Promise<string> {
  const response = await send("GET", path, query, undefined, accept);
  const type = response.headers.get("Content-Type") ?? "";
  if (type.startsWith("application/json")) {
    const link = (await response.json()) as { download_url: string; filename: string };
    save(link.download_url, link.filename);
    return link.filename;
  }
  const disposition = response.headers.get("Content-Disposition") ?? "";
  const filename = /filename="([^"]+)"/.exec(disposition)?.[1] ?? "leads";
  const href = URL.createObjectURL(await response.blob());
  save(href, filename);
  setTimeout(() => URL.revokeObjectURL(href), 60_000);
  return filename;
}

function save(href: string, filename: string): void {
  const anchor = document.createElement("a");
  anchor.href = href;
  anchor.download = filename;
  anchor.rel = "noopener";
  document.body.appendChild(anchor);
  anchor.click();
  anchor.remove();
}
