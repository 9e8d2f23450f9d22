"""Fit the four models from a ScoreTensor. Each returns a picklable bundle (dict)."""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.linear_model import Ridge
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler

from .careers import career_weights
from .dataset import ScoreTensor
from .features import anomaly_features, column_fill, prediction_rows, subject_means

MODEL_NAMES = ("career_recommender", "peer_analyzer", "anomaly_detector", "performance_predictor")
MIN_STUDENTS = 10


class NotEnoughData(ValueError):
    pass


def _check(tensor: ScoreTensor) -> None:
    if tensor.n_students < MIN_STUDENTS:
        raise NotEnoughData(f"need scores for at least {MIN_STUDENTS} students, "
                            f"have {tensor.n_students}")


def _base(tensor: ScoreTensor) -> dict:
    fill = column_fill(np.nanmean(tensor.scores, axis=2))
    return {"subjects": tensor.subjects, "fill": fill, "n_students": tensor.n_students}


def fit_career_recommender(tensor: ScoreTensor) -> dict:
    """Scaler fitted on the school's scores, so strengths are relative to classmates."""
    _check(tensor)
    bundle = _base(tensor)
    means = subject_means(tensor.scores, bundle["fill"])
    scaler = StandardScaler().fit(means)
    matched = career_weights(tensor.subjects, tensor.subject_names, tensor.subject_areas)
    weights = np.zeros((len(matched), len(tensor.subjects)))
    for row, pairs in enumerate(matched.values()):
        for index, w in pairs:
            weights[row, index] = w
    bundle.update(scaler=scaler, careers=list(matched), weights=weights)
    return bundle


def fit_peer_analyzer(tensor: ScoreTensor, n_neighbors: int = 6) -> dict:
    _check(tensor)
    bundle = _base(tensor)
    means = subject_means(tensor.scores, bundle["fill"])
    scaler = StandardScaler().fit(means)
    # A few extra neighbours, so that peers from other schools can be filtered out.
    k = min(tensor.n_students, n_neighbors * 3)
    nn = NearestNeighbors(n_neighbors=k).fit(scaler.transform(means))
    bundle.update(scaler=scaler, nn=nn, student_ids=tensor.student_ids,
                  school_ids=tensor.school_ids)
    return bundle


def fit_anomaly_detector(tensor: ScoreTensor, contamination: float = 0.05, seed: int = 0) -> dict:
    _check(tensor)
    bundle = _base(tensor)
    X = anomaly_features(tensor.scores, bundle["fill"])
    scaler = StandardScaler().fit(X)
    forest = IsolationForest(n_estimators=200, contamination=contamination, random_state=seed)
    forest.fit(scaler.transform(X))
    flagged = float((forest.predict(scaler.transform(X)) == -1).mean())
    bundle.update(scaler=scaler, forest=forest,
                  metrics={"students": tensor.n_students, "flagged_share": round(flagged, 4)})
    return bundle


def fit_performance_predictor(tensor: ScoreTensor) -> dict:
    """Learn next-period score from the history before it (needs >= 2 periods)."""
    _check(tensor)
    if tensor.scores.shape[2] < 2:
        raise NotEnoughData("need scores from at least two terms to learn a trend")
    bundle = _base(tensor)
    history, target = tensor.scores[:, :, :-1], tensor.scores[:, :, -1]
    difficulty = column_fill(np.nanmean(history, axis=2))
    X, index = prediction_rows(history, difficulty)
    y = target[index[:, 0], index[:, 1]]
    keep = ~np.isnan(y)
    X, y = X[keep], y[keep]
    # Quality on rows the model did not see (every fifth row), then fitted on all of them.
    held = np.arange(len(y)) % 5 == 0
    mae = None
    if held.sum() and (~held).sum():
        check = Ridge(alpha=1.0).fit(X[~held], y[~held])
        mae = round(float(np.abs(check.predict(X[held]) - y[held]).mean()), 2)
    model = Ridge(alpha=1.0).fit(X, y)
    bundle.update(model=model, difficulty=column_fill(np.nanmean(tensor.scores, axis=2)),
                  train_rows=int(len(y)),
                  metrics={"train_rows": int(len(y)), "holdout_mae_points": mae})
    return bundle


FITTERS = {
    "career_recommender": fit_career_recommender,
    "peer_analyzer": fit_peer_analyzer,
    "anomaly_detector": fit_anomaly_detector,
    "performance_predictor": fit_performance_predictor,
}
