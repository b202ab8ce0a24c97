import { Command, CommanderError } from 'commander';
import { stackOf, toIgxError } from '../errors.js';
import { IGX_VERSION } from '../package-info.js';
import { registerConvertCommand } from './convert-command.js';
import { registerExplainCommand } from './explain-command.js';
import { registerInspectCommand } from './inspect-command.js';
import { registerMergeCommand } from './merge-command.js';
import { registerDriftCommand } from './drift-command.js';
import { registerEvaluateCommand } from './evaluate-command.js';
import { registerGalleryCommand } from './gallery-command.js';
import { createColours, defaultIo, type CliIo, type CommandContext } from './io.js';

export type { CliIo } from './io.js';

function buildProgram(ctx: CommandContext): Command {
  const { io, c } = ctx;
  const program = new Command('igx')
    .description('Explain image classifiers with Integrated Gradients (Sundararajan, Taly, Yan 2017).')
    .version(IGX_VERSION, '-V, --version')
    .option('--verbose', 'with an unexpected error [E_INTERNAL], print its stack too')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // commander's own errors (unknown option, bad choice, missing argument) as igx's one line with a code.
      outputError: (s, write) => write(`${c.red('igx:')} ${s.trim().replace(/^error: /, '').replace(/\s*\n\s*/g, ' ')} [E_FLAG]\n`),
    });
  registerExplainCommand(program, ctx);
  registerMergeCommand(program, ctx);
  registerInspectCommand(program, ctx);
  registerConvertCommand(program, ctx);
  registerDriftCommand(program, ctx);
  registerEvaluateCommand(program, ctx);
  registerGalleryCommand(program, ctx);
  return program;
}

/** Runs the CLI; returns the exit code (0 ok, 1 an image failed, 2 bad flags/config/model). */
export async function main(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  const run = { code: 0 };
  const c = createColours(io.stderr, io.env);
  const say = (line: string): void => {
    io.stderr.write(`${line}\n`);
  };
  const program = buildProgram({ io, c, say, run });
  try {
    await program.parseAsync(argv);
    return run.code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      return err.exitCode === 0 ? 0 : 2;
    }
    return reportError(err, { io, c, isVerbose: argv.includes('--verbose') });
  }
}

/**
 * One line for any error: `igx: message [E_CODE]`. An unexpected one is E_INTERNAL (exit 2) and asks for
 * a report; its stack follows only with --verbose. Also used by bin/igx.js for errors that escape main.
 */
export function reportError(err: unknown, ctx: { io: CliIo; c: CommandContext['c']; isVerbose: boolean }): number {
  const e = toIgxError(err);
  const hint = e.code === 'E_INTERNAL' ? ' (please report this with the command you ran; --verbose shows the stack)' : '';
  ctx.io.stderr.write(`${ctx.c.red('igx:')} ${e.message} [${e.code}]${hint}\n`);
  if (e.code === 'E_INTERNAL' && ctx.isVerbose) ctx.io.stderr.write(`${stackOf(e)}\n`);
  return e.exitCode;
}

/** For bin/igx.js: report an error that escaped main (an uncaught exception or rejection). */
export function reportFatal(err: unknown, argv: string[], io: CliIo = defaultIo()): number {
  return reportError(err, { io, c: createColours(io.stderr, io.env), isVerbose: argv.includes('--verbose') });
}
