"""Compiled programs kept whole between starts, found without tracing them (JAX).

JAX's persistent compilation cache (`engine.keep_compiled_programs`) finds a program by its
XLA computation, so every start first traces the Python that makes it: on a 2-core AMD EPYC,
3.9 of the 10 s that a warm small-preset AEGAN start spent beyond a round. Here a program is
also kept under a key made before tracing, from everything its computation is made of:

- the source of the repository's code (`SOURCE_FOLDERS`), read when a run starts keeping
  programs (`engine.keep_compiled_programs`);
  the function compiled, each function it closes over, and the model's classes must be defined
  there (or in Keras, JAX or NumPy), else the program is traced as before;
- the values the function closes over, and the model's own (`PureModel.lasting_key`): its
  config and its optimizers' settings; its networks are those its code builds from the config;
- the arguments' tree, shapes and dtypes; the compile options and `XLA_FLAGS`; Keras' and
  JAX's settings that change a trace; the versions of Python, NumPy, Keras, JAX and jaxlib;
  the device and the CPU's instruction sets.

A value that cannot be keyed this way (an object of a class defined elsewhere, a function
from a notebook, one put in place of a function of the repository's modules) keeps its
program out of this store; it is traced and found in JAX's cache. Not seen: data of the
repository's modules changed at run time (a module's constant set from a notebook). A
program edited after the process read the source is not named under the key (the file times
are checked at each write). An entry that cannot be read is removed with a warning and
compiled afresh.

A program not found here is traced and compiled afresh, never read from JAX's cache: XLA:CPU
cannot serialize again an executable read from there. So after a change to the repository's
code, the first start compiles each such program once.
"""

import contextlib
import dataclasses
import hashlib
import os
import pickle
import platform
import sys
import types

import numpy as np

from common import engine, files

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE_FOLDERS = ("aegan", "ogan", "common", "collapse", "runs", "experiments", "benchmarks")
LIBRARIES = ("keras", "jax", "jaxlib", "numpy")  # their versions are in every key
BUILT_IN = ("builtins", "math", "operator")
SUFFIX = ".program"  # a compiled program, named by its computation
NAME_SUFFIX = ".program-name"  # the name of the one a key (made before tracing) finds


class Unkeyable(Exception):
    """A value whose key would not last between processes, or not say what it computes."""


_source = {}


def read_source():
    """{absolute path: (size, mtime)} of the repository's code, and the digest of its contents,
    read once per process."""
    if not _source:
        files, digest = {}, hashlib.sha256()
        for folder in SOURCE_FOLDERS:
            for here, dirs, names in os.walk(os.path.join(ROOT, folder)):
                dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__")))
                for name in sorted(n for n in names if n.endswith(".py")):
                    path = os.path.join(here, name)
                    stat = os.stat(path)
                    with open(path, "rb") as f:
                        data = f.read()
                    files[path] = (stat.st_size, stat.st_mtime_ns)
                    digest.update(os.path.relpath(path, ROOT).encode() + b"\0" + data + b"\0")
        _source.update(files=files, digest=digest.hexdigest())
    return _source


def source_unchanged():
    """Whether the repository's code files are as they were when the key's source was read."""
    for path, seen in read_source()["files"].items():
        try:
            stat = os.stat(path)
        except OSError:
            return False
        if (stat.st_size, stat.st_mtime_ns) != seen:
            return False
    return True


def _library_folders():
    """{library: its folder}, for LIBRARIES that have one."""
    folders = {}
    for name in LIBRARIES:
        module = sys.modules.get(name)
        if getattr(module, "__file__", None):
            folders[name] = os.path.dirname(os.path.abspath(module.__file__))
    return folders


def _code_key(code):
    """Where a function's code is: a place in the repository's source (part of every key), or
    in a library (its version is)."""
    path = os.path.abspath(code.co_filename)
    if path in read_source()["files"]:
        return ("code", os.path.relpath(path, ROOT), code.co_qualname, code.co_firstlineno)
    for name, folder in _library_folders().items():
        if path.startswith(folder + os.sep):
            return ("library", name, os.path.relpath(path, folder), code.co_qualname, code.co_firstlineno)
    raise Unkeyable(f"{code.co_qualname} is defined outside the repository ({code.co_filename})")


def _library(obj):
    module = getattr(obj, "__module__", None) or ""
    return module.split(".")[0] in LIBRARIES + BUILT_IN


def _class_key(cls):
    for c in cls.__mro__:
        if c is object or _library(c):
            continue
        path = os.path.abspath(getattr(sys.modules.get(c.__module__), "__file__", "") or "")
        if path not in read_source()["files"]:
            raise Unkeyable(f"class {c.__qualname__} is defined outside the repository")
    return ("class", cls.__module__, cls.__qualname__)


