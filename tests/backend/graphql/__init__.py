"""The GraphQL layer: schema export, loaders (statement counts), limits and error shapes."""
