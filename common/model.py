"""The base of every model here: networks, pure optimizers and a state of plain arrays.

A model is written once as pure functions of `state` (weights, noise seeds and BatchNorm
statistics, optimizer slots): every network is run with `stateless_call`, every update
returns a new state. `common.engine` compiles those functions for TensorFlow or JAX.
The networks an update does not train are frozen by taking no gradient for them, never by
`trainable = False`: in Keras 3 a non-trainable BatchNormalization also runs in inference mode.
"""

import contextlib
import dataclasses
import inspect
import threading
import time

import keras
import numpy as np
from keras import ops

from common import UserError, engine
from common.images import GridLayout
from common.optimizer import LossScale, every_finite

ROUND_PROGRAMS = ("unrolled", "looped", "per-update")  # PureModel.round_program


class PureModel:
    """Networks, their optimizers and the pure round function of one model."""

    network_names = ()
    optimizer_groups = {}  # optimizer name -> (networks it trains, config field of its lr)
    steps_per_round = 1  # the paper's steps one call of `round` makes
    images_per_round = 0  # real image batches a round draws
    latents_per_round = 0  # z batches a round draws
    loss_names = {}  # optimizer name -> the names of the values its loss returns, the loss minimised first
    # The networks a round runs, for counting its FLOPs (benchmarks/train_step.py): (network,
    # batches, passes) with passes 1 = forward only, 3 = forward and backward to weights and
    # inputs, 2 = forward and backward to inputs only (a frozen network). None: not counted.
    round_calls = None
    grids = GridLayout()  # what the training loop draws
    # TensorFlow on CPU: XLA (True) or a TF graph. Long runs set it by measuring both
    # (common/cpu_compile.py); short ones keep this default.
    xla_on_cpu = True
    # How a long run's round runs: one program with each repeat of an update its own copy
    # ("unrolled"; XLA:CPU runs convolutions inside a loop body far off its fast path), one
    # program with one body looped over the repeats ("looped": a fraction of the size), or one
    # program per kind of update, called once per repeat ("per-update": small programs, which
    # XLA:CPU loads from the cache in seconds, the unrolled AEGAN round in 45 s on a 2-core AMD
    # EPYC). Set with set_round_program; the loop's `choose_round_program` chooses.
    round_program = "unrolled"
    report_programs = False  # print each program's first call (common/loop.py sets it)
    # The config's fields that only the training loop reads, never a program: left out of the
    # key a program is kept under between starts (lasting_key), so that a longer run finds them.
    loop_only_fields = ("steps",)

    # Weight averages, where the config asks for them (`ema_decays`): each is updated after
    # every optimizer step, saved with the state, and the first one is used for sampling.

    def __init__(self, cfg):
        self.cfg = cfg
        self.ema_decays = tuple(getattr(cfg, "ema_decays", ()))
        self.precision = getattr(cfg, "precision", "float32")
        if self.precision == "float64":
            engine.enable_float64()
        with dtype_policy(self.precision), engine.weights_on_demand():  # computed by initial_state
            self.nets = self.build_networks(cfg)
            self.io_dtype = io_dtype()
        self._built_nets = dict(self.nets)
        self.loss_scale = LossScale() if self.precision == "mixed_float16" else None
        self._compiled = {}
        self.data_parallel = None  # set by use_devices
        # .active while the whole round is traced as one program; per thread, because
        # tf.distribute traces each replica's copy of the round in a thread of its own.
        self._inlining = threading.local()
        self.optimizers = {name: self.make_optimizer(getattr(cfg, lr_field))
                           for name, (_, lr_field) in self.optimizer_groups.items()}

    def build_networks(self, cfg):
        """{name: keras.Model} for every name in network_names."""
        raise NotImplementedError

    def make_optimizer(self, learning_rate):
        """A pure optimizer (common/optimizer.py) with init(params) and apply(slots, grads, params)."""
        raise NotImplementedError

    def use_devices(self, count=None):
        """Train on `count` devices, the global batch split over them (None: every device, or as
        many as divide the batch size). Returns the count."""
        found = engine.device_names()
        batch = self.cfg.batch_size
        if count is None:
            count = max(k for k in range(1, len(found) + 1) if batch % k == 0)
        if not 1 <= count <= len(found):
            raise UserError(f"--devices {count}: this machine has {len(found)} device(s) for "
                            f"{engine.BACKEND} ({', '.join(found)})")
        if batch % count:
            raise UserError(f"batch size {batch} does not split over {count} devices: make it a multiple of {count}")
        self.data_parallel = engine.DataParallel(count) if count > 1 else None
        self.forget_programs("round")
        return count

    def place_batches(self, batches):
        """A round's batches copied to the device(s) that will use them (the loader's thread calls
        this, so the copy overlaps the step before)."""
        if self.io_dtype == "float64":  # the sampler draws float32
            batches = keras.tree.map_structure(lambda a: np.asarray(a, np.float64), batches)
        return self.data_parallel.place(batches) if self.data_parallel else engine.to_device(batches)

    @property
    def latent_dim(self):
        return self.nets["generator"].input_shape[-1]

    # -- state -------------------------------------------------------------------------

    def initial_state(self):
        """Every array that training changes: weights, noise-layer seeds, optimizer slots."""
        return self._state(_values)

    def state_template(self):
        """initial_state's arrays in zeros, their shapes and dtypes the same: what a checkpoint is
        read into, without computing a network's initial weights (engine.weights_on_demand).
        Where building computed them (TensorFlow), initial_state itself: a resume then makes the
        calls a first start makes before its first program, and TensorFlow's XLA cache, whose
        keys count the graphs made before, finds that start's programs (with zeros, a resumed
        run compiled every program again)."""
        if engine.WEIGHTS_BUILT:
            return self.initial_state()
        return self._state(lambda variables: [np.zeros(v.shape, v.dtype) for v in variables])

    def _state(self, values):
        params = {n: values(m.trainable_variables) for n, m in self.nets.items()}
        state = {
            "params": params,
            "buffers": {n: values(m.non_trainable_variables) for n, m in self.nets.items()},
            "optimizers": {name: opt.init([p for n in self.optimizer_groups[name][0] for p in params[n]])
                           for name, opt in self.optimizers.items()},
        }
        if self.ema_decays:
            state["ema"] = {_ema_key(d): {n: [np.copy(p) for p in ps] for n, ps in params.items()}
                            for d in self.ema_decays}
        if self.loss_scale:
            state["loss_scale"] = {name: self.loss_scale.init() for name in self.optimizers}
        return state

    # -- building blocks of a round ------------------------------------------------------

    def call(self, state, name, inputs, training):
        """Run one network; returns its output and the state with its noise seeds advanced."""
        out, buffers = self.nets[name].stateless_call(
            state["params"][name], state["buffers"][name], inputs, training=training)
        return out, {**state, "buffers": {**state["buffers"], name: buffers}}

    def update(self, state, optimizer, loss_fn, inputs):
        """One optimizer step on loss_fn(state, inputs) -> (values, state), where values holds a
        value for each of the optimizer's `loss_names` by name and the first of them is the loss
        minimised. Returns the new state and the values stacked in loss_names' order.

        Gradients are taken for the optimizer's own networks only.
        """
        names = self.optimizer_groups[optimizer][0]
        value_names = self.loss_names[optimizer]
        scaling = state["loss_scale"][optimizer] if self.loss_scale else None

        def objective(trained, state):
            state = {**state, "params": {**state["params"], **dict(zip(names, trained))}}
            values, state = loss_fn(state, inputs)
            if not isinstance(values, dict) or set(values) != set(value_names):
                raise ValueError(f"{type(self).__name__}: the {optimizer} loss returns "
                                 f"{sorted(values) if isinstance(values, dict) else type(values).__name__}, "
                                 f"not a value for each of its loss_names {value_names}")
            loss = values[value_names[0]]
            return loss * scaling["scale"] if scaling is not None else loss, (values, state)

        trained = [state["params"][n] for n in names]
        (_, (values, state)), grads = engine.value_and_grad(objective)(trained, state)
        flat_params = [p for group in trained for p in group]
        flat_grads = [g for group in grads for g in group]
        slots = state["optimizers"][optimizer]
        if scaling is not None:
            flat_grads, finite = self.loss_scale.unscale(scaling, flat_grads)
        new_params, new_slots = self.optimizers[optimizer].apply(slots, flat_grads, flat_params)
        if scaling is not None:  # a step with overflowed gradients changes nothing but the scale
            def keep(new, old):
                return ops.where(finite, new, old)

            new_params = keras.tree.map_structure(keep, new_params, flat_params)
            new_slots = keras.tree.map_structure(keep, new_slots, slots)
            state = {**state, "loss_scale": {**state["loss_scale"],
                                             optimizer: self.loss_scale.next(scaling, finite)}}
        params, i = dict(state["params"]), 0
        for n in names:
            k = len(state["params"][n])
            params[n], i = list(new_params[i:i + k]), i + k
        state = {**state, "params": params,
                 "optimizers": {**state["optimizers"], optimizer: new_slots}}
        if self.ema_decays:
            state = {**state, "ema": {
                _ema_key(d): {**state["ema"][_ema_key(d)],
                              **{n: [d * a + (1 - d) * p for a, p in zip(state["ema"][_ema_key(d)][n], params[n])]
                                 for n in names}}
                for d in self.ema_decays}}
        return state, ops.stack([ops.cast(values[n], self.io_dtype) for n in value_names])

    def compiled(self, name, fn, whole_rounds=False):
        """fn compiled once per model: a round calls each kind of update several times.

        A program is kept under its name, what it computes (`computation_key`) and the compile
        mode: the same name given another function, or a closure over other values, compiles a
        program of its own, never reuses another's. Inside a fused round (train_round) fn is returned as it is,
        to be part of that program. A program of one update or less compiles quick
        (engine.compile_function); one of `whole_rounds` with XLA's full optimization.
        """
        if getattr(self._inlining, "active", False):
            return fn
        key = (name, computation_key(fn), self.xla_on_cpu, self.round_program)
        if key not in self._compiled:
            program = engine.compile_function(self._traced_as_now(fn), self.xla_on_cpu, quick=not whole_rounds,
                                              keep=lambda: self._lasting_key(name, fn))
            self._compiled[key] = self._reporting_first_call(name, program)
        return self._compiled[key]

    def _lasting_key(self, name, fn):
        """(name, a key of the program that lasts between processes; common/program_store.py), or
        None where fn or this model holds something that has none: that program is traced at
        every start."""
        from common import program_store

        try:
            return name, program_store.digest(name, program_store.value_key(fn), self.round_program,
                                              self.xla_on_cpu, program_store.trace_settings())
        except program_store.Unkeyable:
            return None

    def lasting_key(self):
        """This model as program_store keys it: its classes, and its attributes by value (the
        config, less the fields only the loop reads, `loop_only_fields`; the optimizers'
        settings). The networks are what build_networks made from the config (their code is in
        the key's source); a network put in their place since has no key."""
        from common import program_store

        if any(self.nets[n] is not net for n, net in self._built_nets.items()) or self.nets.keys() != self._built_nets.keys():
            raise program_store.Unkeyable("a network other than the one build_networks made")
        skip = ("nets", "_built_nets", "_compiled", "_inlining", "report_programs", "data_parallel",
                "round_program", "xla_on_cpu")  # the last two: in every program's key
        attributes = {k: v for k, v in vars(self).items() if k not in skip}
        attributes["cfg"] = {f.name: getattr(self.cfg, f.name) for f in dataclasses.fields(self.cfg)
                             if f.name not in self.loop_only_fields}
        return ("model", program_store.value_key(type(self)), program_store.value_key(type(self.cfg)),
                program_store.value_key(attributes))

    def _reporting_first_call(self, name, program):
        """program, whose first call prints how it was made and how long that took, where
        `report_programs` is set (the training loop sets it); under JAX, also its seconds of
        tracing and of compiling or loading. (JAX returns before the program has run: its run
        counts in the first round's time, which the loop prints.)"""
        called = []

        def first_call_reported(*args):
            if called:
                return program(*args)
            found, stages, started = engine.programs_found(), engine.stage_seconds(), time.perf_counter()
            out = program(*args)
            called.append(True)
            if self.report_programs:
                xla = engine.BACKEND == "jax" or self.xla_on_cpu or engine.on_accelerator()
                how = engine.how_built(found, xla)
                total = time.perf_counter() - started
                spent = {k: v - stages[k] for k, v in engine.stage_seconds().items()}
                kept = getattr(program, "how", None)  # program_store.KeptProgram's
                if kept in ("loaded", "traced and loaded"):  # loaded by program_store, not by JAX
                    how, spent["xla"] = "loaded from the cache", total - spent.get("traced", 0.0)
                parts = f": traced in {spent['traced']:.1f} s, {how.split()[0]} in {spent['xla']:.1f} s" if spent else ""
                if kept == "loaded":
                    parts = f": not traced (kept whole), loaded in {total:.1f} s"
                print(f"program {name}: {how}, first call in {total:.1f} s{parts}", flush=True)
            return out

        return first_call_reported

    def _traced_as_now(self, fn):
        """fn as a function of its own (jax.jit shares the traces of equal functions, as a bound
        method's are) that traces, whenever it does, with the round program set now."""
        kind = self.round_program

        def program(*args):
            self._inlining.round_program = kind
            return fn(*args)

        return program

    def set_compile_mode(self, xla_on_cpu):
        """TensorFlow on CPU: XLA (True) or a TF graph. Programs are kept per mode, so switching
        back reuses what that mode compiled."""
        self.xla_on_cpu = xla_on_cpu

    def set_round_program(self, kind):
        """"unrolled", "looped" or "per-update" (`round_program`): how a long run's round runs.
        All compute the same round (tests/test_round_programs.py); programs are kept per kind.
        Several devices always run one program, "per-update" unrolled."""
        if kind not in ROUND_PROGRAMS:
            raise ValueError(f"round program {kind!r}: expected one of {', '.join(ROUND_PROGRAMS)}")
        self.round_program = kind

    def forget_programs(self, name=None):
        """Drop the compiled programs (those under `name` only, where given): the next call compiles."""
        for key in [k for k in self._compiled if name is None or k[0] == name]:
            del self._compiled[key]

    def repeated_update(self, state, optimizer, loss_fn, inputs):
        """One update per element of `inputs`, compiled once; returns (state, stacked values).
        In a fused round, "looped" (`round_program`) runs them as one loop over the stacked inputs."""
        def one(s, inp):
            return self.update(s, optimizer, loss_fn, inp)

        looped = getattr(self._inlining, "round_program", None) == "looped"
        if getattr(self._inlining, "active", False) and looped and len(inputs) > 1:
            # Each with its own dtype: inside a TF graph ops.stack takes a 0-d float64 array as a
            # Python scalar, in float32.
            stacked = keras.tree.map_structure(
                lambda *xs: ops.stack([ops.convert_to_tensor(x, x.dtype) for x in xs]), *inputs)
            return engine.scan(one, state, stacked)
        step = self.compiled(f"update {optimizer}", one)
        values = []
        for inp in inputs:
            state, v = step(state, inp)
            values.append(v)
        return state, ops.stack(values)

    def train_round(self, state, images, latents, fused=True):
        """One round for the training loop: (new state, losses, whether every weight is finite).

        Fused, the round's updates (unrolled or looped, `round_program`) and the finite check
        are one compiled program: one call per round.
        Otherwise, or where `round_program` is "per-update", each kind of update is its own
        program, called in turn: small rounds run slower so, but on a CPU it compiles in a
        quarter to a third of the time (quick, engine.QUICK_CPU_COMPILE), which wins for short runs
        (common/loop.py), and a restart loads it in seconds.
        """
        if self.data_parallel:  # always one program: it runs on every device
            key = ("round", "data parallel", self.round_program)
            if key not in self._compiled:
                self._compiled[key] = self.data_parallel.compile_round(self._traced_as_now(self._checked_round))
            return self._compiled[key](state, images, latents)
        if not fused or self.round_program == "per-update":
            new_state, losses = self.round(state, images, latents)
            return new_state, losses, self.compiled("all_finite", all_finite)(new_state)
        return self.compiled("round", self._checked_round, whole_rounds=True)(state, images, latents)

    def train_rounds(self, state, images, latents, batched=False):
        """Several rounds as one compiled program, looped inside it: images (R, images_per_round,
        B, ...), latents (R, latents_per_round, B, D), one round's batches per leading index.

        Returns (state, {optimizer: (R, updates, k) losses}, (R,) whether each round was
        finite). A round with a loss or weight that is not finite leaves the state as it was,
        and so does every round after it: the state returned is the last good round's.
        It takes the cost of a call off every round but one (common/loop.py, rounds_per_call);
        on the 2-core CPU the 2-D rounds ran 1.0-1.8x faster so (README, "Speed").

        `batched`: several runs of this model at once, as one program: every array of `state`,
        `images` and `latents` stacked along a new leading axis, one run per index, and so every
        result. Each run computes what it computes alone (common/batched_runs.py); the program is
        wider, not longer, which a GPU that a 2-D round leaves almost idle can absorb.
        """
        if batched:
            return self.compiled("rounds_batched", engine.vmap(self._scanned_rounds), whole_rounds=True)(
                state, images, latents)
        return self.compiled("rounds", self._scanned_rounds, whole_rounds=True)(state, images, latents)

    def _scanned_rounds(self, state, images, latents):
        """train_rounds' program: _checked_round over the leading axis, stopping at a bad round."""
        def one_round(carry, batches):
            state, stopped = carry
            new_state, losses, finite = self._checked_round(state, *batches)
            good = ops.logical_and(ops.logical_and(finite, every_finite(keras.tree.flatten(losses))),
                                   ops.logical_not(stopped))
            state = keras.tree.map_structure(lambda new, old: ops.where(good, new, old), new_state, state)
            return (state, ops.logical_not(good)), (losses, good)

        (state, _), (losses, good) = engine.scan(one_round, (state, ops.convert_to_tensor(False)),
                                                 (images, latents))
        return state, losses, good

    def _checked_round(self, state, images, latents):
        """train_round's fused program: the model's round inlined, and whether every weight is finite."""
        self._inlining.active = True
        try:
            new_state, losses = self.round(state, images, latents)
        finally:
            self._inlining.active = False
        return new_state, losses, all_finite(new_state)

    def round_flops(self):
        """Model FLOPs of one round: the `round_calls` (convolution and dense layers; backward =
        2x forward), or None where the model has none."""
        if self.round_calls is None:
            return None
        return sum(forward_flops(self.nets[n]) * batches * self.cfg.batch_size * passes
                   for n, batches, passes in self.round_calls)

    # -- inference ---------------------------------------------------------------------

    def sampling_state(self, state):
        """The state whose weights sample: the first weight average where there is one."""
        if not self.ema_decays:
            return state
        return {**state, "params": {**state["params"], **state["ema"][_ema_key(self.ema_decays[0])]}}

    def generate(self, state, z):
        return self.call(self.sampling_state(state), "generator", z, training=False)[0]

    def encode(self, state, x):
        return self.call(self.sampling_state(state), "encoder", x, training=False)[0]

    def round(self, state, images, latents):
        """One round: images (images_per_round, B, H, W, 3), latents (latents_per_round, B, D).

        Returns the new state and {optimizer name: (updates, len(loss_names)) losses}.
        """
        raise NotImplementedError


