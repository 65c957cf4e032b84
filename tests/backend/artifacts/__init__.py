"""The artifact suite: stores, HTTP routes and GraphQL listing, on the local store and S3."""
