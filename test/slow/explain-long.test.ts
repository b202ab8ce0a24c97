import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { RawExplainFlags } from '../../src/config/explain-config.js';
import { explainImage,} from '../../src/explain/index.js';
import { ReportSchema } from '../../src/report/schema.js';
import { fixture } from '../support/paths.js';
import { withSession } from '../support/explain-session.js';

test('the fixture models of every kind explain with completeness: graph, layers, grayscale, multi-output', async () => {
  const cases: { model: string; image: string; flags?: RawExplainFlags }[] = [
    { model: 'lenet_graph', image: 'dog.jpg', flags: { preprocess: '[0,1]' } },
    { model: 'mnist_layers_sequential', image: 'dog.jpg', flags: { preprocess: '[0,1]' } },
    { model: 'lenet_layers_multi_output', image: 'cat.jpg', flags: { preprocess: '[0,1]' } },
    { model: 'lenet_layers_multi_output', image: 'cat.jpg', flags: { preprocess: '[0,1]', output: '3', target: '5' } },
    { model: 'emotion_64_gray', image: 'doberman.png', flags: { preprocess: '[0,1]' } },
    { model: 'age_64', image: 'dog.jpg', flags: { preprocess: '[0,1]', target: '0' } },
    { model: 'mobilenet_v2_mid_5class', image: 'pizza.jpg', flags: { preprocess: '[0,1]' } },
    { model: 'darknet_tiny', image: 'elephant.jpg', flags: { preprocess: '[0,1]', steps: '32' } },
  ];
  for (const c of cases) {
    await withSession({ model: fixture('models', c.model), ...c.flags }, async (session) => {
      const { report, files } = await explainImage(session, fixture('images', c.image));
      ReportSchema.parse(JSON.parse(readFileSync(files.report, 'utf8')));
      const what = `${c.model} ${JSON.stringify(c.flags)}`;
      const r = report.completeness;
      // A constant-zero output for a class can make F(x) − F(x′) vanish: then only the absolute error speaks.
      if (r.isDeltaNegligible) assert.ok(r.absoluteError < 1e-4, `${what}: ${r.absoluteError}`);
      else assert.ok((r.relativeError ?? Infinity) <= 0.05, `${what}: relative error ${r.relativeError} (F(x) ${r.fx}, F(x') ${r.fBaseline})`);
      assert.deepEqual(report.model.inputShape, session.model.inputShape);
      assert.equal(report.attribution.shape[2], c.model === 'emotion_64_gray' || c.model.startsWith('lenet') || c.model.includes('mnist') ? 1 : 3, what);
    });
  }
});
