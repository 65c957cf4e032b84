"""``load_model``: a model URI (or a local directory) to an object that predicts.

    runs:/<run_id>/model   the run's artifact directory, through the cache
    models:/Churn/3 | models:/Churn/Production | models:/Churn@champion | models:/Churn/latest
                           resolved by the registry to its runs:/ source, then as above
    /path/to/model         a model directory on disk (also file:///path), e.g. one MLflow wrote

Loading needs neither the training code nor the run: the flavor's files and ``MLmodel`` are
enough. Unpickling runs code from the model's files: load models from servers you trust.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mltrail._exceptions import InvalidArgument
from mltrail.models._flavors import FlavorPredictor, load_flavor
from mltrail.models._mlmodel import ModelMetadata
from mltrail.models._signature import enforce_schema


class LoadedModel:
    """A loaded model: ``predict`` checks its input against the signature, then predicts.

    ``metadata`` is the model's ``MLmodel``; ``raw_model`` the estimator or the python model
    itself; ``registered_version`` the registry's answer when loaded by a ``models:/`` URI.
    """

    def __init__(
        self,
        model_uri: str,
        local_path: Path,
        metadata: ModelMetadata,
        predictor: FlavorPredictor,
        registered_version: dict[str, Any] | None = None,
    ) -> None:
        self.model_uri = model_uri
        self.local_path = local_path
        self.metadata = metadata
        self.registered_version = registered_version
        self._predictor = predictor

    def __repr__(self) -> str:
        flavors = ", ".join(self.metadata.flavor_names)
        return f"<LoadedModel {self.model_uri} flavors=[{flavors}] run_id={self.metadata.run_id}>"

    @property
    def raw_model(self) -> Any:
        return self._predictor.raw_model

    @property
    def input_example(self) -> Any:
        """The example logged with the model (a DataFrame or an array), or None."""
        from mltrail.models._example import load_example

        return load_example(self.local_path, self.metadata.saved_input_example_info)

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """Predictions for ``data`` (a DataFrame, records, a dict of columns or an array).

        Raises `mltrail.models.ModelInputError`, naming the column, when ``data`` lacks a
        column of the signature or has one of a type it cannot be converted to without loss.
        """
        signature = self.metadata.signature
        if signature is not None:
            data = enforce_schema(data, signature.inputs)
        return self._predictor.predict(data, params)


def load_model(model_uri: str, *, tracking_uri: str | None = None) -> LoadedModel:
    """Load a model by URI: ``runs:/<run_id>/<path>``, ``models:/<name>/<version|stage|latest>``,
    ``models:/<name>@<alias>``, or a local model directory.

    Downloads go to the content-addressed cache (`cache_info`); a version loaded before is not
    downloaded again. The tracking server is ``tracking_uri``, else the one of
    ``mltrail.set_tracking_uri`` / ``MLTRAIL_TRACKING_URI``.
    """
    local = _local_directory(model_uri)
    registered = None
    if local is None:
        from mltrail._fluent import get_tracking_uri
        from mltrail.models._cache import get_cache
        from mltrail.models._remote import resolve_models_uri
        from mltrail.models._uri import ModelsUri, parse_model_uri

        parsed = parse_model_uri(model_uri)
        server = tracking_uri or get_tracking_uri()
        if isinstance(parsed, ModelsUri):
            parsed, registered = resolve_models_uri(server, parsed, model_uri=model_uri)
        local = get_cache().fetch(server, parsed.run_id, parsed.artifact_path, model_uri=model_uri)
    metadata = ModelMetadata.load(local)
    return LoadedModel(model_uri, local, metadata, load_flavor(local, metadata), registered)


def _local_directory(model_uri: str) -> Path | None:
    """The directory a local URI names, or None for a runs:/ or models:/ URI."""
    if not isinstance(model_uri, str):
        raise InvalidArgument(f"model_uri must be a string, got {type(model_uri).__name__}")
    if model_uri.startswith("file://"):
        path = Path(model_uri[len("file://") :])
    elif ":" not in model_uri and model_uri and Path(model_uri).is_dir():
        path = Path(model_uri)
    else:
        return None
    if not path.is_dir():
        raise InvalidArgument(f"model_uri {model_uri!r}: no such directory")
    return path
