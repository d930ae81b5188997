"""Reading a config, on the vocabulary of :mod:`spikesim.core`: values with units
(:mod:`.quantities`), the schema (:mod:`.schema`), load-time checks (:mod:`.checks`,
:mod:`.preflight`) and the loader (:mod:`.load`), which turns a YAML file and overrides into a
checked config."""
