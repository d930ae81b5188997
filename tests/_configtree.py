"""Walking a config tree (for the mutation tests: test_hypothesis_config, test_fuzz)."""


def paths(node, prefix=()):
    """Every key path in a config (to pick one to mutate)."""
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += paths(v, prefix + (i,))
    return out


def container(cfg, path):
    """The mapping or list that holds the key at ``path``."""
    node = cfg
    for p in path[:-1]:
        node = node[p]
    return node
