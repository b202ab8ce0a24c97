import type { Command } from 'commander';
import { writeGallery } from '../report/gallery.js';
import type { CommandContext } from './io.js';

export function registerGalleryCommand(program: Command, ctx: CommandContext): void {
  program
    .command('gallery')
    .description('write RUN/index.html: a sortable, self-contained page of an explain run (thumbnails, target, score, completeness, faithfulness and drift when present)')
    .argument('<run>', 'the --out folder of an igx explain run')
    .option('--drift <file>', 'a drift.json from igx drift to show beside each image (default: RUN/drift.json if present)')
    .option('--title <text>', 'the page title')
    .action(async (run: string, opts: { drift?: string; title?: string }) => {
      const { file, rows } = await writeGallery(run, { driftPath: opts.drift, title: opts.title });
      ctx.io.stdout.write(`${file} (${rows.length} image${rows.length === 1 ? '' : 's'})\n`);
    });
}
