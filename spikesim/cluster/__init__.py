"""Beyond one machine (SPEC section 8): ``run --shards`` (:mod:`.run`), a run cut into
shards (:mod:`.shards`), run by local worker processes or a Dask scheduler
(:mod:`.executors`), and merged into one file (:mod:`.merge`)."""
