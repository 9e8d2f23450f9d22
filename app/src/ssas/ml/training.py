"""Train every model from the school's own data and store new versions."""

import logging

from .dataset import load_tensor
from .estimators import FITTERS, NotEnoughData
from .store import ModelStore

log = logging.getLogger(__name__)


def train_all(school_id: int | None = None, store: ModelStore | None = None) -> dict[str, str]:
    """Returns {model name: new version}. Raises NotEnoughData before writing anything."""
    store = store or ModelStore()
    tensor = load_tensor(school_id=school_id)
    bundles = {name: fit(tensor) for name, fit in FITTERS.items()}  # all or nothing
    versions = {name: store.save(name, bundle) for name, bundle in bundles.items()}
    log.info("trained %d models on %d students: %s", len(versions), tensor.n_students, versions)
    return versions


__all__ = ["NotEnoughData", "train_all"]
