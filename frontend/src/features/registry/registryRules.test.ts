import { describe, expect, it } from 'vitest';
import {
  decisionRule,
  describeChange,
  filterTimeline,
  mlmodelSignature,
  modelsFilter,
  parseLocalDateTime,
  planAlias,
  planTransition,
  runSource,
  versionAtSentence,
  type Change,
  type ChangeGroup,
} from './registryRules';

const change = (id: number, kind: string, extra: Partial<Change> = {}): Change => ({ id: String(id), kind, user: 'ana', timestamp: 1000 + id, ...extra });

const history: Change[] = [
  change(1, 'MODEL_CREATED'),
  change(2, 'VERSION_CREATED', { version: 1, toStage: 'NONE' }),
  change(3, 'VERSION_CREATED', { version: 2, toStage: 'NONE' }),
  change(4, 'STAGE_CHANGED', { version: 1, fromStage: 'NONE', toStage: 'PRODUCTION', comment: 'ship it' }),
  change(5, 'ALIAS_SET', { alias: 'champion', version: 1, toVersion: 1 }),
  change(6, 'ALIAS_MOVED', { alias: 'champion', version: 2, fromVersion: 1, toVersion: 2 }),
  change(7, 'TRANSITION_REQUESTED', { version: 2, toStage: 'PRODUCTION', requestId: '9' }),
  change(8, 'SOMETHING_NEW', { version: 2 }),
];

describe('timeline filtering', () => {
  const none = new Set<ChangeGroup>();
  it('shows everything newest first without filters', () => {
    expect(filterTimeline(history, { version: null, groups: none }).map((c) => c.id)).toEqual(['8', '7', '6', '5', '4', '3', '2', '1']);
  });
  it('a version keeps the alias moved away from it as well as onto it', () => {
    expect(filterTimeline(history, { version: 1, groups: none }).map((c) => c.id)).toEqual(['6', '5', '4', '2']);
  });
  it('filters by kind group, keeping unknown kinds visible', () => {
    expect(filterTimeline(history, { version: null, groups: new Set<ChangeGroup>(['aliases']) }).map((c) => c.id)).toEqual(['8', '6', '5']);
    expect(filterTimeline(history, { version: 2, groups: new Set<ChangeGroup>(['stages', 'approvals']) }).map((c) => c.id)).toEqual(['8', '7']);
  });
  it('ties on time keep the server order (by id)', () => {
    const same = [change(1, 'STAGE_CHANGED', { timestamp: 5 }), change(2, 'STAGE_CHANGED', { timestamp: 5 })];
    expect(filterTimeline(same, { version: null, groups: none }).map((c) => c.id)).toEqual(['2', '1']);
  });
  it('describes stage moves and alias moves with both ends', () => {
    expect(describeChange(history[3]!)).toBe('moved version 1 from None to Production');
    expect(describeChange(history[5]!)).toBe('moved @champion from version 1 to version 2');
    expect(describeChange(history[6]!)).toBe('requested version 2 → Production');
  });
});

describe('transition rules', () => {
  const base = { version: 2, currentStage: 'STAGING' as const, protectedStages: [] as const, holders: [1], archiveExisting: true, comment: '' };
  it('Production needs a comment', () => {
    const p = planTransition({ ...base, stage: 'PRODUCTION' });
    expect(p.commentRequired).toBe(true);
    expect(p.blocked).toMatch(/comment is required/);
    expect(planTransition({ ...base, stage: 'PRODUCTION', comment: 'better AUC' }).blocked).toBeNull();
  });
  it('Staging does not, unless protected; a protected stage becomes a request', () => {
    expect(planTransition({ ...base, currentStage: 'NONE', stage: 'STAGING' }).blocked).toBeNull();
    const p = planTransition({ ...base, currentStage: 'NONE', stage: 'STAGING', protectedStages: ['STAGING'] });
    expect(p.needsApproval).toBe(true);
    expect(p.blocked).toMatch(/protected/);
    expect(planTransition({ ...base, currentStage: 'NONE', stage: 'STAGING', protectedStages: ['STAGING'], comment: 'x' }).summary).toMatch(/opens a request.*another user must approve/);
  });
  it('says which holders get archived, and none when unticked or moving to Archived', () => {
    const p = planTransition({ ...base, stage: 'PRODUCTION', comment: 'x' });
    expect(p.holders).toEqual([1]);
    expect(p.summary).toBe('This moves version 2 from Staging to Production, and archive version 1 (now in Production). Recorded with your name and comment.');
    expect(planTransition({ ...base, stage: 'PRODUCTION', comment: 'x', archiveExisting: false }).holders).toEqual([]);
    expect(planTransition({ ...base, stage: 'ARCHIVED' }).holders).toEqual([]);
  });
  it('refuses a move to the stage it is in', () => {
    expect(planTransition({ ...base, stage: 'STAGING' }).blocked).toMatch(/already in Staging/);
  });
});

