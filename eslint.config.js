// Typed linting: the rules that need type information (floating promises, misused promises, unsafe
// any) catch the bugs a console relay cannot afford: a rejected promise nobody awaits is a crash.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['eslint.config.js', '**/dist/**', '**/node_modules/**', 'packages/*/bin/**', 'scripts/**', 'test/bench/**/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        project: ['./packages/shared/tsconfig.json', './packages/edge-agent/tsconfig.json', './packages/relay/tsconfig.json', './test/tsconfig.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
);
