// Flat config. Module boundaries come from each project's tags (project.json).
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

/** Boundaries from the projects' tags; `allow` lists import paths exempt from them. */
const moduleBoundaries = (allow) => [
  'error',
  {
    enforceBuildableLibDependency: false,
    allow,
    depConstraints: [
      { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
      { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
      // Workspace tools (the benchmark); nothing may depend on a tool.
      { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:app', 'type:lib'] },
      { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
      { sourceTag: 'scope:infra', onlyDependOnLibsWithTags: ['scope:infra', 'scope:shared'] },
      { sourceTag: 'scope:k8s', onlyDependOnLibsWithTags: ['scope:k8s', 'scope:shared'] },
      // ha-check judges synthesized output only, never the constructs that made it.
      { sourceTag: 'scope:ha-check', onlyDependOnLibsWithTags: ['scope:ha-check', 'scope:shared'] },
      { sourceTag: 'scope:pipeline', onlyDependOnLibsWithTags: ['scope:pipeline', 'scope:ha-check', 'scope:shared'] },
    ],
  },
];

/** The package root and its `lib` index re-export every resource. */
const PROVIDER_AWS_INDEX = /^@cdktf\/provider-aws(\/lib(\/index(\.js)?)?)?$/;
const PROVIDER_AWS_MESSAGE =
  'Import AWS resources from their submodule (e.g. @cdktf/provider-aws/lib/vpc): the package root loads every resource (6.5 s / 760 MB vs 0.9 s / 130 MB).';

export default [
  { ignores: ['**/node_modules/**', '**/dist/**', '**/cdktf.out/**', 'clusters/**', '**/imports/**', '**/.terraform/**', '.nx/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.mts', '**/*.mjs'],
    plugins: { '@nx': nx },
    rules: {
      '@nx/enforce-module-boundaries': moduleBoundaries([]),
      'no-restricted-imports': ['error', { patterns: [{ regex: PROVIDER_AWS_INDEX.source, message: PROVIDER_AWS_MESSAGE }] }],
      // The same for import() and require(), which no-restricted-imports does not see.
      'no-restricted-syntax': [
        'error',
        { selector: `ImportExpression[source.value=${PROVIDER_AWS_INDEX}]`, message: PROVIDER_AWS_MESSAGE },
        { selector: `CallExpression[callee.name='require'][arguments.0.value=${PROVIDER_AWS_INDEX}]`, message: PROVIDER_AWS_MESSAGE },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The benchmark measures the apps themselves; Nx forbids importing apps anywhere else.
    files: ['tools/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': moduleBoundaries(['@platform/infra', '@platform/gitops']) },
  },
];
