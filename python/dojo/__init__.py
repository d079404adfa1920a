"""dojo from Python: fast environments with Gymnasium's API, agents trained and run as the dojo
command trains them, Keras-style models and the molecule translator.

    import dojo
    env = dojo.make("CartPole-v1")
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())

    summary, run_dir = dojo.train("ppo", "CartPole-v1", steps=50_000, seed=0)
    agent = dojo.load(run_dir)
"""

import os as _os


def _choose_blas_kernels():
    # Debian's OpenBLAS 0.3.21 takes AVX-512 Xeons newer than its table for generic SSE3 CPUs and runs
    # every matrix product at half speed or less; it reads OPENBLAS_CORETYPE only while it loads,
    # which is when this package (or NumPy, when imported first) loads it. The dojo command re-executes
    # itself to fix this; a Python process cannot, so the variable is set here, before the loading.
    if "OPENBLAS_CORETYPE" in _os.environ:
        return
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line for line in f if line.startswith("flags")), "").split()
    except OSError:
        return
    if "avx512f" in flags and "avx512bw" in flags:
        _os.environ["OPENBLAS_CORETYPE"] = "SkylakeX"


_choose_blas_kernels()

from ._dojo import (  # noqa: E402
    Agent,
    Box,
    Discrete,
    Env,
    Error,
    MultiDiscrete,
    Space,
    VectorEnv,
    __version__,
    blas_kernels,
    evaluate,
    load,
    make,
    make_vec,
    registered_ids,
    resume,
    set_num_threads,
    train,
)
from . import mol, nn  # noqa: E402

if blas_kernels() == "Prescott" and _os.environ.get("OPENBLAS_CORETYPE") == "SkylakeX":
    import warnings as _warnings

    _warnings.warn(
        "OpenBLAS was loaded (by NumPy, imported before dojo) with its generic kernels: matrix products "
        "run at half speed or less. Import dojo first, or start Python with OPENBLAS_CORETYPE=SkylakeX.",
        RuntimeWarning,
        stacklevel=2,
    )

__all__ = [
    "Agent", "Box", "Discrete", "Env", "Error", "MultiDiscrete", "Space", "VectorEnv", "__version__",
    "blas_kernels", "evaluate", "load", "make", "make_vec", "mol", "nn", "registered_ids", "resume",
    "set_num_threads", "train",
]
