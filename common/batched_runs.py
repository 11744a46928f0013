"""A run as the training loop takes it, and several runs of one model stacked into one program,
each written to its own run folder (common.loop.train_batched trains them).

On a GPU a 2-D round leaves the device almost idle: its networks are small and its batches
100 points, so the time goes to launching kernels, not to arithmetic. Stacking the runs (seeds)
along a new leading axis and mapping the round over it (`PureModel.train_rounds(batched=True)`,
`engine.vmap`) makes every kernel wider instead of making more of them. On the 2-core CPU it
gained nothing (README, "Speed"), because there the rounds are arithmetic.

Each run keeps what it has when trained alone: its own initial weights, data order, z and
noise seeds, its own losses.jsonl, grids and checkpoints in its own folder. A checkpoint is an
ordinary one: the run can be continued alone by `common.loop.train`, or batched again.
"""

import dataclasses

import keras
import numpy as np

from common import data


@dataclasses.dataclass
class Run:
    """One run: its sampler (its data and seed), held-out data, folder, meta and the initial
    state of its model (built under its own seed; None: the model's, computed only where the run
    starts at step 0)."""

    sampler: data.RoundSampler
    test_images: np.ndarray
    out_dir: str
    meta: dict
    initial_state: dict = None


class BatchedSampler:
    """The runs' batches of the same rounds, stacked along a new leading axis."""

    def __init__(self, samplers):
        self.samplers = samplers

    def rounds(self, first, last):
        return stack_runs([s.rounds(first, last) for s in self.samplers])

    prefetch = data.RoundSampler.prefetch  # given spans, as batched runs always are, it draws through rounds only


def stack_runs(trees):
    """The runs' states (or batches) as one, each array stacked along a new leading axis."""
    return keras.tree.map_structure(lambda *leaves: np.stack(leaves), *trees)


def unstack_runs(tree, count):
    """stack_runs undone: `count` trees."""
    return [keras.tree.map_structure(lambda a: a[i], tree) for i in range(count)]
