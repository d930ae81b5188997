"""Reading a config: bounded YAML (:mod:`.yamltext`), key paths (:mod:`.keys`), value
types (:mod:`.fields`), units (:mod:`.units`, :mod:`.quantities`), the schema
(:mod:`.schema`), load-time checks (:mod:`.checks`, :mod:`.preflight`) and the loader
(:mod:`.load`), which turns a YAML file and overrides into a checked config."""
