/**
 * The registry views' pure logic, apart from React so it is unit-tested: what a change says in
 * the timeline and how the timeline filters, what an action will do and when it needs a
 * comment or an approval, who may decide a request, how "which version held X at T" reads, and
 * how the models search box becomes the server's filter language.
 */

export type Stage = 'NONE' | 'STAGING' | 'PRODUCTION' | 'ARCHIVED';
export const STAGES: readonly Stage[] = ['NONE', 'STAGING', 'PRODUCTION', 'ARCHIVED'];

export function stageLabel(stage: Stage | null | undefined): string {
  switch (stage) {
    case 'STAGING':
      return 'Staging';
    case 'PRODUCTION':
      return 'Production';
    case 'ARCHIVED':
      return 'Archived';
    default:
      return 'None';
  }
}

export interface Change {
  id: string;
  kind: string;
  version?: number | null;
  fromStage?: Stage | null;
  toStage?: Stage | null;
  alias?: string | null;
  fromVersion?: number | null;
  toVersion?: number | null;
  requestId?: string | null;
  user: string;
  comment?: string | null;
  timestamp: number | string; // Long: a decimal string beyond 2^53
}

/** The timeline's kind filter: a few groups a reader thinks in, not the stored kinds. */
export const CHANGE_GROUPS = {
  versions: ['VERSION_CREATED', 'VERSION_UPDATED', 'VERSION_DELETED'],
  stages: ['STAGE_CHANGED'],
  aliases: ['ALIAS_SET', 'ALIAS_MOVED', 'ALIAS_DELETED'],
  approvals: ['TRANSITION_REQUESTED', 'TRANSITION_APPROVED', 'TRANSITION_REJECTED'],
  model: ['MODEL_CREATED', 'MODEL_UPDATED', 'PROTECTION_CHANGED', 'MODEL_DELETED'],
} as const;
export type ChangeGroup = keyof typeof CHANGE_GROUPS;
export const CHANGE_GROUP_LABELS: Record<ChangeGroup, string> = {
  versions: 'Versions',
  stages: 'Stage changes',
  aliases: 'Aliases',
  approvals: 'Requests & approvals',
  model: 'Model',
};

export function changeGroup(kind: string): ChangeGroup | null {
  for (const [group, kinds] of Object.entries(CHANGE_GROUPS) as Array<[ChangeGroup, readonly string[]]>) {
    if (kinds.includes(kind)) return group;
  }
  return null;
}

/** Whether a change concerns `version`: made on it, or an alias moved onto or away from it. */
export function touchesVersion(change: Change, version: number): boolean {
  return change.version === version || change.fromVersion === version || change.toVersion === version;
}

/**
 * The timeline as shown: newest first, only the chosen version (null: all) and the chosen
 * groups (empty: all). Kinds outside every group stay visible, so a kind added on the server
 * later is never silently hidden.
 */
export function filterTimeline(changes: readonly Change[], { version, groups }: { version: number | null; groups: ReadonlySet<ChangeGroup> }): Change[] {
  return changes
    .filter((c) => version === null || touchesVersion(c, version))
    .filter((c) => {
      if (groups.size === 0) return true;
      const g = changeGroup(c.kind);
      return g === null || groups.has(g);
    })
    .slice()
    .sort((a, b) => Number(b.timestamp) - Number(a.timestamp) || Number(b.id) - Number(a.id));
}

/** One line per change, as the timeline prints it (who and when are shown beside it). */
export function describeChange(c: Change): string {
  const v = c.version != null ? `version ${c.version}` : 'the model';
  const target = c.toStage ? stageLabel(c.toStage) : c.alias ? `@${c.alias}` : '?';
  switch (c.kind) {
    case 'MODEL_CREATED':
      return 'created the model';
    case 'MODEL_UPDATED':
      return 'edited the model description';
    case 'PROTECTION_CHANGED':
      return 'changed which stages and aliases need approval';
    case 'MODEL_DELETED':
      return 'deleted the model';
    case 'VERSION_CREATED':
      return `registered ${v}`;
    case 'VERSION_UPDATED':
      return `edited the description of ${v}`;
    case 'VERSION_DELETED':
      return `deleted ${v}`;
    case 'STAGE_CHANGED':
      return `moved ${v} from ${stageLabel(c.fromStage)} to ${stageLabel(c.toStage)}`;
    case 'ALIAS_SET':
      return `set @${c.alias} on version ${c.toVersion ?? c.version}`;
    case 'ALIAS_MOVED':
      return `moved @${c.alias} from version ${c.fromVersion} to version ${c.toVersion}`;
    case 'ALIAS_DELETED':
      return `removed @${c.alias} from version ${c.fromVersion ?? c.version}`;
    case 'TRANSITION_REQUESTED':
      return `requested ${v} → ${target}`;
    case 'TRANSITION_APPROVED':
      return `approved ${v} → ${target}`;
    case 'TRANSITION_REJECTED':
      return `rejected ${v} → ${target}`;
    default:
      return `${c.kind.toLowerCase().replace(/_/g, ' ')} (${v})`;
  }
}

