"""The GraphQL API: thin resolvers that parse arguments, call services and map results."""
