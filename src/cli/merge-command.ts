import type { Command } from 'commander';
import { mergeRuns } from '../batch/merge-runs.js';
import type { CommandContext } from './io.js';

export function registerMergeCommand(program: Command, ctx: CommandContext): void {
  program
    .command('merge')
    .description("join the manifests of a sharded run (igx-run.shard-I-of-N.json) into one igx-run.json")
    .argument('<out...>', 'the --out folders of the shards (one shared folder, or one per shard)')
    .option('-o, --out <dir>', 'where to write the merged igx-run.json (default: the first folder)')
    .option('--json', 'print the merged manifest on stdout')
    .action(async (dirs: string[], opts: { out?: string; json?: boolean }) => {
      const result = await mergeRuns(dirs, opts.out);
      const { ok, failed, skipped } = result.manifest.counts;
      ctx.say(`igx: merged ${result.sources.length} manifest(s): ${ok} ok, ${failed} failed, ${skipped} skipped → ${result.path}`);
      if (opts.json) ctx.io.stdout.write(`${JSON.stringify(result.manifest)}\n`);
      ctx.run.code = failed > 0 ? 1 : 0;
    });
}
