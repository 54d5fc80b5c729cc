"""item2vec: item embeddings from user behaviour, and recommendations from them."""

from item2vec._validation import NotFittedError, UnknownItemsWarning
from item2vec._version import __version__
from item2vec.corpus import Sequences
from item2vec.ingest import build_corpus, read_events
from item2vec.model import Item2Vec
from item2vec.tuning import TuneResult, tune
from item2vec.vectors import ItemVectors
from item2vec.vocab import Vocabulary

__all__ = [
    "Item2Vec",
    "ItemVectors",
    "NotFittedError",
    "Sequences",
    "TuneResult",
    "UnknownItemsWarning",
    "Vocabulary",
    "__version__",
    "build_corpus",
    "read_events",
    "tune",
]
