"""FAQ scoring, the answer/suggest/none rule, and its thresholds calibrated on the KB itself."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import product
from typing import Any, Literal

import numpy as np

from actions.faq.classifier import Classifier, fit_classifier

logger = logging.getLogger(__name__)

DecisionKind = Literal["answer", "suggest", "none"]

# Requirements, not fitted values: the share of answers that must be right when the KB's own
# texts are asked back (questions outside the KB included); the share of questions the KB
# ranks right that may be turned away as "none" to catch questions outside it (a wrong "none"
# costs a customer their answer, a wrong suggestion only a glance at three buttons); the grids.
ANSWER_PRECISION_TARGET = 0.975
IN_SCOPE_RETENTION = 0.955
# The share of questions outside the KB among those asked: an assumption about deployments, not
# a fitted value. The KB's texts asked against the other FAQs stand for them with this weight;
# counting them one for one (half of all trials) would answer only half of what the KB knows.
OUT_OF_SCOPE_SHARE = 0.15
TEMPERATURES = (0.005, 0.01, 0.02, 0.03, 0.05)
CLASSIFIER_WEIGHTS = (0.0, 0.01, 0.03, 0.1, 0.3)
MARGINS = tuple(np.round(np.arange(0.0, 0.301, 0.01), 2))
# A clear winner makes a question more plausibly one the KB knows: the plausibility adds this
# weight times the top FAQ's lead over the next (capped, so a KB of one FAQ stays finite).
NONE_MARGIN_WEIGHTS = (0.0, 0.1, 0.2, 0.4, 0.6, 0.8, 1.2, 1.6)
MAX_LEAD = 1.0
# Cross-fitting: each of FOLDS classifiers learns from the other folds' texts.
FOLDS = 2
CHUNK_ROWS = 512


@dataclass(frozen=True)
class Thresholds:
    """Calibrated parameters of the decision, stored with the index."""

    temperature: float
    classifier_weight: float  # of the log-probability in the score that ranks FAQs
    answer_score: float
    answer_margin: float
    none_weight: float  # of the log-probability in the plausibility that "none" reads
    none_margin_weight: float  # of the top FAQ's lead in that plausibility
    none_score: float

    def plausibility(self, plausibility: np.ndarray | float, lead: np.ndarray | float) -> Any:
        """Add to an FAQ's plausibility the weighted (capped) lead of the top FAQ."""
        return plausibility + self.none_margin_weight * capped_lead(lead)


class FaqScorer:
    """Pool the similarities of an FAQ's texts into one score per FAQ."""

    def __init__(self, row_faqs: Sequence[int] | np.ndarray, n_faqs: int) -> None:
        # Rows sorted by FAQ make every FAQ a contiguous run that reduceat can pool.
        self._order = np.argsort(row_faqs, kind="stable")
        sorted_faqs = np.asarray(row_faqs)[self._order]
        self._starts = np.flatnonzero(np.r_[True, sorted_faqs[1:] != sorted_faqs[:-1]])
        self._faq_numbers = sorted_faqs[self._starts]
        self._n_faqs = n_faqs

    def scores(self, similarities: np.ndarray, temperature: float) -> np.ndarray:
        """Return queries x FAQs scores: a soft maximum over each FAQ's row similarities.

        Rows set to -inf are left out; an FAQ with no row left scores -inf. The soft maximum
        T*log(sum(exp(s/T))) lies between the best paraphrase's score and that plus T*log(n),
        so several close paraphrases outweigh one lucky match (a weighted k-NN vote).
        """
        similarities = similarities[:, self._order]
        peak = similarities.max(axis=1, keepdims=True)
        peak = np.where(np.isfinite(peak), peak, 0.0)
        pooled = np.full((similarities.shape[0], self._n_faqs), -np.inf, dtype=np.float64)
        with np.errstate(divide="ignore"):
            weights = np.exp((similarities - peak) / temperature)
            sums = np.add.reduceat(weights, self._starts, axis=1)
            pooled[:, self._faq_numbers] = peak + temperature * np.log(sums)
        return pooled


