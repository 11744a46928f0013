"""The backend seam: taking gradients and compiling pure functions of a state.

Models are written once as pure functions of their state (see `aegan/models.py`): every
network is called with `stateless_call` and every optimizer is a pure function
(`common/optimizer.py`). This module supplies what differs between TensorFlow and JAX:
the gradient of such a function, compiling it into one XLA program, running a round on
several devices with the engine's own data parallelism (`DataParallel`), and, under JAX,
joining the processes of a run over several machines. Outside it, only TensorBoard logging
(`run_folder.py`) and the CPU compile trial's cache key (`cpu_compile.py`) name TensorFlow.
"""

import contextlib
import functools
import os
import random
import re
import sys

import keras
import numpy as np

from common import UserError

BACKEND = keras.backend.backend()


def _remove_unreadable_programs(folder, suffix, parse):
    """Remove the cache entries (files ending in `suffix`) that are empty or that `parse` cannot
    read (a write cut short, a damaged disk), each with a warning: the backend would otherwise
    stop at them (TensorFlow), or read, warn and compile again at every start (JAX, which never
    replaces an entry)."""
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if not (name.endswith(suffix) and os.path.isfile(path)):
            continue
        try:
            with open(path, "rb") as f:
                data = f.read()
            parse(data)
            readable = bool(data)
        except Exception:  # whatever the parser raises on damaged bytes
            readable = False
        if not readable:
            remove_unreadable_program(path)


def remove_unreadable_program(path):
    """Remove a kept program that cannot be read, with a warning: it compiles afresh."""
    print(f"warning: compiled program {path} cannot be read: removed, it compiles afresh", file=sys.stderr)
    try:
        os.remove(path)
    except OSError:
        pass

