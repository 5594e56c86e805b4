"""Self-check questions for the concept notebooks.

Each question has an id like "election-2" and a *form*: a choice between
options, yes or no, a number, or a list of numbers.

- Choices and yes/no questions are answered by clicking: ``choose("terms-1")``
  shows the options as buttons and says at once whether the one clicked is right.
- Numbers and lists are typed: the student sets ``answer_2 = ...`` and a check
  cell calls ``check("tour-2", answer_2)``.

Either way the answer is judged the same: right, not quite (with a hint), or
not answered yet. An answer of the wrong kind (a word where a number is asked,
an unquoted name) gets a note saying what form is expected. Nothing here
raises: an unanswered question must not stop a notebook that runs top to bottom.

Answers are stored as salted hashes, so reading this file does not give them
away; hints and options are plain text. Answers are forgiving about form:
"4 messages", "4" and 4.0 are the same number; "No." and False the same no;
"[1 1 3 3]", "1, 1, 3, 3" and (1, 1, 3, 3) the same list; "(b)", "B" and the
text of option (b) the same choice.
"""
from __future__ import annotations

import hashlib
import re
from html import escape

RIGHT = "✅ Right."
WRONG = "❌ Not quite."
UNANSWERED = "⏳ Not answered yet"
WRONG_FORM = "✋ Not an answer of the right form:"

#: What each form of answer looks like, as said to a student.
FORMS = {
    "number": "a whole number, like 3 (words after it, like '3 servers', are fine)",
    "yesno": "yes or no: click one of the two buttons",
    "list": "a list of numbers, like [1, 2, 3]",
    "choice": "one of the options: click it",
}

_WORDS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
          "eight": 8, "nine": 9, "ten": 10}


def digest(qid: str, canonical: str) -> str:
    """The stored form of an answer (already in canonical form) to question ``qid``."""
    return hashlib.sha256(f"raftbook:{qid}:{canonical}".encode()).hexdigest()[:16]


def _words(text: str) -> str:
    """Lower case, no quotes, backticks or trailing punctuation; underscores read as spaces."""
    text = str(text).strip().strip("'\"`").strip().lower().replace("_", " ").replace("`", "")
    return re.sub(r"\s+", " ", text).strip(" .!?;:")


def _number(answer):
    if isinstance(answer, bool):
        return None
    if isinstance(answer, int):
        return answer
    if isinstance(answer, float):
        return int(answer) if answer.is_integer() else None
    if isinstance(answer, str):
        text = _words(answer)
        found = re.findall(r"-?\d+(?:\.0+)?(?!\d)", text)
        if len(found) == 1 and not re.search(r"\d\.\d*[1-9]", text):
            return int(float(found[0]))
        named = [_WORDS[w] for w in re.findall(r"[a-z]+", text) if w in _WORDS]
        if not found and len(named) == 1:
            return named[0]
    return None


def _numbers(answer):
    if isinstance(answer, (list, tuple)):
        items = [_number(a) for a in answer]
        return None if any(i is None for i in items) else items
    if isinstance(answer, str):
        if re.search(r"[^\d\s,;\[\]()\-]", answer):
            return None
        return [int(x) for x in re.findall(r"-?\d+", answer)] or None
    return None


def canonical(qid: str, answer):
    """The canonical text of ``answer`` for question ``qid``, or None if it has the wrong form."""
    form = QUESTIONS[qid][2]
    if form == "number":
        n = _number(answer)
        return None if n is None else str(n)
    if form == "list":
        items = _numbers(answer)
        return None if items is None else ",".join(str(i) for i in items)
    if form == "yesno":
        if isinstance(answer, bool):
            return "yes" if answer else "no"
        if isinstance(answer, str):
            word = _words(answer)
            return {"yes": "yes", "y": "yes", "true": "yes", "no": "no", "n": "no",
                    "false": "no"}.get(word)
        return None
    # a choice: a letter, "(b)", "b)", or the text of an option
    if not isinstance(answer, str):
        return None
    word = _words(answer)
    letters = "abcdefgh"[:len(CHOICES[qid])]
    m = re.fullmatch(r"\(?([a-h])\)?", word)
    if m and m.group(1) in letters:
        return m.group(1)
    for letter, option in zip(letters, CHOICES[qid]):
        if word == _words(option):
            return letter
    return None