def capped_lead(lead: Any) -> Any:
    """Return the top FAQ's lead capped at MAX_LEAD; alone (no runner-up) it leads by the cap."""
    with np.errstate(invalid="ignore"):
        return np.minimum(np.nan_to_num(lead, nan=0.0, posinf=MAX_LEAD), MAX_LEAD)


def decide_kind(
    top_score: float, runner_up_score: float, plausibility: float, thresholds: Thresholds
) -> DecisionKind:
    """Return answer, suggest or none from the two best FAQ scores and the best's plausibility."""
    lead = top_score - runner_up_score
    if thresholds.plausibility(plausibility, lead) < thresholds.none_score:
        return "none"
    if top_score >= thresholds.answer_score and lead >= thresholds.answer_margin:
        return "answer"
    return "suggest"


@dataclass(frozen=True)
class Calibration:
    """What a build learns from the knowledge base: the thresholds and the classifier."""

    thresholds: Thresholds
    classifier: Classifier | None


@dataclass
class _Trials:
    """The KB's texts asked back as questions, with their scores for every FAQ."""

    rows: np.ndarray  # the texts asked
    knn: dict[float, np.ndarray]  # rows x FAQs pooled similarities, by temperature
    log_probabilities: np.ndarray  # rows x FAQs, from the fold's classifier
    truth: np.ndarray  # the FAQ each text belongs to

    def scores(self, temperature: float, weight: float) -> np.ndarray:
        """Return rows x FAQs scores as the engine computes them."""
        return final_score(self.knn[temperature], self.log_probabilities, weight)

    def plausibility(
        self, temperature: float, weight: float, none_weight: float, margin_weight: float
    ) -> np.ndarray:
        """Return the plausibility of each trial's best FAQ (ranked with `weight`)."""
        top, runner_up, _ = self.best_two(temperature, weight)
        best = self.scores(temperature, weight).argmax(axis=1, keepdims=True)
        own = np.take_along_axis(self.scores(temperature, none_weight), best, axis=1)[:, 0]
        return own + margin_weight * capped_lead(top - runner_up)

    def best_two(self, temperature: float, weight: float) -> tuple[np.ndarray, ...]:
        """Return the top score, the runner-up score, and whether the top FAQ is right."""
        scores = self.scores(temperature, weight)
        order = np.argsort(-scores, axis=1)[:, :2]
        top = np.take_along_axis(scores, order[:, :1], axis=1)[:, 0]
        runner_up = (
            np.take_along_axis(scores, order[:, 1:2], axis=1)[:, 0]
            if scores.shape[1] > 1
            else np.full(len(top), -np.inf)
        )
        return top, runner_up, order[:, 0] == self.truth


def final_score(
    knn_scores: np.ndarray, log_probabilities: np.ndarray | None, weight: float
) -> np.ndarray:
    """Combine the pooled neighbours with the classifier's log-probabilities."""
    if log_probabilities is None or not weight:  # 0 * -inf would be nan
        return knn_scores
    return knn_scores + weight * log_probabilities