def _patched_from_outside():
    """The first function found in the repository's loaded modules, or in their classes, whose
    code is not in the repository's source (put there at run time, from a notebook say): its
    name, or None. Programs may call any of them by name, so none is kept while one is."""
    files = read_source()["files"]
    for module in list(sys.modules.values()):
        if os.path.abspath(getattr(module, "__file__", None) or "") not in files:
            continue
        for name, value in list(vars(module).items()):
            if isinstance(value, type) and value.__module__ == module.__name__:
                # Less what dataclasses and namedtuples write for a class, from its fields.
                made = dataclasses.is_dataclass(value) or issubclass(value, tuple)
                members = [(f"{name}.{k}", v) for k, v in vars(value).items()
                           if not (made and k.startswith("__"))]
            else:
                members = [(name, value)]
            for full, member in members:
                member = getattr(member, "__func__", member)  # staticmethod, classmethod
                member = getattr(member, "__wrapped__", member)  # under a decorator (functools.wraps)
                code = getattr(member, "__code__", None)
                if isinstance(member, types.FunctionType) and os.path.abspath(code.co_filename) not in files \
                        and not _library(member):
                    return f"{module.__name__}.{full}"
    return None


def value_key(value, _seen=None):
    """A key for `value` that is equal in another process exactly when the value computes or
    holds the same: plain data by value, arrays by their bytes, functions by where their code
    is in the repository's source (part of every key) and what they close over, objects of
    the repository's classes by their attributes. Raises Unkeyable for anything else."""
    seen = _seen if _seen is not None else set()
    if value is None or isinstance(value, bool | int | float | complex | str | bytes):
        return (type(value).__name__, repr(value))
    if isinstance(value, np.ndarray | np.generic):
        value = np.asarray(value)
        return ("array", value.dtype.str, value.shape, hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest())
    if id(value) in seen:
        raise Unkeyable("a value that holds itself")
    seen = seen | {id(value)}
    if isinstance(value, tuple | list):
        return (type(value).__name__, tuple(value_key(v, seen) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((repr(k), value_key(v, seen)) for k, v in value.items())))
    if isinstance(value, types.MethodType):
        return ("method", value_key(value.__func__, seen), value_key(value.__self__, seen))
    if isinstance(value, types.FunctionType):
        try:
            closed = [c.cell_contents for c in value.__closure__ or ()]
        except ValueError:  # a name it closes over that is not yet bound
            raise Unkeyable(f"{value.__qualname__} closes over a name not yet bound") from None
        return ("function", _code_key(value.__code__), tuple(value_key(c, seen) for c in closed),
                value_key(value.__defaults__, seen), value_key(value.__kwdefaults__, seen))
    if isinstance(value, types.BuiltinFunctionType | type) and _library(value):
        return ("library", getattr(value, "__module__", ""), value.__qualname__)
    if isinstance(value, type):
        return _class_key(value)
    key_of_model = getattr(value, "lasting_key", None)
    if callable(key_of_model) and not isinstance(value, type):
        return key_of_model()
    if dataclasses.is_dataclass(value):
        return (_class_key(type(value)), tuple((f.name, value_key(getattr(value, f.name), seen))
                                               for f in dataclasses.fields(value)))
    if hasattr(value, "__dict__") and not _library(type(value)):
        return (_class_key(type(value)), value_key(vars(value), seen))
    raise Unkeyable(f"a value of type {type(value).__qualname__}")


def compile_settings():
    """What changes a compiled program besides its computation: the versions (and those of the
    libraries Keras and JAX trace with, optree and ml_dtypes), XLA's flags, the device and the
    CPU's instruction sets."""
    import jax
    import jax.lib
    import keras

    flags = ""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line for line in f if line.startswith(("flags", "Features"))), "")
    except OSError:
        pass
    device = jax.devices()[0]
    helpers = tuple(getattr(sys.modules.get(name), "__version__", None) for name in ("optree", "ml_dtypes"))
    return ("compile", sys.version, np.__version__, keras.__version__, jax.__version__, jax.lib.__version__, helpers,
            os.environ.get("XLA_FLAGS", ""), device.platform, device.device_kind,
            device.client.platform_version, platform.machine(), flags)


def trace_settings():
    """What changes a trace besides the function and its arguments: the repository's source,
    Keras' and JAX's settings, and compile_settings. Raises Unkeyable while a function of the
    repository's modules is one from elsewhere."""
    import jax
    import keras

    patched = _patched_from_outside()
    if patched:
        raise Unkeyable(f"{patched} was replaced by a function defined outside the repository")
    return ("trace", read_source()["digest"], keras.config.floatx(), keras.config.epsilon(),
            keras.config.image_data_format(), keras.config.dtype_policy().name, jax.config.jax_enable_x64,
            str(jax.config.jax_default_matmul_precision), jax.config.jax_numpy_dtype_promotion,
            jax.config.jax_numpy_rank_promotion, str(jax.config.jax_default_prng_impl),
            jax.config.jax_threefry_partitionable, compile_settings())


