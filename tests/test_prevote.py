"""PreVote, CheckQuorum and leader transfer (thesis §3.10, §6.2, §9.6): scenarios."""
import raftbook as rb


def _rejoin(config):
    """S5 is cut off long enough to time out again and again, then the partition heals."""
    c = rb.Cluster(5, seed=7, config=config)
    assert c.run_until(lambda c: c.leader is not None, 500)
    c.run(50)
    c.partition({5})
    c.run(300)
    term_cut_off = c.nodes[5].current_term
    leader, term = c.leader, c.nodes[c.leader].current_term
    c.heal()
    c.run(200)
    return c, term_cut_off, leader, term


def test_a_disruptive_server_deposes_the_leader_without_prevote():
    c, cut_off, leader, term = _rejoin(rb.Config())
    assert cut_off > term  # it kept raising its term alone
    assert c.nodes[c.leader].current_term >= cut_off  # and forced the cluster to a new term
    rb.check_safety(c, full=True)


def test_prevote_keeps_the_isolated_server_from_raising_its_term():
    c, cut_off, leader, term = _rejoin(rb.Config(pre_vote=True))
    assert cut_off == term  # pre-votes changed nobody's term, its own included
    assert c.leader == leader and c.nodes[leader].current_term == term
    codes = {r.code for r in c.reasons() if r.node == 5}
    assert "pre_vote_started" in codes and "election_started" not in codes
    rb.check_safety(c, full=True)


def test_followers_ignore_vote_requests_while_they_hear_from_the_leader():
    c = rb.Cluster(3, seed=0, config=rb.Config(check_quorum=True))
    assert c.run_until(lambda c: c.leader is not None, 500)
    c.run(20)
    leader = c.leader
    other = next(i for i in c.nodes if i != leader)
    c.timeout(other)
    c.run(3)
    assert any(r.code == "vote_request_ignored_leader_alive" for r in c.reasons())


def test_checkquorum_makes_an_isolated_leader_step_down():
    cfg = rb.Config(check_quorum=True)
    c = rb.Cluster(5, seed=2, config=cfg)
    assert c.run_until(lambda c: c.leader is not None, 500)
    old = c.leader
    c.partition({old})
    c.run(100)
    assert c.nodes[old].role is not rb.Role.LEADER
    assert any(r.code == "stepped_down_no_quorum" and r.node == old for r in c.reasons())
    # without CheckQuorum the cut-off leader stays leader of its old term
    d = rb.Cluster(5, seed=2)
    d.run_until(lambda c: c.leader is not None, 500)
    old = d.leader
    d.partition({old})
    d.run(100)
    assert d.nodes[old].role is rb.Role.LEADER


def test_transfer_to_a_lagging_server():
    c = rb.Cluster(3, seed=3)
    assert c.run_until(lambda c: c.leader is not None, 500)
    leader = c.leader
    lag = next(i for i in c.nodes if i != leader)
    c.crash(lag)
    for k in range(3):
        c.propose(("set", "x", k))
    c.run(30)
    c.restart(lag)
    c.transfer_leadership(lag)
    assert c.nodes[leader].transfer_to == lag
    try:
        c.propose(("set", "y", 1))
        raise AssertionError("a leader handing over must refuse proposals")
    except rb.InvalidState:
        pass
    c.run(100)
    assert c.leader == lag
    codes = [r.code for r in c.reasons()]
    assert codes.index("transfer_started") < codes.index("timeout_now_sent") < codes.index("timeout_now_received")
    assert c.nodes[lag].log.last_index >= 4
    rb.check_safety(c, full=True)
    again = rb.Cluster.from_trace(c.trace())
    assert again.fingerprint() == c.fingerprint()


def test_transfer_arguments():
    c = rb.Cluster(3, seed=3)
    try:
        c.transfer_leadership(2)
        raise AssertionError
    except rb.NotLeader:
        pass
    c.run_until(lambda c: c.leader is not None, 500)
    try:
        c.transfer_leadership(c.leader)
        raise AssertionError
    except rb.InvalidState:
        pass


def _own_pre_vote(node, msg):
    """The pre-vote rule written without the reference (as A6's solution does)."""
    own_term, own_index = node.log.last_term, node.log.last_index
    if msg.last_log_term != own_term:
        up_to_date = msg.last_log_term > own_term
    else:
        up_to_date = msg.last_log_index >= own_index
    granted = msg.term > node.current_term and not node.leader_alive() and up_to_date
    term = msg.term if granted else node.current_term
    return [rb.RequestVoteReply(node.id, msg.src, term, granted, pre_vote=True)]


def test_the_answer_to_a_pre_vote_is_a_replaceable_rule():
    assert set(rb.reference_handlers) == {"request_vote", "append_entries", "append_entries_reply",
                                          "advance_commit_index"}
    assert "pre_vote" in rb.reference_handlers_all
    runs = []
    for handlers in (None, {"pre_vote": _own_pre_vote}):
        c = rb.Cluster(5, seed=7, config=rb.Config(pre_vote=True), handlers=handlers)
        c.run_until(lambda c: c.leader is not None, 500)
        c.partition({5})
        c.run(300)
        c.heal()
        c.run(200)
        runs.append([(n.id, n.current_term, n.role, n.log.last_index, n.voted_for)
                     for n in c.nodes.values()])
        assert any(r.code == "pre_vote_started" for r in c.reasons())
    assert runs[0] == runs[1]


def test_a_pre_vote_rule_that_adopts_the_term_lets_the_rejoining_server_disrupt():
    from raftbook.exercises import BUGS
    bug = BUGS["pre_vote_adopts_term"]
    c = rb.Cluster(5, seed=7, config=rb.Config(pre_vote=True), handlers={"pre_vote": bug.fn})
    c.run_until(lambda c: c.leader is not None, 500)
    c.run(50)
    leader, term = c.leader, c.nodes[c.leader].current_term
    lone = 5 if leader != 5 else 4
    c.partition({lone})
    c.run(300)
    c.heal()
    c.timeout(lone)  # its timer fires as it rejoins
    c.run(200)
    codes = {r.code for r in c.reasons()}
    assert "term_adopted" in codes  # inferred from what the replaced rule did
    assert max(n.current_term for n in c.nodes.values()) > term