def calibrate(
    views: np.ndarray, row_faqs: Sequence[int] | np.ndarray, n_faqs: int, seed: int = 0
) -> Calibration:
    """Train the classifier and choose the pooling, weights and thresholds on the KB's texts.

    Each text is asked twice, scored by a classifier that never saw it (cross-fitted):
    against every other text (an in-scope question), and against the other FAQs only (an
    out-of-scope question; the classifier's probabilities are renormalized without its FAQ).
    Neighbours search the whole KB but the text asked, as the bot does: pooled scores grow
    with the number of paraphrases, so a smaller KB would misplace the thresholds.
    """
    faq_of_row = np.asarray(row_faqs)
    rng = np.random.default_rng(seed)
    fold_of_row = rng.integers(0, FOLDS, len(faq_of_row))
    features = views.reshape(len(views), -1)
    embeddings = np.ascontiguousarray(views[:, 0])
    n_known = len(np.unique(faq_of_row))
    has_sibling = np.bincount(faq_of_row, minlength=n_faqs)[faq_of_row] > 1
    parts = []
    for fold in range(FOLDS):
        train = fold_of_row != fold
        classifier = None
        if n_known > 2 and len(np.unique(faq_of_row[train])) > 1:
            classifier = fit_classifier(features[train], faq_of_row[train], n_faqs, seed)
        parts.append((np.flatnonzero(fold_of_row == fold), classifier))
    args = (embeddings, features, faq_of_row, n_faqs)
    with_sibling = [(rows[has_sibling[rows]], classifier) for rows, classifier in parts]
    in_scope = _ask_back(*args, with_sibling, leave_faq_out=False)
    out_of_scope = _ask_back(*args, parts, leave_faq_out=True)
    weights = CLASSIFIER_WEIGHTS if n_known > 2 else (0.0,)
    accuracy = {
        (temperature, weight): float(
            np.mean(in_scope.scores(temperature, weight).argmax(axis=1) == in_scope.truth)
        )
        if len(in_scope.rows)
        else 0.0
        for temperature in TEMPERATURES
        for weight in weights
    }
    # Among ties prefer no classifier and the smallest temperature: the simplest model.
    temperature, weight = max(accuracy, key=lambda k: (accuracy[k], -k[1], -k[0]))
    logger.info(
        "cross-fitted accuracy by temperature and classifier weight: %s",
        ", ".join(f"{t}/{w}: {a:.3f}" for (t, w), a in accuracy.items()),
    )
    none_weight, margin_weight, none_score = _none_rule(
        in_scope, out_of_scope, temperature, weight, weights
    )
    # Only what passes the "none" rule can be answered.
    answer_score, answer_margin = _answer_rule(
        *(
            (
                *trials.best_two(temperature, weight),
                trials.plausibility(temperature, weight, none_weight, margin_weight) >= none_score,
            )
            for trials in (in_scope, out_of_scope)
        )
    )
    thresholds = Thresholds(
        temperature=float(temperature),
        classifier_weight=float(weight),
        answer_score=answer_score,
        answer_margin=answer_margin,
        none_weight=none_weight,
        none_margin_weight=margin_weight,
        none_score=none_score,
    )
    classifier = fit_classifier(features, faq_of_row, n_faqs, seed) if weight else None
    logger.info(
        "calibrated on %d texts: cross-fitted accuracy %.3f, %s",
        len(faq_of_row),
        accuracy[temperature, weight],
        thresholds,
    )
    return Calibration(thresholds, classifier)


def _ask_back(
    embeddings: np.ndarray,
    features: np.ndarray,
    faq_of_row: np.ndarray,
    n_faqs: int,
    parts: list[tuple[np.ndarray, Classifier | None]],
    leave_faq_out: bool,
) -> _Trials:
    """Ask each part's rows against the rest of the KB (or the other FAQs), with its classifier."""
    scorer = FaqScorer(faq_of_row, n_faqs)
    rows, log_probabilities = [], []
    knn: dict[float, list[np.ndarray]] = {t: [] for t in TEMPERATURES}
    for asked_rows, classifier in parts:
        for start in range(0, len(asked_rows), CHUNK_ROWS):
            asked = asked_rows[start : start + CHUNK_ROWS]
            similarities = embeddings[asked] @ embeddings.T
            if leave_faq_out:
                similarities[faq_of_row[asked][:, None] == faq_of_row[None, :]] = -np.inf
            else:
                similarities[np.arange(len(asked)), asked] = -np.inf
            for temperature in TEMPERATURES:
                knn[temperature].append(scorer.scores(similarities, temperature))
            chunk = (
                classifier.log_probabilities(features[asked])
                if classifier is not None
                else np.zeros((len(asked), n_faqs))
            )
            if leave_faq_out:
                chunk[np.arange(len(asked)), faq_of_row[asked]] = -np.inf
                chunk -= np.logaddexp.reduce(chunk, axis=1, keepdims=True)
            log_probabilities.append(chunk)
            rows.append(asked)
    asked_all = np.concatenate(rows) if rows else np.zeros(0, dtype=int)
    return _Trials(
        rows=asked_all,
        knn={t: _stack(chunks, n_faqs) for t, chunks in knn.items()},
        log_probabilities=_stack(log_probabilities, n_faqs),
        truth=faq_of_row[asked_all],
    )