export interface TransitionPlan {
  /** The server refuses a direct move: it has to be a request another user approves. */
  needsApproval: boolean;
  commentRequired: boolean;
  /** Versions that "archive the current holders" would archive. */
  holders: number[];
  /** What will happen, in a sentence, before the user confirms. */
  summary: string;
  /** Why the confirm button is disabled, or null. */
  blocked: string | null;
}

/**
 * What moving `version` to `stage` will do. A comment is required for Production and for a
 * protected stage (the audit trail must say why); a protected stage becomes a request.
 */
export function planTransition({ version, currentStage, stage, protectedStages, holders, archiveExisting, comment }: {
  version: number;
  currentStage: Stage;
  stage: Stage;
  protectedStages: readonly Stage[];
  /** Versions now in `stage`. */
  holders: readonly number[];
  archiveExisting: boolean;
  comment: string;
}): TransitionPlan {
  const needsApproval = protectedStages.includes(stage);
  const commentRequired = stage === 'PRODUCTION' || needsApproval;
  const others = holders.filter((h) => h !== version);
  const archived = archiveExisting && stage !== 'ARCHIVED' && stage !== 'NONE' ? others : [];
  let blocked: string | null = null;
  if (stage === currentStage) blocked = `Version ${version} is already in ${stageLabel(stage)}.`;
  else if (commentRequired && comment.trim() === '')
    blocked = needsApproval ? `${stageLabel(stage)} is protected: say why in a comment.` : 'A comment is required for Production: say why.';
  const move = `version ${version} from ${stageLabel(currentStage)} to ${stageLabel(stage)}`;
  const archiving = archived.length ? `, and archive ${archived.map((v) => `version ${v}`).join(', ')} (now in ${stageLabel(stage)})` : '';
  const summary = needsApproval
    ? `This opens a request to move ${move}${archiving}. ${stageLabel(stage)} is protected: another user must approve it.`
    : `This moves ${move}${archiving}. Recorded with your name and comment.`;
  return { needsApproval, commentRequired, holders: archived, summary, blocked };
}

export interface AliasPlan {
  needsApproval: boolean;
  commentRequired: boolean;
  summary: string;
  blocked: string | null;
}

const ALIAS_RE = /^[A-Za-z_][A-Za-z0-9_-]{0,255}$/;
const RESERVED_ALIAS = /^(v?\d+|latest|none|staging|production|archived)$/i;

/** What pointing `alias` at `version` will do: set it, move it, or nothing (it is there already). */
export function planAlias({ alias, version, current, protectedAliases, comment }: {
  alias: string;
  version: number;
  /** Where the alias points now, if anywhere. */
  current: number | null;
  protectedAliases: readonly string[];
  comment: string;
}): AliasPlan {
  const name = alias.trim();
  const needsApproval = protectedAliases.includes(name);
  const commentRequired = needsApproval;
  let blocked: string | null = null;
  if (name === '') blocked = 'Name the alias.';
  else if (!ALIAS_RE.test(name)) blocked = `"${name}" is not an alias name (a letter or _, then letters, digits, _ or -).`;
  else if (RESERVED_ALIAS.test(name)) blocked = `"${name}" would read as a version or a stage in models:/ URIs.`;
  else if (current === version) blocked = `@${name} already points at version ${version}.`;
  else if (commentRequired && comment.trim() === '') blocked = `@${name} is protected: say why in a comment.`;
  const what = current === null ? `set @${name} on version ${version}` : `move @${name} from version ${current} to version ${version}`;
  const summary = needsApproval
    ? `This opens a request to ${what}. @${name} is protected: another user must approve it.`
    : `This will ${what}; anything loading models:/…@${name} gets version ${version} from then on.`;
  return { needsApproval, commentRequired, summary, blocked };
}

