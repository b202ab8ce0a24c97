import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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
  { files: ['bin/**/*.js'], languageOptions: { globals: { process: 'readonly', console: 'readonly' } } },
);
