/** Stage and alias badges, shared by the registry views so a stage looks the same everywhere. */
import { stageLabel, type Stage } from './registryRules';

export function StageBadge({ stage }: { stage: Stage }) {
  return (
    <span className={`stage-badge stage-${stage.toLowerCase()}`} data-stage={stage}>
      {stageLabel(stage)}
    </span>
  );
}

export function AliasBadge({ alias }: { alias: string }) {
  return (
    <span className="alias-badge" data-alias={alias}>
      @{alias}
    </span>
  );
}
