"""What the response pages show: each answer in words, grouped by step, for "Check your answers",
the confirmation and the emailed copy; and "About you" as the account holds it. A few queries
whatever the answers (the vision's elements once)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..aligned.wording import STATUSES, VisionElements
from ..involvement.pages import ambition_names, ambitions_in_words
from ..involvement.services import AVAILABILITY
from ..models import User
from ..publication import PUBLISH_CHOICES, RESPONDING_AS
from .steps import STEPS

NOT_ANSWERED = "Not answered"


@dataclass
class Answer:
    question: str
    words: str  # as written (multi-line text keeps its paragraphs)


@dataclass
class Section:
    step: str
    heading: str
    answers: list[Answer] = field(default_factory=list)


def about_you_in_words(person: User) -> Section:
    """How the person responds and how their contributions are published (from their account)."""
    answers = [
        Answer("Responding as", RESPONDING_AS.get(person.responding_as or "", NOT_ANSWERED)),
    ]
    if person.responding_as == "organisation":
        answers.append(Answer("Organisation", person.organisation or ""))
    answers.append(Answer("How your contributions are published", PUBLISH_CHOICES.get(person.publish_as, person.publish_as)))
    return Section("about-you", STEPS["about-you"], answers)


def answers_in_words(answers: dict[str, Any], elements: VisionElements) -> list[Section]:
    """The draft's answers, a section per step after "About you", in the journey's order."""
    ambitions = ambition_names(elements)
    sections = [
        Section("vision", STEPS["vision"], [Answer("Your reflection on the vision statement", answers.get("vision") or NOT_ANSWERED)]),
    ]
    written = answers.get("ambitions") or {}
    reflections = [Answer(f"On {ambitions.get(key, key)}", text) for key, text in written.items()]
    sections.append(Section("ambitions", STEPS["ambitions"], reflections or [Answer("Reflections on the ambitions", NOT_ANSWERED)]))
    work = answers.get("aligned_work")
    if work:
        supported = "; ".join(choice.display for choice in elements.describe(work.get("element_ids") or []))
        rows = [
            Answer("Organisation", work["organisation"]),
            Answer("Name of the initiative", work["title"]),
            Answer("What the initiative does", work["description"]),
            Answer("Status", STATUSES.get(work["status"], work["status"])),
            Answer("Web page", work.get("link") or "None given"),
            Answer("Contact (never published)", work.get("contact") or "None given"),
            Answer("Parts of the vision it supports", supported),
        ]
    else:
        rows = [Answer("Your organisation's work", NOT_ANSWERED)]
    sections.append(Section("aligned-work", STEPS["aligned-work"], rows))
    offer = answers.get("help")
    if offer:
        rows = [
            Answer("I would like to help refine the vision", "Yes"),
            Answer("Ambitions", ambitions_in_words(offer.get("ambition_keys") or [], ambitions)),
            Answer("Your skills and experience", offer["skills"]),
            Answer("Time you could give", AVAILABILITY.get(offer["availability"], offer["availability"])),
        ]
    else:
        rows = [Answer("I would like to help refine the vision", NOT_ANSWERED)]
    sections.append(Section("help", STEPS["help"], rows))
    return sections