# qid -> (digests of accepted answers, hint shown on a wrong answer, form)
QUESTIONS = {
    # tour
    "tour-1": (("1439a190b5444632",), 'A candidate asks every *other* server for its vote.', "number"),
    "tour-2": (("4b1390b2d210b809",),
               'Each undo reverts exactly one event: count the ticks that remain.', "number"),
    "tour-3": (("aa33a3282b7a83a5",),
               "Look at the 'if delivered' column of rb.messages_table(c) during a partition.",
               "choice"),
    # election
    "election-1": (("bf13c6d7d8f93101",),
                   "A majority is more than half of the servers, and the candidate's own vote "
                   "counts.", "number"),
    "election-2": (("339a5cb1344d8e50",),
                   'Rule 2: one vote per server per term, first come, first served.', "yesno"),
    "election-3": (("91c422b4784ac068",),
                   'A newer term clears the vote (rule 1); then check rules 2 and 3 again.', "yesno"),
    "election-4": (("47e0ae32e417a86f",),
                   'Split votes happen when timers fire together. Which change makes that less '
                   'likely?', "choice"),
    # replication
    "replication-1": (("dfb0e8f3b97e2844",),
                      'The leader counts itself. How many more servers make a majority of 5?',
                      "number"),
    "replication-2": (("d2bf96db8853da76",), 'Does the follower have an entry at index 4 at all?',
                      "yesno"),
    "replication-3": (("c1a92553747c2296",),
                      "The check at index 2 passes. At index 3 the terms differ (2 and 3): the "
                      "follower deletes from there on, then appends the new entries.", "list"),
    "replication-4": (("0f1a4955db790ec3",),
                      "Find the last index where both logs hold the same term; (e) keeps "
                      "everything up to there and deletes the rest.", "number"),
    # terms
    "terms-1": (("e38cd63cd70f1b18",), 'Rule 2: a message from an older term is stale.', "choice"),
    "terms-2": (("6d3bbb29c7efa162",), 'Rule 1 applies to every message, replies included.',
                "choice"),
    "terms-3": (("f903285cf54e64aa",),
                "Look at the picture before the heal: the write is on S1's side of the partition "
                "only.", "number"),
    "terms-4": (("4d5e9992f04acec7",),
                'Which of these can a restarted server learn again from the leader?', "choice"),
    # safety
    "safety-1": (("2b539d0059e9fb39",),
                 'Compare the last terms first; the lengths matter only when the last terms are '
                 'equal.', "yesno"),
    "safety-2": (("86c681a3e291d6ed",), "'At least as up to date' includes 'equally up to date'.",
                 "yesno"),
    "safety-3": (("b355497f0a01f908",), 'Read again what S1 said about index 2 in stage (c).',
                 "yesno"),
    "safety-4": (("60b7be6c88fdadcc",), "Look at the 'violation' column of the campaign's table.",
                 "choice"),
    # log compaction and persistence
    "compaction-1": (("deb7b9ee56a45e7f",), "Read the first line the scenario's cell printed.", "number"),
    "compaction-2": (("03536bb81712706f",), "Rule 6 of Figure 13: the entry at the snapshot's last index matches.",
                     "choice"),
    "compaction-3": (("8b30b80bfee20edf",), "A snapshot is the state machine after applying its entries.",
                     "yesno"),
    "compaction-4": (("39c725b0cacae7b3",), "Figure 2: stable storage is updated before responding to RPCs.",
                     "choice"),
    # changing the cluster
    "membership-1": (("1033cd86102d20eb",), "A majority of 4 servers: more than half, the leader included.",
                     "number"),
    "membership-2": (("70a7c3af5cfbd6dd",), "Look at S1's configuration right after remove_server, before "
                     "anything was committed.", "yesno"),
    "membership-3": (("68adbd602bae652f",), "The set must hold a majority of C_old AND a majority of C_new.",
                     "choice"),
    "membership-4": (("47d000b62d40d9c8",), "Find the sentence in which S2 advanced its commit index.",
                     "number"),
    "membership-5": (("cf4a37aca1782710",), "What had S2 not done yet when it removed S1?", "choice"),
    "membership-6": (("5d620e7975d04caf",), "Look at S5's term after 300 ticks alone, with pre_vote=True.",
                     "yesno"),
    "membership-7": (("817aac53ae4b427d",), "Look at the row 'a write sent to S5' without CheckQuorum.",
                     "choice"),
    "membership-8": (("63d705a89707bfb3",), "The leader sends TimeoutNow only once the target's log matches "
                     "its own.", "choice"),
    "membership-9": (("1319368965fce1c7",), "S3 and S4 together are two of five; who else would have to grant "
                     "a pre-vote, and what do they still hear?", "choice"),
}

