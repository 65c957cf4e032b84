/**
 * graphql-codegen: types for every `graphql(...)` document in src/, generated from the
 * checked-in contract. Any operation that names a field or argument the schema lacks makes
 * codegen exit non-zero, so `npm run build` fails on schema/operation drift.
 */
import { readFileSync } from 'node:fs';
import type { CodegenConfig } from '@graphql-codegen/cli';

// The scalar map shipped to integrators (../codegen.scalars.json, see the README): the SPA
// uses the very same one, so `strictScalars` with it is exercised by every build.
const scalars = JSON.parse(readFileSync(new URL('../codegen.scalars.json', import.meta.url), 'utf8'));

const config: CodegenConfig = {
  schema: process.env.MLTRAIL_SCHEMA ?? '../schema.graphql',
  documents: ['src/**/*.{ts,tsx}', '!src/graphql/generated/**'],
  ignoreNoDocuments: false,
  errorsOnly: true,
  generates: {
    'src/graphql/generated/': {
      preset: 'client',
      presetConfig: { fragmentMasking: { unmaskFunctionName: 'getFragmentData' } },
      config: {
        enumsAsTypes: true,
        useTypeImports: true,
        strictScalars: true,
        scalars,
      },
    },
  },
};

export default config;
