"""``log_model``: package a model into a directory and upload it into a run's artifacts.

    <artifact_path>/
      MLmodel                       metadata (MLflow's YAML layout, see `_mlmodel`)
      model.pkl | python_model.pkl  the model, cloudpickled (see `_flavors` for why)
      requirements.txt              the flavor's libraries and the pickle's, pinned
      python_env.yaml               the Python version, and requirements.txt by reference
      input_example.json            when an example was given (and serving_input_example.json)

The directory is built in a temporary folder and uploaded through the run's artifact path;
``MLmodel`` goes last, so a reader (the registry checks for it) never sees a half-uploaded
model as a model.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mltrail._exceptions import InvalidArgument, MltrailError
from mltrail.models import _example, _flavors
from mltrail.models._cache import FILE_DIGESTS_KEY
from mltrail.models._mlmodel import MLMODEL_FILE, ModelMetadata
from mltrail.models._signature import ModelSignature, infer_schema, infer_signature

logger = logging.getLogger("mltrail")


@dataclass(frozen=True)
class ModelInfo:
    """What ``log_model`` wrote: where (``model_uri``), and the metadata it wrote there."""

    model_uri: str
    run_id: str
    artifact_path: str
    metadata: ModelMetadata
    registered_model_version: Any = None  # what register_model returned, when asked to register

    @property
    def flavors(self) -> dict[str, dict[str, Any]]:
        return self.metadata.flavors

    @property
    def signature(self) -> ModelSignature | None:
        return self.metadata.signature

    @property
    def model_uuid(self) -> str:
        return self.metadata.model_uuid


def save_model(
    model: Any,
    path: str | Path,
    *,
    run_id: str | None = None,
    artifact_path: str | None = None,
    input_example: Any = None,
    signature: ModelSignature | bool | None = None,
    flavor: str | None = None,
    pip_requirements: list[str] | None = None,
    extra_pip_requirements: list[str] | None = None,
    metadata: dict[str, Any] | None = None,
    model_config: dict[str, Any] | None = None,
) -> ModelMetadata:
    """Write the model directory at ``path`` (which must not exist or be empty); no upload."""
    from mltrail._version import client_version

    model_dir = Path(path)
    model_dir.mkdir(parents=True, exist_ok=True)
    if any(model_dir.iterdir()):
        raise InvalidArgument(f"path {str(model_dir)!r} is not empty")
    flavor = _flavors.choose_flavor(model, flavor)
    if signature is not None and not isinstance(signature, ModelSignature | bool):
        raise InvalidArgument(
            f"signature: expected a mltrail.models.ModelSignature, got {type(signature).__name__}"
        )
    flavors, pickled = _flavors.write_flavor(model, flavor, model_dir, model_config=model_config)

    example = None
    example_info = None
    if input_example is not None:
        example = _example.as_example(input_example)
        example_info = _example.save_example(example, model_dir)
    if signature is None and example is not None:
        signature = _infer_with_output(model, flavor, example)
    elif signature is True:
        raise InvalidArgument(
            "signature: give a ModelSignature, False (none) or None (inferred from input_example)"
        )

    lines = (
        list(pip_requirements)
        if pip_requirements is not None
        else _flavors.requirements(flavor, pickled, example=example, extra=extra_pip_requirements)
    )
    (model_dir / _flavors.REQUIREMENTS_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")
    (model_dir / _flavors.PYTHON_ENV_FILE).write_text(
        _flavors.python_env_yaml(_flavors.python_version()), encoding="utf-8"
    )

    digests = {}
    size = 0
    for file in sorted(p for p in model_dir.rglob("*") if p.is_file()):
        data = file.read_bytes()
        digests[file.relative_to(model_dir).as_posix()] = hashlib.sha256(data).hexdigest()
        size += len(data)
    info = ModelMetadata(
        flavors=flavors,
        run_id=run_id,
        artifact_path=artifact_path,
        signature=signature if isinstance(signature, ModelSignature) else None,
        saved_input_example_info=example_info,
        mltrail_version=client_version(),
        model_size_bytes=size,
        metadata=dict(metadata) if metadata else None,
        extra={FILE_DIGESTS_KEY: digests},
    )
    info.save(model_dir)
    return info


def _infer_with_output(model: Any, flavor: str, example: Any) -> ModelSignature:
    """The example's signature, with the model's output for it when predicting works."""
    signature = infer_signature(example)
    try:
        if flavor == _flavors.SKLEARN:
            output = model.predict(example)
        else:
            from mltrail.pyfunc import PythonModel, PythonModelContext

            context = PythonModelContext()
            if isinstance(model, PythonModel):
                model.load_context(context)
                output = model.predict(context, example, None)
            else:
                output = model.predict(example)
        outputs = infer_schema(output, unnamed_1d=not signature.inputs.is_tensor_based)
    except Exception as error:  # the output schema is informative: its absence is no failure
        logger.info("mltrail: output schema not inferred (%s: %s)", type(error).__name__, error)
        return signature
    return ModelSignature(inputs=signature.inputs, outputs=outputs)


def log_model(
    client: Any,
    run_id: str,
    model: Any,
    artifact_path: str = "model",
    *,
    registered_model_name: str | None = None,
    **options: Any,
) -> ModelInfo:
    """Save ``model`` into ``artifact_path`` of the run; register it when a name is given."""
    from mltrail._artifacts import _clean_artifact_path, _client_for, upload_file

    cleaned = _clean_artifact_path(artifact_path or "", what="artifact_path")
    if not cleaned:
        raise InvalidArgument("artifact_path must name a directory, e.g. 'model'")
    with tempfile.TemporaryDirectory(prefix="mltrail-model-") as tmp:
        model_dir = Path(tmp) / "model"
        info = save_model(model, model_dir, run_id=run_id, artifact_path=cleaned, **options)
        files = sorted(p for p in model_dir.rglob("*") if p.is_file() and p.name != MLMODEL_FILE)
        with _client_for(None) as http:
            for file in [*files, model_dir / MLMODEL_FILE]:  # MLmodel last: the model is complete
                relative_dir = file.parent.relative_to(model_dir).as_posix()
                target = cleaned if relative_dir == "." else f"{cleaned}/{relative_dir}"
                upload_file(client.tracking_uri, run_id, file, target, client=http)
    model_uri = f"runs:/{run_id}/{cleaned}"
    registered = None
    if registered_model_name is not None:
        register = getattr(client, "register_model", None)
        if register is None:
            raise MltrailError(
                f"model logged at {model_uri}, but this client cannot register it as "
                f"{registered_model_name!r} (no register_model)"
            )
        registered = register(model_uri, registered_model_name)
    return ModelInfo(
        model_uri=model_uri,
        run_id=run_id,
        artifact_path=cleaned,
        metadata=info,
        registered_model_version=registered,
    )
