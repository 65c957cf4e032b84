/**
 * Route builders shared by every feature, so features link to each other through URLs rather
 * than by importing each other.
 */

export const paths = {
  experiments: () => '/experiments',
  runs: (experimentIds: readonly string[]) =>
    `/runs?${new URLSearchParams({ exp: experimentIds.join(',') }).toString()}`,
  compare: (runIds: readonly string[]) => `/compare?${new URLSearchParams({ runs: runIds.join(',') }).toString()}`,
  run: (runId: string) => `/runs/${encodeURIComponent(runId)}`,
  models: () => '/models',
  model: (name: string) => `/models/${encodeURIComponent(name)}`,
  modelVersion: (name: string, version: number) => `/models/${encodeURIComponent(name)}/versions/${version}`,
  compareVersions: (name: string, a: number, b: number) =>
    `/models/${encodeURIComponent(name)}/compare?${new URLSearchParams({ a: String(a), b: String(b) }).toString()}`,
  artifact: (runId: string, path: string) =>
    `/api/artifacts/${encodeURIComponent(runId)}/${path.split('/').map(encodeURIComponent).join('/')}`,
};
