"""The ``MLmodel`` file: a model directory's metadata, in MLflow's YAML layout.

    artifact_path: model
    flavors:
      python_function: {loader_module: mlflow.sklearn, model_path: model.pkl, python_version: 3.11.7, ...}
      sklearn: {pickled_model: model.pkl, serialization_format: cloudpickle, sklearn_version: 1.9.1}
    mltrail_version: 0.1.0            # where MLflow writes mlflow_version
    model_size_bytes: 1186
    model_uuid: 5e41da1f6b594c59b56057f5103c9a8e
    run_id: 2c5e...
    saved_input_example_info: {artifact_path: input_example.json, type: dataframe, pandas_orient: split, ...}
    signature: {inputs: '<json>', outputs: '<json>', params: null}
    utc_time_created: '2026-11-30 08:02:54.963519'

Keys are written sorted, as MLflow's ``yaml.safe_dump`` does. Keys this client does not know
(written by MLflow or a later mltrail) are kept in `ModelMetadata.extra` and written back.
"""

from __future__ import annotations

import datetime as _dt
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mltrail._exceptions import InvalidArgument
from mltrail.models._signature import ModelSignature

MLMODEL_FILE = "MLmodel"

_KNOWN = (
    "artifact_path",
    "flavors",
    "metadata",
    "mltrail_version",
    "model_size_bytes",
    "model_uuid",
    "run_id",
    "saved_input_example_info",
    "signature",
    "utc_time_created",
)


def utc_now_string() -> str:
    """MLflow's ``utc_time_created``: a naive UTC timestamp, ``str(datetime)``."""
    return str(_dt.datetime.now(_dt.UTC).replace(tzinfo=None))


@dataclass
class ModelMetadata:
    """What ``MLmodel`` says about a model: flavors, signature, input example, provenance."""

    flavors: dict[str, dict[str, Any]] = field(default_factory=dict)
    run_id: str | None = None
    artifact_path: str | None = None
    signature: ModelSignature | None = None
    saved_input_example_info: dict[str, Any] | None = None
    utc_time_created: str = field(default_factory=utc_now_string)
    model_uuid: str = field(default_factory=lambda: uuid.uuid4().hex)
    mltrail_version: str | None = None
    model_size_bytes: int | None = None
    metadata: dict[str, Any] | None = None  # the user's own key/values, as MLflow's `metadata=`
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def flavor_names(self) -> list[str]:
        return sorted(self.flavors)

    def get_input_schema(self) -> Any:
        return self.signature.inputs if self.signature is not None else None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = dict(self.extra)
        data.update(
            artifact_path=self.artifact_path,
            flavors=self.flavors,
            mltrail_version=self.mltrail_version,
            model_uuid=self.model_uuid,
            run_id=self.run_id,
            utc_time_created=self.utc_time_created,
        )
        if self.signature is not None:
            data["signature"] = self.signature.to_dict()
        if self.saved_input_example_info is not None:
            data["saved_input_example_info"] = self.saved_input_example_info
        if self.model_size_bytes is not None:
            data["model_size_bytes"] = self.model_size_bytes
        if self.metadata is not None:
            data["metadata"] = self.metadata
        return data

    def to_yaml(self) -> str:
        import yaml

        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        return yaml.dump(self.to_dict(), Dumper=dumper, default_flow_style=False, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelMetadata:
        if not isinstance(data, dict) or not isinstance(data.get("flavors"), dict):
            raise InvalidArgument("MLmodel: expected a mapping with a 'flavors' mapping")
        signature = data.get("signature")
        return cls(
            flavors=data["flavors"],
            run_id=data.get("run_id"),
            artifact_path=data.get("artifact_path"),
            signature=ModelSignature.from_dict(signature) if isinstance(signature, dict) else None,
            saved_input_example_info=data.get("saved_input_example_info"),
            utc_time_created=str(data.get("utc_time_created") or ""),
            model_uuid=data.get("model_uuid") or "",
            mltrail_version=data.get("mltrail_version"),
            model_size_bytes=data.get("model_size_bytes"),
            metadata=data.get("metadata"),
            extra={k: v for k, v in data.items() if k not in _KNOWN},
        )

    @classmethod
    def load(cls, model_dir: str | Path) -> ModelMetadata:
        """Read ``<model_dir>/MLmodel``."""
        import yaml

        path = Path(model_dir) / MLMODEL_FILE
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InvalidArgument(
                f"{str(model_dir)!r} holds no MLmodel file: not a model directory"
            ) from None
        try:
            # libyaml's loader when present: this file is read on every load_model.
            data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except yaml.YAMLError as error:
            raise InvalidArgument(f"MLmodel in {str(model_dir)!r} is not valid YAML: {error}") from None
        return cls.from_dict(data)

    def save(self, model_dir: str | Path) -> None:
        (Path(model_dir) / MLMODEL_FILE).write_text(self.to_yaml(), encoding="utf-8")
