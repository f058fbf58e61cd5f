// Typed linting: the rules that need type information (floating and misused promises, unsafe any)
// catch the bugs a console relay cannot afford: a rejected promise nobody awaits is a crash.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['eslint.config.js', '**/dist/**', '**/node_modules/**', 'packages/*/bin/**', 'scripts/**', 'test/bench/**/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        project: [
          './packages/shared/tsconfig.json',
          './packages/edge-agent/tsconfig.json',
          './packages/relay/tsconfig.json',
          './test/tsconfig.json',
        ],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // Interface implementations return promises without awaiting anything; that is not a bug.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // Abort signals carry `reason: any`; rejecting with it is what the platform does.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
      '@typescript-eslint/only-throw-error': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
    },
  },
  {
    // The agent stays small (issue 11): its code takes @lifeline/shared/core, which leaves out the
    // config schemas; the full entry point would load them, zod and yaml for nothing. Its config
    // files are read and checked by the config reader process (loadConfigFile, renderConfigFile);
    // agent-entry-modules.test.ts checks the whole module graph of its main process.
    files: ['packages/edge-agent/src/**/*.ts'],
    ignores: ['**/*.test.ts', '**/*.contract.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: '@lifeline/shared', message: "The agent imports '@lifeline/shared/core' (no config schemas, no zod, no yaml)." },
            { name: 'zod', message: 'The agent checks config in the config reader process (loadConfigFile, renderConfigFile).' },
            {
              name: 'yaml',
              message: 'The agent reads and writes YAML through the config reader process (loadConfigFile, renderConfigFile).',
            },
          ],
        },
      ],
    },
  },
  {
    // The relay daemon stays small too (issue 11): the same lean entry point; relay.yaml is checked
    // by the config reader process. The command-line tools (cli/, demo/, loaded only when they run)
    // and test helpers may use the schemas; the daemon loads them lazily where it must (a stored
    // device, an operator's change to the store). relay-entry-modules.test.ts checks the graph.
    files: ['packages/relay/src/**/*.ts'],
    ignores: ['**/*.test.ts', '**/*.contract.ts', 'packages/relay/src/cli/**', 'packages/relay/src/demo/**', '**/testing/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@lifeline/shared',
              message:
                "The relay daemon imports '@lifeline/shared/core' (no config schemas, no zod, no yaml); load the schemas with import() where needed.",
              allowTypeImports: true,
            },
            { name: 'zod', message: 'The relay daemon checks config in the config reader process (loadConfigFile).' },
            { name: 'yaml', message: 'The relay daemon reads YAML through the config reader process (loadConfigFile).' },
          ],
        },
      ],
    },
  },
  {
    // Tests read JSON from logs and sockets and hand methods to expect(); the type rules for `any`
    // and unbound methods would only add casts there. Production code keeps them.
    files: ['**/*.test.ts', 'test/**/*.ts', '**/testing/**/*.ts', '**/*.contract.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/unbound-method': 'off',
      'no-control-regex': 'off',
    },
  },
);
