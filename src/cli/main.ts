import { Command, CommanderError } from 'commander';
import { isIgxError } from '../errors.js';
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
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(c.red(s)),
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
    if (isIgxError(err)) {
      io.stderr.write(`${c.red('igx:')} ${err.message} [${err.code}]\n`);
      return err.exitCode;
    }
    const e = err as Error;
    io.stderr.write(`${c.red('igx: unexpected error')} ${e?.stack ?? String(err)}\nPlease report this with the command you ran.\n`);
    return 70;
  }
}