describe('alias rules', () => {
  it('set versus move, stated before doing it', () => {
    expect(planAlias({ alias: 'champion', version: 3, current: null, protectedAliases: [], comment: '' }).summary).toMatch(/^This will set @champion on version 3/);
    expect(planAlias({ alias: 'champion', version: 3, current: 2, protectedAliases: [], comment: '' }).summary).toMatch(/move @champion from version 2 to version 3/);
    expect(planAlias({ alias: 'champion', version: 3, current: 3, protectedAliases: [], comment: '' }).blocked).toMatch(/already points/);
  });
  it('rejects names the server would, and protected aliases need a comment', () => {
    expect(planAlias({ alias: '2', version: 1, current: null, protectedAliases: [], comment: '' }).blocked).toMatch(/not an alias name/);
    expect(planAlias({ alias: 'production', version: 1, current: null, protectedAliases: [], comment: '' }).blocked).toMatch(/read as a version or a stage/);
    const p = planAlias({ alias: 'champion', version: 1, current: null, protectedAliases: ['champion'], comment: '' });
    expect(p.needsApproval).toBe(true);
    expect(p.blocked).toMatch(/protected/);
  });
});

describe('decisions', () => {
  it('own requests cannot be decided, with the reason', () => {
    expect(decisionRule({ requestedBy: 'ana', status: 'PENDING' }, 'ana')).toEqual({ allowed: false, reason: expect.stringMatching(/another user/) });
    expect(decisionRule({ requestedBy: 'ana', status: 'PENDING' }, 'bo')).toEqual({ allowed: true, reason: null });
    expect(decisionRule({ requestedBy: 'anonymous', status: 'PENDING' }, '').allowed).toBe(false);
    expect(decisionRule({ requestedBy: 'ana', status: 'APPROVED' }, 'bo').reason).toMatch(/already approved/);
  });
});

describe('versionAt and inputs', () => {
  it('reads as a sentence', () => {
    const fmt = (ms: number) => `t${ms}`;
    expect(versionAtSentence({ stage: 'PRODUCTION' }, 5, 3, fmt)).toBe('Version 3 held Production at t5.');
    expect(versionAtSentence({ alias: 'champion' }, 5, null, fmt)).toBe('No version held @champion at t5.');
  });
  it('parses datetime-local values as local time', () => {
    expect(parseLocalDateTime('2026-03-01T12:00')).toBe(new Date(2026, 2, 1, 12, 0, 0).getTime());
    expect(parseLocalDateTime('2026-03-01T12:00:30')).toBe(new Date(2026, 2, 1, 12, 0, 30).getTime());
    expect(parseLocalDateTime('')).toBeNull();
    expect(parseLocalDateTime('yesterday')).toBeNull();
  });
  it('turns the search box into the filter language', () => {
    expect(modelsFilter('  ')).toBeNull();
    expect(modelsFilter('churn')).toBe("name ILIKE '%churn%'");
    expect(modelsFilter("churn team=risk")).toBe("name ILIKE '%churn%' and tags.team = 'risk'");
    expect(modelsFilter("o'neil")).toBe("name ILIKE '%o''neil%'");
    expect(modelsFilter('a_b')).toBe("name ILIKE '%a\\_b%'");
  });
  it('splits runs:/ sources', () => {
    expect(runSource('runs:/abc/model')).toEqual({ runId: 'abc', path: 'model' });
    expect(runSource('runs:/abc/models/clf/')).toEqual({ runId: 'abc', path: 'models/clf' });
    expect(runSource('s3://bucket/model')).toBeNull();
  });
  it('reads the signature from an MLmodel file', () => {
    const text = [
      'artifact_path: model',
      'flavors:',
      '  python_function: {}',
      'signature:',
      `  inputs: '[{"type": "double", "name": "tenure", "required": true}, {"type": "string", "name": "plan''s", "required": true}]'`,
      `  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]'`,
      '  params: null',
      'utc_time_created: x',
    ].join('\n');
    const sig = mlmodelSignature(text);
    expect(sig.inputs).toEqual([
      { name: 'tenure', type: 'double', shape: undefined },
      { name: "plan's", type: 'string', shape: undefined },
    ]);
    expect(sig.outputs).toEqual([{ name: null, type: 'tensor int64', shape: [-1] }]);
    expect(mlmodelSignature('flavors: {}\n')).toEqual({ inputs: null, outputs: null });
  });
  it('reads a signature PyYAML folded onto two lines (as the client writes it)', () => {
    const text = [
      'signature:',
      `  inputs: '[{"type": "long", "name": "tenure_months", "required": true}, {"type":`,
      `    "double", "name": "monthly_charges", "required": true}]'`,
      `  outputs: '[{"type": "long", "required": true}]'`,
      '  params: null',
    ].join('\n');
    expect(mlmodelSignature(text).inputs?.map((c) => `${c.name}:${c.type}`)).toEqual(['tenure_months:long', 'monthly_charges:double']);
    expect(mlmodelSignature(text).outputs).toEqual([{ name: null, type: 'long', shape: undefined }]);
  });
});
