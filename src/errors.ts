/**
 * One error type for all of igx: a stable `code` that tests and scripts can match on, and the
 * process exit code the CLI maps it to (2: bad flags, config or model; 1: a failed image).
 */
export type ErrorCode =
  | 'E_FLAG' // a command-line flag has a bad value
  | 'E_CONFIG' // a config file or sidecar igx.json is invalid
  | 'E_MODEL_NOT_FOUND'
  | 'E_MODEL_INVALID' // model.json malformed, weights missing or of the wrong size
  | 'E_MODEL_PATH' // a weight path resolves outside the model folder
  | 'E_MODEL_OUTPUT' // --output names no output of the model
  | 'E_UNSUPPORTED_OP' // the backend cannot run or differentiate an op
  | 'E_BACKEND' // the requested backend is not available
  | 'E_TARGET' // --target names no class
  | 'E_IMAGE_READ' // the image file cannot be read
  | 'E_IMAGE_DECODE' // the image cannot be decoded
  | 'E_BASELINE' // a baseline spec or baseline image is unusable
  | 'E_WRITE' // an output file cannot be written
  | 'E_OUT_LOCKED' // another igx run is writing the same manifest in the same --out folder
  | 'E_COMPLETENESS' // --fail-on-completeness and the error is above tolerance
  | 'E_MODEL_SIGNATURE' // a SavedModel has no such signature, tag set, input or output key
  | 'E_MODEL_CHECKSUM' // a SavedModel's variables fail their CRC32C check
  | 'E_DRIFT_RUN' // igx drift: a run folder is missing, holds no *.ig.json reports, or its igx-run.json is invalid
  | 'E_DRIFT_CONFIG' // igx drift: the runs' explain settings differ and --allow-config-change was not given
  | 'E_DRIFT_PAIR' // igx drift: an image is in one run only, or its sha256 differs between the runs
  | 'E_DRIFT_REPORT' // igx drift: a report or its raw .npy is unreadable or invalid
  | 'E_GALLERY_RUN' // igx gallery: the run folder is unreadable or holds no *.ig.json reports
  | 'E_NO_INPUT' // the inputs named no image at all (an empty folder, a glob that matches nothing)
  | 'E_ALL_SKIPPED' // every input was skipped (none is an image) and --allow-empty was not given
  | 'E_INTERNAL'; // an error igx did not expect (a bug in igx or a library under it); its stack with --verbose

const EXIT_CODES: Record<ErrorCode, number> = {
  E_FLAG: 2,
  E_NO_INPUT: 2,
  E_ALL_SKIPPED: 1,
  E_CONFIG: 2,
  E_MODEL_NOT_FOUND: 2,
  E_MODEL_INVALID: 2,
  E_MODEL_PATH: 2,
  E_MODEL_OUTPUT: 2,
  E_UNSUPPORTED_OP: 2,
  E_BACKEND: 2,
  E_TARGET: 2,
  E_BASELINE: 2,
  E_IMAGE_READ: 1,
  E_IMAGE_DECODE: 1,
  E_WRITE: 1,
  E_OUT_LOCKED: 2,
  E_COMPLETENESS: 1,
  E_MODEL_SIGNATURE: 2,
  E_MODEL_CHECKSUM: 2,
  E_DRIFT_RUN: 2,
  E_DRIFT_CONFIG: 2,
  E_DRIFT_PAIR: 2,
  E_DRIFT_REPORT: 2,
  E_GALLERY_RUN: 2,
  E_INTERNAL: 2,
};

/**
 * Text from outside (a library's message, a file's label or name) as one printable line: its lines
 * joined with '; ', a line repeated in a row kept once (libvips repeats its warnings), and control
 * characters such as ANSI escapes shown as \xNN instead of reaching the terminal.
 */
export function toOneLine(text: string): string {
  const lines = text.split(/\r?\n|\r/).map((l) => l.trim()).filter((l) => l !== '');
  const kept = lines.filter((l, i) => lines.indexOf(l) === i);
  // eslint-disable-next-line no-control-regex
  return kept.join('; ').replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export class IgxError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;

  /** `message` is made one printable line (toOneLine): every igx error is one line. */
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(toOneLine(message), options);
    this.name = 'IgxError';
    this.code = code;
    this.exitCode = EXIT_CODES[code];
  }
}

export function isIgxError(err: unknown): err is IgxError {
  return err instanceof IgxError;
}

/**
 * Any error as an IgxError: itself, or E_INTERNAL carrying the unexpected error's message on one line
 * (its stack stays on `cause`, for --verbose).
 */
export function toIgxError(err: unknown): IgxError {
  if (isIgxError(err)) return err;
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new IgxError('E_INTERNAL', `unexpected error: ${message}`, { cause: err });
}

/** The stack to show under --verbose: the unexpected cause's, else the error's own. */
export function stackOf(err: IgxError): string {
  const cause = err.cause instanceof Error ? err.cause : err;
  return cause.stack ?? String(cause);
}