if BACKEND == "jax":
    import jax

    def value_and_grad(fn):
        """fn(params, *args) -> (loss, aux)  becomes  f(params, *args) -> ((loss, aux), grads)."""
        return jax.value_and_grad(fn, has_aux=True)

    # How XLA:CPU compiles a program of one update or less (`compile_function`'s `quick`): LLVM's
    # optimization level 1 instead of XLA's default 3. Measured on a 2-core AMD EPYC without
    # AVX-512 (docs/performance.md, "Round programs"): the AEGAN paper config's per-update programs
    # compiled in 27.7 s instead of 49.6 and ran as fast (their convolutions are library calls,
    # which the level does not touch); the small preset's in 27.8 s instead of 60.6. The whole
    # unrolled round keeps the default: at the small preset it ran 268 against 287 ms/step so.
    # Level 0 was refused: its float32 results left the default's by 0.68 in 3 tiny rounds.
    QUICK_CPU_COMPILE = {"xla_backend_optimization_level": 1}

    def compile_function(fn, xla_on_cpu=True, quick=False, keep=None):
        """fn as one XLA program (JAX always compiles with XLA); `quick` (a program of one update
        or less, PureModel.compiled): on a CPU, compiled with QUICK_CPU_COMPILE. `keep`: where
        `keep_compiled_programs` keeps programs, a function giving (name, key) to keep this one
        whole under, found at the next start without tracing fn (common/program_store.py), or
        None where fn has no such key."""
        options = QUICK_CPU_COMPILE if quick and not on_accelerator() else None
        jitted = jax.jit(fn, compiler_options=options)
        named = keep() if keep is not None and _kept_folder[0] is not None and jax.process_count() == 1 else None
        if named is None:
            return jitted
        from common import program_store

        name, key = named
        return program_store.KeptProgram(jitted, name, key, options, _kept_folder[0])


    def to_numpy(tree):
        return jax.tree_util.tree_map(lambda a: jax.device_get(a), tree)

    def scan(fn, init, xs):
        """fn(carry, x) -> (carry, y) over the leading axis of xs: (last carry, stacked ys)."""
        return jax.lax.scan(fn, init, xs)

    def to_device(tree):
        """Arrays copied to the default device (ahead of the step that needs them)."""
        return jax.device_put(tree)

    def vmap(fn):
        """fn mapped over the leading axis of every argument and result: several independent
        runs as one program (common/batched_runs.py)."""
        return jax.vmap(fn)

    def set_random_seed(seed):
        """keras.utils.set_random_seed less its seeding of TensorFlow, which it imports to seed it
        wherever TensorFlow is installed: 3 s of every start under JAX, where nothing here draws
        from TensorFlow. Python's, NumPy's and Keras' own seeds are set as Keras sets them."""
        from keras.src.backend.common import global_state
        from keras.src.random import seed_generator
        from keras.src.utils import rng_utils

        if not isinstance(seed, int):
            raise ValueError(f"a seed is an integer, not {seed!r}")
        global_state.set_global_attribute(rng_utils.GLOBAL_RANDOM_SEED, seed)
        global_state.set_global_attribute(seed_generator.GLOBAL_SEED_GENERATOR, None)
        random.seed(seed)
        np.random.seed(seed)

    WEIGHTS_BUILT = False  # building the networks leaves their initial weights to weights_on_demand

    @contextlib.contextmanager
    def weights_on_demand():
        """Networks built inside leave their initial weights uncomputed until read
        (`Variable.numpy()`), so that a run resumed from a checkpoint never computes them: under
        JAX each initializer is a program of its own, traced and compiled or loaded, 4.1 of the
        4.8 s that building the AEGAN paper config took on a 2-core AMD EPYC. Keras defers them
        inside a StatelessScope and computes them all at its end; here they stay deferred, out of
        Keras' list of variables to compute. A read computes the value from the initializer and
        its seed, fixed when the layer was made: the same value at every read."""
        from keras.src.backend.common import global_state  # that list: Keras has no public name for it

        pending = list(global_state.get_global_attribute("uninitialized_variables") or [])
        try:
            with keras.StatelessScope(initialize_variables=False):
                yield
        finally:
            global_state.set_global_attribute("uninitialized_variables", pending)

    _kept_folder = [None]  # keep_compiled_programs' folder

    def keep_compiled_programs(folder):
        """Compiled programs written to, and read back from, `folder` (JAX's persistent compilation
        cache): a second start of the same run, or of one with the same programs, loads them
        instead of compiling them again. JAX keys every program by its computation, the compile
        options and flags, the JAX version and the device. An entry that cannot be read is
        removed first, with a warning, and compiled afresh. The programs that `compile_function`
        is asked to keep are also kept whole there, found without tracing
        (common/program_store.py). Returns where programs are kept: a cache already named by
        JAX_COMPILATION_CACHE_DIR is kept instead of `folder`."""
        from common import program_store

        program_store.read_source()  # as this process runs it: a later edit is not kept
        if os.environ.get("JAX_COMPILATION_CACHE_DIR"):
            _kept_folder[0] = os.environ["JAX_COMPILATION_CACHE_DIR"]
            return _kept_folder[0]
        os.makedirs(folder, exist_ok=True)
        _kept_folder[0] = folder
        try:  # how JAX stores an entry; without it, JAX's own warning at each read
            from jax._src.compilation_cache import decompress_executable
        except ImportError:
            pass
        else:
            _remove_unreadable_programs(folder, "-cache", decompress_executable)
        jax.config.update("jax_compilation_cache_dir", folder)
        # Every program is worth a file: building the paper-config AEGAN compiles 83 small
        # initializer programs (0.1-0.3 s each), which a restart then loads in 2 s instead of
        # compiling in 10-25 s (docs/performance.md, "Starting and restarting").
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
        return folder

    _cache_hits = [0]

    def _count_cache_hit(event, **_):
        if event == "/jax/compilation_cache/cache_hits":
            _cache_hits[0] += 1

    jax.monitoring.register_event_listener(_count_cache_hit)

    def programs_found():
        """A count to compare before and after a program's first call (`how_built`): the
        programs JAX has loaded from its persistent cache so far."""
        return _cache_hits[0]

    def how_built(found_before, xla=True):
        """How the programs first called since `programs_found()` gave found_before were made."""
        return "loaded from the cache" if programs_found() > found_before else "compiled"

    _STAGES = {"/jax/core/compile/jaxpr_trace_duration": "traced",  # JAX's own records of its stages
               "/jax/core/compile/jaxpr_to_mlir_module_duration": "traced",
               "/jax/core/compile/backend_compile_duration": "xla"}
    _stage_seconds = {"traced": 0.0, "xla": 0.0}

    def _add_stage_seconds(event, duration, **_):
        if event in _STAGES:
            _stage_seconds[_STAGES[event]] += duration

    jax.monitoring.register_event_duration_secs_listener(_add_stage_seconds)

    def stage_seconds():
        """Seconds spent so far tracing programs (Python to XLA's input) and in XLA (compiling
        them, or loading them from the cache): {"traced": s, "xla": s}, to compare before and
        after a program's first call."""
        return dict(_stage_seconds)

    def enable_float64():
        """JAX computes in float64 only with x64 switched on (process-wide; float32 arrays stay float32).

        Keras' type promotion also caps every result at 32 bits under JAX, as JAX does without
        x64: `result_type("float64", "float32")` is float32 there, which put LayerNormalization
        (it computes in result_type(x.dtype, "float32")) in float32. With x64 on, the cap is
        lifted for float64.
        """
        from keras.src.backend.common import dtypes

        jax.config.update("jax_enable_x64", True)
        dtypes.BIT64_TO_BIT32_DTYPE["float64"] = "float64"

    def program_flops(fn, *args):
        """XLA's count of the floating-point operations of fn(*args) as one program."""
        cost = jax.jit(fn).lower(*args).cost_analysis()
        cost = cost[0] if isinstance(cost, list) else cost
        return cost.get("flops") if cost else None  # None where the backend has no count (JAX 0.11 on a GPU)

    def device_names():
        return [str(d) for d in jax.devices()]

    def on_accelerator():
        """Whether JAX computes on a GPU or TPU."""
        return jax.default_backend() != "cpu"

    def profile(log_dir):
        """A context that records a trace of what runs inside it (TensorBoard's profile tab)."""
        return jax.profiler.trace(log_dir)

    def _join_processes():
        keras.distribution.initialize()  # jax.distributed.initialize, from KERAS_DISTRIBUTION_*

    def process_index():
        """0 for the process that writes the run folder; others train alongside it."""
        return jax.process_index()

    def process_count():
        return jax.process_count()

    def check_same_on_every_process(value, message):
        """UserError(message) on every process unless `value` (a small int32 array) is the same on all."""
        if jax.process_count() > 1:
            from jax.experimental import multihost_utils

            try:
                multihost_utils.assert_equal(value, message)
            except AssertionError:
                raise UserError(message) from None

    class DataParallel:
        """A round on `count` devices with Keras' `keras.distribution.DataParallel`: the global
        batch is split over the devices, the state is replicated, and XLA partitions the one-device
        program (inserting the all-reduces), so the math is the one-device math: losses are means
        over the global batch, and BatchNorm's statistics too."""

        def __init__(self, count):
            self.count = count
            mesh = keras.distribution.DataParallel(devices=keras.distribution.list_devices()[:count])
            self.mesh, self.batch_axis = mesh.device_mesh, mesh.batch_dim_name

        def _sharding(self, split_axis=None):
            """Replicated, or split over the devices along `split_axis` (the other axes whole)."""
            axes = [] if split_axis is None else [None] * split_axis + [self.batch_axis]
            return keras.distribution.TensorLayout(axes, self.mesh).backend_layout

        def place(self, batches):
            """Batches (rounds, global batch, ...) split over the devices along axis 1."""
            # Every process holds the whole global batch and gives its devices their parts.
            split = self._sharding(1)
            return jax.tree_util.tree_map(
                lambda a: jax.make_array_from_callback(a.shape, split, lambda index: a[index]), batches)

        def compile_round(self, fn):
            """fn(state, *batches) compiled for the devices: state replicated, batches split.

            The state goes in as NumPy or as the last call's output, which is already replicated,
            so nothing is re-laid out between rounds."""
            replicated, split = self._sharding(), self._sharding(1)
            jitted = {}

            def run(state, *batches):
                if not isinstance(jax.tree_util.tree_leaves(state)[0], jax.Array):
                    # NumPy (a new or loaded state): laid out once, as the program's output will be,
                    # so that the next call does not compile again for committed arrays.
                    state = jax.device_put(state, replicated)
                if len(batches) not in jitted:
                    jitted[len(batches)] = jax.jit(fn, in_shardings=(replicated,) + (split,) * len(batches),
                                                   out_shardings=replicated)
                return jitted[len(batches)](state, *batches)

            return run