@contextlib.contextmanager
def dtype_policy(name):
    """Keras' global dtype policy set to `name` while networks are built (each layer keeps the
    policy it was built under), then put back."""
    before = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(before)


def io_dtype():
    """The dtype of a network's inputs and output layer, and so of its losses: the current
    policy's variable dtype (float32 under the mixed policies, float64 under float64). A
    functional model converts what it is given to its inputs' dtype."""
    return keras.config.dtype_policy().variable_dtype


def computation_key(fn):
    """What a function computes, as a hashable key: its code, and for a bound method its object,
    for a function the key of each value it closes over and of each default argument (functions
    by their own key, other values by value where hashable, else by identity)."""
    if inspect.ismethod(fn):
        return ("method", fn.__func__.__code__, id(fn.__self__))
    code = getattr(fn, "__code__", None)
    if code is None:  # a compiled program, a partial, a callable object: itself
        return ("object", id(fn))
    def key_of(value):
        if callable(value):
            return computation_key(value)
        try:
            hash(value)
            return ("value", type(value).__name__, value)
        except TypeError:
            return ("id", id(value))

    closed = tuple(key_of(cell.cell_contents) for cell in fn.__closure__ or ())
    defaults = tuple(key_of(v) for v in (fn.__defaults__ or ()))
    keyword_defaults = tuple((k, key_of(v)) for k, v in sorted((fn.__kwdefaults__ or {}).items()))
    return ("function", code, closed, defaults, keyword_defaults)


def forward_flops(network):
    """Multiply-add FLOPs of one sample through a Keras model's Conv2D and Dense layers."""
    total = 0
    for layer in network.layers:
        if isinstance(layer, keras.layers.Conv2D):
            _, h, w, c_out = layer.output.shape
            kh, kw, c_in, _ = layer.kernel.shape
            total += 2 * h * w * kh * kw * c_in * c_out
        elif isinstance(layer, keras.layers.Dense):
            total += 2 * int(np.prod(layer.kernel.shape))
    return total


def all_finite(state):
    """True when every weight of the state is finite."""
    return every_finite([p for params in state["params"].values() for p in params])


def _ema_key(decay):
    return f"{decay:g}"


def _values(variables):
    # NumPy, not the variables themselves: a compiled round must see the same kind of
    # input on its first call as on later ones, or it compiles again.
    return [np.array(v.numpy()) for v in variables]
