"""The model registry: one file per model, one line here per model."""

from .base import Model, Param, Preset, StateVar
from .hodgkin_huxley import HodgkinHuxley

MODELS: dict[str, type[Model]] = {
    m.name: m
    for m in (
        HodgkinHuxley,
    )
}


def get_model(name: str) -> Model:
    return MODELS[name]()


__all__ = ["MODELS", "Model", "Param", "Preset", "StateVar", "get_model"]
