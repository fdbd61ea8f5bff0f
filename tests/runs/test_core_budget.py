"""The thread budget: replicas on one host share its cores (COURSE_REPLICAS_PER_HOST).

Every replica derives its training slots and its workers' torch threads from the one setting,
so that replicas x slots x threads never exceeds the host's usable cores; without the setting
nothing changes.
"""

from __future__ import annotations

import pytest

from course.runs import jobs, server

usable_cores_before_patch = server.usable_cores
SETTINGS = ("COURSE_REPLICAS_PER_HOST", "COURSE_TRAINING_SLOTS", "COURSE_TORCH_THREADS")


@pytest.fixture
def host(monkeypatch):
    """A host with a chosen number of usable cores and none of the settings from outside."""
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)

    def with_cores(cores: int, **settings: int) -> None:
        monkeypatch.setattr(server, "usable_cores", lambda: cores)
        for name, value in settings.items():
            monkeypatch.setenv(f"COURSE_{name.upper()}", str(value))

    return with_cores


@pytest.mark.parametrize("cores", [1, 2, 4, 16])
def test_without_the_setting_slots_are_the_cores_and_threads_one(host, cores):
    host(cores)
    assert server.core_budget() is None
    assert jobs.default_slots() == cores
    assert server.chosen_threads() == 1


def test_without_the_setting_explicit_slots_and_threads_are_kept(host):
    host(2, training_slots=6, torch_threads=4)
    assert jobs.default_slots() == 6
    assert server.chosen_threads() == 4


@pytest.mark.parametrize(("cores", "replicas", "budget"), [
    (2, 1, 2), (2, 2, 1), (8, 2, 4), (16, 3, 5), (16, 4, 4), (4, 8, 1)])
def test_each_replica_gets_its_share_of_the_cores(host, cores, replicas, budget):
    host(cores, replicas_per_host=replicas)
    assert server.core_budget() == budget


@pytest.mark.parametrize("cores", [1, 2, 3, 4, 8, 16, 64])
@pytest.mark.parametrize("replicas", [1, 2, 3, 4, 8])
@pytest.mark.parametrize("threads", [None, 1, 2, 4, 32])
@pytest.mark.parametrize("slots", [None, 1, 3, 100])
def test_replicas_times_slots_times_threads_never_exceeds_the_cores(host, cores, replicas,
                                                                     threads, slots):
    settings = {"replicas_per_host": replicas}
    if threads:
        settings["torch_threads"] = threads
    if slots:
        settings["training_slots"] = slots
    host(cores, **settings)
    slots_now, threads_now = jobs.default_slots(), server.chosen_threads()
    assert slots_now >= 1 and threads_now >= 1
    if replicas <= cores:  # with more replicas than cores, each still trains one run
        assert replicas * slots_now * threads_now <= cores
    else:
        assert (slots_now, threads_now) == (1, 1)


def test_the_budget_fills_with_one_thread_slots_by_default(host):
    host(8, replicas_per_host=2)  # two replicas on 8 cores: 4 one-thread runs each
    assert (jobs.default_slots(), server.chosen_threads()) == (4, 1)


def test_threads_asked_for_fit_the_budget_and_slots_follow(host):
    host(8, replicas_per_host=2, torch_threads=2)
    assert (jobs.default_slots(), server.chosen_threads()) == (2, 2)
    host(8, replicas_per_host=2, torch_threads=6)  # more than the share: capped at it
    assert (jobs.default_slots(), server.chosen_threads()) == (1, 4)


def test_fewer_slots_than_the_budget_allows_are_kept(host):
    host(16, replicas_per_host=2, training_slots=3)
    assert jobs.default_slots() == 3


def test_an_explicit_thread_argument_is_not_capped(host):
    """The command line's --threads (and the pages' one thread) say exactly what they want."""
    host(2, replicas_per_host=2)
    assert server.chosen_threads(2) == 2


def test_the_budget_follows_a_containers_cpu_quota(host, monkeypatch):
    """usable_cores counts a cgroup quota: a container on a 16-core host limited to 4 cores and
    told it shares them with one other replica gets 2."""
    host(1)
    monkeypatch.setattr(server, "usable_cores", usable_cores_before_patch)
    monkeypatch.setattr(server.os, "cpu_count", lambda: 16)
    monkeypatch.setattr(server.os, "sched_getaffinity", lambda pid: set(range(16)), raising=False)
    monkeypatch.setattr(server, "cpu_quota", lambda: 4)
    monkeypatch.setenv("COURSE_REPLICAS_PER_HOST", "2")
    assert server.usable_cores() == 4
    assert server.core_budget() == 2
    assert jobs.default_slots() == 2


@pytest.mark.parametrize("raw", ["0", "-1", "two", "1.5"])
def test_a_bad_replica_count_is_refused_with_the_settings_name(host, monkeypatch, raw):
    host(2)
    monkeypatch.setenv("COURSE_REPLICAS_PER_HOST", raw)
    with pytest.raises(ValueError, match="COURSE_REPLICAS_PER_HOST"):
        server.core_budget()


def test_an_empty_setting_means_unset(host, monkeypatch):
    host(4)
    monkeypatch.setenv("COURSE_REPLICAS_PER_HOST", " ")
    assert server.core_budget() is None
    assert jobs.default_slots() == 4


def test_a_job_runner_sizes_its_pool_from_the_budget(host):
    host(8, replicas_per_host=4)
    runner = jobs.JobRunner()
    try:
        assert runner.slots == 2
    finally:
        runner.shutdown()
