"""Loading and validating the knowledge base files."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge_base.faqs import KnowledgeBaseDirectory, KnowledgeBaseError, load_knowledge_base

GOOD_FAQ = """
  - id: {id}
    question: "{question}"
    paraphrases: ["{paraphrase}"]
    answer: "{answer}"
    tags: [test]
    channels: [{channels}]
"""


def faq_yaml(
    id: str = "wifi",
    question: str = "Is there wifi?",
    paraphrase: str = "internet on board",
    answer: str = "Yes, free.",
    channels: str = "web, kiosk",
) -> str:
    return GOOD_FAQ.format(
        id=id, question=question, paraphrase=paraphrase, answer=answer, channels=channels
    )


def write(directory: Path, name: str, *faqs: str) -> Path:
    directory.mkdir(exist_ok=True)
    path = directory / name
    path.write_text("faqs:" + "".join(faqs), encoding="utf-8")
    return path


def problems_of(faq_dir: Path) -> list[str]:
    with pytest.raises(KnowledgeBaseError) as raised:
        load_knowledge_base(faq_dir)
    return raised.value.problems


def test_fixture_kb_loads_every_field(fixture_kb: Path) -> None:
    faqs = {faq.id: faq for faq in load_knowledge_base(fixture_kb)}

    assert len(faqs) == 8
    payment = faqs["payment_methods"]
    assert payment.question == "Which payment methods do you accept?"
    assert "do you accept PayPal" in payment.paraphrases
    assert payment.channels == ("web",)
    assert payment.buttons == ({"title": "Pay now", "payload": "/pay"},)
    assert faqs["cancel_booking"].links[0]["url"] == "https://cruise.example/terms"
    assert faqs["travel_insurance"].escalate is True
    assert faqs["wifi"].escalate is False


def test_duplicate_id_names_both_files(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yml", faq_yaml(id="wifi"))
    second = write(tmp_path, "b.yml", faq_yaml(id="wifi", question="Other", paraphrase="x y"))

    [problem] = problems_of(tmp_path)

    assert "duplicate id 'wifi'" in problem
    assert str(first) in problem and str(second) in problem


def test_empty_answer_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.yml", faq_yaml(answer=""))

    assert problems_of(tmp_path) == [f"{tmp_path / 'a.yml'}: entry 1 (faq 'wifi'): empty answer"]


def test_an_answer_may_only_use_the_known_placeholders(tmp_path: Path) -> None:
    write(tmp_path, "a.yml", faq_yaml(answer="It is {now}; you are at {kiosk_plce}."))

    assert problems_of(tmp_path) == [
        f"{tmp_path / 'a.yml'}: entry 1 (faq 'wifi'): unknown placeholder {{kiosk_plce}} in "
        "the answer (known: {kiosk_place}, {now})"
    ]


def test_paraphrase_under_two_faqs_names_both(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yml",
        faq_yaml(id="wifi", paraphrase="internet on board"),
        faq_yaml(id="internet", question="Can I get online?", paraphrase="Internet on board?"),
    )

    [problem] = problems_of(tmp_path)

    assert "'Internet on board?' is a question or paraphrase of two FAQs" in problem
    assert "'wifi'" in problem and "'internet'" in problem


def test_unknown_channel_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.yml", faq_yaml(channels="web, phone"))

    [problem] = problems_of(tmp_path)

    assert "unknown channel 'phone'" in problem


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yml",
        faq_yaml(id="wifi", answer=""),
        faq_yaml(id="gym", question="Gym hours?", paraphrase="fitness", channels="tv"),
    )
    (tmp_path / "broken.yml").write_text("questions: []\n", encoding="utf-8")

    problems = problems_of(tmp_path)

    assert len(problems) == 3
    assert any("empty answer" in problem for problem in problems)
    assert any("unknown channel 'tv'" in problem for problem in problems)
    assert any("expected a top-level 'faqs:' list" in problem for problem in problems)


def test_a_loaded_directory_is_read_again_only_when_a_file_changes(tmp_path: Path) -> None:
    faq_file = tmp_path / "onboard.yml"
    faq_file.write_text("faqs:" + faq_yaml(answer="Yes, free."))
    directory = KnowledgeBaseDirectory(tmp_path)

    first = directory.faqs()
    assert directory.faqs() is first  # unchanged files: no second parse

    faq_file.write_text("faqs:" + faq_yaml(answer="Yes, for 5 euros a day."))
    (tmp_path / "gym.yml").write_text(
        "faqs:" + faq_yaml(id="gym", question="Is there a gym?", paraphrase="fitness room")
    )

    assert sorted(faq.answer for faq in directory.faqs()) == [
        "Yes, for 5 euros a day.",
        "Yes, free.",
    ]
    (tmp_path / "gym.yml").write_text("faqs: [")
    with pytest.raises(KnowledgeBaseError, match="not valid YAML"):
        directory.faqs()
