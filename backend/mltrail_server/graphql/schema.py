"""build_schema(): the domain roots merged, plus limits, caches and error codes."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql.error import GraphQLError
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.name_converter import NameConverter
from strawberry.tools import merge_types

from mltrail_server.config import Settings
from mltrail_server.graphql.experiments.mutations import ExperimentMutation
from mltrail_server.graphql.experiments.queries import ExperimentQuery
from mltrail_server.graphql.extensions import RequestPipeline, apply_code, log_unexpected
from mltrail_server.graphql.metrics.mutations import MetricMutation
from mltrail_server.graphql.metrics.queries import MetricQuery
from mltrail_server.graphql.metrics.subscriptions import MetricSubscription
from mltrail_server.graphql.registry.mutations import RegistryMutation
from mltrail_server.graphql.registry.queries import RegistryQuery
from mltrail_server.graphql.registry.subscriptions import RegistrySubscription
from mltrail_server.graphql.registry.table import ModelVersionTableQuery
from mltrail_server.graphql.runs.mutations import RunMutation
from mltrail_server.graphql.runs.queries import RunQuery
from mltrail_server.graphql.runs.subscriptions import RunSubscription
from mltrail_server.graphql.runs.table import RunTableQuery
from mltrail_server.graphql.scalars import SCALAR_MAP

Query = merge_types("Query", (ExperimentQuery, RunQuery, RunTableQuery, MetricQuery, RegistryQuery, ModelVersionTableQuery))
Mutation = merge_types("Mutation", (ExperimentMutation, RunMutation, MetricMutation, RegistryMutation))
Subscription = merge_types("Subscription", (RunSubscription, MetricSubscription, RegistrySubscription))


class CachedNameConverter(NameConverter):
    """Strawberry converts argument and input-field names to camelCase on every request (for
    every field of every input object); a Python name's GraphQL name never changes, so each
    is converted once. The names come from the schema's code: the cache is bounded by it."""

    def __init__(self) -> None:
        super().__init__(auto_camel_case=True)
        self._names: dict[str, str] = {}

    def apply_naming_config(self, name: str) -> str:
        converted = self._names.get(name)
        if converted is None:
            converted = self._names[name] = super().apply_naming_config(name)
        return converted


class MltrailSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        # Client mistakes and domain errors are answers, not incidents: log only bugs. Then
        # code them here too: subscription events reach clients through this path only.
        log_unexpected(errors)
        for error in errors:
            apply_code(error)


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    settings = settings or Settings()
    # The same rule classes for every request: the validation cache keys on them, so a fresh
    # QueryDepthLimiter per request (a new rule class each time) would never hit.
    limit_rules = (
        *QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
    )
    return MltrailSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(scalar_map=SCALAR_MAP, name_converter=CachedNameConverter()),
        extensions=[lambda: RequestPipeline(limit_rules, settings.max_query_tokens)],
    )


def export_sdl() -> str:
    return build_schema().as_str() + "\n"
