"""Strict, by-name assignment of foreign tensors to a SENet50, with a full report."""

import dataclasses

import numpy as np

from depnet_tf.errors import WeightsError

_SHOWN = 6  # names listed per problem in a one-line error


@dataclasses.dataclass
class LoadReport:
    """What a load did: assigned layers and everything it did not use or set."""

    source: str
    format: str
    assigned: list = dataclasses.field(default_factory=list)
    missing: list = dataclasses.field(default_factory=list)  # model layers the file lacks
    unexpected: list = dataclasses.field(default_factory=list)  # file layers the model lacks
    mismatched: list = dataclasses.field(default_factory=list)  # (name, file shapes, model shapes)
    ignored: list = dataclasses.field(default_factory=list)  # used on purpose: e.g. no top
    not_numeric: list = dataclasses.field(default_factory=list)  # (name, dtypes): e.g. bytes

    @property
    def ok(self):
        return not (self.missing or self.unexpected or self.mismatched or self.not_numeric)

    def problems(self):
        parts = []
        if self.missing:
            parts.append(
                f"{len(self.missing)} model layers missing from the file {_names(self.missing)}"
            )
        if self.unexpected:
            parts.append(
                f"{len(self.unexpected)} unexpected layers in the file {_names(self.unexpected)}"
            )
        if self.mismatched:
            shown = ", ".join(
                f"{name}: file {list(map(tuple, got))} vs model {list(map(tuple, want))}"
                for name, got, want in self.mismatched[:_SHOWN]
            )
            more = (
                f" (+{len(self.mismatched) - _SHOWN} more)" if len(self.mismatched) > _SHOWN else ""
            )
            parts.append(f"{len(self.mismatched)} shape mismatches [{shown}{more}]")
        if self.not_numeric:
            shown = ", ".join(f"{name}: {dtypes}" for name, dtypes in self.not_numeric[:_SHOWN])
            parts.append(
                f"{len(self.not_numeric)} layers hold values that are not numbers [{shown}]"
            )
        return "; ".join(parts)

    def summary(self):
        line = f"{self.source} ({self.format}): assigned {len(self.assigned)} layers"
        if self.ignored:
            line += f"; ignored {_names(self.ignored)} (the model has no such layers by choice)"
        if not self.ok:
            line += f"; NOT LOADED: {self.problems()}"
        return line


def _names(names):
    shown = ", ".join(names[:_SHOWN])
    return f"[{shown}{', ...' if len(names) > _SHOWN else ''}]"


def match(backbone, tensors, report):
    """Fill `report` with how `tensors` ({layer: [arrays]}) fit `backbone`; return the pairs."""
    targets = {layer.name: layer for layer in backbone.layers if layer.weights}
    pairs = []
    for name, layer in targets.items():
        if name not in tensors:
            report.missing.append(name)
            continue
        arrays = tensors[name]
        want = [tuple(w.shape) for w in layer.weights]
        got = [tuple(np.shape(a)) for a in arrays]
        kinds = [np.asarray(a).dtype for a in arrays]
        if want != got:
            report.mismatched.append((name, got, want))
        elif any(dtype.kind not in "fiu" for dtype in kinds):
            report.not_numeric.append((name, [str(dtype) for dtype in kinds]))
        else:
            pairs.append((layer, arrays))
    for name in tensors:
        if name in targets:
            continue
        if name == "classifier" and not getattr(backbone, "include_top", True):
            report.ignored.append(name)
        else:
            report.unexpected.append(name)
    return pairs


def assign(backbone, tensors, report, strict=True):
    """Set every backbone weight from `tensors`, exactly once, or raise naming what is wrong.

    With `strict=False` the fitting layers are set and the report lists the rest.
    """
    pairs = match(backbone, tensors, report)
    if strict and not report.ok:
        raise WeightsError(f"{report.source}: does not fit {backbone.name}: {report.problems()}")
    for layer, arrays in pairs:
        for variable, array in zip(layer.weights, arrays):
            variable.assign(np.asarray(array, dtype=variable.dtype))
        report.assigned.append(layer.name)
    return report