#: The options of each choice question, in order (a), (b), ...
CHOICES = {
    "tour-3": ["S3 receives it", "it waits until the partition heals", "it is lost"],
    "election-4": ["every server uses the same timeout", "a wider range of random timeouts",
                   "a shorter heartbeat interval"],
    "terms-1": ["it appends the entries", "it refuses, and replies with term 5",
                "it adopts term 3"],
    "terms-2": ["it ignores it", "it adopts term 6 and steps down to follower",
                "it sends the entries again"],
    "terms-4": ["current_term", "voted_for", "commit_index", "the log"],
    "safety-4": ["election safety", "log matching", "leader completeness", "leader append-only"],
    "compaction-2": ["it discards its whole log", "it keeps entries 5 and 6 and drops 1 to 4",
                     "it refuses the snapshot"],
    "compaction-4": ["after it sends its reply", "before it sends its reply",
                     "only when it crashes"],
    "membership-3": ["S1, S2, S3", "S1, S4, S5", "S1, S2, S4", "S2, S3, S4"],
    "membership-5": ["wait until every server holds its whole log",
                     "commit an entry of its own term first", "switch to joint consensus"],
    "membership-7": ["it refuses it", "it appends it, and the write is never committed",
                     "it forwards it to the new leader"],
    "membership-8": ["so that the target can catch up with a log that stops growing",
                     "because TimeoutNow needs an empty log", "to save disk space"],
    "membership-9": ["S1 and S2 refuse its pre-vote while they still hear from S5",
                     "its log is behind S5's log", "S5 tells it to stop with TimeoutNow",
                     "it cannot reach any other server"],
}


def verdict(qid: str, answer) -> str:
    """What the check says about ``answer`` to question ``qid``, as one line."""
    entry = QUESTIONS.get(qid)
    if entry is None:
        return f"There is no self-check question {qid!r}; known ones: {', '.join(sorted(QUESTIONS))}"
    accepted, hint, form = entry
    if answer is None or answer is Ellipsis:
        if form in ("choice", "yesno"):
            return f"{UNANSWERED}: click an option above."
        return f"{UNANSWERED}: set the answer variable above (it is None now) and run this cell again."
    text = canonical(qid, answer)
    if text is None:
        what = type(answer).__name__
        shown = repr(answer) if isinstance(answer, (str, int, float, bool, list, tuple)) else \
            f"a value of type {what} (a name without quotes?)"
        return f"{WRONG_FORM} {shown[:60]}. This question wants {FORMS[form]}."
    return RIGHT if digest(qid, text) in accepted else f"{WRONG} {hint}"


def check(qid: str, answer) -> None:
    """Print whether ``answer`` to question ``qid`` is right; never raises."""
    print(verdict(qid, answer))


def choose(qid: str):
    """The options of a choice or yes/no question as buttons; a click says right or not quite.

    Returns the widget (an ipywidgets VBox); ``.choice`` is the buttons,
    ``.feedback`` the verdict shown under them.
    """
    import ipywidgets as W

    entry = QUESTIONS.get(qid)
    if entry is None or entry[2] not in ("choice", "yesno"):
        print(verdict(qid, None) if entry is None else
              f"{qid} is not answered by clicking: use check({qid!r}, answer)")
        return None
    if entry[2] == "yesno":
        choice = W.ToggleButtons(options=[("yes", "yes"), ("no", "no")], value=None,
                                 style={"button_width": "80px"})
    else:
        letters = "abcdefgh"
        choice = W.RadioButtons(options=[(f"({letters[k]}) {text}", letters[k])
                                         for k, text in enumerate(CHOICES[qid])],
                                value=None, layout=W.Layout(width="auto"))
    feedback = W.HTML(escape(verdict(qid, None)))

    def judge(change):
        feedback.value = escape(verdict(qid, change["new"]))
    choice.observe(judge, names="value")
    box = W.VBox([choice, feedback])
    box.choice, box.feedback = choice, feedback
    return box