elif BACKEND == "tensorflow":
    import tensorflow as tf

    def value_and_grad(fn):
        """fn(params, *args) -> (loss, aux)  becomes  f(params, *args) -> ((loss, aux), grads)."""

        def wrapped(params, *args):
            params = tf.nest.map_structure(tf.convert_to_tensor, params)  # eager NumPy too
            with tf.GradientTape() as tape:
                tape.watch(params)
                loss, aux = fn(params, *args)
            grads = tape.gradient(loss, params, unconnected_gradients=tf.UnconnectedGradients.ZERO)
            replicas = tf.distribute.get_replica_context()
            if replicas is not None and replicas.num_replicas_in_sync > 1:
                # Each replica's loss is a mean over its part of the batch: the mean of their
                # gradients is the gradient of the mean over the global batch.
                grads = replicas.all_reduce(tf.distribute.ReduceOp.MEAN, grads)
            return (loss, aux), grads

        return wrapped

    @functools.cache
    def on_accelerator():
        """Whether TensorFlow sees a GPU. Asked at first use, not on import: listing the devices
        makes TensorFlow read its XLA flags, which keep_compiled_programs may still have to set."""
        return bool(tf.config.list_physical_devices("GPU"))

    def compile_function(fn, xla_on_cpu=True, quick=False, keep=None):
        """A graph function, XLA-compiled on GPU, and on CPU when xla_on_cpu (otherwise TF's own CPU
        kernels run the graph; common/cpu_compile.py decides which by measuring). `quick` changes
        nothing here: TensorFlow takes XLA's options for the whole process (XLA_FLAGS), not per
        program. Nor does `keep`: TensorFlow traces every graph at every start."""
        return tf.function(fn, jit_compile=on_accelerator() or xla_on_cpu, reduce_retracing=True)


    def to_numpy(tree):
        return tf.nest.map_structure(lambda a: np.asarray(a), tree)

    def scan(fn, init, xs):
        """fn(carry, x) -> (carry, y) over the leading axis of xs: (last carry, stacked ys), as
        jax.lax.scan. (keras.ops.scan under TensorFlow needs every y shaped as the carry.)"""
        init, xs = tf.nest.map_structure(tf.convert_to_tensor, (init, xs))
        first = tf.nest.flatten(xs)[0]
        count = first.shape[0] if first.shape[0] is not None else tf.shape(first)[0]
        # The ys' structure, dtypes and shapes, from a trace of fn that the program does not keep.
        specs = tf.nest.map_structure(lambda t: tf.TensorSpec(t.shape, t.dtype), init), \
            tf.nest.map_structure(lambda t: tf.TensorSpec(t.shape[1:], t.dtype), xs)
        y_like = tf.function(fn).get_concrete_function(*specs).structured_outputs[1]
        ys = [tf.TensorArray(y.dtype, size=count, element_shape=y.shape) for y in tf.nest.flatten(y_like)]

        def body(i, carry, ys):
            carry, y = fn(carry, tf.nest.map_structure(lambda a: a[i], xs))
            return i + 1, carry, [a.write(i, v) for a, v in zip(ys, tf.nest.flatten(y))]

        _, carry, ys = tf.while_loop(lambda i, *_: i < count, body, (tf.constant(0), init, ys),
                                     maximum_iterations=count)
        return carry, tf.nest.pack_sequence_as(y_like, [a.stack() for a in ys])

    def to_device(tree):
        """Arrays copied to the default device (ahead of the step that needs them)."""
        return tf.nest.map_structure(tf.identity, tree)

    def set_random_seed(seed):
        """Python's, NumPy's, TensorFlow's and Keras' seeds (keras.utils.set_random_seed)."""
        keras.utils.set_random_seed(seed)

    def weights_on_demand():
        """Computes the initial weights as the networks are built: TensorFlow computes each
        initializer eagerly, without a program to compile (JAX: deferred until read)."""
        return contextlib.nullcontext()

    # Building the networks computes their initial weights (weights_on_demand): reading them
    # costs nothing to spare, and a state made otherwise changes TensorFlow's programs
    # (PureModel.state_template).
    WEIGHTS_BUILT = True

    def vmap(fn):
        raise UserError("several runs in one program (jax.vmap) are wired for KERAS_BACKEND=jax only; "
                        "under TensorFlow, train one run per program")

    def keep_compiled_programs(folder):
        """XLA programs written to, and read back from, `folder` (TensorFlow's XLA persistent
        cache, --tf_xla_persistent_cache_directory in TF_XLA_FLAGS): a second start of the same
        run loads them instead of compiling them again. It keeps what runs under XLA (a GPU, or a
        CPU where --cpu-compile chose XLA); a TF graph without XLA is rebuilt at every start.
        TensorFlow reads the flag at its first XLA compile, so this comes before it. It keys an
        entry by the program's fingerprint and the device, and stops a run at an entry it cannot
        parse: such an entry is removed first, with a warning, and compiled afresh. Returns where
        programs are kept: a cache TF_XLA_FLAGS already names is kept instead of `folder`."""
        named = _tf_cache_folder()
        if named:
            return named
        os.makedirs(folder, exist_ok=True)
        from google.protobuf import empty_pb2

        _remove_unreadable_programs(folder, ".pb", empty_pb2.Empty().ParseFromString)  # the wire format
        flags = os.environ.get("TF_XLA_FLAGS", "")
        os.environ["TF_XLA_FLAGS"] = f"{flags} --tf_xla_persistent_cache_directory={folder}".strip()
        return folder

    def _tf_cache_folder():
        """The XLA persistent cache TF_XLA_FLAGS names, or None."""
        named = re.search(r"--tf_xla_persistent_cache_directory=(\S+)", os.environ.get("TF_XLA_FLAGS", ""))
        return named.group(1) if named else None

    def programs_found():
        """A count to compare before and after a program's first call (`how_built`): the
        entries in XLA's persistent cache, None without one."""
        folder = _tf_cache_folder()
        if not folder:
            return None
        try:
            return len(os.listdir(folder))
        except OSError:
            return 0

    def how_built(found_before, xla=True):
        """How the programs first called since `programs_found()` gave found_before were made: a
        TF graph without XLA is traced; an XLA program that added no cache entry was loaded."""
        if not xla:
            return "traced (a TF graph, rebuilt at every start)"
        if found_before is None:
            return "compiled"
        return "compiled" if programs_found() > found_before else "loaded from the cache"

    def stage_seconds():
        """{}: TensorFlow records no split of a first call into tracing and XLA."""
        return {}

    def enable_float64():
        """Nothing to do: TensorFlow computes in float64 wherever the arrays are float64."""

    def program_flops(fn, *args):
        """None: TensorFlow does not expose XLA's cost analysis (the benchmark counts instead)."""
        return None

    def device_names():
        return [d.name for d in tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")]

    def profile(log_dir):
        """A context that records a trace of what runs inside it (TensorBoard's profile tab)."""
        return tf.profiler.experimental.Profile(log_dir)

    def _join_processes():
        raise UserError("training over several processes (KERAS_DISTRIBUTION_NUM_PROCESSES) is wired "
                        "for KERAS_BACKEND=jax only; under TensorFlow, train on one machine's devices")

    def process_index():
        return 0

    def process_count():
        return 1

    def check_same_on_every_process(value, message):
        pass  # one process

    class DataParallel:
        """A round on `count` devices with `tf.distribute.MirroredStrategy`: each replica runs the
        round on its part of the global batch, gradients are averaged over replicas before every
        optimizer step (`value_and_grad`), BatchNorm normalises with each replica's own batch
        statistics (the TensorFlow default), and its moving statistics and the losses are averaged
        at the end of the round. Like Keras' own `fit`, it runs without XLA under tf.distribute."""

        SEED_STRIDE = 1_000_003  # replica i draws its noise from seed + i * this, not replica 0's

        def __init__(self, count):
            self.count = count
            # Reduced through one device, not by collective ops: the collectives of two updates
            # that do not depend on each other (AEGAN's Dx and Dz) ran in different orders on
            # different replicas ("Shape mismatch in the collective instance").
            self.strategy = tf.distribute.MirroredStrategy(
                device_names()[:count], cross_device_ops=tf.distribute.ReductionToOneDevice())

        def place(self, batches):
            return batches  # each replica takes its part inside the program

        def compile_round(self, fn):
            """fn(state, *batches) run on every replica, on its part of axis 1 of the batches."""
            n = self.count

            def replica(state, *batches):
                i = tf.distribute.get_replica_context().replica_id_in_sync_group

                def part(a):
                    size = a.shape[1] // n
                    return a[:, i * size:(i + 1) * size]

                def seeded(a):
                    return a + tf.cast([i * self.SEED_STRIDE, 0], a.dtype) if a.dtype.is_integer else a

                return fn(tf.nest.map_structure(seeded, state), *tf.nest.map_structure(part, batches))

            def gather(value):
                # Floats: averaged (the same on every replica, except BatchNorm's moving statistics
                # and the losses); noise seeds and flags: replica 0's, which drew from the unshifted seed.
                first = self.strategy.experimental_local_results(value)[0]
                if first.dtype.is_floating:
                    return self.strategy.reduce(tf.distribute.ReduceOp.MEAN, value, axis=None)
                return first

            @tf.function(reduce_retracing=True)
            def run(state, *batches):
                out = self.strategy.run(replica, args=(state, *batches))
                return tf.nest.map_structure(gather, out)

            return run

else:
    raise ImportError(f"KERAS_BACKEND={BACKEND!r} is not supported: use tensorflow (default) or jax")


def join_launched_processes():
    """Joins the other processes of a run over several machines when the launcher set
    KERAS_DISTRIBUTION_NUM_PROCESSES above 1 (with KERAS_DISTRIBUTION_JOB_ADDRESSES and
    KERAS_DISTRIBUTION_PROCESS_ID: see `keras.distribution.initialize`). Call it before anything
    runs on a device. Returns the number of processes."""
    count = os.environ.get("KERAS_DISTRIBUTION_NUM_PROCESSES", "1")
    if not count.isdigit() or int(count) < 1:
        raise UserError(f"KERAS_DISTRIBUTION_NUM_PROCESSES must be a whole number of processes, not {count!r}")
    if int(count) > 1:
        missing = [n for n in ("KERAS_DISTRIBUTION_JOB_ADDRESSES", "KERAS_DISTRIBUTION_PROCESS_ID")
                   if not os.environ.get(n)]
        if missing:
            raise UserError(f"KERAS_DISTRIBUTION_NUM_PROCESSES={count} also needs {' and '.join(missing)} set")
        try:
            _join_processes()
        except (RuntimeError, ValueError) as e:
            raise UserError(f"could not join the other {int(count) - 1} process(es) through "
                            f"{os.environ['KERAS_DISTRIBUTION_JOB_ADDRESSES']}: {str(e).splitlines()[0]}") from None
    return int(count)
