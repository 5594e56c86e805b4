"""Judgements of a run: the paper's five safety properties (one definition, shared) and linearizability of client histories."""
