import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { resolveTarget } from '../src/explain/resolve-target.js';
import { isIgxError } from '../src/errors.js';
import { fixture } from './support/paths.js';

const readLabels = (...parts: string[]): string[] => JSON.parse(readFileSync(fixture(...parts), 'utf8')) as string[];
const imagenet = readLabels('labels', 'imagenet.json');

test('the ImageNet list is whole: 1000 names, none cut at a concatenation or an apostrophe, first names as Darknet lists them', () => {
  assert.equal(imagenet.length, 1000);
  for (const [i, label] of imagenet.entries()) {
    assert.equal(label, label.trim(), `${i}: surrounding space`);
    assert.doesNotMatch(label, /[,\\]$|\\/, `${i}: cut short: ${JSON.stringify(label)}`);
  }
  assert.equal(imagenet[477], "carpenter's kit, tool kit");
  assert.equal(imagenet[554], 'fireboat');
  assert.equal(imagenet[986], "yellow lady's slipper, yellow lady-slipper, Cypripedium calceolus, Cypripedium parviflorum");
  // An independent source: Darknet's list (another order) holds each class's first name.
  const darknet = readLabels('labels', 'imagenet_darknet_order.json');
  const firstNames = imagenet.map((l) => l.split(', ')[0] as string).sort();
  const expected = darknet.map((l) => (l === 'jellyfish' ? 'jelly fish' : l)).sort(); // tfjs-models spells 107 "jelly fish"
  assert.deepEqual(firstNames, expected);
});

test("every fixture model's labels are its source list", () => {
  assert.deepEqual(readLabels('models', 'mobilenet_v1_0.25_224', 'labels.json'), imagenet);
  assert.equal(JSON.parse(readFileSync(fixture('models', 'mobilenet_v1_0.25_224', 'igx.json'), 'utf8')).labels, 'labels.json');
  // nsfwjs's classes, as its README lists them.
  const nsfw = ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'];
  assert.deepEqual(readLabels('labels', 'mobilenet_v2_mid_5class.json'), nsfw);
  for (const model of ['nsfwjs_mobilenet_v2', 'nsfwjs_inception_v3']) {
    assert.deepEqual(JSON.parse(readFileSync(fixture('models', model, 'igx.json'), 'utf8')).labels, nsfw, model);
  }
});

test('--target takes a whole label or one of its synonyms; a synonym two classes share is refused with both', () => {
  const scores = new Array<number>(1000).fill(0);
  assert.deepEqual(resolveTarget("carpenter's kit", scores, imagenet).target, { kind: 'index', index: 477 });
  assert.deepEqual(resolveTarget('Tabby, tabby cat', scores, imagenet).target, { kind: 'index', index: 281 });
  assert.deepEqual(resolveTarget('tiger cat-tabby', scores, imagenet).target, { kind: 'difference', a: 282, b: 281 });
  assert.throws(
    () => resolveTarget('crane', scores, imagenet),
    (err: unknown) => isIgxError(err) && err.code === 'E_TARGET' && /134 "crane".*517 "crane"/.test(err.message),
  );
});
