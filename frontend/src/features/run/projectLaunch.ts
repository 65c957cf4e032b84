/**
 * What `mltrail run` recorded on a run it launched, read from the run's `mltrail.project.*`
 * tags: the exact command line that reproduces it, and the links between an original run and
 * its reruns (`--from-run`). Pure, so the overview only renders what this returns.
 */

export const PROJECT_TAG = 'mltrail.project.';

export interface ProjectLaunch {
  /** The `mltrail run …` line, pinned to the commit when the project was in git. */
  reproduce: string | null;
  /** The same launch again, by run id (parameters overridable with -P). */
  rerun: string;
  /** The run this one reran, if it is a rerun. */
  rerunOf: string | null;
  /** The latest rerun of this run, if any. */
  lastRerun: string | null;
}

/** The launch recorded on a run, or null for a run `mltrail run` did not launch. */
export function projectLaunch(
  runId: string,
  tags: ReadonlyArray<{ key: string; value: string }>,
): ProjectLaunch | null {
  const byKey = new Map(
    tags.filter((t) => t.key.startsWith(PROJECT_TAG)).map((t) => [t.key.slice(PROJECT_TAG.length), t.value]),
  );
  const reproduce = byKey.get('reproduce') ?? null;
  const rerunOf = byKey.get('rerunOf') ?? null;
  const lastRerun = byKey.get('lastRerun') ?? null;
  if (reproduce === null && rerunOf === null && lastRerun === null) return null;
  return { reproduce, rerun: `mltrail run --from-run ${runId}`, rerunOf, lastRerun };
}
