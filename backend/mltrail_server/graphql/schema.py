"""build_schema(): the domain roots merged, plus limits, caches and error codes."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql.error import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from mltrail_server.config import Settings
from mltrail_server.graphql.experiments.mutations import ExperimentMutation
from mltrail_server.graphql.experiments.queries import ExperimentQuery
from mltrail_server.graphql.extensions import ErrorCodes, RequestScope, apply_code, log_unexpected
from mltrail_server.graphql.metrics.mutations import MetricMutation
from mltrail_server.graphql.metrics.queries import MetricQuery
from mltrail_server.graphql.metrics.subscriptions import MetricSubscription
from mltrail_server.graphql.runs.mutations import RunMutation
from mltrail_server.graphql.runs.queries import RunQuery
from mltrail_server.graphql.runs.subscriptions import RunSubscription
from mltrail_server.graphql.runs.table import RunTableQuery
from mltrail_server.graphql.scalars import SCALAR_MAP

Query = merge_types("Query", (ExperimentQuery, RunQuery, RunTableQuery, MetricQuery))
Mutation = merge_types("Mutation", (ExperimentMutation, RunMutation, MetricMutation))
Subscription = merge_types("Subscription", (RunSubscription, MetricSubscription))


class MltrailSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        # Client mistakes and domain errors are answers, not incidents: log only bugs. Then
        # code them here too: subscription events reach clients through this path only.
        log_unexpected(errors)
        for error in errors:
            apply_code(error)


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    settings = settings or Settings()
    limit_rules = [
        *QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
    ]
    return MltrailSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
        extensions=[
            RequestScope,
            ErrorCodes,
            # The same rule classes for every request: ValidationCache keys on them, so a
            # fresh QueryDepthLimiter per request (a new rule class each time) never hits.
            lambda: AddValidationRules(limit_rules),
            lambda: MaxTokensLimiter(max_token_count=settings.max_query_tokens),
            # Clients send data as variables, so documents repeat: parse and validate once.
            # (The LRU caches live at module level, shared by every request.)
            lambda: ParserCache(maxsize=256),
            lambda: ValidationCache(maxsize=256),
        ],
    )


def export_sdl() -> str:
    return build_schema().as_str() + "\n"
