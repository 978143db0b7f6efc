import * as l10n from '@vscode/l10n';
import { firstLine } from './util/text';
/** An error as the user sees it: which step, the service's code and message, and what to do. */
export interface DescribedError {
  status?: number;
  code: string;
  message: string;
}

export class StepError extends Error {
  constructor(
    readonly step: string,
    readonly code: string,
    message: string,
    readonly remedy?: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'StepError';
  }
}

/** Thrown when the user cancels: the work done so far is in `done`. */
export class CancelledError extends Error {
  constructor(message = l10n.t('Cancelled.')) {
    super(message);
    this.name = 'CancelledError';
  }
}

/** Reads Azure RestErrors, Kubernetes ApiExceptions and network errors into one shape. */
export function describeError(e: unknown): DescribedError {
  const err = e as any;
  if (errorNamed(err, 'StepError')) return { status: err.status, code: err.code, message: err.message };
  // @kubernetes/client-node ApiException: code is the HTTP status, body the Status object as text.
  if (typeof err?.code === 'number' && err?.body !== undefined) {
    let status: any = err.body;
    if (typeof status === 'string') {
      try {
        status = JSON.parse(status);
      } catch {
        status = { message: status };
      }
    }
    return {
      status: err.code,
      code: status?.reason ?? `HTTP${err.code}`,
      message: status?.message ?? String(err.message),
    };
  }
  if (err?.name === 'RestError' || typeof err?.statusCode === 'number') {
    const inner = err.details?.error ?? parseBody(err.response?.bodyAsText)?.error;
    return {
      status: err.statusCode,
      code: inner?.code ?? err.code ?? `HTTP${err.statusCode ?? ''}`,
      message: inner?.message ?? firstLine(err.message),
    };
  }
  if (err?.name === 'AbortError') return { code: 'Cancelled', message: l10n.t('The operation was cancelled.') };
  if (typeof err?.code === 'string') return { code: err.code, message: firstLine(err.message ?? String(err)) };
  return { code: err?.name ?? 'Error', message: firstLine(err?.message ?? String(err)) };
}

function parseBody(text?: string) {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Errors worth a retry: throttling, server faults and dropped connections, never 4xx rule violations. */
export function isTransient(d: DescribedError): boolean {
  if (d.status === 429 || (d.status !== undefined && d.status >= 500)) return true;
  return [
    'ECONNRESET',
    'ETIMEDOUT',
    'ECONNREFUSED',
    'EPIPE',
    'REQUEST_SEND_ERROR',
    'TIMEOUT',
    'UND_ERR_SOCKET',
  ].includes(d.code);
}

/** A step's failure as the user sees it; `remedy` says who has the permission a 403 says is missing. */
export function toStepError(step: string, e: unknown, remedy?: () => string): Error {
  if (errorNamed(e, 'StepError', 'CancelledError')) return e as StepError | CancelledError;
  if (isAbort(e)) return new CancelledError();
  const d = describeError(e);
  const forbidden = d.status === 403 || /Forbidden|AuthorizationFailed/i.test(d.code);
  return new StepError(step, d.code, d.message, forbidden ? remedy?.() : undefined, d.status);
}

/** A failed or cancelled run: why, and which lines are done and which are not. Running it again finishes the work. */
export class IncompleteRunError<Line = unknown> extends Error {
  override readonly cause: StepError | CancelledError;
  constructor(
    flow: string,
    e: unknown,
    readonly records: Line[],
    readonly done: string[],
    readonly notDone: string[],
  ) {
    const cause = toStepError(flow, e) as StepError | CancelledError;
    super(cause.message);
    this.cause = cause;
    this.name = 'IncompleteRunError';
  }

  get cancelled() {
    return errorNamed(this.cause, 'CancelledError');
  }
}

export const isAbort = (e: unknown) => errorNamed(e, 'AbortError', 'CancelledError');

export function throwIfAborted(signal?: AbortSignal) {
  if (signal?.aborted) throw new CancelledError();
}

/**
 * Whether e is an error of that name. Errors are told apart by name, not instanceof: the extension's two bundles
 * each hold their own copy of a class, and the SDKs' errors (AbortError, RestError) come from other packages.
 */
export function errorNamed(e: unknown, ...names: string[]): boolean {
  return typeof e === 'object' && e !== null && names.includes(String((e as { name?: unknown }).name));
}

/** The message of anything thrown. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