/** Whether `user` may approve or reject a request; the reason when not. */
export function decisionRule(request: { requestedBy: string; status: string }, user: string): { allowed: boolean; reason: string | null } {
  const me = user.trim() || 'anonymous';
  if (request.status !== 'PENDING') return { allowed: false, reason: `This request is already ${request.status.toLowerCase()}.` };
  if (request.requestedBy === me) return { allowed: false, reason: 'You opened this request: another user must approve or reject it.' };
  return { allowed: true, reason: null };
}

/** "Which version held X at T", as a sentence. */
export function versionAtSentence(target: { stage: Stage } | { alias: string }, time: number, version: number | null, formatTime: (ms: number) => string): string {
  const what = 'stage' in target ? stageLabel(target.stage) : `@${target.alias}`;
  return version === null ? `No version held ${what} at ${formatTime(time)}.` : `Version ${version} held ${what} at ${formatTime(time)}.`;
}

/** A `<input type="datetime-local">` value (local time) as ms since the epoch, or null. */
export function parseLocalDateTime(value: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value);
  if (!m) return null;
  const [, y, mo, d, h, mi, s] = m;
  const t = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0)).getTime();
  return Number.isNaN(t) ? null : t;
}

// The filter language escapes a quote by doubling it.
function quote(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

// In LIKE patterns backslash escapes, so a typed %, _ or \ matches itself.
function likeLiteral(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * The models search box as the server's filter: words match the name (substring, any case);
 * `key=value` or `tag:key=value` matches a tag. Terms are ANDed.
 */
export function modelsFilter(query: string): string | null {
  const terms = query.trim().split(/\s+/).filter(Boolean);
  if (terms.length === 0) return null;
  return terms
    .map((t) => {
      const tag = /^(?:tag:)?([A-Za-z0-9_.-]+)=(.*)$/.exec(t);
      if (tag) return `tags.${/^[A-Za-z_][A-Za-z0-9_]*$/.test(tag[1]!) ? tag[1] : `\`${tag[1]}\``} = ${quote(tag[2]!)}`;
      return `name ILIKE ${quote(`%${likeLiteral(t)}%`)}`;
    })
    .join(' and ');
}

/** `runs:/<run id>/<path>` split, or null for a source the artifact route cannot read. */
export function runSource(source: string): { runId: string; path: string } | null {
  const m = /^runs:\/([^/]+)\/(.+)$/.exec(source);
  return m ? { runId: m[1]!, path: m[2]!.replace(/\/+$/, '') } : null;
}

export interface SignatureColumn {
  name: string | null;
  type: string;
  shape?: unknown;
}

/**
 * The signature in an MLmodel file (MLflow's YAML layout: `signature:` with `inputs:` and
 * `outputs:` as single-quoted JSON strings). A tiny reader for exactly that shape, so the SPA
 * needs no YAML library; anything else reads as "no signature".
 */
export function mlmodelSignature(text: string): { inputs: SignatureColumn[] | null; outputs: SignatureColumn[] | null } {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const start = lines.findIndex((l) => /^signature:\s*$/.test(l));
  const out: { inputs: SignatureColumn[] | null; outputs: SignatureColumn[] | null } = { inputs: null, outputs: null };
  if (start < 0) return out;
  for (let i = start + 1; i < lines.length && /^\s+/.test(lines[i]!); i += 1) {
    const m = /^\s+(inputs|outputs):\s*(.*)$/.exec(lines[i]!);
    if (!m) continue;
    let raw = m[2]!.trim();
    // A long single-quoted scalar may be folded onto indented continuation lines.
    while (raw.startsWith("'") && !/[^']'$|^''$/.test(raw.replace(/''/g, '')) && i + 1 < lines.length && /^\s{4,}/.test(lines[i + 1]!)) {
      i += 1;
      raw += ` ${lines[i]!.trim()}`;
    }
    if (raw.startsWith("'") && raw.endsWith("'")) raw = raw.slice(1, -1).replace(/''/g, "'");
    try {
      const parsed: unknown = JSON.parse(raw);
      if (Array.isArray(parsed)) {
        out[m[1] as 'inputs' | 'outputs'] = parsed.map((c: Record<string, unknown>) => ({
          name: typeof c.name === 'string' ? c.name : null,
          type: String(c.type === 'tensor' ? `tensor ${String((c['tensor-spec'] as Record<string, unknown> | undefined)?.dtype ?? '')}` : c.type ?? '?'),
          shape: (c['tensor-spec'] as Record<string, unknown> | undefined)?.shape,
        }));
      }
    } catch {
      // not JSON: leave it out rather than show something wrong
    }
  }
  return out;
}
