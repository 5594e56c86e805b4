"""Self-check questions for the concept notebooks.

Each question has an id like "election-2". A notebook asks it in prose, the
student writes an answer in a variable (``answer_2 = ...``) and a check cell
calls ``check("election-2", answer_2)``, which says right, not quite (with a
hint), or not answered yet. It never raises: an unanswered question must not
stop a notebook that runs top to bottom.

Answers are stored as salted hashes, so reading this file does not give them
away; hints are plain text. Answers are forgiving about form: 3, "3" and "S3"
are the same server, "B" and "b" the same choice, {1, 2} and [2, 1] the same set.
"""
from __future__ import annotations

import hashlib
import re

RIGHT = "✅ Right."
WRONG = "❌ Not quite."
UNANSWERED = "⏳ Not answered yet"


def normalize(answer) -> str:
    """One canonical text for an answer, so equal answers in different forms match."""
    if isinstance(answer, bool):
        return "yes" if answer else "no"
    if isinstance(answer, float) and answer.is_integer():
        answer = int(answer)
    if isinstance(answer, (set, frozenset)):  # a set: order does not matter
        return ",".join(sorted((normalize(a) for a in answer), key=lambda s: (len(s), s)))
    if isinstance(answer, (list, tuple)):  # a sequence, e.g. the terms of a log: order matters
        return ",".join(normalize(a) for a in answer)
    text = str(answer).strip().strip("'\"").strip().lower()
    if "," in text:  # "[1, 1, 3]" typed as text is the list [1, 1, 3]
        return ",".join(normalize(a) for a in re.sub(r"[\[\]()\s]", "", text).split(","))
    text = {"true": "yes", "false": "no", "y": "yes", "n": "no"}.get(text, text)
    if re.fullmatch(r"s\d+", text):  # "S3" is server 3
        text = text[1:]
    if re.fullmatch(r"\(?[a-z]\)", text):  # "(b)" or "b)" is choice b
        text = text.strip("()")
    return text


def digest(qid: str, answer) -> str:
    """The stored form of an answer to question ``qid``."""
    return hashlib.sha256(f"raftbook:{qid}:{normalize(answer)}".encode()).hexdigest()[:16]


# qid -> (digests of accepted answers, hint shown on a wrong answer)
QUESTIONS = {
    # tour
    "tour-1": (("1439a190b5444632",), 'A candidate asks every *other* server for its vote.'),
    "tour-2": (("4b1390b2d210b809",),
              'Each undo reverts exactly one event: count the ticks that remain.'),
    "tour-3": (("aa33a3282b7a83a5",),
              "Look at the 'if delivered' column of rb.messages_table(c) during a partition."),
    # election
    "election-1": (("bf13c6d7d8f93101",),
                  "A majority is more than half of the servers, and the candidate's own vote counts."),
    "election-2": (("339a5cb1344d8e50",),
                  'Rule 2: one vote per server per term, first come, first served.'),
    "election-3": (("91c422b4784ac068",),
                  'A newer term clears the vote (rule 1); then check rules 2 and 3 again.'),
    "election-4": (("47e0ae32e417a86f",),
                  'Split votes happen when timers fire together. Which change makes that less likely?'),
    # replication
    "replication-1": (("dfb0e8f3b97e2844",),
                     'The leader counts itself. How many more servers make a majority of 5?'),
    "replication-2": (("d2bf96db8853da76",), 'Does the follower have an entry at index 4 at all?'),
    "replication-3": (("c1a92553747c2296",),
                     "The check at index 2 passes. At index 3 the terms differ (2 and 3): the "
                     "follower deletes from there on, then appends the new entries."),
    "replication-4": (("0f1a4955db790ec3",),
                     "Find the last index where both logs hold the same term; (e) keeps everything "
                     "up to there and deletes the rest."),
    # terms
    "terms-1": (("e38cd63cd70f1b18",), 'Rule 2: a message from an older term is stale.'),
    "terms-2": (("6d3bbb29c7efa162",), 'Rule 1 applies to every message, replies included.'),
    "terms-3": (("f903285cf54e64aa",),
               "Look at the picture before the heal: the write is on S1's side of the partition only."),
    "terms-4": (("4d5e9992f04acec7",),
               'Which of these can a restarted server learn again from the leader?'),
    # safety
    "safety-1": (("2b539d0059e9fb39",),
                'Compare the last terms first; the lengths matter only when the last terms are equal.'),
    "safety-2": (("86c681a3e291d6ed",), "'At least as up to date' includes 'equally up to date'."),
    "safety-3": (("b355497f0a01f908",), 'Read again what S1 said about index 2 in stage (c).'),
    "safety-4": (("60b7be6c88fdadcc",), "Look at the 'violation' column of the campaign's table."),
}


def check(qid: str, answer) -> None:
    """Print whether ``answer`` to question ``qid`` is right; never raises."""
    entry = QUESTIONS.get(qid)
    if entry is None:
        print(f"There is no self-check question {qid!r}; known ones: {', '.join(sorted(QUESTIONS))}")
        return
    if answer is None or answer is Ellipsis:
        print(f"{UNANSWERED}: set the answer variable above (it is None now) and run this cell again.")
        return
    accepted, hint = entry
    if digest(qid, answer) in accepted:
        print(RIGHT)
    else:
        print(f"{WRONG} {hint}")
