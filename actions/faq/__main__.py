"""Command line of the FAQ engine: build, search, eval, import."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from actions.faq.index import FaqIndexError
from knowledge_base.faqs import KnowledgeBaseError
from lumen.vocabulary import CHANNELS


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand and return the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m actions.faq", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    build = commands.add_parser("build", help="embed the knowledge base and write the index")
    build.add_argument("--faq-dir", type=Path, default=Path("data/faq"))
    build.add_argument("--out", type=Path, default=Path("models/faq"))
    build.add_argument(
        "--nlu-dir", type=Path, help="Rasa NLU data: measure how much the FAQ claims each intent"
    )
    build.set_defaults(run=run_build)

    search = commands.add_parser("search", help="show the decision for one question")
    search.add_argument("text")
    search.add_argument("--channel", choices=CHANNELS)
    search.add_argument("--faq-dir", type=Path, default=Path("data/faq"))
    search.add_argument("--index-dir", type=Path, default=Path("models/faq"))
    search.add_argument("--json", action="store_true", help="print JSON")
    search.set_defaults(run=run_search)

    evaluate = commands.add_parser("eval", help="score the decision on labelled queries")
    evaluate.add_argument("--kb", type=Path, required=True, help="CSV: faq_id,question")
    evaluate.add_argument("--queries", type=Path, required=True, help="CSV: text,faq_id")
    evaluate.add_argument("--json", action="store_true", help="print JSON")
    evaluate.add_argument(
        "--fp32", action="store_true", help="export the encoder with float weights, not int8"
    )
    evaluate.set_defaults(run=run_eval)

    importing = commands.add_parser("import", help="import question/answer pairs (CSV, JSON)")
    importing.add_argument("file", type=Path)
    importing.add_argument("--out", type=Path, default=Path("data/faq/imported.yml"))
    importing.set_defaults(run=run_import)

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    try:
        return int(args.run(args))
    except (KnowledgeBaseError, FaqIndexError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def run_build(args: argparse.Namespace) -> int:
    """Export the encoder and build the index for a knowledge base directory."""
    from actions.faq.encoder import OnnxEncoder, export_encoder
    from actions.faq.index import build_index
    from knowledge_base.faqs import load_knowledge_base

    started = time.perf_counter()
    faqs = load_knowledge_base(args.faq_dir)
    logging.info("exporting the encoder to %s", args.out)
    export_encoder(args.out)
    index = build_index(faqs, OnnxEncoder(args.out), show_progress=True)
    index.save(args.out)
    logging.info(
        "wrote %s: %d vectors of %d FAQs in %.1f s; thresholds %s",
        args.out,
        len(index.rows),
        len(faqs),
        time.perf_counter() - started,
        index.thresholds,
    )
    if args.nlu_dir is not None:
        index.with_intent_scores(measure_intents(args)).save(args.out)
    return 0


def measure_intents(args: argparse.Namespace) -> dict[str, float]:
    """Return the best FAQ score of each intent's NLU examples, on the index just built."""
    from actions.faq.engine import FaqEngine
    from actions.faq.intents import measure_intent_scores, read_nlu_examples

    engine = FaqEngine(index_dir=args.out, faq_dir=args.faq_dir)
    scores = measure_intent_scores(
        read_nlu_examples(args.nlu_dir),
        lambda text: max((hit.score for hit in engine.decide(text).hits), default=-1.0),
    )
    logging.info(
        "the FAQ claims a text over each intent's NLU examples above: %s",
        ", ".join(f"{intent} {score:.3f}" for intent, score in scores.items()),
    )
    return scores


def run_search(args: argparse.Namespace) -> int:
    """Print the decision for one question."""
    from actions.faq.engine import FaqEngine

    engine = FaqEngine(index_dir=args.index_dir, faq_dir=args.faq_dir)
    decision = engine.decide(args.text, channel=args.channel)
    hits = [{"faq_id": hit.faq.id, "score": round(hit.score, 4)} for hit in decision.hits]
    if args.json:
        print(json.dumps({"kind": decision.kind, "hits": hits}))
    else:
        print(decision.kind)
        for hit in decision.hits:
            print(f"  {hit.score:.3f}  {hit.faq.id}: {hit.faq.question}")
    return 0


def run_eval(args: argparse.Namespace) -> int:
    """Print accuracy, precision, out-of-scope recall and latency on labelled queries."""
    from actions.faq.evaluate import evaluate

    report = evaluate(args.kb, args.queries, quantized=not args.fp32)
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key}: {value}")
    return 0


def run_import(args: argparse.Namespace) -> int:
    """Validate a CSV or JSON file of questions and answers and write it as FAQ YAML."""
    from knowledge_base.importer import import_faqs

    faqs = import_faqs(args.file, args.out)
    paraphrases = sum(len(faq.paraphrases) for faq in faqs)
    print(f"wrote {len(faqs)} FAQs with {paraphrases} paraphrases to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
