import numpy as np
import numpy.typing as npt

ROW_FLOATS: int

class TrainingSetup:
    """The arrays and options of one fit, checked and prepared once for train_chunk."""

    def __init__(
        self,
        syn0: npt.NDArray[np.float32],
        syn1neg: npt.NDArray[np.float32],
        codes: npt.NDArray[np.int32],
        offsets: npt.NDArray[np.int64],
        keep_prob: npt.NDArray[np.float32] | None,
        noise_threshold: npt.NDArray[np.uint32],
        noise_alias: npt.NDArray[np.int32],
        *,
        sg: bool,
        cbow_mean: bool,
        window: int,
        shrink_windows: bool,
        negative: int,
        shared_negatives: bool,
        weights: npt.NDArray[np.float32] | None = None,
        times: npt.NDArray[np.float64] | None = None,
        time_decay: float = 0.0,
        time_window: float = 0.0,
        session_contexts: int = 0,
        past_only: bool = False,
        dim: int | None = None,
    ) -> None: ...
    @property
    def n_items(self) -> int: ...
    @property
    def dim(self) -> int: ...
    @property
    def stride(self) -> int: ...
    @property
    def n_sequences(self) -> int: ...
    @property
    def max_len(self) -> int: ...

def train_chunk(
    setup: TrainingSetup,
    seq_begin: int,
    seq_end: int,
    alpha_begin: float,
    alpha_end: float,
    seed: int,
    stop: npt.NDArray[np.int32] | None = None,
) -> tuple[int, int, int, float]: ...
def build_alias(
    prob: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.int32]]: ...
def sample_noise(
    noise_threshold: npt.NDArray[np.uint32],
    noise_alias: npt.NDArray[np.int32],
    n_draws: int,
    seed: int,
) -> npt.NDArray[np.int32]: ...
def sigmoid(x: float) -> tuple[float, float]: ...
def topk_merge(
    scores: npt.NDArray[np.float32],
    col0: int,
    best: npt.NDArray[np.float32],
    best_idx: npt.NDArray[np.int64],
) -> None: ...
