"""Feature engineering shared by training and prediction (numpy only, no DB)."""

import warnings

import numpy as np


def _nanmean(a, axis):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)  # all-NaN slices
        return np.nanmean(a, axis=axis)


def subject_means(scores: np.ndarray, fill: np.ndarray | None = None) -> np.ndarray:
    """(n, s) per-subject average; gaps filled with the subject's average (or `fill`)."""
    means = _nanmean(scores, axis=2)
    if fill is None:
        fill = column_fill(means)
    gaps = np.isnan(means)
    means[gaps] = np.take(fill, np.nonzero(gaps)[1])
    return means


def column_fill(means: np.ndarray) -> np.ndarray:
    fill = _nanmean(means, axis=0)
    return np.where(np.isnan(fill), 50.0, fill)


def anomaly_features(scores: np.ndarray, fill: np.ndarray) -> np.ndarray:
    """Subject averages plus consistency signals: spread across subjects and term drops."""
    means = subject_means(scores, fill)
    spread = means.std(axis=1, keepdims=True)
    per_period = _nanmean(scores, axis=1)  # (n, p) average over subjects
    if per_period.shape[1] >= 2:
        diffs = np.diff(per_period, axis=1)
        worst_drop = np.nan_to_num(np.nanmin(diffs, axis=1, initial=0.0))[:, None]
    else:
        worst_drop = np.zeros((len(scores), 1))
    # Largest gap between a student's best and worst subject catches single-subject collapses.
    gap = (means.max(axis=1) - means.min(axis=1))[:, None]
    return np.hstack([means, spread, worst_drop, gap])


def prediction_rows(scores: np.ndarray, subject_difficulty: np.ndarray):
    """Features describing a (student, subject) history: used to predict its next score.

    Returns X (rows, 5) and an index array (student, subject) for each row; the
    history is every period given, so callers pass periods[:-1] when training.
    """
    overall = _nanmean(scores.reshape(len(scores), -1), axis=1)
    X, index = [], []
    n, s, _ = scores.shape
    for i in range(n):
        for j in range(s):
            hist = scores[i, j][~np.isnan(scores[i, j])]
            if hist.size == 0 or np.isnan(overall[i]):
                continue
            trend = hist[-1] - hist[0] if hist.size > 1 else 0.0
            X.append([hist.mean(), hist[-1], overall[i], subject_difficulty[j], trend])
            index.append((i, j))
    return np.array(X, dtype=float).reshape(-1, 5), np.array(index, dtype=int).reshape(-1, 2)
