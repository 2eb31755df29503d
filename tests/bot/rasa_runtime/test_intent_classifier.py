"""bot/intent_classifier.py under Rasa's own runtime: the trained model's classifier reads
every message as Rasa's logistic regression would, and finds the same intents."""

from __future__ import annotations

import asyncio
import unittest
from pathlib import Path

from rasa.core.agent import Agent
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message

from bot.intent_classifier import SentenceLogisticRegressionClassifier

REPO_ROOT = Path(__file__).resolve().parents[3]


class SentenceLogisticRegressionClassifierTest(unittest.TestCase):
    classified: list[tuple[SentenceLogisticRegressionClassifier, Message]]

    @classmethod
    def setUpClass(cls) -> None:
        # The model `make setup` trained; spy on the messages its classifier is given (the
        # graph takes its components' methods as it loads).
        cls.classified = []
        classify = SentenceLogisticRegressionClassifier.process

        def spy(self: SentenceLogisticRegressionClassifier, messages: list[Message]) -> list:
            cls.classified += [(self, message) for message in messages]
            return classify(self, messages)

        # Every example the model learnt from and every held-out one, and a long odd one.
        texts = [
            example.get("text")
            for data in ("data/nlu", "tests/nlu/heldout.yml")
            for example in load_data(str(REPO_ROOT / data)).intent_examples
        ] + ["?" * 2000]
        SentenceLogisticRegressionClassifier.process = spy  # type: ignore[method-assign]
        try:
            agent = Agent.load(str(REPO_ROOT / "models" / "rasa"))
            for text in texts:
                asyncio.run(agent.parse_message(text))
        finally:
            SentenceLogisticRegressionClassifier.process = classify  # type: ignore[method-assign]

    def test_the_model_classifies_with_the_sentence_features_alone(self) -> None:
        self.assertGreater(len(self.classified), 100)
        for classifier, _ in self.classified:
            self.assertIsInstance(classifier, SentenceLogisticRegressionClassifier)

    def test_each_message_reads_as_rasas_classifier_reads_it(self) -> None:
        for classifier, message in self.classified:
            with self.subTest(text=message.get("text")):
                ours = classifier._create_X([message])
                rasas = LogisticRegressionClassifier._create_X(classifier, [message])
                self.assertEqual(ours.shape, rasas.shape)
                self.assertEqual((ours != rasas).nnz, 0)


if __name__ == "__main__":
    unittest.main()
