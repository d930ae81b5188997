"""Models written as equations in the config (SPEC section 5).

``parse`` reads the text into trees (no evaluation), ``dims`` checks and converts units,
``symbolic`` finds the conditionally linear variables with sympy, ``build`` puts these
together into a checked definition, ``codegen`` makes it a model class whose step JAX
compiles, and ``section`` handles the config's ``model:`` section and model files.
"""

from .section import describe, expand, library, resolved, units_model

__all__ = ["describe", "expand", "library", "resolved", "units_model"]
