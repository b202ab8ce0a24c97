import { Chalk, type ChalkInstance } from 'chalk';

export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

export const defaultIo = (): CliIo => ({ stdout: process.stdout, stderr: process.stderr, env: process.env });

/** Colours only on a terminal, and never with NO_COLOR (https://no-color.org). */
export function createColours(stream: CliIo['stderr'], env: NodeJS.ProcessEnv): ChalkInstance {
  const enabled = Boolean(stream.isTTY) && env.NO_COLOR === undefined && env.TERM !== 'dumb';
  return new Chalk({ level: enabled ? 1 : 0 });
}

/** What a command needs from the shell around it; `run.code` is the exit code it sets. */
export interface CommandContext {
  io: CliIo;
  c: ChalkInstance;
  say: (line: string) => void;
  run: { code: number };
}

/** commander's accumulator for repeatable options (`-b black -b blur`). */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
