import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Import boundaries: the arrows point inward, from the CLI through the use cases (explain, batch,
 * evaluate, drift) to the adapters (model, savedmodel, image, render, report, config) and the pure core
 * (attribution on tfjs-core and numeric). Each folder lists what it may not import.
 */
const USE_CASES = ['cli', 'explain', 'batch', 'evaluate', 'drift'];
const CLI_PACKAGES = ['commander', 'chalk', 'cli-progress'];
const upward = (folders) => folders.map((f) => `**/${f}/**`).concat(folders.map((f) => `**/${f}/index.js`));
const rule = (files, groups, paths = []) => ({
  files,
  rules: {
    'no-restricted-imports': [
      'error',
      {
        paths: paths.map((name) => ({ name, message: 'outside src/cli, igx returns data and never prints or parses argv' })),
        patterns: groups.map(({ group, message }) => ({ group, message })),
      },
    ],
  },
});
function importBoundaries() {
  const notCli = { group: upward(['cli']), message: 'only bin/ and the CLI import src/cli' };
  const notUseCases = (except = []) => ({ group: upward(USE_CASES.filter((u) => !except.includes(u))), message: 'adapters and the core never import a use case or the CLI' });
  const notConfig = { group: upward(['config']), message: 'config sits above the adapters: pass them values, not flags' };
  return [
    rule(['src/**/*.ts'], [], CLI_PACKAGES),
    rule(['src/cli/**/*.ts'], []),
    rule(['src/explain/**/*.ts', 'src/batch/**/*.ts', 'src/evaluate/**/*.ts'], [notCli], CLI_PACKAGES),
    rule(['src/drift/**/*.ts'], [notUseCases(['drift'])], CLI_PACKAGES),
    rule(['src/config/**/*.ts'], [notUseCases()], CLI_PACKAGES),
    rule(['src/model/**/*.ts', 'src/savedmodel/**/*.ts', 'src/image/**/*.ts', 'src/render/**/*.ts', 'src/report/**/*.ts'], [notUseCases(), notConfig], CLI_PACKAGES),
    // onnx/ is an adapter like savedmodel/ (whose graph JSON helpers it reuses): no use case, CLI, config or model/.
    rule(['src/onnx/**/*.ts'], [notUseCases(), notConfig, { group: upward(['model']), message: 'onnx/ builds graphs; model/ wraps them, not the reverse' }], CLI_PACKAGES),
    rule(
      ['src/attribution/**/*.ts'],
      [{ group: ['../*', '!../numeric', '!../numeric/*', 'node:*', 'sharp', 'zod', 'protobufjs', '@tensorflow/tfjs-layers', '@tensorflow/tfjs-converter'], message: 'the attribution core imports tfjs-core and numeric/ only' }],
      CLI_PACKAGES,
    ),
    rule(['src/numeric/**/*.ts'], [{ group: ['../*', '@tensorflow/*', 'node:*', 'sharp', 'zod'], message: 'numeric/ is plain arithmetic on arrays' }], CLI_PACKAGES),
    rule(['src/engine/**/*.ts', 'src/files/**/*.ts'], [{ group: ['../*', '!../errors.js'], message: 'engine/ and files/ stand on errors.ts alone' }], CLI_PACKAGES),
  ];
}

export default tseslint.config(
  // .scratch and .lead are gitignored working folders, not the project.
  { ignores: ['dist/**', 'node_modules/**', 'fixtures/**', '.scratch/**', '.lead/**', 'igx-out/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    // Only the CLI and scripts print; the library returns data.
    files: ['src/cli/**/*.ts', 'bench/**/*.ts', 'bin/**/*.js'],
    rules: { 'no-console': 'off' },
  },
  ...importBoundaries(),
  { files: ['bin/**/*.js'], languageOptions: { globals: { process: 'readonly', console: 'readonly' } } },
);