@contextlib.contextmanager
def _compiled_afresh():
    """JAX's persistent cache left out of the compiles inside: XLA:CPU cannot serialize again an
    executable it read from there."""
    import jax
    from jax.experimental.compilation_cache import compilation_cache

    if not jax.config.jax_enable_compilation_cache:
        yield
        return
    jax.config.update("jax_enable_compilation_cache", False)
    compilation_cache.reset_cache()
    try:
        yield
    finally:
        jax.config.update("jax_enable_compilation_cache", True)
        compilation_cache.reset_cache()


def digest(*parts):
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:40]


def _slug(name):
    return "".join(c if c.isalnum() else "_" for c in name)[:60]


class KeptProgram:
    """`jitted` (jax.jit of a function) as a program kept in `folder`, found in two steps:

    - by `key` (made before tracing: the function, the model, trace_settings) and the
      arguments' types, a small entry naming the compiled program: a later start loads it
      without tracing;
    - by its traced computation (the lowered StableHLO), the compile options and
      compile_settings: a start whose key is new (after a change to the source) traces, and
      loads the program compiled before where the computation is the same, then names it
      under the new key. Otherwise it compiles afresh and keeps it under both.

    Calls with arguments of other types go through `jitted`."""

    def __init__(self, jitted, name, key, options, folder):
        self.jitted, self.name, self.key, self.options, self.folder = jitted, name, key, options, folder
        self.compiled = None
        self.signature = None
        self.how = None  # after the first call: "loaded" (untraced), "traced and loaded" or "compiled"

    @staticmethod
    def _signature(args):
        import jax

        leaves, tree = jax.tree.flatten(args)
        return str(tree), tuple(str(jax.typeof(a)) for a in leaves)

    def __call__(self, *args):
        if self.compiled is None:
            if _traced(args):  # called inside another program: part of it
                return self.jitted(*args)
            self.signature = self._signature(args)
            self.compiled = self._load_or_compile(args)
        try:
            return self.compiled(*args)
        except (TypeError, ValueError):
            if self._signature(args) == self.signature and not _traced(args):
                raise
            return self.jitted(*args)  # other types, or inside another program: the plain jit

    def _path(self, digest_, suffix):
        return os.path.join(self.folder, f"{_slug(self.name)}-{digest_}{suffix}")

    def _load_or_compile(self, args):
        named = self._path(digest(self.key, self.options, self.signature), NAME_SUFFIX)
        program = _read(named)
        if program is not None:
            try:
                program = program.decode("ascii")
                assert program.endswith(SUFFIX) and os.path.basename(program) == program
            except (UnicodeDecodeError, AssertionError):
                engine.remove_unreadable_program(named)
            else:
                compiled = self._load(os.path.join(self.folder, program), args)
                if compiled is not None:
                    self.how = "loaded"
                    return compiled
        lowered = self.jitted.trace(*args).lower()
        computation = self._path(digest(lowered.as_text(), self.signature, str(lowered.out_tree), self.options,
                                        compile_settings()), SUFFIX)
        compiled = self._load(computation, args)
        if compiled is not None:
            self.how = "traced and loaded"
        else:
            with _compiled_afresh():  # XLA:CPU cannot serialize again an executable read from JAX's cache
                compiled = lowered.compile()
            self.how = "compiled"
            if not self._write(computation, compiled):
                return compiled
        if source_unchanged():
            _write_atomically(named, os.path.basename(computation).encode())
        return compiled

    def _load(self, path, args):
        """The program kept at path, or None where there is none or it cannot be read (then
        removed, with a warning)."""
        import jax
        from jax.experimental import serialize_executable

        data = _read(path)
        if data is None:
            return None
        try:
            payload, outputs = pickle.loads(data)
            return serialize_executable.deserialize_and_load(
                payload, jax.tree.structure((args, {})), jax.tree.structure(outputs))
        except Exception:  # whatever unpickling or XLA raises on damaged bytes
            engine.remove_unreadable_program(path)
            return None

    def _write(self, path, compiled):
        """Keep `compiled` at path; False where XLA cannot serialize it (a host callback, a
        constant argument)."""
        import jax
        from jax.experimental import serialize_executable

        try:
            payload, _, out_tree = serialize_executable.serialize(compiled)
            outputs = jax.tree.unflatten(out_tree, [0] * out_tree.num_leaves)
            data = pickle.dumps((payload, outputs))
        except Exception:  # what XLA raises for a program it cannot serialize
            return False
        return _write_atomically(path, data)


def _traced(args):
    import jax

    return any(isinstance(a, jax.core.Tracer) for a in jax.tree.leaves(args))


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def _write_atomically(path, data):
    """Write data whole at path (files.write_atomic); False where the disk refused it."""
    try:
        files.write_atomic(path, lambda f: f.write(data))
        return True
    except OSError:
        return False
