"""GraphQL: the model registry (registered models, versions, stages, aliases, history, approvals)."""
