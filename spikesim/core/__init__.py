"""The vocabulary every other package reads a config with, importing none of them: bounded
YAML (:mod:`.yamltext`) and where each key came from (:mod:`.source`), key paths and
did-you-mean (:mod:`.keys`), value types (:mod:`.fields`) and units (:mod:`.units`)."""
