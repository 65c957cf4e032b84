/**
 * graphql-codegen: types for every `graphql(...)` document in src/, generated from the
 * checked-in contract. Any operation that names a field or argument the schema lacks makes
 * codegen exit non-zero, so `npm run build` fails on schema/operation drift.
 */
import type { CodegenConfig } from '@graphql-codegen/cli';

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
        scalars: {
          Long: 'number',
          MetricValue: 'number | "NaN" | "Infinity" | "-Infinity"',
          LongList: 'number[]',
          MetricValueList: 'Array<number | string>',
          StringList: 'string[]',
          OptionalStringList: 'Array<string | null>',
          OptionalLongList: 'Array<number | null>',
          OptionalMetricValueList: 'Array<number | string | null>',
          JSON: 'unknown',
        },
      },
    },
  },
};

export default config;
