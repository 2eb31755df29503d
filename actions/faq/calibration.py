"""FAQ scoring, the answer/suggest/none rule, and its thresholds calibrated on the KB itself."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from actions.faq.adapter import apply_adapter, fit_adapter

logger = logging.getLogger(__name__)

DecisionKind = Literal["answer", "suggest", "none"]

# Requirements, not fitted values: the share of answers that must be right when the KB's own
# texts are asked back (questions outside the KB included); the share of questions the KB
# ranks right that must not be turned away as "none" (a wrong "none" costs a customer their
# answer, a wrong suggestion only a glance at three buttons); the grids searched.
ANSWER_PRECISION_TARGET = 0.98
IN_SCOPE_RETENTION = 0.99
TEMPERATURES = (0.005, 0.01, 0.02, 0.03, 0.05)
MARGINS = tuple(np.round(np.arange(0.0, 0.301, 0.01), 2))
# Cross-fitting folds, and how many texts suffice to compare settings (the final
# thresholds use every text).
FOLDS = 2
SELECTION_TEXTS = 2000
CHUNK_ROWS = 512


@dataclass(frozen=True)
class Thresholds:
    """Calibrated parameters of the decision, stored with the index."""

    temperature: float
    answer_score: float
    answer_margin: float
    none_score: float


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


def decide_kind(top_score: float, runner_up_score: float, thresholds: Thresholds) -> DecisionKind:
    """Return answer, suggest or none from the two best FAQ scores."""
    if top_score < thresholds.none_score:
        return "none"
    if (
        top_score >= thresholds.answer_score
        and top_score - runner_up_score >= thresholds.answer_margin
    ):
        return "answer"
    return "suggest"


@dataclass(frozen=True)
class Calibration:
    """What a build learns from the knowledge base: the thresholds and the embedding map."""

    thresholds: Thresholds
    adapter: np.ndarray | None  # d x d map (see adapter.py), or None for the plain space


@dataclass
class _Trials:
    """Scores of the KB's texts asked back against the rest of the KB."""

    top: np.ndarray  # best FAQ score
    runner_up: np.ndarray  # second best FAQ score
    correct: np.ndarray  # best FAQ is the text's own FAQ


def calibrate(
    embeddings: np.ndarray, row_faqs: Sequence[int] | np.ndarray, n_faqs: int, seed: int = 0
) -> Calibration:
    """Choose the embedding space, pooling temperature and thresholds from the KB's texts.

    Each text is asked twice: against every other text (an in-scope question, leave one
    out) and against the other FAQs only (an out-of-scope question, leave its FAQ out).
    A learnt map is judged cross-fitted: each text is asked in a space learnt without it.
    """
    faq_of_row = np.asarray(row_faqs)
    rng = np.random.default_rng(seed)
    fold_of_row = rng.integers(0, FOLDS, len(faq_of_row))
    scorer = FaqScorer(faq_of_row, n_faqs)
    spaces = {"plain": [embeddings] * FOLDS}
    if all(len(np.unique(faq_of_row[fold_of_row != fold])) > 1 for fold in range(FOLDS)):
        spaces["adapted"] = [
            apply_adapter(embeddings, fit_adapter(embeddings[train], faq_of_row[train], seed))
            for train in (fold_of_row != fold for fold in range(FOLDS))
        ]
    has_sibling = np.bincount(faq_of_row, minlength=n_faqs)[faq_of_row] > 1
    sample = np.flatnonzero(has_sibling)
    if len(sample) > SELECTION_TEXTS:
        sample = np.sort(rng.choice(sample, SELECTION_TEXTS, replace=False))
    accuracy = {
        (space, temperature): _ask_back(
            spaces[space], fold_of_row, faq_of_row, scorer, temperature, sample, False
        ).correct.mean()
        if len(sample)
        else 0.0
        for space in spaces
        for temperature in TEMPERATURES
    }
    # Among ties prefer the plain space and the smallest temperature: the simplest model.
    space, temperature = max(accuracy, key=lambda k: (accuracy[k], k[0] == "plain", -k[1]))
    logger.info(
        "leave-one-out accuracy by space and temperature: %s",
        ", ".join(f"{s} {t}: {a:.3f}" for (s, t), a in accuracy.items()),
    )
    every_row = np.arange(len(faq_of_row))
    args = (spaces[space], fold_of_row, faq_of_row, scorer, temperature, every_row)
    in_scope = _ask_back(*args, leave_faq_out=False)
    out_of_scope = _ask_back(*args, leave_faq_out=True)
    answer_score, answer_margin = _answer_rule(in_scope, out_of_scope)
    thresholds = Thresholds(
        temperature=float(temperature),
        answer_score=answer_score,
        answer_margin=answer_margin,
        none_score=_none_threshold(in_scope, out_of_scope),
    )
    adapter = fit_adapter(embeddings, faq_of_row, seed) if space == "adapted" else None
    logger.info(
        "calibrated on %d texts: %s space, leave-one-out accuracy %.3f, %s",
        len(faq_of_row),
        space,
        accuracy[space, temperature],
        thresholds,
    )
    return Calibration(thresholds, adapter)


