"""Where each key of a config came from (:class:`Source`), and a config file read as YAML with
the line of every key (:func:`read_yaml`): below the schema, so that the loader
(:mod:`spikesim.config.load`) and the model files of equations models
(:mod:`spikesim.equations.section`) both read YAML files this way."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError, UsageError
from . import yamltext


@dataclass
class Source:
    """Where each key of a config came from: ``file:line`` or the override that set it."""

    file: str
    lines: dict[tuple, int] = field(default_factory=dict)
    overrides: dict[tuple, str] = field(default_factory=dict)
    #: key path of a literal block scalar (``key: |``) -> the line of its first line of text
    literal: dict[tuple, int] = field(default_factory=dict)

    def where(self, path: tuple) -> str:
        # an override replaces what the file said at and below its key, so it wins over the
        # file's lines; an error on a mapping (``input``) may come from an override below it
        path = tuple(path)
        for n in range(len(path), 0, -1):
            if path[:n] in self.overrides:
                return f"override {short(self.overrides[path[:n]])}"
        if path[:2] == ("input", 0) and len(self.overrides):  # input.F on the one protocol
            for n in range(len(path), 1, -1):
                if ("input",) + path[2:n] in self.overrides:
                    return f"override {short(self.overrides[('input',) + path[2:n]])}"
        below = [v for k, v in self.overrides.items() if k[:len(path)] == path]
        if path and below:
            # every one of them: a cross-key problem (transient >= duration) may come from any
            return "override" + "s" * (len(below) > 1) + " " + ", ".join(map(short, below))
        for n in range(len(path), -1, -1):
            if path[:n] in self.lines:
                return f"{self.file}:{self.lines[path[:n]]}"
        return self.file


def short(text: str, n: int = 80) -> str:
    """``text`` cut to ``n`` characters for a message (an override may be megabytes long)."""
    return text if len(text) <= n else text[:n - 3] + "..."


# the first eight bytes of an HDF5 file (HDF5 File Format Specification, section 2.1)
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


# -- YAML -------------------------------------------------------------------------------
def read_yaml(path: str | Path) -> tuple[dict, Source]:
    path = Path(path)
    if not path.exists():
        raise UsageError(f"config file not found: {path}. Check the path, or start from one of "
                         f"the examples in configs/.")
    if path.is_dir():
        raise UsageError(f"{path} is a folder; give the path of a YAML config file.")
    try:
        # read at most one byte past the limit: /dev/zero or a huge file is refused unread
        with open(path, "rb") as f:
            data = f.read(yamltext.MAX_FILE_BYTES + 1)
        text = data.decode("utf-8")
    except OSError as e:
        raise UsageError(f"cannot read config {path}: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        if data.startswith(HDF5_SIGNATURE):
            raise UsageError(f"{path} is an HDF5 file (a run's output?), not a YAML config: "
                             f"run it again with `spikesim run --from {path}`, or look inside "
                             f"with `spikesim inspect {path}`") from None
        line = data[:e.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: not UTF-8 text (byte {data[e.start]:#x}); save the "
                          f"config as UTF-8") from None
    if len(data) > yamltext.MAX_FILE_BYTES:
        raise ConfigError(f"{path}: larger than {yamltext.MAX_FILE_BYTES >> 20} MiB; a config is "
                          f"a few kB (per-neuron values belong in generators, sweeps or an "
                          f"input file)")
    try:
        data, node = yamltext.parse(text)
    except yamltext.YAMLProblem as e:
        where = f"{path}:{e.line}" if e.line else str(path)
        where += f":{e.column}" if e.line and e.column else ""
        raise ConfigError(f"{where}: malformed YAML: {e.problem}. Check indentation, colons "
                          f"and quotes on that line." if e.syntax else
                          f"{where}: cannot read this YAML: {e.problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: the config must be a mapping of sections "
                          f"(model:, simulation:, ...), got {type(data).__name__}")
    problems: list[str] = []
    literal: dict[tuple, int] = {}
    source = Source(str(path), yamltext.line_map(node, problems, str(path), literal)
                    if node else {}, literal=literal)
    if problems:
        raise ConfigError(problems)
    return data, source