def _stack(chunks: list[np.ndarray], n_faqs: int) -> np.ndarray:
    return np.concatenate(chunks) if chunks else np.zeros((0, n_faqs))


def _answer_rule(
    right: tuple[np.ndarray, ...], wrong: tuple[np.ndarray, ...]
) -> tuple[float, float]:
    """Return the score and margin that answer the most trials at the target precision.

    `right` and `wrong` are (top score, runner-up score, top is right, plausible) of the
    in-scope and the out-of-scope trials; each kind weighs its share of the questions asked.
    """
    top = np.r_[right[0], wrong[0]]
    margin = top - np.r_[right[1], wrong[1]]
    correct = np.r_[right[2], np.zeros(len(wrong[0]), dtype=bool)]
    weight = np.r_[
        np.full(len(right[0]), (1 - OUT_OF_SCOPE_SHARE) / max(len(right[0]), 1)),
        np.full(len(wrong[0]), OUT_OF_SCOPE_SHARE / max(len(wrong[0]), 1)),
    ]
    candidates = np.isfinite(top) & np.r_[right[3], wrong[3]]
    best: tuple[float, float, float] | None = None
    for min_margin in MARGINS:
        kept = candidates & (margin >= min_margin)
        order = np.argsort(-top[kept], kind="stable")
        answered = np.cumsum(weight[kept][order])
        precision = np.cumsum((weight * correct)[kept][order]) / np.maximum(answered, 1e-12)
        passing = np.flatnonzero(precision >= ANSWER_PRECISION_TARGET)
        if len(passing):
            score = float(top[kept][order][passing[-1]])
            share = float(np.sum(weight[kept & (top >= score)]))
            if best is None or share > best[0]:
                best = (share, score, float(min_margin))
    if best is None:
        # No rule is precise enough on this KB (no paraphrases to learn from): answer only a
        # question nearer its FAQ than any text comes to another FAQ, and further ahead of the
        # next than nine in ten of those texts are.
        logger.warning("no answer rule reaches precision %.2f", ANSWER_PRECISION_TARGET)
        nearest_other = wrong[0][np.isfinite(wrong[0])]
        lead = wrong[0] - wrong[1]
        lead = lead[np.isfinite(lead)]
        return (
            float(np.max(nearest_other)) if len(nearest_other) else np.inf,
            float(np.quantile(lead, 0.9)) if len(lead) else float(MARGINS[-1]),
        )
    return best[1], best[2]


def _none_rule(
    in_scope: _Trials,
    out_of_scope: _Trials,
    temperature: float,
    weight: float,
    none_weights: Sequence[float],
) -> tuple[float, float, float]:
    """Return the plausibility's weights and threshold that turn away the most out-of-scope trials.

    Each threshold keeps IN_SCOPE_RETENTION of the rightly ranked in-scope trials.
    """
    right = in_scope.best_two(temperature, weight)[2]
    best: tuple[float, float, float, float] | None = None
    weights = product(none_weights, NONE_MARGIN_WEIGHTS) if right.any() else ()
    for none_weight, margin_weight in weights:
        kept = in_scope.plausibility(temperature, weight, none_weight, margin_weight)[right]
        # "lower": of fewer than 1 / (1 - IN_SCOPE_RETENTION) trials, none is turned away.
        threshold = float(np.quantile(kept, 1 - IN_SCOPE_RETENTION, method="lower"))
        plausible = out_of_scope.plausibility(temperature, weight, none_weight, margin_weight)
        recall = float(np.mean(plausible < threshold)) if len(plausible) else 0.0
        if best is None or recall > best[0]:
            best = (recall, float(none_weight), float(margin_weight), threshold)
    if best is None:
        # No paraphrases to learn from: turn away what is less like any FAQ than a typical
        # other FAQ is.
        logger.warning("no paraphrases to calibrate 'none' on; add some to the knowledge base")
        top = out_of_scope.best_two(temperature, weight)[0]
        finite = top[np.isfinite(top)]
        return float(weight), 0.0, float(np.median(finite)) if len(finite) else 0.0
    return best[1], best[2], best[3]