def _ask_back(
    spaces: list[np.ndarray],
    fold_of_row: np.ndarray,
    faq_of_row: np.ndarray,
    scorer: FaqScorer,
    temperature: float,
    rows: np.ndarray,
    leave_faq_out: bool,
) -> _Trials:
    """Ask each of `rows` against the rest, in the space learnt without its fold."""
    top = np.empty(len(rows))
    runner_up = np.empty(len(rows))
    correct = np.zeros(len(rows), dtype=bool)
    positions = np.arange(len(rows))
    for fold, embeddings in enumerate(spaces):
        in_fold = positions[fold_of_row[rows] == fold]
        for start in range(0, len(in_fold), CHUNK_ROWS):
            chunk = in_fold[start : start + CHUNK_ROWS]
            asked = rows[chunk]
            similarities = embeddings[asked] @ embeddings.T
            if leave_faq_out:
                similarities[faq_of_row[asked][:, None] == faq_of_row[None, :]] = -np.inf
            else:
                similarities[np.arange(len(asked)), asked] = -np.inf
            scores = scorer.scores(similarities, temperature)
            best_two = np.argsort(-scores, axis=1)[:, :2]
            picked = np.arange(len(asked))
            top[chunk] = scores[picked, best_two[:, 0]]
            runner_up[chunk] = scores[picked, best_two[:, 1]] if scores.shape[1] > 1 else -np.inf
            if not leave_faq_out:
                correct[chunk] = best_two[:, 0] == faq_of_row[asked]
    return _Trials(top=top, runner_up=runner_up, correct=correct)


def _answer_rule(in_scope: _Trials, out_of_scope: _Trials) -> tuple[float, float]:
    """Return the score and margin that answer the most trials at the target precision."""
    top = np.r_[in_scope.top, out_of_scope.top]
    margin = top - np.r_[in_scope.runner_up, out_of_scope.runner_up]
    correct = np.r_[in_scope.correct, out_of_scope.correct]
    finite = np.isfinite(top)
    best: tuple[int, float, float] | None = None
    for min_margin in MARGINS:
        kept = finite & (margin >= min_margin)
        order = np.argsort(-top[kept], kind="stable")
        hits = np.cumsum(correct[kept][order])
        precision = hits / np.arange(1, len(hits) + 1)
        passing = np.flatnonzero(precision >= ANSWER_PRECISION_TARGET)
        if len(passing):
            score = float(top[kept][order][passing[-1]])
            answered = int(np.sum(kept & (top >= score)))
            if best is None or answered > best[0]:
                best = (answered, score, float(min_margin))
    if best is None:
        # No rule is precise enough on this KB: answer only near-exact matches.
        logger.warning("no answer rule reaches precision %.2f", ANSWER_PRECISION_TARGET)
        return float(np.max(top[finite], initial=0.0)), float(MARGINS[-1])
    return best[1], best[2]


def _none_threshold(in_scope: _Trials, out_of_scope: _Trials) -> float:
    """Return the score that keeps IN_SCOPE_RETENTION of the rightly ranked in-scope trials."""
    right = in_scope.top[in_scope.correct]
    if len(right):
        return float(np.quantile(right, 1 - IN_SCOPE_RETENTION))
    # No paraphrases to learn from: turn away what is less like any FAQ than a typical
    # other FAQ is.
    logger.warning("no paraphrases to calibrate 'none' on; add some to the knowledge base")
    finite = out_of_scope.top[np.isfinite(out_of_scope.top)]
    return float(np.median(finite)) if len(finite) else 0.0
