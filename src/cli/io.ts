import { Chalk, type ChalkInstance } from 'chalk';
import { Option, type Command } from 'commander';
import { PATH_KINDS, SMOOTH_KINDS } from '../attribution/types.js';

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

/** The attribution method's flags, shared by explain and evaluate so both name and describe them alike. */
export function addMethodOptions(command: Command): Command {
  return command
    .addOption(new Option('--path <kind>', 'straight (Integrated Gradients), blur (Blur IG, Xu et al. 2020) or guided (Guided IG, Kapishnikov et al. 2021) (default: straight)').choices(PATH_KINDS))
    .option('--max-sigma <px>', "Blur IG: blur of the path's start, in pixels (default: 50)")
    .option('--smooth <n>', 'SmoothGrad over IG: average IG over n noisy copies of the input')
    .option('--noise <sigma>', 'SmoothGrad: noise sigma in preprocessed input units (default: 0.3)')
    .addOption(new Option('--smooth-kind <kind>', 'SmoothGrad: smoothgrad (mean), smoothgrad_sq (mean of squares), vargrad (variance) (default: smoothgrad)').choices(SMOOTH_KINDS));
}
