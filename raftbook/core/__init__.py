"""The Raft server itself: messages, log, state machine, Figure 2's rules and the step function. No I/O, no clock; depends on nothing else in raftbook but errors."""
