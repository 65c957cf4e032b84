"""GraphQL: experiments."""
