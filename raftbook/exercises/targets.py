"""Which handler a graded name replaces, and on what cluster configuration.

Most graded names are the handler itself ("request_vote" grades the RequestVote
receiver). A few grade a handler under a particular configuration: A5's
"request_vote_persistent" is the RequestVote receiver on servers with
``Config(persistence="explicit")``, where a crash keeps only what
``node.persist()`` saved; A6's "pre_vote" (the answer to a pre-vote) runs on servers
with ``Config(pre_vote=True)``, the only ones that ask for pre-votes. The graders build their servers through these two
functions, so such a name needs no machinery of its own.
"""
from __future__ import annotations

#: Graded names that replace another handler (every other graded name is its handler).
HANDLER_OF = {"request_vote_persistent": "request_vote"}
#: Config fields every server of a graded name's checks uses (rule cases, scenes, campaigns).
CONFIG_OF = {"request_vote_persistent": {"persistence": "explicit"},
             "pre_vote": {"pre_vote": True}}


def handler_of(name: str) -> str:
    """The handler the graded function ``name`` replaces."""
    return HANDLER_OF.get(name, name)


def handlers_for(name: str, fn) -> dict:
    """The ``handlers=`` argument that installs ``fn`` as the graded function ``name``."""
    return {handler_of(name): fn}


def config_of(name: str) -> dict:
    """Config fields the graded name's servers run with (empty: the defaults)."""
    return dict(CONFIG_OF.get(name, {}))
