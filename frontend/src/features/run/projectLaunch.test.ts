import { describe, expect, it } from 'vitest';
import { projectLaunch } from './projectLaunch';

const tag = (key: string, value: string) => ({ key, value });

describe('projectLaunch', () => {
  it('is null for a run mltrail run did not launch', () => {
    expect(projectLaunch('r1', [tag('team', 'a'), tag('mltrail.projectish', 'x')])).toBeNull();
  });

  it('reads the reproduce line and both rerun links', () => {
    const line = "mltrail run /repo#sub --version abc123 -e main -P 'words=a b' --env-manager local";
    const launch = projectLaunch('r2', [
      tag('mltrail.project.reproduce', line),
      tag('mltrail.project.rerunOf', 'r1'),
      tag('mltrail.project.lastRerun', 'r3'),
      tag('mltrail.project.exitCode', '0'),
    ]);
    expect(launch).toEqual({
      reproduce: line,
      rerun: 'mltrail run --from-run r2',
      rerunOf: 'r1',
      lastRerun: 'r3',
    });
  });

  it('shows the link on an original whose tags only name its rerun', () => {
    expect(projectLaunch('r1', [tag('mltrail.project.lastRerun', 'r2')])).toMatchObject({
      reproduce: null,
      lastRerun: 'r2',
      rerunOf: null,
    });
  });
});
