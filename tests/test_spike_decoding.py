"""The spike words of the compiled loop decode to exactly the spikes that were packed, in
(time, neuron) order, whatever the block length and spike density."""

import numpy as np
import pytest

from spikesim.sim.engine import SPIKE_WORD, iter_precise_spikes, iter_spikes


def decode_spikes(words, k0, block, n_valid_blocks):
    """All spikes of a chunk as one (steps, ids) pair: the pieces of iter_spikes joined."""
    pieces = list(iter_spikes(words, k0, block, n_valid_blocks))
    if not pieces:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate([p[0] for p in pieces]), np.concatenate([p[1] for p in pieces])


def pack(spikes: np.ndarray, block: int) -> np.ndarray:
    """Pack a boolean [steps, N] spike matrix the way the engine does: bit j % 32 of word
    j // 32 of its block."""
    steps, n = spikes.shape
    n_blocks = steps // block
    words = np.zeros((n_blocks, -(-block // SPIKE_WORD), n), np.uint32)
    for b in range(n_blocks):
        for j in range(block):
            words[b, j // SPIKE_WORD] |= (spikes[b * block + j].astype(np.uint32)
                                          << np.uint32(j % SPIKE_WORD))
    return words


@pytest.mark.parametrize("block", [1, 10, 32, 33, 70])
@pytest.mark.parametrize("density", [0.0, 0.01, 0.3, 1.0])
def test_decode_matches_nonzero(block, density):
    rng = np.random.default_rng(block)
    spikes = rng.random((6 * block, 257)) < density
    steps, ids = decode_spikes(pack(spikes, block), 1000, block, 6)
    want_steps, want_ids = np.nonzero(spikes)  # row-major: by step, then by neuron
    np.testing.assert_array_equal(steps, want_steps + 1000)
    np.testing.assert_array_equal(ids, want_ids)


def test_only_valid_blocks_are_decoded():
    spikes = np.ones((4 * 32, 5), bool)
    steps, _ = decode_spikes(pack(spikes, 32), 0, 32, 2)
    assert steps.max() == 2 * 32 - 1 and steps.size == 2 * 32 * 5


@pytest.mark.parametrize("slice_words", [1, 300, 5000, 1 << 16])
def test_pieces_join_to_the_whole_and_drop_padding(slice_words):
    """Decoded a few blocks at a time (pieces of any size), the pieces are in step order and
    join to the spikes that were packed; neurons from n_real on (padding) are dropped."""
    block = 10
    rng = np.random.default_rng(slice_words)
    spikes = rng.random((9 * block, 103)) < 0.2
    pieces = list(iter_spikes(pack(spikes, block), 50, block, 9, n_real=100,
                              slice_words=slice_words))
    assert all(p[0].size for p in pieces)
    steps = np.concatenate([p[0] for p in pieces])
    ids = np.concatenate([p[1] for p in pieces])
    want_steps, want_ids = np.nonzero(spikes[:, :100])
    np.testing.assert_array_equal(steps, want_steps + 50)
    np.testing.assert_array_equal(ids, want_ids)
    if slice_words < 103:  # one block per piece
        assert len(pieces) == 9


@pytest.mark.parametrize("slice_words", [1, 300, 1 << 16])
def test_parts_of_the_neuron_axis_decode_like_the_whole(slice_words):
    """The words of a sharded run, given as the shards' parts of the neuron axis (the runner
    does not assemble them), decode to the same pieces as the assembled array; the padding
    neurons, at the end of the last part, are dropped."""
    block = 32
    rng = np.random.default_rng(7)
    words = pack(rng.random((5 * block, 104)) < 0.1, block)
    whole = list(iter_spikes(words, 3, block, 5, n_real=101, slice_words=slice_words))
    parts = [words[..., :40], words[..., 40:52], words[..., 52:]]
    split = list(iter_spikes(parts, 3, block, 5, n_real=101, slice_words=slice_words))
    assert len(split) == len(whole) > 0
    for (s1, i1), (s2, i2) in zip(whole, split):
        np.testing.assert_array_equal(s1, s2)
        np.testing.assert_array_equal(i1, i2)
    assert max(i.max() for _, i in split) < 101


def offset_layouts(spikes: np.ndarray, offsets: np.ndarray, block: int):
    """The two offset buffers of precise timing, as the engine writes them: one slot per
    neuron and block (the offset of the neuron's spike there, NaN after a second one), and one
    slot per step (``[n_blocks, block, N]``)."""
    steps, n = spikes.shape
    n_blocks = steps // block
    slots = np.zeros((n_blocks, 1, n), np.float32)
    full = np.zeros((n_blocks, block, n), np.float32)
    for b in range(n_blocks):
        seen = np.zeros(n, bool)
        for j in range(block):
            s = spikes[b * block + j]
            slots[b, 0] = np.where(s, np.where(seen, np.nan, offsets[b * block + j]), slots[b, 0])
            full[b, j] = np.where(s, offsets[b * block + j], 0.0)
            seen |= s
    return slots, full


@pytest.mark.parametrize("density, rerun", [(0.01, False), (0.2, True)])
@pytest.mark.parametrize("split", [False, True])
def test_precise_offsets_decode_to_their_spikes(density, rerun, split):
    """Each spike comes out with the offset written for it: from the slot of its neuron and
    block while no neuron spiked twice in a block; where one did (a NaN slot), from the
    buffer with a slot per step that ``rerun`` gives, for every piece from there on; the
    same from the parts of a sharded run's neuron axis, padding neurons dropped (a block
    with spikes of padding neurons only included)."""
    block, n, n_real = 32, 70_003, 70_000  # over 65,536 words a block: a piece per block
    rng = np.random.default_rng(3)
    spikes = rng.random((5 * block, n)) < density
    if not rerun:  # at most one spike per neuron and block
        spikes &= np.cumsum(spikes.reshape(5, block, n), axis=1).reshape(-1, n) == 1
    # a block in which only padding neurons spike (they may: their noise is their own)
    spikes[2 * block:3 * block] = False
    spikes[2 * block + 5, n_real:] = True
    offsets = rng.uniform(0.0, 0.1, spikes.shape).astype(np.float32)
    words = pack(spikes, block)
    slots, full = offset_layouts(spikes, offsets, block)
    assert np.isnan(slots).any() == rerun
    cut = ((lambda x: [x[..., :40_000], x[..., 40_000:52_000], x[..., 52_000:]]) if split
           else (lambda x: x))
    reruns = []
    pieces = list(iter_precise_spikes(cut(words), cut(slots), 7, block, 5, n_real,
                                      lambda: reruns.append(1) or cut(full)))
    steps = np.concatenate([p[0] for p in pieces])
    ids = np.concatenate([p[1] for p in pieces])
    off = np.concatenate([p[2] for p in pieces])
    want_steps, want_ids = np.nonzero(spikes[:, :n_real])
    np.testing.assert_array_equal(steps, want_steps + 7)
    np.testing.assert_array_equal(ids, want_ids)
    np.testing.assert_array_equal(off, offsets[want_steps, want_ids])
    assert len(reruns) == int(rerun)
