"""The model registry: one file per model, one line here per model. The steps every model
takes are here too: :mod:`.integrators` and :mod:`.spike_timing`."""

from .base import Model, Param, Preset, StateVar
from .adex import AdEx
from .eif import EIF
from .hodgkin_huxley import HodgkinHuxley
from .izhikevich import Izhikevich
from .lif import LIF
from .qif import QIF
from .wang_buzsaki import WangBuzsaki

MODELS: dict[str, type[Model]] = {
    m.name: m
    for m in (
        HodgkinHuxley,
        WangBuzsaki,
        AdEx,
        Izhikevich,
        LIF,
        QIF,
        EIF,
    )
}


def get_model(name: str) -> Model:
    return MODELS[name]()


__all__ = ["MODELS", "Model", "Param", "Preset", "StateVar", "get_model"]
