"""What the trainers of the shipped linear models share: fitting a logistic regression over sparse string
features into plain weights, folds over examples, and writing the weights beside the package."""
from __future__ import annotations

import json
import random
from collections.abc import Sequence
from pathlib import Path


def fit_weights(rows: Sequence[tuple[str, ...]], labels: Sequence[str], classes: Sequence[str], c: float,
                class_weight: str | None = None) -> tuple[dict[str, tuple[float, ...]], tuple[float, ...]]:
    """A logistic regression (scikit-learn, CPU, seconds) over rows of present features: the weights of
    each feature per class in the order of `classes` (two classes: one weight, for the second) and the
    intercepts. Near-zero weights are left out."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression
    vec = DictVectorizer()
    x = vec.fit_transform([dict.fromkeys(r, 1) for r in rows])
    clf = LogisticRegression(C=c, max_iter=2000, class_weight=class_weight)
    clf.fit(x, list(labels))
    if len(classes) == 2:
        sign = 1.0 if list(clf.classes_).index(classes[1]) == 1 else -1.0
        coef, intercept = clf.coef_ * sign, clf.intercept_ * sign
    else:
        order = [list(clf.classes_).index(k) for k in classes]
        coef, intercept = clf.coef_[order], clf.intercept_[order]
    weights = {name: tuple(float(w) for w in coef[:, col]) for name, col in vec.vocabulary_.items()
               if max(abs(coef[:, col])) > 1e-3}
    return weights, tuple(float(b) for b in intercept)


def folds(items: list, k: int, seed: int = 13) -> list[tuple[list, list]]:
    shuffled = items[:]
    random.Random(seed).shuffle(shuffled)
    return [([x for j, x in enumerate(shuffled) if j % k != f], [x for j, x in enumerate(shuffled) if j % k == f])
            for f in range(k)]


def save(model, path: Path) -> Path:
    """`model.to_json()` at `path` (geo/learn/models/<name>.json)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(model.to_json(), separators=(",", ":")) + "\n", encoding="utf-8")
    return path
