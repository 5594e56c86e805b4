"""The cluster simulator around the core: network, faults, time, history and checkpoints, clients, traces and named scenarios."""
